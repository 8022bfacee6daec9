"""What Partnerbot says about linking and unlinking identities, to both people involved."""
from __future__ import annotations

from handlers.kernel.dates import format_instant
from handlers.kernel.model import Button, Card, Fact, Reply
from storage.models import LinkRequest, Person, Workspace

_PLATFORM = {"slack": ("Slack", "workspace"), "teams": ("Teams", "tenant"), "console": ("Console", "workspace")}


def where(platform: str, workspace: Workspace | None = None) -> str:
    """'Teams, tenant contoso': a platform and its workspace as people say them."""
    name, unit = _PLATFORM.get(platform, (platform, "workspace"))
    return f"{name}, {unit} {workspace.external_id}" if workspace is not None else name


def platform_names(platforms: list[str]) -> str:
    return " and ".join(sorted({where(p) for p in platforms}))


def request_buttons(request: LinkRequest) -> tuple[Button, ...]:
    return (Button("Confirm", f"link confirm {request.id}", "primary"),
            Button("Reject", f"link reject {request.id}", "danger"))


def asked_to_confirm(request: LinkRequest, requester: Person, requester_at: str, tz: str) -> Reply:
    """To the code's issuer: someone typed it on another platform; confirm only if that is you."""
    who = f"{requester.display_name} ({requester_at})"
    lapses = format_instant(request.expires_at, tz)
    return Reply(
        f"{who} typed your link code and wants to join your identity. Confirm only if that is you: once "
        f"joined, they act as you and see everything of yours. Send `link confirm {request.id}` or "
        f"`link reject {request.id}` (until {lapses}; nothing is joined before you confirm).",
        cards=(Card(title=f"Link request from {who}",
                    text="Confirm only if that is you on your other platform: once joined, they act as you "
                         "and see everything of yours.",
                    facts=(Fact("Name", requester.display_name), Fact("Where", requester_at),
                           Fact("Until", lapses)),
                    buttons=request_buttons(request)),),
    )


def linked(person: Person, platforms: list[str]) -> str:
    return (f"Linked: you are now one person ({person.display_name}) on {platform_names(platforms)}; "
            f"your commitments and handoffs from both are together. `unlink` splits them again.")


def confirmed_to_requester(issuer_name: str, person: Person, platforms: list[str]) -> Reply:
    return Reply(f"{issuer_name} confirmed your link request. {linked(person, platforms)}")


def rejected_to_requester(issuer_name: str) -> Reply:
    return Reply(f"{issuer_name} rejected your link request: nothing was joined.")


def lapsed_to_requester() -> Reply:
    return Reply("Your link request lapsed: it was not confirmed within 10 minutes, so nothing was joined. "
                 "Send `link` on your other platform for a new code.")


# what records made while linked do when split: said by `unlink`'s help and by its answer
AFTER_THE_LINK = ("what was created from the split-off platform since the link (commitments, handoffs, "
                  "leads, asks) goes with it; everything else done since stays with the identity that "
                  "issued the link code")


def unlinked(you: Person, your_platforms: list[str], other: Person, their_platforms: list[str]) -> str:
    return (f"Unlinked: you are {you.display_name} on {platform_names(your_platforms)} again, and "
            f"{other.display_name} on {platform_names(their_platforms)} is a person of their own. Each "
            f"platform's records went back to it; {AFTER_THE_LINK}. `link` joins them again.")
