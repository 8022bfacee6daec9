"""`help` lists the verbs of the registry the command came through, not only the built-in ones."""
from handlers import default_registry
from handlers.kernel.dispatch import Dispatcher
from tests.conftest import Chat
from tests.fakes.survey import survey_registry


async def test_help_lists_a_verb_registered_on_the_dispatchers_registry(db, settings, clock):
    chat = Chat(Dispatcher(db, settings, survey_registry(), clock))
    listed = await chat.say("ana", "help")
    assert listed.ok and "survey — a test form" in listed.text.splitlines()
    assert "commit <what> by <date>" in listed.text  # with every built-in verb
    one = await chat.say("ana", "help survey")
    assert one.ok and one.text.startswith("survey: a test form\nUsage:\n  survey\n  survey submit")


async def test_a_dispatcher_without_the_verb_neither_lists_nor_runs_it(db, settings, clock):
    chat = Chat(Dispatcher(db, settings, default_registry(), clock))
    assert "survey" not in (await chat.say("ana", "help")).text
    refused = await chat.say("ana", "help survey")
    assert not refused.ok and "There is no verb 'survey'" in refused.text
    unknown = await chat.say("ana", "survey")
    assert not unknown.ok and "I don't know the verb 'survey'" in unknown.text
