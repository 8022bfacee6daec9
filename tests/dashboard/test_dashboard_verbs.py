"""`dashboard` and `dashboard signout` typed in the chat: the link, its lifetime, its one use."""
from __future__ import annotations

import re
from datetime import timedelta

from handlers.dashboard import service
from storage.models import ActivityLog, DashboardSession, DashboardSignIn
from tests.conftest import FIXED_NOW
from tests.helpers import assert_refused_without_change, person_named, rows

PUBLIC_URL = "http://localhost:3978"  # the built-in default of the `settings` fixture
LINK = re.compile(re.escape(PUBLIC_URL) + r"/app/signin/([A-Za-z0-9_-]{43})")


def token_in(reply) -> str:
    assert reply.ok, reply.text
    found = LINK.search(reply.text)
    assert found, reply.text
    return found.group(1)


async def test_dashboard_answers_a_link_valid_ten_minutes_and_stores_only_its_hash(chat, db):
    reply = await chat.say("ana", "dashboard")
    token = token_in(reply)
    assert "works once, until" in reply.text and "(10 minutes)" in reply.text
    [issued] = await rows(db, DashboardSignIn)
    ana = await person_named(db, "ana")
    assert issued.person_id == ana.id and issued.used_at is None
    assert issued.expires_at == FIXED_NOW + timedelta(minutes=10)
    assert issued.token_hash == service.token_hash(token) != token
    assert token not in str([(r.before, r.after) for r in await rows(db, ActivityLog)])


async def test_a_link_signs_in_once_and_not_after_ten_minutes(chat, db, clock):
    first, second = token_in(await chat.say("ana", "dashboard")), token_in(await chat.say("ana", "dashboard"))
    ana = await person_named(db, "ana")
    async with db.transaction() as store:
        session = await service.sign_in(store, first, clock())
        assert session and (await service.session_view(store, session, clock())).viewer_id == ana.id
        assert await service.sign_in(store, first, clock()) is None  # used
        assert await service.sign_in(store, "x" * 43, clock()) is None  # unknown
        assert await service.sign_in(store, "<script>", clock()) is None  # malformed
        assert await service.sign_in(store, second, clock() + timedelta(minutes=10)) is None  # expired
    [made] = await rows(db, DashboardSession)
    assert made.token_hash == service.token_hash(session)
    assert made.expires_at == FIXED_NOW + timedelta(hours=8)


async def test_a_session_lasts_eight_hours(chat, db, clock):
    token = token_in(await chat.say("ana", "dashboard"))
    async with db.transaction() as store:
        session = await service.sign_in(store, token, clock())
        assert await service.session_view(store, session, clock() + timedelta(hours=7, minutes=59)) is not None
        assert await service.session_view(store, session, clock() + timedelta(hours=8)) is None


async def test_signout_ends_every_session_of_the_caller_only(chat, db, clock):
    links = [token_in(await chat.say(user, "dashboard")) for user in ("ana", "ana", "bob")]
    async with db.transaction() as store:
        ana_1, ana_2, bob = [await service.sign_in(store, token, clock()) for token in links]
    reply = await chat.say("ana", "dashboard signout")
    assert reply.ok and reply.text.startswith("Signed out: 2 dashboard sessions ended")
    async with db.transaction() as store:
        assert await service.session_view(store, ana_1, clock()) is None
        assert await service.session_view(store, ana_2, clock()) is None
        assert await service.session_view(store, bob, clock()) is not None
    again = await chat.say("ana", "dashboard signout")
    assert again.ok and "no open dashboard session" in again.text


async def test_what_dashboard_does_not_understand_is_refused_with_its_usage(chat, db):
    await assert_refused_without_change(chat, db, "ana", "dashboard please", "I don't understand 'please'")
    reply = await chat.say("ana", "dashboard please")
    assert "`dashboard` | `dashboard signout`" in reply.text


async def test_in_a_teams_channel_the_link_is_not_given_where_others_would_see_it(db, settings, clock):
    from handlers import default_registry
    from handlers.kernel.dispatch import Dispatcher
    from tests.conftest import Chat

    teams = Chat(Dispatcher(db, settings, default_registry(), clock), platform="teams", workspace="t1")
    await assert_refused_without_change(teams, db, "29:ana", "dashboard", "in a direct chat with me")
    direct = await teams.say("29:ana", "dashboard", is_direct=True)
    assert LINK.search(direct.text), direct.text


async def test_help_lists_dashboard(chat):
    reply = await chat.say("ana", "help")
    assert "dashboard" in reply.text
