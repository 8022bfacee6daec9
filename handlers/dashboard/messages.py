"""What Partnerbot says about dashboard sign-in links and sessions."""
from __future__ import annotations

USAGE_HINT = "`dashboard` sends you a sign-in link; `dashboard signout` ends your dashboard sessions."


def sign_in_link(url: str, until: str) -> str:
    return (f"Your sign-in link to the Partnerbot dashboard: {url}\nIt works once, until {until} (10 minutes), "
            f"and keeps you signed in for 8 hours in that browser. Keep it to yourself: whoever opens it first "
            f"is signed in as you. `dashboard signout` ends every dashboard session of yours.")


def signed_out(ended: int) -> str:
    if not ended:
        return "You had no open dashboard session; nothing to end. `dashboard` sends a new sign-in link."
    sessions = "session" if ended == 1 else "sessions"
    return (f"Signed out: {ended} dashboard {sessions} ended; those browsers now need a new link "
            f"(`dashboard`).")


def not_here() -> str:
    return ("Ask for your dashboard link in a direct chat with me: here everyone in the conversation would "
            "see it, and whoever opens it first is signed in as you.")


def not_understood(rest: str) -> str:
    return f"I don't understand '{rest}' after `dashboard`. {USAGE_HINT}"
