"""`partnerbot console --channel NAME`: typing in a channel, and seeing the bot's posts there.

The end-to-end test runs real `partnerbot console` processes on one database and produces
the channel post through the real code path: a partnership created in `#acme` binds it,
both managers answer the week's peer sync, and the side-by-side digest is owed to the
managers and to every bound channel.
"""
import asyncio
import io

import pytest

from adapters.console.console import ConsoleDeliverer, to_command
from bot.cli import build_parser
from bot.config import load_settings
from bot.console import run_console
from bot.outbox import OutboxSender
from bot.wiring import Partnerbot
from handlers.kernel.delivery import Address
from handlers.kernel.model import Reply
from storage.store import Store
from tests.conftest import migrated
from tests.fakes.survey import survey_registry
from tests.spawn import clean_env, read_until, start, stop


class Recorder:
    platform = "console"

    def __init__(self):
        self.sent: list[tuple[Address, str]] = []

    async def deliver(self, address: Address, reply: Reply) -> None:
        self.sent.append((address, reply.text))


def test_a_typed_line_is_a_direct_message_unless_a_channel_is_given():
    direct = to_command("partner commit x by fri", "dana", "console")
    assert (direct.channel, direct.is_direct, direct.text) == (None, True, "commit x by fri")
    here = to_command("partnership new Acme with @lee", "dana", "console", "acme")
    assert (here.channel, here.is_direct) == ("acme", False)
    assert here.text == "partnership new Acme with <@lee>" and here.mention_names == {"lee": "lee"}


def test_the_channel_option_takes_a_name_with_or_without_its_hash():
    parser = build_parser()
    assert parser.parse_args(["console", "--as", "dana", "--channel", "#acme"]).channel == "acme"
    assert parser.parse_args(["console"]).channel is None
    with pytest.raises(SystemExit):
        parser.parse_args(["console", "--channel", "two words"])


async def test_a_channel_post_is_printed_with_the_channel_and_a_direct_message_as_before():
    out = io.StringIO()
    deliverer = ConsoleDeliverer(out)
    await deliverer.deliver(Address(workspace="console", channel="acme"), Reply("Digest of P-1"))
    await deliverer.deliver(Address(workspace="console", user="dana"), Reply("H-1 for you"))
    assert out.getvalue() == "\n📣 #acme: Digest of P-1\n\n📨 H-1 for you\n"


async def test_the_channel_filter_adds_that_channels_posts_to_the_persons_messages(db, clock):
    async with db.session() as session:
        store = Store(session)
        console = await store.workspace("console", "console", clock())
        other = await store.workspace("console", "elsewhere", clock())
        dana = await store.person(console, "dana", "dana", clock())
        lee = await store.person(console, "lee", "lee", clock())
        owed = {
            "to dana": dict(workspace_id=console.id, person_id=dana.id),
            "to lee": dict(workspace_id=console.id, person_id=lee.id),
            "in #acme": dict(workspace_id=console.id, channel="acme"),
            "in #other": dict(workspace_id=console.id, channel="other"),
            "in #acme elsewhere": dict(workspace_id=other.id, channel="acme"),
        }
        for key, where in owed.items():
            await store.enqueue(key=key, platform="console", payload=Reply(key).to_dict(), now=clock(), **where)
        ids = {"dana": dana.id, "console": console.id}

    def texts(recorder: Recorder) -> list[str]:
        return [text for _, text in recorder.sent]

    dana_in_acme = Recorder()
    sender = OutboxSender(db, [dana_in_acme], clock, person_ids={ids["dana"]},
                          channels={(ids["console"], "acme")})
    assert await sender.drain() == 2
    assert texts(dana_in_acme) == ["to dana", "in #acme"]
    assert dana_in_acme.sent[1][0] == Address(workspace="console", channel="acme")

    everything = Recorder()  # no filter (`serve`, `tick`): every message still owed
    assert await OutboxSender(db, [everything], clock).drain() == 3
    assert texts(everything) == ["to lee", "in #other", "in #acme elsewhere"]


async def test_a_console_open_in_the_channel_shows_a_post_another_console_showed_first(db, clock):
    """Two consoles open in #acme; a post arrives; one shows it (and marks it sent) before the other
    has read at all: the other still shows it, as it was open when the post was made."""
    from bot.channel_reader import ChannelReader

    async with db.transaction() as store:
        console = await store.workspace("console", "console", clock())
    first, second = Recorder(), Recorder()
    readers = [ChannelReader(db, clock, recorder, workspace_id=console.id, workspace="console", channel="acme")
               for recorder in (first, second)]
    for reader in readers:
        await reader.begin()  # what run_console does before it says the console is open
    async with db.transaction() as store:
        await store.enqueue(key="post", platform="console", payload=Reply("M-1 starts now").to_dict(), now=clock(),
                            workspace_id=console.id, channel="acme")
    assert await readers[0].read() == 1  # marks it sent
    assert await readers[1].read() == 1
    assert [text for _, text in second.sent] == ["M-1 starts now"]


async def test_a_form_opened_in_the_channel_is_submitted_in_the_channel(db_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no app.yaml here: built-in defaults
    bot = Partnerbot(load_settings({"DATABASE_URL": db_url}))
    bot.dispatcher.registry = survey_registry()
    out = io.StringIO()
    typed = io.StringIO("survey\nresults\n\n\nmaria\n@lee\nfri\n")  # the answers, in turn
    await run_console(bot, "dana", "console", stdin=typed, out=out, channel="acme")
    shown = out.getvalue()
    assert "you are @dana in workspace 'console', in channel #acme." in shown
    assert "Survey recorded (channel): due='fri'; owner='maria'; owner_pick='<@lee|lee>'" in shown
    assert "Traceback" not in shown


async def _type(process: asyncio.subprocess.Process, *lines: str) -> None:
    process.stdin.write("".join(f"{line}\n" for line in lines).encode())
    await process.stdin.drain()


@pytest.mark.process
async def test_a_console_in_a_channel_binds_it_and_prints_the_bots_posts_there(tmp_path, db_url):
    env = clean_env(DATABASE_URL=db_url)
    dana = await start("console", "--as", "dana", "--channel", "acme", cwd=tmp_path, env=env,
                       stdin=asyncio.subprocess.PIPE)
    try:
        await read_until(dana, r"you are @dana in workspace 'console', in channel #acme")
        await _type(dana, "partnership new Acme Alliance with @lee")
        _, seen = await read_until(dana, r"P-1 Acme Alliance proposed")
        assert "This channel is bound: digests are posted here." in seen
        lee = await start("console", "--as", "lee", cwd=tmp_path, env=env, stdin=asyncio.subprocess.PIPE)
        out, _ = await asyncio.wait_for(lee.communicate(b"partnership P-1 accept\n"), 30)
        assert lee.returncode == 0 and "You manage side B of P-1" in out.decode(), out.decode()

        await _type(dana, "sync now")  # the form is asked here, and submitted in the channel
        await read_until(dana, r"^Results since the last sync")
        await _type(dana, "2 joint wins", *[""] * 6)  # one answer, the other questions left empty
        _, seen = await read_until(dana, r"Your S-1 answer is saved")
        assert "Waiting for lee" in seen

        lee = await start("console", "--as", "lee", cwd=tmp_path, env=env, stdin=asyncio.subprocess.PIPE)
        lines = "\n".join(["sync answer S-1", "pipeline review booked", *[""] * 6]) + "\n"
        out, _ = await asyncio.wait_for(lee.communicate(lines.encode()), 30)
        lee_saw = out.decode()
        assert lee.returncode == 0, lee_saw
        assert "Both managers have answered" in lee_saw
        assert "📣" not in lee_saw  # a console outside the channel does not take its posts

        _, seen = await read_until(dana, r"^📣 #acme: Peer sync S-1 · P-1 Acme Alliance")
        if "📨 Peer sync S-1" not in seen:  # the channel and her direct messages are read side by side
            seen += (await read_until(dana, r"^📨 Peer sync S-1"))[1]  # her own copy of the digest
        dana.stdin.close()
        out = (await asyncio.wait_for(dana.stdout.read(), 20)).decode()
        assert await asyncio.wait_for(dana.wait(), 20) == 0, out
        assert "Traceback" not in seen + out
    finally:
        await stop(dana)
    async with migrated(db_url) as database:
        from storage.models import OutboxMessage, PartnershipChannel
        from tests.helpers import rows

        (binding,) = await rows(database, PartnershipChannel)
        assert (binding.platform, binding.channel) == ("console", "acme")
        (post,) = await rows(database, OutboxMessage, OutboxMessage.channel == "acme")
        assert (post.platform, post.status) == ("console", "sent")
