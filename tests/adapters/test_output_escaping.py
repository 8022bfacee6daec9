"""User text is never turned into markup (SPEC §2, issue 19): what one person types reaches the
others as the text they typed — never a live `<!channel>`, a link with a label of the typist's
choosing, a mention, emphasis or an `<at>` tag.

Over the real endpoints of one in-process `serve` (signed Slack requests to /slack/events, Web
API calls to a fake Slack on loopback; Bot Framework activities to /api/messages, posts to a fake
connector), hostile text goes out on each platform through a channel post (a win celebrated in
the partnership's bound channel), direct messages (a handoff, an ask, its answer; sent by the
outbox) and a form (a Slack modal, a Teams form card). The fake platforms record what the bot
sent; each payload is checked the way the platform reads it: Slack's mrkdwn (the `text` field,
the blocks and the view alike) must hold no `<` or `>` at all, and a Teams card's text read
as CommonMark (markdown-it, which the test tools bring along) no link, emphasis, heading, list,
quote or HTML. And the text is still there to read, as typed.
"""
from __future__ import annotations

import asyncio
import io
import re

from markdown_it import MarkdownIt

from adapters.console import console
from adapters.console.render import render
from handlers.kernel.model import Card, Fact, Reply
from storage.models import Handoff, Person
from tests.fakes.slack_requests import slash_body
from tests.fakes.teams_connector import BOT, Posted, mention, person
from tests.helpers import rows
from tests.peer_sync import test_sync_platforms as sync_platforms
from tests.peer_sync.test_sync_platforms import (
    ANA_TEAMS,
    MARIA,
    TEAMS_CHANNEL,
    Platforms,
    buttons_of,
    slack_unescape,
    start_p1,
)

platforms = sync_platforms.platforms  # the fixture: one in-process `serve` with both platforms

# What a hostile person types, as the pieces everyone must be shown, character for character:
# Slack's and Teams' mass mentions, a link whose label hides its target, markdown, an <at> tag.
LINK = "[session expired — sign in again](https://evil.example)"
TYPED = ["<!channel>", "<!here|x>", "<https://evil.example|click>", "<!everyone>", LINK, "**bold**", "<at>Boss</at>",
         "R&D"]
# …as Slack sends it in a slash command: `<!channel>`, `<!here|x>` and `<url|label>` are Slack's
# own markup for a typed @channel, @here or a pasted link; what is typed as characters arrives
# escaped (`&lt;!everyone&gt;`), a mention typed as text too.
HOSTILE = ("<!channel> <!here|x> <https://evil.example|click> &lt;!everyone&gt; &lt;@U2|the boss&gt; "
           f"{LINK} **bold** &lt;at&gt;Boss&lt;/at&gt; R&amp;D")
# …and as typed into a form (a modal's input is sent as typed).
HOSTILE_IN_A_FORM = " ".join(TYPED)
# A display name with every character a mention's label must not carry, and a mention in it:
# shown as typed, but for the mention, which reads as a name (nobody is pinged by a name).
EVIL_NAME = "Ana <!everyone> | <@U2>"
EVIL_SHOWN = "Ana <!everyone> | @U2"

_SLACK_NAMES = {"U1": EVIL_NAME, "U2": "Dana"}


# --- Slack: how it reads what we send -------------------------------------------------------------
def mrkdwn_strings(payload: dict) -> list[str]:
    """Every string Slack reads as mrkdwn in a chat.postMessage / views.open payload: the `text`
    field (notifications, clients without blocks) and each mrkdwn object of the blocks or view."""
    found = [payload["text"]] if isinstance(payload.get("text"), str) else []

    def walk(node) -> None:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn":
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk({k: v for k, v in payload.items() if k != "text"})
    return found


_OUR_SLACK_MENTIONS = re.compile(r"(?:^|\n)cc(?: <@[UW][A-Z0-9]+>)+\Z")


def assert_no_slack_markup(payload: dict) -> str:
    """No mrkdwn string of the payload holds a `<` or `>` (the only way to write `<!channel>`,
    `<!here>`, `<@U…>` or `<url|label>`, or to quote) or an `&` that is not one of our escapes.
    Returns what Slack shows: the strings unescaped, joined."""
    # the one markup allowed: the line of live mentions the bot adds itself (Reply.mentions),
    # well-formed user ids only; typed text cannot make it (its `<` arrives escaped)
    strings = [_OUR_SLACK_MENTIONS.sub("", text) for text in mrkdwn_strings(payload)]
    assert strings, "nothing Slack would show"
    for text in strings:
        assert "<" not in text and ">" not in text, text
        assert re.fullmatch(r"(?:[^&]|&amp;|&lt;|&gt;)*", text, re.DOTALL), text
    return slack_unescape("\n".join(strings))


def assert_reads_as_typed(shown: str) -> None:
    """Each piece of the hostile text is there to read, character for character."""
    for piece in TYPED:
        assert piece in shown, piece


async def slash(p: Platforms, text: str, user: str = "U1", channel: str = "C1") -> dict:
    body = slash_body(text, user=user, channel=channel, user_name=_SLACK_NAMES.get(user))
    return await (await p.slack_post(body)).json()


async def slack_partnership(p: Platforms) -> None:
    """P-1 Acme Alliance of U1 and Dana, bound to Slack channel C1, as every cross-platform test
    starts it; U1 is first seen with the hostile display name."""
    await slash(p, "help")
    await start_p1(p)


async def test_slack_channel_post_direct_messages_and_modal_show_hostile_text_as_typed(platforms):
    p = platforms
    await slack_partnership(p)

    # (b) a direct message: the handoff offer to Dana, sent by the outbox
    assert "H-1" in (await slash(p, f"handoff <@U2|Dana> Acme: {HOSTILE}"))["text"]
    offer = await p.wait_post("DU2", "handed you H-1")
    shown = assert_no_slack_markup(offer.args)
    assert_reads_as_typed(shown)
    assert "<\u2060@U2|the boss>" in shown  # a mention typed as text stays text (a word joiner after `<`)
    assert EVIL_SHOWN in shown  # the giver's name, as chosen, and inert

    # (a) a channel post: the win celebrated in the bound channel C1
    assert "accepted H-1" in (await slash(p, "handoff H-1 accept", user="U2", channel="DU2"))["text"]
    assert "H-1 won" in (await slash(p, "win H-1 120k"))["text"]
    celebration = await p.wait_post("C1", "Win: H-1")
    shown = assert_no_slack_markup(celebration.args)
    assert_reads_as_typed(shown)
    assert EVIL_SHOWN in shown

    # the caller's own answers are escaped too (the ephemeral ack of a slash command)
    acked = await slash(p, f"ask <@U2|Dana> {HOSTILE}")
    assert_reads_as_typed(assert_no_slack_markup(acked))

    # (c) a modal: Dana answers the ask; its form shows the request
    ask = await p.wait_post("DU2", "asks you for help (Q-1)")
    assert_reads_as_typed(assert_no_slack_markup(ask.args))
    (answer,) = [b for b in buttons_of(ask) if b["text"]["text"] == "Answer"]
    await p.click(answer, user="U2", channel="DU2")
    view = (await p.opened_modal(1))["view"]
    shown = assert_no_slack_markup({"blocks": view["blocks"]})
    assert_reads_as_typed(shown)
    assert EVIL_SHOWN in shown

    # …and her answer goes back to the asker: another direct message
    assert await p.submit(view, {"answer": f"{HOSTILE_IN_A_FORM}\n> quoted\n- listed"}, user="U2") is None
    told = await p.wait_post("DU1", "answered Q-1")
    shown = assert_no_slack_markup(told.args)
    assert_reads_as_typed(shown)
    assert "> quoted" in shown


async def test_a_mention_inside_user_text_reaches_slack_as_a_name_without_its_markup(platforms):
    p = platforms
    await slack_partnership(p)
    await slash(p, "handoff <@U2|Dana> Acme: loop in <@U3|Bob <b>|boss> and <@U4> before friday")
    offer = await p.wait_post("DU2", "handed you H-1")
    shown = assert_no_slack_markup(offer.args)
    # nobody is pinged by someone else's text; the names are still there to read
    assert "loop in @Bob b|boss> and @U4 before friday" in shown  # the label ends at its first `>`


# --- Teams: how it reads what we send -------------------------------------------------------------
_COMMONMARK = MarkdownIt("commonmark")
_MARKUP = {"link_open", "image", "strong_open", "em_open", "s_open", "code_inline", "html_inline", "html_block",
           "heading_open", "bullet_list_open", "ordered_list_open", "blockquote_open", "hr", "code_block", "fence"}


def card_texts(posted: Posted) -> list[str]:
    """Every string of the card that Teams reads as markdown: TextBlocks, and facts' titles and values."""
    texts = []

    def walk(node) -> None:
        if isinstance(node, dict):
            if node.get("type") == "TextBlock":
                texts.append(node["text"])
            if node.get("type") == "FactSet":
                texts.extend(text for fact in node["facts"] for text in (fact["title"], fact["value"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(posted.card["body"])
    return texts


def _shown(tokens) -> str:
    parts = []
    for token in tokens:
        if token.children:
            parts.append(_shown(token.children))
        elif token.type in ("text", "code_inline"):
            parts.append(token.content)
        elif token.type in ("softbreak", "hardbreak"):
            parts.append("\n")
    return "".join(parts)


_OUR_TEAMS_MENTION = re.compile(r"<at>([^<>]*)</at>")


def assert_no_teams_markup(posted: Posted) -> str:
    """No markdown string of the card makes a link, emphasis, a heading, a list, a quote, code
    or HTML when read as CommonMark. Returns the card's text as shown, lines joined."""
    texts = card_texts(posted)
    assert texts, "nothing Teams would show"
    entities = [e["text"] for e in posted.card.get("msteams", {}).get("entities", ())]
    last = posted.card["body"][-1]
    if last.get("type") == "TextBlock" and last["text"].startswith("cc ") and entities:
        # the one markup allowed: the line of `<at>` mentions the bot adds itself (Reply.mentions),
        # each tag one of the card's mention entities
        assert [f"<at>{name}</at>" for name in _OUR_TEAMS_MENTION.findall(last["text"])] == entities
        texts[-1] = _OUR_TEAMS_MENTION.sub(lambda m: m.group(1), last["text"])
    shown = []
    for text in texts:
        tokens = _COMMONMARK.parse(text)
        kinds = {t.type for t in tokens} | {c.type for t in tokens for c in (t.children or ())}
        assert not kinds & _MARKUP, (text, kinds & _MARKUP)
        shown.append("\n".join(_shown([t]) for t in tokens if t.type == "inline"))
    return "\n".join(shown)


# As Teams sends it: what the person typed is HTML, their `<` and `>` as entities.
TEAMS_HOSTILE = "&lt;!channel&gt; [session expired — sign in again](https://evil.example) **bold** _it_ " \
                "&lt;at&gt;Boss&lt;/at&gt; \\[x\\]"
TEAMS_TYPED = "<!channel> [session expired — sign in again](https://evil.example) **bold** _it_ <at>Boss</at> \\[x\\]"
ANA_EVIL = person("aad-ana-t", "Ana [CEO](https://evil.example) <b>|x")  # a Teams display name, as chosen
ANA_CHAT = "a:personal-aad-ana-t"
MARIA_CHAT = "a:personal-aad-maria"


async def test_teams_channel_post_direct_messages_and_form_show_hostile_text_as_typed(platforms):
    p = platforms
    await p.teams_say("help", sender=MARIA)  # her first contact: the bot may message her from now on
    await p.teams_say("<at>Partnerbot</at> partnership new Globex Alliance with <at>Maria</at>", sender=ANA_EVIL,
                      channel=True, entities=[mention(BOT), mention(MARIA)])
    await p.teams_wait(TEAMS_CHANNEL, "This channel is bound")
    await p.teams_say("partnership P-1 accept", sender=MARIA)
    await p.teams_wait(MARIA_CHAT, "You manage side B of P-1")

    # (b) a direct message: the handoff offer in Maria's chat, sent by the outbox
    await p.teams_say(f"handoff <at>Maria</at> Initech: {TEAMS_HOSTILE}", sender=ANA_EVIL, entities=[mention(MARIA)])
    offer = await p.teams_wait(MARIA_CHAT, "handed you H-1")
    shown = assert_no_teams_markup(offer)
    assert TEAMS_TYPED in shown and ANA_EVIL["name"] in shown

    # (a) a channel post: the win celebrated in the bound Teams channel
    await p.teams_say("handoff H-1 accept", sender=MARIA)
    await p.teams_wait(MARIA_CHAT, "You accepted H-1")
    await p.teams_say("win H-1", sender=ANA_EVIL)
    celebration = await p.teams_wait(TEAMS_CHANNEL, "Win: H-1")
    shown = assert_no_teams_markup(celebration)
    assert TEAMS_TYPED in shown and ANA_EVIL["name"] in shown

    # (c) a form: Maria answers an ask; the form card shows the request
    await p.teams_say(f"ask <at>Maria</at> {TEAMS_HOSTILE}", sender=ANA_EVIL, entities=[mention(MARIA)])
    ask = await p.teams_wait(MARIA_CHAT, "asks you for help (Q-1)")
    assert TEAMS_TYPED in assert_no_teams_markup(ask)
    (command,) = [c for title, c in ask.submits if title == "Answer"]
    await p.teams_say(None, sender=MARIA, value={"command": command}, reply_to=ask.id)
    form = await p.teams_wait(MARIA_CHAT, "Your answer to Q-1")
    shown = assert_no_teams_markup(form)
    assert TEAMS_TYPED in shown and ANA_EVIL["name"] in shown

    # …her answer, several lines of markdown, goes back to Ana: another direct message
    answer = "# Heading\n- listed\n1. numbered\n> quoted\n***\n    indented\n[sign in](https://evil.example)"
    data = form.card["actions"][0]["data"]
    await p.teams_say(None, sender=MARIA, value={**data, "answer": answer}, reply_to=form.id)
    told = await p.teams_wait(ANA_CHAT, "answered Q-1")
    shown = assert_no_teams_markup(told)
    assert "# Heading\n- listed\n1. numbered\n> quoted\n***" in shown and "[sign in](https://evil.example)" in shown


async def test_a_teams_users_html_escaped_channel_mention_stays_text_on_slack(platforms):
    """Teams sends a typed `<!channel>` as `&lt;!channel&gt;`; unescaped, it is the text the
    person typed, and Slack gets it escaped: Dana's direct message shows it and pings nobody.
    A typed `<@U2|…>` is no mention either: no one is named by it."""
    p = platforms
    await slack_partnership(p)
    code = re.search(r"link code is (\w+)", (await slash(p, "link", channel="DU1"))["text"]).group(1)
    await p.teams_say(f"link {code}")
    await slash(p, "link confirm", channel="DU1")  # the code's issuer confirms, on Slack
    await p.teams_wait("a:personal-aad-ana", "Linked")

    await p.teams_say(f"partnership P-1 goal {TEAMS_HOSTILE} &lt;@U2|the boss&gt;", sender=ANA_TEAMS)
    told = await p.wait_post("DU2", "changed the charter of P-1")
    shown = assert_no_slack_markup(told.args)
    assert "<!channel> [session expired — sign in again](https://evil.example)" in shown
    assert "<\u2060@U2|the boss>" in shown  # as typed (a word joiner keeps it from reading as a mention)


async def test_a_mention_typed_as_text_names_nobody_on_slack_or_teams(platforms):
    """Slack and Teams send a typed `<` as `&lt;`: unescaped, `<@id|name>` typed as text must not
    read as a mention, which would hand a record to anyone under a name of the typist's choice."""
    p = platforms
    refused = await slash(p, "handoff &lt;@U2|The CEO&gt; Acme: needs a review")
    assert "a plain name is not enough" in refused["text"]
    await p.teams_say("handoff &lt;@aad-maria|The CEO&gt; Initech: needs a review", sender=ANA_EVIL)
    await p.teams_wait(ANA_CHAT, "a plain name is not enough")
    assert await rows(p.bot.db, Handoff) == []
    assert "The CEO" not in {person.display_name for person in await rows(p.bot.db, Person)}


# --- unit-level: each renderer's escaping is whole, and ours stays ours ---------------------------
def test_slack_escapes_every_text_field_and_keeps_its_own_bold():
    from adapters.slack.render import message

    reply = Reply("H-1 <!channel>", cards=(Card("Handoff <!here>", text="need <https://x.example|y>",
                                                facts=(Fact("From <@U1|a|b>", "<!everyone>"),)),))
    sent = message(reply)
    assert sent["text"] == "H-1 &lt;!channel&gt;"
    assert sent["blocks"][0]["text"]["text"] == "*Handoff &lt;!here&gt;*\nneed &lt;https://x.example|y&gt;"
    assert sent["blocks"][1]["fields"][0]["text"] == "*From @a b*\n&lt;!everyone&gt;"  # a name, no `|` left


def test_teams_escapes_markdown_in_every_text_and_fact_and_keeps_plain_text_as_is():
    from adapters.teams.render import adaptive_card

    card = adaptive_card(Reply("x", cards=(Card("C-1 due Fri 27 Nov 17:00 (Europe/Berlin) · 75%",
                                                text="1. one\n- two", facts=(Fact("**A**", "[b](c)"),)),)))
    title, text, facts = card["body"]
    assert title["text"] == "C-1 due Fri 27 Nov 17:00 (Europe/Berlin) · 75%"  # nothing to escape: unchanged
    assert text["text"] == "1\\. one\n\\- two"
    assert facts["facts"] == [{"title": "\\*\\*A\\*\\*", "value": "\\[b\\]\\(c)"}]
    assert card["fallbackText"] == "x"  # plain text, not markdown: as is


# --- console: a terminal is not driven by someone's text ------------------------------------------
ANSI = "\x1b[2J\x1b]0;pwned\x07\x9b31m\rfake prompt\u202eevil"


def test_console_shows_control_characters_as_escapes_and_keeps_lines_tabs_and_emoji():
    shown = render(Reply(f"H-1 {ANSI}", cards=(Card("t\x1b[31m", facts=(Fact("a\x00", "b\tc 🎉"),)),)))
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", shown)
    assert "\\x1b[2J\\x1b]0;pwned\\x07\\x9b31m\\x0dfake prompt\\u202eevil" in shown
    assert "\n  ┌ t\\x1b[31m\n  │ a\\x00: b\tc 🎉" in shown


async def test_someone_elses_escape_sequences_reach_a_console_user_as_visible_text(chat):
    assert (await chat.say("ana", f"handoff <@bob|bob> Acme: {ANSI}")).ok
    out = io.StringIO()
    # bob at his terminal: `list` shows the handoff ana typed
    await asyncio.wait_for(console.chat(chat.dispatcher.dispatch, "bob", "acme", io.StringIO("list\n"), out), 10)
    printed = out.getvalue()
    assert "H-1" in printed
    assert "\x1b" not in printed and "\x9b" not in printed and "\u202e" not in printed and "\r" not in printed
    assert "\\x1b[2J" in printed and "fake prompt" in printed  # still there to read


async def test_a_form_asked_in_the_console_shows_someone_elses_escape_sequences_as_text(chat):
    """ana names the partnership; bob's peer-sync form, asked question by question, says its name."""
    assert (await chat.say("ana", f"partnership new Acme{ANSI} with <@bob|bob>")).ok
    assert (await chat.say("bob", "partnership P-1 accept")).ok
    out = io.StringIO()
    await asyncio.wait_for(console.chat(chat.dispatcher.dispatch, "bob", "acme", io.StringIO("sync now\n"), out), 10)
    printed = out.getvalue()
    assert "── Peer sync S-1 ──" in printed and "\\x1b[2J\\x1b]0;pwned\\x07\\x9b31m fake prompt\\u202eevil, week" in printed
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", printed)
