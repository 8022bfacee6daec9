"""Communities of practice on a fixed, movable clock: the start post, ideas that become leads,
the end prompt, the refused close, nudges until closed, the summary, lead activities."""
from datetime import datetime, timezone

import pytest

from handlers.kernel.model import Reply
from storage.models import Commitment, Lead, Meeting
from tests.helpers import assert_refused_without_change, person_named, rows, sent, snapshot

UTC = timezone.utc
PURPOSE = "Brainstorm new business at Acme"
# Tue 24 Nov 15:00 in Berlin is 14:00 UTC; the meeting lasts until 14:45 UTC
STARTS, ENDS = datetime(2026, 11, 24, 14, 0, tzinfo=UTC), datetime(2026, 11, 24, 14, 45, tzinfo=UTC)


async def start_series(bot, when="every tue 15:00 for 45m"):
    await bot.say("ana", "timezone Europe/Berlin")
    await bot.say("dana", "timezone America/New_York")
    assert (await bot.say("ana", "partnership new Acme Alliance with <@dana|dana>", channel="C1")).ok
    assert (await bot.say("dana", "partnership P-1 accept")).ok
    assert (await bot.say("ana", "partnership P-1 add <@maria|maria>")).ok
    assert (await bot.say("maria", "partnership P-1 accept")).ok
    reply = await bot.say("ana", f'meeting new P-1 "{PURPOSE}" {when}', channel="C1")
    assert reply.ok, reply.text
    return reply


def payload(message) -> Reply:
    return Reply.from_dict(message.payload)


async def test_a_series_posts_its_purpose_and_capture_button_in_the_channel_at_its_start(bot, db):
    created = await start_series(bot)
    assert PURPOSE in created.text and "Tue 24 Nov 15:00 (Europe/Berlin)" in created.text
    assert "meeting starts" not in await bot.at(datetime(2026, 11, 24, 13, 59, tzinfo=UTC))
    assert not await rows(db, Meeting)
    assert (await bot.at(STARTS))["meeting starts"] == 1
    (post,) = await sent(db, "meeting.start")
    assert post.channel == "C1" and post.recipient_person_id is None
    start = payload(post)
    assert "M-1" in start.text and PURPOSE in start.text and "None open." in start.text
    assert start.mentions == ()  # nobody has anything to report yet: nobody is singled out
    assert ("Capture action items", "meeting actions M-1") in [(b.label, b.command) for b in start.cards[0].buttons]
    (m,) = await rows(db, Meeting)
    assert (m.number, m.starts_at, m.ends_at) == (1, STARTS, ENDS)
    assert not await bot.at(STARTS)  # the same tick again: nothing new
    assert len(await sent(db, "meeting.start")) == 1


async def test_an_idea_typed_in_the_channel_during_the_meeting_becomes_a_lead_of_that_meeting(bot, db):
    await start_series(bot)
    before = await bot.say("maria", "idea Acme: joint webinar", channel="C1")  # no meeting yet
    await bot.at(STARTS)
    during = await bot.say("maria", "idea Acme: cross-sell the analytics add-on owner <@dana|dana>", channel="C1")
    direct = await bot.say("maria", "idea Globex: renewal bundle", is_direct=True)
    assert before.ok and during.ok and direct.ok
    assert "L-2" in during.text and "Linked to M-1" in during.text and "dana" in during.text
    leads = {lead.number: lead for lead in await rows(db, Lead)}
    (m,) = await rows(db, Meeting)
    assert leads[1].meeting_id is None and leads[1].partnership_id is not None  # the channel's partnership
    assert leads[2].meeting_id == m.id and leads[2].owner_id == (await person_named(db, "dana")).id
    assert leads[2].created_by_id == (await person_named(db, "maria")).id
    assert leads[3].meeting_id is None and leads[3].partnership_id is None
    assert len(await sent(db, "lead.assigned", "dana")) == 1  # the owner is told


async def test_the_organiser_is_asked_for_action_items_at_the_end_and_cannot_close_without_one(bot, db):
    await start_series(bot)
    await bot.at(STARTS)
    assert "meeting follow-ups" not in await bot.at(datetime(2026, 11, 24, 14, 44, tzinfo=UTC))
    await bot.at(ENDS)
    (prompt,) = await sent(db, "meeting.end", "ana")
    buttons = [(b.label, b.command) for b in payload(prompt).cards[0].buttons]
    assert buttons == [("Capture action items", "meeting actions M-1"), ("Close meeting", "meeting close M-1")]
    await assert_refused_without_change(bot, db, "ana", "meeting close M-1",
                                        "no action item with an owner and a due date")
    # nudged every 24 h until closed
    assert "meeting follow-ups" not in await bot.at(datetime(2026, 11, 25, 14, 44, tzinfo=UTC))
    await bot.at(datetime(2026, 11, 25, 14, 45, tzinfo=UTC))
    await bot.at(datetime(2026, 11, 26, 14, 45, tzinfo=UTC))
    nudges = await sent(db, "meeting.nudge", "ana")
    assert len(nudges) == 2 and "no action item" in payload(nudges[0]).text
    # an action item by text, then the close posts the summary
    added = await bot.say("ana", "action M-1 <@maria|maria> send the joint case study by fri", channel="C1")
    assert added.ok and "C-1" in added.text and "maria" in added.text
    (item,) = await rows(db, Commitment)
    assert item.meeting_id is not None and item.cadence_step == "reminder"  # the usual reminders
    closed = await bot.say("ana", "meeting close M-1", channel="C1")
    assert closed.ok and "M-1 closed" in closed.text
    (posted,) = await sent(db, "meeting.summary")
    summary = payload(posted).text
    assert posted.channel == "C1"
    assert PURPOSE in summary and "C-1 · maria: send the joint case study" in summary and "Contributed: ana" in summary
    assert [m.name for m in payload(posted).mentions] == ["maria"]  # the action item's owner is notified
    await bot.at(datetime(2026, 11, 30, 14, 45, tzinfo=UTC))
    assert len(await sent(db, "meeting.nudge", "ana")) == 2  # closed: no more nudges
    await assert_refused_without_change(bot, db, "ana", "meeting close M-1", "was closed")


async def test_nudges_wait_for_the_morning_in_the_organisers_timezone(bot, db):
    await start_series(bot, when="every tue 21:00 for 30m")  # ends 21:30 Berlin (20:30 UTC)
    await bot.at(datetime(2026, 11, 24, 20, 0, tzinfo=UTC))
    await bot.at(datetime(2026, 11, 24, 20, 30, tzinfo=UTC))
    assert len(await sent(db, "meeting.end", "ana")) == 1
    # 24 h later is 21:30 in Berlin: night, so the nudge waits until 08:00 (07:00 UTC) on Thursday
    await bot.at(datetime(2026, 11, 25, 20, 30, tzinfo=UTC))
    await bot.at(datetime(2026, 11, 26, 6, 59, tzinfo=UTC))
    assert not await sent(db, "meeting.nudge", "ana")
    await bot.at(datetime(2026, 11, 26, 7, 0, tzinfo=UTC))
    assert [m.created_at for m in await sent(db, "meeting.nudge", "ana")] == [datetime(2026, 11, 26, 7, 0, tzinfo=UTC)]


async def test_the_action_item_form_saves_every_complete_row_or_nothing(bot, db):
    await start_series(bot)
    await bot.at(STARTS)
    opened = await bot.say("ana", "meeting actions M-1", from_button=True, channel="C1")
    assert opened.ok and opened.form.submit_command == "meeting submit M-1"
    kinds = [(q.id, q.kind) for q in opened.form.questions[:3]]
    assert kinds == [("owner_1", "person"), ("what_1", "text"), ("due_1", "date")]
    incomplete = {"owner_1": "<@maria|maria>", "what_1": "draft the offer", "due_1": "2026-12-04",
                  "owner_2": "<@dana|dana>", "what_2": "intro to their CFO", "due_2": ""}
    before = await snapshot(db)
    refused = await bot.say("ana", "meeting submit M-1", form_values=incomplete, channel="C1")
    # the form comes back with every row as typed, the reason under row 2's due date only
    assert not refused.ok and "2. Due: Give a due date." in refused.text
    assert refused.form.errors == {"due_2": "Give a due date."}
    assert {q.id: q.value for q in refused.form.questions if q.value} == {k: v for k, v in incomplete.items() if v}
    assert await snapshot(db) == before
    bad = {"owner_1": "maria", "what_1": "", "due_1": "2026-12-04",
           "owner_3": "<@dana|dana>", "what_3": "intro to their CFO", "due_3": "2026-11-01"}
    refused = await bot.say("ana", "meeting submit M-1", form_values=bad, channel="C1")
    assert not refused.ok and refused.form.errors == {
        "owner_1": "Pick the owner as a person (a mention), not 'maria'.", "what_1": "Say what is to be done.",
        "due_3": "2026-11-01 is in the past. Pick today or a later date."}
    assert "3. Due: 2026-11-01 is in the past" in refused.text
    assert await snapshot(db) == before
    empty = await bot.say("ana", "meeting submit M-1", form_values={}, channel="C1")
    assert empty.form.errors == {"owner_1": "Every row is empty: give at least one action item an owner, "
                                            "what and a due date."}
    assert await snapshot(db) == before
    saved = await bot.say("ana", "meeting submit M-1", form_values={**incomplete, "due_2": "fri"}, channel="C1")
    assert saved.ok and "2 action item(s) saved for M-1" in saved.text
    items = sorted(await rows(db, Commitment), key=lambda c: c.number)
    assert [(c.what, c.due_date.isoformat()) for c in items] == [
        ("draft the offer", "2026-12-04"), ("intro to their CFO", "2026-11-27")]
    assert len(await sent(db, "commitment.assigned", "dana")) == 1


async def test_only_the_organiser_or_a_manager_closes_or_assigns_to_others(bot, db):
    await start_series(bot)
    await bot.at(STARTS)
    await assert_refused_without_change(bot, db, "maria", "action M-1 <@dana|dana> call the CFO by fri",
                                        "Only the organiser of M-1 or a manager")
    own = await bot.say("maria", "action M-1 <@maria|maria> call the CFO by fri")
    assert own.ok  # taking one yourself is fine
    await assert_refused_without_change(bot, db, "maria", "meeting close M-1", "Only ana, who organises M-1")
    assert (await bot.say("dana", "meeting close M-1")).ok  # the other side's manager may


@pytest.mark.parametrize("command, reason", [
    ('meeting new P-1 every tue 15:00', "needs a purpose"),
    ('meeting new P-1 "" every tue 15:00', "needs a purpose"),
    ('meeting new P-1 "Pipeline review" every tue 25:00', "not a time of day"),
    ('meeting new P-1 "Pipeline review" every tue 15:75', "not a time of day"),
    ('meeting new P-1 "Pipeline review" every someday 15:00', "not a weekday"),
    ('meeting new P-1 "Pipeline review" tomorrow', "Say when it meets"),
    ('meeting new P-1 "Pipeline review" every tue 15:00 for 2m', "from 5 to 480 minutes"),
    ('meeting new P-9 "Pipeline review" every tue 15:00', "no partnership P-9"),
    ("action M-1 send the deck by fri", "needs an owner"),
    ("action M-1 <@maria|maria> send the deck", "needs a due date"),
    ("action M-1 <@maria|maria> send the deck by 2026-11-01", "in the past"),
    ("action M-7 <@maria|maria> send the deck by fri", "no meeting M-7"),
    ("idea cross-sell the add-on", "Start with the account"),
    ("idea : cross-sell the add-on", "Start with the account"),
    ("idea Acme:", "Say the idea"),
    ("meeting close", "Say which meeting"),
    ("meeting submit M-1", "with the form"),
])
async def test_bad_meeting_input_is_refused_and_changes_nothing(bot, db, command, reason):
    await start_series(bot)
    await bot.at(STARTS)
    await assert_refused_without_change(bot, db, "ana", command, reason)


async def test_a_meeting_needs_a_channel_bound_to_its_partnership(bot, db):
    await start_series(bot)
    await assert_refused_without_change(bot, db, "ana", f'meeting new P-1 "{PURPOSE}" every tue 15:00',
                                        "in a channel bound to P-1")  # a direct chat
    before = await snapshot(db)
    reply = await bot.say("ana", f'meeting new P-1 "{PURPOSE}" every tue 15:00', channel="C-random")
    assert not reply.ok and "not bound to P-1" in reply.text and await snapshot(db) == before
    reply = await bot.say("zoe", f'meeting new P-1 "{PURPOSE}" every tue 15:00', channel="C1")
    assert not reply.ok and "not a member of P-1" in reply.text


async def test_a_lead_gets_next_activities_that_are_reminded_and_closes_once(bot, db):
    await start_series(bot)
    await bot.at(STARTS)
    await bot.say("maria", "idea Acme: cross-sell the analytics add-on", channel="C1")
    listed = await bot.say("ana", "list account acme")
    assert "L-1 · Acme: cross-sell the analytics add-on · owner maria · no next activity" in listed.text
    await assert_refused_without_change(bot, db, "zoe", "lead L-1 next demo by fri", "L-1 belongs to maria")
    await assert_refused_without_change(bot, db, "maria", "lead L-1 next demo", "needs a date")
    nxt = await bot.say("maria", "lead L-1 next demo with their CTO by fri")
    assert nxt.ok and "C-1" in nxt.text and "next activity of L-1" in nxt.text
    (activity,) = await rows(db, Commitment)
    assert activity.lead_id is not None and activity.account == "Acme"
    assert "next: C-1 demo with their CTO" in (await bot.say("ana", "list account acme")).text
    # the usual reminder, 24 h before Friday 17:00 (maria has no timezone: UTC)
    await bot.at(datetime(2026, 11, 26, 17, 0, tzinfo=UTC))
    assert len(await sent(db, "commitment.reminder", "maria")) == 1
    await assert_refused_without_change(bot, db, "maria", "lead L-1 lost", "Say why it was lost")
    await assert_refused_without_change(bot, db, "maria", "lead L-1 won lots", "can't read 'lots' as an amount")
    won = await bot.say("maria", "lead L-1 won $120,000")
    assert won.ok and "120,000" in won.text
    (lead,) = await rows(db, Lead)
    assert (lead.status, lead.amount_cents) == ("won", 12_000_000)
    await assert_refused_without_change(bot, db, "maria", "lead L-1 won 5k", "already won")
    await assert_refused_without_change(bot, db, "maria", "lead L-1 lost too late", "already won")


async def test_next_weeks_start_post_and_the_digest_show_open_items_and_leads_without_next_activity(bot, db):
    await start_series(bot)
    await bot.at(STARTS)
    await bot.say("maria", "idea Acme: cross-sell the analytics add-on", channel="C1")
    await bot.say("ana", "action M-1 <@maria|maria> send the joint case study by 2026-12-04", channel="C1")
    await bot.say("ana", "meeting close M-1")
    await bot.at(datetime(2026, 12, 1, 14, 0, tzinfo=UTC))
    second_post = payload((await sent(db, "meeting.start"))[-1])
    second = second_post.text
    assert [m.name for m in second_post.mentions] == ["maria"]  # she has items to report on: notified
    assert "M-2" in second and "C-1 · maria: send the joint case study" in second
    assert "L-1 · Acme: cross-sell the analytics add-on · owner maria · no next activity" in second
    # the peer-sync digest lists the partnership's open leads the same way
    await bot.say("ana", "sync now")
    await bot.say("ana", "sync submit S-1", form_values={"results": "ok"})
    await bot.say("dana", "sync answer S-1")
    await bot.say("dana", "sync submit S-1", form_values={"results": "fine"})
    digest = payload((await sent(db, "sync.digest", "ana"))[0]).text
    assert "Open leads:" in digest and "L-1 · Acme: cross-sell the analytics add-on" in digest
    assert "no next activity" in digest


async def test_an_organisers_new_timezone_moves_the_series(bot, db):
    await start_series(bot)
    await bot.say("ana", "timezone Asia/Tokyo")  # 15:00 in Tokyo on Tue 24 Nov is 06:00 UTC
    await bot.at(datetime(2026, 11, 24, 5, 59, tzinfo=UTC))
    assert not await rows(db, Meeting)
    await bot.at(datetime(2026, 11, 24, 6, 0, tzinfo=UTC))
    (m,) = await rows(db, Meeting)
    assert m.starts_at == datetime(2026, 11, 24, 6, 0, tzinfo=UTC)


async def test_a_stopped_series_posts_no_more_meetings(bot, db):
    await start_series(bot)
    await bot.at(STARTS)
    await assert_refused_without_change(bot, db, "maria", "meeting stop M-1", "Only the organiser of M-1")
    stopped = await bot.say("ana", "meeting stop M-1")
    assert stopped.ok and "no more meetings" in stopped.text and "still open" in stopped.text
    await bot.at(datetime(2026, 12, 1, 14, 0, tzinfo=UTC))
    assert len(await rows(db, Meeting)) == 1 and len(await sent(db, "meeting.start")) == 1
    await assert_refused_without_change(bot, db, "ana", "meeting stop M-1", "was stopped")


async def test_a_linked_organiser_on_teams_acts_on_the_slack_meetings_records_by_their_numbers(db, settings, clock):
    """A partnership created in Slack and bound to a Teams channel too: its meeting, action
    items and leads are numbered in the Slack workspace, and the Teams side uses those numbers,
    even where the Teams workspace has records of the same number."""
    import re

    from handlers import default_registry
    from handlers.kernel.dispatch import Dispatcher
    from handlers.kernel.runner import Runner
    from tests.conftest import Chat

    dispatcher = Dispatcher(db, settings, default_registry(), clock)
    slack, teams = Chat(dispatcher, platform="slack", workspace="T1"), Chat(dispatcher, platform="teams", workspace="tenant-1")
    assert (await teams.say("aad-zoe", "commit a Teams-only thing by fri")).ok  # C-1 of the Teams workspace
    assert (await teams.say("aad-zoe", "idea Globex: a Teams-only idea")).ok  # L-1 there
    assert (await slack.say("U1", "partnership new Acme Alliance with <@U2|dana>", channel="C1")).ok
    assert (await slack.say("U2", "partnership P-1 accept")).ok
    code = re.search(r"link code is (\w+)", (await slack.say("U1", "link")).text).group(1)
    assert (await teams.say("aad-ana", f"link {code}")).ok
    assert (await slack.say("U1", "link confirm")).ok  # the code's issuer confirms
    assert (await teams.say("aad-ana", "partnership P-1 channel", channel="19:acme@thread.tacv2")).ok
    assert (await slack.say("U1", f'meeting new P-1 "{PURPOSE}" every tue 15:00', channel="C1")).ok
    clock.now = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
    await Runner(db, settings, default_registry()).tick(clock.now)
    idea = await teams.say("aad-ana", "idea Acme: cross-sell the add-on", channel="19:acme@thread.tacv2")
    assert idea.ok and "Lead L-1" in idea.text and "Linked to M-1" in idea.text
    action = await teams.say("aad-ana", "action M-1 <@aad-ana|ana> send the case study by fri",
                             channel="19:acme@thread.tacv2")
    assert action.ok and "C-1" in action.text
    assert (await teams.say("aad-ana", "lead L-1 next demo by fri")).ok
    assert (await teams.say("aad-ana", "done C-1")).ok  # ana's own C-1, not zoe's Teams C-1
    owners = {(c.what, c.status) for c in await rows(db, Commitment)}
    assert owners == {("a Teams-only thing", "open"), ("send the case study", "done"), ("demo", "open")}
    assert (await teams.say("aad-ana", "meeting close M-1", channel="19:acme@thread.tacv2")).ok
    summaries = await sent(db, "meeting.summary")
    assert {m.channel for m in summaries} == {"C1", "19:acme@thread.tacv2"}
    assert all("L-1 · Acme: cross-sell the add-on" in payload(m).text for m in summaries)
