"""Authority comes from somewhere: nobody becomes someone's manager, a partnership's manager or
a win's contributor by their own command (README, "Who may do what")."""
from handlers import default_registry
from handlers.kernel.dispatch import Dispatcher
from storage.models import PartnershipInvite, PartnershipMember, Person, SyncSeries
from tests.conftest import Chat
from tests.helpers import assert_refused_without_change, person_named, rows, sent, snapshot


async def _partnered(chat):
    """P-1 between ana (side A) and dana (side B), both accepted; maria on side A, accepted."""
    assert (await chat.say("ana", "partnership new Acme Alliance with <@dana|dana>", channel="C1")).ok
    assert (await chat.say("dana", "partnership P-1 accept")).ok
    assert (await chat.say("ana", "partnership P-1 add <@maria|maria>")).ok
    assert (await chat.say("maria", "partnership P-1 accept")).ok


# --- the takeover of the issue: a rep appoints themselves someone's manager -------------------
async def test_a_self_made_partnership_gives_no_authority_over_anyone(chat, db):
    await _partnered(chat)
    assert (await chat.say("root", "admin manager <@bob|bob> <@dana|dana>")).ok  # the console's user is admin
    assert (await person_named(db, "bob")).manager_id == (await person_named(db, "dana")).id

    # ana starts "Takeover" with dave; dave never accepts: ana cannot add bob to it
    assert (await chat.say("ana", "partnership new Takeover with <@dave|dave>")).ok
    await assert_refused_without_change(chat, db, "ana", "partnership P-2 add <@bob|bob>", "P-2 Takeover is pending")
    # a side-A manager cannot add to side B either
    await assert_refused_without_change(chat, db, "ana", "partnership P-1 add <@bob|bob> side b",
                                        "only side B's manager adds people to side B")
    # even accepted, an invitation does not take bob from the manager he has
    assert (await chat.say("dave", "partnership P-2 accept")).ok
    assert (await chat.say("ana", "partnership P-2 add <@bob|bob>")).ok
    # invited is not joined: ana may not read bob's scorecard or list, nor give him work
    for command, refusal in (("report <@bob|bob>", "can see their scorecard"),
                             ("list <@bob|bob>", "can see their list"),
                             ("commit call Acme by tomorrow to <@bob|bob>", "Only bob's manager")):
        await assert_refused_without_change(chat, db, "ana", command, refusal)
    reply = await chat.say("bob", "partnership P-2 accept")
    assert reply.ok and "now your manager" not in reply.text
    assert (await person_named(db, "bob")).manager_id == (await person_named(db, "dana")).id
    # a manager of his partnership sees his work now, but his manager is still dana's to be
    assert (await chat.say("ana", "report <@bob|bob>")).ok
    await assert_refused_without_change(chat, db, "ana", "commit call Acme by tomorrow to <@bob|bob>",
                                        "Only bob's manager")


async def test_joining_a_side_is_the_reps_choice_and_gives_a_manager_only_to_who_has_none(chat, db):
    await _partnered(chat)
    ana, maria = await person_named(db, "ana"), await person_named(db, "maria")
    assert maria.manager_id == ana.id

    assert (await chat.say("ana", "partnership P-1 add <@rita|rita>")).ok
    (invited,) = await sent(db, "partnership.invited", "rita")
    assert [b["label"] for b in invited.payload["cards"][0]["buttons"]] == ["Accept", "Decline"]
    assert [(i.side, i.role) for i in await rows(db, PartnershipInvite)] == [("a", "rep")]
    # until rita answers she is no member: no manager, no pulse, no listing
    assert (await person_named(db, "rita")).manager_id is None
    await assert_refused_without_change(chat, db, "rita", "report P-1", "Only the members of P-1")
    # only rita answers her invitation
    await assert_refused_without_change(chat, db, "maria", "partnership P-1 accept", "already a member")
    await assert_refused_without_change(chat, db, "sam", "partnership P-1 accept", "no invitation to P-1")
    reply = await chat.say("rita", "partnership P-1 decline busy this quarter")
    assert reply.ok and "declined" in reply.text
    assert await rows(db, PartnershipInvite) == []
    assert (await person_named(db, "rita")).manager_id is None
    assert "busy this quarter" in (await sent(db, "partnership.invite_declined", "ana"))[0].payload["text"]


async def test_a_partnership_is_pending_until_the_peer_manager_accepts(chat, db):
    reply = await chat.say("ana", "partnership new Acme Alliance with <@dana|dana>", channel="C1")
    assert reply.ok and "pending until dana accepts" in reply.text
    assert [m.person_id for m in await rows(db, PartnershipMember)] == [(await person_named(db, "ana")).id]
    assert await rows(db, SyncSeries) == []  # no peer-sync prompts while pending
    for command, refusal in (("sync now P-1", "P-1 Acme Alliance is pending"),
                             ("pulse P-1", "P-1 Acme Alliance is pending"),
                             ('meeting new P-1 "Brainstorm" every tue 15:00', "P-1 Acme Alliance is pending"),
                             ("partnership P-1 agree", "P-1 Acme Alliance is pending")):
        await assert_refused_without_change(chat, db, "ana", command, refusal)
    for shown in ("partnership P-1", "report P-1", "list P-1", "partnership P-1 charter"):
        assert "pending: waiting for dana to accept" in (await chat.say("ana", shown)).text, shown
    # only dana accepts it
    await assert_refused_without_change(chat, db, "ana", "partnership P-1 accept", "already a member")
    await assert_refused_without_change(chat, db, "eve", "partnership P-1 accept", "no invitation")

    assert (await chat.say("dana", "partnership P-1 accept")).ok
    assert len(await rows(db, SyncSeries)) == 2
    assert "pending" not in (await chat.say("ana", "partnership P-1")).text
    assert "dana accepted P-1" in (await sent(db, "partnership.accepted", "ana"))[0].payload["text"]


async def test_a_declined_partnership_never_runs_and_frees_its_name(chat, db):
    assert (await chat.say("ana", "partnership new Acme Alliance with <@dana|dana>")).ok
    assert (await chat.say("dana", "partnership P-1 decline not this year")).ok
    await assert_refused_without_change(chat, db, "ana", "sync now P-1", "was declined")
    assert "not this year" in (await sent(db, "partnership.declined", "ana"))[0].payload["text"]
    assert (await chat.say("ana", "partnership new Acme Alliance with <@dora|dora>")).ok


async def test_a_rep_leaves_or_their_sides_manager_takes_them_off_and_managers_stay(chat, db):
    await _partnered(chat)
    assert (await chat.say("dana", "partnership P-1 add <@bob|bob>")).ok
    assert (await chat.say("bob", "partnership P-1 accept")).ok
    await assert_refused_without_change(chat, db, "dana", "partnership P-1 remove <@maria|maria>",
                                        "Only maria or the manager of side A")
    await assert_refused_without_change(chat, db, "bob", "partnership P-1 remove <@maria|maria>",
                                        "Only maria or the manager of side A")
    await assert_refused_without_change(chat, db, "ana", "partnership P-1 remove <@dana|dana>",
                                        "keeps its two managers")
    assert (await chat.say("ana", "partnership P-1 remove <@maria|maria>")).ok
    assert "took you off" in (await sent(db, "partnership.member_removed", "maria"))[0].payload["text"]
    assert (await chat.say("bob", "partnership P-1 remove <@bob|bob>")).ok
    assert "bob left" in (await sent(db, "partnership.member_left", "dana"))[0].payload["text"]
    names = {p.id: p.display_name for p in await rows(db, Person)}
    assert sorted(names[m.person_id] for m in await rows(db, PartnershipMember)) == ["ana", "dana"]


async def test_goals_are_the_managers_to_change_and_each_change_reopens_the_charter(chat, db):
    await _partnered(chat)
    assert (await chat.say("ana", "partnership P-1 goal 3 joint wins")).ok
    assert (await chat.say("dana", "partnership P-1 goal one EMEA pilot")).ok
    await assert_refused_without_change(chat, db, "maria", "partnership P-1 goal more wins", "Only the two managers")
    await assert_refused_without_change(chat, db, "maria", "partnership P-1 goal remove 1", "Only the two managers")
    for which in ("3", "²", "two", ""):  # "²" is a digit to str.isdigit, not to int()
        await assert_refused_without_change(chat, db, "ana", f"partnership P-1 goal remove {which}", "1 to 2")
    assert (await chat.say("ana", "partnership P-1 agree")).ok
    reply = await chat.say("dana", "partnership P-1 goal remove 1")
    assert reply.ok and "3 joint wins" in reply.text and "agree again" in reply.text
    charter = (await chat.say("ana", "partnership P-1 charter")).text
    assert "one EMEA pilot" in charter and "3 joint wins" not in charter and "ana not agreed yet" in charter


# --- credit --------------------------------------------------------------------------------
async def test_only_the_people_of_a_handoff_or_lead_link_commitments_to_it(chat, db):
    await _partnered(chat)
    assert (await chat.say("maria", "handoff <@dana|dana> Acme Corp: security review")).ok
    for stranger in ("eve", "bob"):
        await assert_refused_without_change(chat, db, stranger, "commit claim credit by tomorrow re H-1",
                                            "Only the two reps of H-1 or their managers")
    assert (await chat.say("ana", "commit book the CFO by tomorrow re H-1")).ok  # maria's manager
    assert (await chat.say("dana", "commit send the deck by tomorrow re H-1")).ok  # its receiver

    assert (await chat.say("maria", "idea Globex: bundle support", channel="C1")).ok
    await assert_refused_without_change(chat, db, "eve", "commit claim it by tomorrow re L-1", "Only L-1's owner")
    assert (await chat.say("dana", "commit scope it by tomorrow re L-1", channel="C1")).ok  # a member


async def test_a_handoff_is_won_only_once_its_receiver_accepted_it(chat, db):
    await _partnered(chat)
    assert (await chat.say("maria", "handoff <@dana|dana> Acme Corp: security review")).ok
    for command in ("win H-1 10k", "handoff H-1 won 10k"):
        await assert_refused_without_change(chat, db, "maria", command, "never accepted by the rep")
    assert (await chat.say("dana", "handoff H-1 accept")).ok
    reply = await chat.say("maria", "win H-1 10k")
    assert reply.ok and "dana" in reply.text


# --- admins --------------------------------------------------------------------------------
async def test_an_admin_sets_a_manager_and_everyone_concerned_is_told(db, settings, clock):
    slack = Chat(Dispatcher(db, settings, default_registry(), clock), platform="slack", workspace="T1")
    await slack.say("maria", "timezone Europe/Berlin")  # maria exists
    await assert_refused_without_change(slack, db, "maria", "admin manager <@maria|maria> <@ana|ana>",
                                        "Only an admin can set someone's manager")
    assert (await person_named(db, "maria")).manager_id is None

    reply = await slack.say("root", "admin manager <@maria|maria> <@ana|ana>", platform_admin=True)
    assert reply.ok and "ana is now maria's manager" in reply.text
    reply = await slack.say("root", "admin manager <@maria|maria> <@dana|dana>", platform_admin=True)
    assert reply.ok and "instead of ana" in reply.text and "and so is ana" in reply.text
    maria, ana, dana = [await person_named(db, n) for n in ("maria", "ana", "dana")]
    assert maria.manager_id == dana.id
    told = [(m.recipient_person_id, m.payload["text"]) for m in await sent(db, "person.manager")]
    assert (maria.id, "Your manager in Partnerbot is now dana (before: ana): set by root, an admin. They see "
                      "your scorecard and list, can give you commitments and hear about your stuck handoffs.") in told
    assert any(pid == dana.id and "You are now maria's manager" in text for pid, text in told)
    assert any(pid == ana.id and "You are no longer maria's manager" in text for pid, text in told)
    # a cycle is refused: dana cannot report to maria, who reports to her
    before = await snapshot(db)
    reply = await slack.say("root", "admin manager <@dana|dana> <@maria|maria>", platform_admin=True)
    assert not reply.ok and "cannot report to them too" in reply.text
    assert await snapshot(db) == before and (await person_named(db, "dana")).manager_id is None


async def test_admins_listed_in_settings_are_admins_on_their_platform(db, settings, clock):
    from dataclasses import replace

    listed = replace(settings, values={**settings.values, "admins": ["teams:tenant-1:aad-boss"]})
    teams = Chat(Dispatcher(db, listed, default_registry(), clock), platform="teams", workspace="tenant-1")
    assert (await teams.say("aad-boss", "admin manager <@aad-rep|rep> <@aad-lead|lead>")).ok
    await assert_refused_without_change(teams, db, "aad-rep", "admin manager <@aad-rep|rep> <@aad-boss|boss>",
                                        "Only an admin")
    # the same id in another tenant is somebody else
    other = Chat(Dispatcher(db, listed, default_registry(), clock), platform="teams", workspace="tenant-2")
    await assert_refused_without_change(other, db, "aad-boss", "admin manager <@x|x> <@y|y>", "Only an admin")


async def test_the_console_user_is_the_admin(chat, db):
    reply = await chat.say("root", "admin manager <@maria|maria> <@ana|ana>")
    assert reply.ok
    assert (await person_named(db, "maria")).manager_id == (await person_named(db, "ana")).id
    await assert_refused_without_change(chat, db, "root", "admin boss <@maria|maria>", "not an admin command")
    await assert_refused_without_change(chat, db, "root", "admin manager <@maria|maria>", "their manager after")


async def test_an_invitation_is_withdrawn_by_whoever_sent_it_and_nobody_else(chat, db):
    await _partnered(chat)
    assert (await chat.say("ana", "partnership P-1 add <@rita|rita>")).ok
    for other in ("dana", "maria"):
        await assert_refused_without_change(chat, db, other, "partnership P-1 remove <@rita|rita>",
                                            "Only rita or whoever invited them")
    reply = await chat.say("ana", "partnership P-1 remove <@rita|rita>")
    assert reply.ok and "withdrawn" in reply.text
    await assert_refused_without_change(chat, db, "rita", "partnership P-1 accept", "no invitation to P-1")
