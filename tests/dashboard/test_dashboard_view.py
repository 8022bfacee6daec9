"""Who sees what on the dashboard (policy.dashboard_view, the one place that decides it), from
links asked for in the chat: a rep, a manager, an admin, an executive named in the settings, and
a partnership shared with another workspace."""
from __future__ import annotations

from bot.config import load_settings
from handlers import default_registry
from handlers.dashboard import service
from handlers.kernel.dispatch import Dispatcher
from storage.models import Partnership
from tests.conftest import Chat
from tests.helpers import person_named, rows
from tests.reports.test_report import history


async def _view_of(db, clock, chat: Chat, user: str):
    reply = await chat.say(user, "dashboard")
    token = reply.text.split(service.SIGN_IN_PATH, 1)[1].split()[0].rstrip(".)")
    async with db.transaction() as store:
        session = await service.sign_in(store, token, clock())
        return await service.session_view(store, session, clock())


async def test_a_rep_a_manager_an_admin_and_an_executive_each_see_their_scope(bot, db, clock):
    settings = load_settings({"DATABASE_URL": "sqlite://", "PARTNERBOT_EXECUTIVES": "slack:T1:vera"})
    slack = Chat(Dispatcher(db, settings, default_registry(), clock), platform="slack", workspace="T1")
    await history(bot)  # P-1 in the console workspace "acme"
    # P-2 in Slack workspace T1, between two other managers; vera (an executive there) is in none
    assert (await slack.say("zoe", "partnership new Globex Group with <@yan|yan>")).ok
    assert (await slack.say("yan", "partnership P-1 accept")).ok
    assert (await slack.say("vera", "list")).ok
    p1, p2 = sorted(await rows(db, Partnership), key=lambda p: p.id)
    ana, maria = [await person_named(db, n) for n in ("ana", "maria")]

    zoe = await _view_of(db, clock, slack, "zoe")  # a Slack user, no admin: a manager of P-2
    assert not zoe.whole_workspace
    assert zoe.may_see_partnership(p2.id) and not zoe.may_see_partnership(p1.id)
    assert not zoe.may_see_person(ana.id)
    assert not zoe.may_see_credit and not zoe.may_see_leaders  # nobody reports to zoe

    vera = await _view_of(db, clock, slack, "vera")  # named in `executives`
    assert vera.whole_workspace and vera.may_see_partnership(p2.id) and not vera.may_see_partnership(p1.id)
    assert vera.may_see_credit and vera.may_see_leaders
    assert not vera.may_see_person(maria.id)  # another workspace's people are not hers

    ana_view = await _view_of(db, clock, bot.chat, "ana")  # the console: an admin of "acme"
    assert ana_view.whole_workspace and ana_view.may_see_partnership(p1.id)
    assert not ana_view.may_see_partnership(p2.id)


async def test_a_manager_sees_the_people_below_them_and_a_rep_only_themselves(db, clock):
    slack = Chat(Dispatcher(db, load_settings({"DATABASE_URL": "sqlite://"}), default_registry(), clock),
                 platform="slack", workspace="T1")
    assert (await slack.say("ana", "partnership new Acme Alliance with <@dana|dana>")).ok
    assert (await slack.say("dana", "partnership P-1 accept")).ok
    assert (await slack.say("ana", "partnership P-1 add <@bob|bob>")).ok
    assert (await slack.say("bob", "partnership P-1 accept")).ok  # bob joins ana's side: she is his manager
    assert (await slack.say("carl", "list")).ok  # someone in the workspace, in no partnership
    [p1] = await rows(db, Partnership)
    ana, bob, carl, dana = [await person_named(db, n) for n in ("ana", "bob", "carl", "dana")]

    ana_view = await _view_of(db, clock, slack, "ana")
    assert ana_view.reports == {bob.id}
    assert {ana.id, bob.id, dana.id} <= ana_view.people and carl.id not in ana_view.people
    assert ana_view.may_see_partnership(p1.id) and ana_view.may_see_credit

    bob_view = await _view_of(db, clock, slack, "bob")
    assert bob_view.people == {bob.id}
    assert bob_view.may_see_partnership(p1.id)
    assert not bob_view.may_see_person(ana.id) and not bob_view.may_see_credit and not bob_view.may_see_leaders
