import pytest

from bot.config import ConfigError, load_settings


def test_defaults_without_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings({})
    assert settings.get("cadence.peer_sync.time") == "09:00"
    assert settings.get("credit.deliverer") == 0.5
    assert settings.port == 3978 and settings.database_url == "sqlite+aiosqlite:///partnerbot.db"
    assert not settings.slack_enabled


def test_the_shipped_app_yaml_matches_the_built_in_defaults():
    from pathlib import Path

    from bot.config import DEFAULTS

    shipped = load_settings({"PARTNERBOT_CONFIG": str(Path(__file__).parents[2] / "app.yaml")})
    assert shipped.values == DEFAULTS


def test_env_overrides_file_overrides_defaults(tmp_path):
    config = tmp_path / "custom.yaml"
    config.write_text("cadence:\n  peer_sync:\n    time: '08:00'\n    max_nudges: 5\n")
    settings = load_settings({
        "PARTNERBOT_CONFIG": str(config),
        "PARTNERBOT_CADENCE__PEER_SYNC__TIME": "08:30",
        "PARTNERBOT_TIMEZONE": "Europe/Berlin",
        "SLACK_SIGNING_SECRET": "s", "SLACK_BOT_TOKEN": "xoxb-secret-token",
    })
    assert settings.get("cadence.peer_sync.time") == "08:30"
    assert settings.get("cadence.peer_sync.max_nudges") == 5
    assert settings.timezone == "Europe/Berlin"
    assert settings.slack_enabled and "xoxb-secret-token" not in repr(settings)


@pytest.mark.parametrize("env, message", [
    ({"PARTNERBOT_CADENCE__TICK_SECONDS": "often"}, "must be a int"),
    ({"PARTNERBOT_CADENCE__NOPE": "1"}, "unknown setting 'cadence.nope'"),
    ({"PARTNERBOT_TIMEZONE": "Mars/Base"}, "not an IANA timezone"),
    ({"PARTNERBOT_CADENCE__COMMITMENTS__DUE_TIME": "5pm"}, "HH:MM"),
    ({"PARTNERBOT_CONFIG": "/nonexistent.yaml"}, "does not exist"),
    ({"PARTNERBOT_CADENCE__PEER_SYNC__WEEKDAY": "funday"}, "one of mon, tue"),
    ({"PARTNERBOT_CADENCE__PEER_SYNC__TIME": "09:00:30"}, "HH:MM"),
    ({"PARTNERBOT_CADENCE__TICK_SECONDS": "0"}, "greater than 0"),
    ({"PARTNERBOT_CADENCE__PEER_SYNC__MAX_NUDGES": "-1"}, "0 or more"),
    ({"PARTNERBOT_OUTBOX__SLACK_CHANNEL_SECONDS": "-1"}, "'outbox.slack_channel_seconds' must be 0 or more"),
    ({"PARTNERBOT_CADENCE__MEETINGS__QUIET_FROM": "10pm"}, "'cadence.meetings.quiet_from' must be HH:MM"),
    ({"PARTNERBOT_CADENCE__MEETINGS__NUDGE_HOURS": "0"}, "'cadence.meetings.nudge_hours' must be greater than 0"),
    ({"PARTNERBOT_CADENCE__MEETINGS__DEFAULT_MINUTES": "-5"}, "greater than 0"),
    ({"PARTNERBOT_CADENCE__PULSE__DAY": "someday"}, "'cadence.pulse.day' must be one of mon"),
    ({"PARTNERBOT_CADENCE__PULSE__MIN_ANSWERS": "0"}, "'cadence.pulse.min_answers' must be greater than 0"),
    ({"PARTNERBOT_CADENCE__PULSE__MIN_ANSWERS": "2.5"}, "'cadence.pulse.min_answers' must be a int"),
    ({"PARTNERBOT_CADENCE__ASKS__ESCALATE_AFTER_HOURS": "0"}, "greater than 0"),
    ({"PARTNERBOT_CREDIT__ORIGINATOR": "0.5"}, "add up to 1, got originator 0.5, deliverer 0.5, contributors 0.2"),
    ({"PARTNERBOT_CREDIT__ORIGINATOR": "-0.1", "PARTNERBOT_CREDIT__DELIVERER": "0.9"}, "must be 0 or more"),
    ({"MICROSOFT_APP_ID": "a", "MICROSOFT_APP_TYPE": "SingleTenant"}, "SingleTenant needs MICROSOFT_APP_TENANT_ID"),
    ({"MICROSOFT_APP_TYPE": "single"}, "must be SingleTenant, MultiTenant or UserAssignedMSI"),
])
def test_bad_settings_are_refused_at_start_with_a_clear_message(tmp_path, monkeypatch, env, message):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=message):
        load_settings(env)


def test_a_database_password_is_not_shown():
    settings = load_settings({"DATABASE_URL": "postgresql+asyncpg://pb:hunter2@db/pb"})
    assert "hunter2" not in repr(settings)


def test_cadence_settings_come_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings({"PARTNERBOT_CADENCE__PEER_SYNC__TIME": "08:30",
                              "PARTNERBOT_CADENCE__PEER_SYNC__WEEKDAY": "Tuesday"})
    assert settings.get("cadence.peer_sync.time") == "08:30"
    assert settings.get("cadence.peer_sync.weekday") == "tue"


def test_the_code_reads_the_same_values_through_typed_sections(tmp_path):
    config = tmp_path / "custom.yaml"
    config.write_text("cadence:\n  peer_sync:\n    weekday: Tuesday\n  meetings:\n    quiet_from: '21:30'\n")
    settings = load_settings({"PARTNERBOT_CONFIG": str(config), "PARTNERBOT_CREDIT__ORIGINATOR": "0.4",
                              "PARTNERBOT_CREDIT__DELIVERER": "0.4", "PARTNERBOT_OUTBOX__MAX_ATTEMPTS": "3"})
    assert settings.cadence.peer_sync.weekday == settings.get("cadence.peer_sync.weekday") == "tue"
    assert settings.cadence.meetings.quiet_from == "21:30" and settings.cadence.meetings.quiet_until == "08:00"
    assert (settings.credit.originator, settings.credit.deliverer, settings.credit.contributors) == (0.4, 0.4, 0.2)
    assert settings.outbox.max_attempts == 3 and settings.cadence.tick_seconds == 60
    with pytest.raises(AttributeError):
        _ = settings.cadence.peer_sync.wekday  # a misspelt setting fails at once, not as a KeyError later


@pytest.mark.parametrize("env, url", [
    ({}, "http://localhost:3978"),
    ({"PORT": "8080"}, "http://localhost:8080"),
    ({"HOST": "0.0.0.0", "PORT": "8080"}, "http://localhost:8080"),  # every address: open it at localhost
    ({"HOST": "::", "PORT": "8080"}, "http://localhost:8080"),
    ({"HOST": "::1", "PORT": "8080"}, "http://localhost:8080"),
    ({"HOST": "10.1.2.3", "PORT": "8080"}, "http://10.1.2.3:8080"),  # the one address it listens on
    ({"HOST": "fd00::5", "PORT": "8080"}, "http://[fd00::5]:8080"),
    ({"PORT": "8080", "PUBLIC_URL": "https://partnerbot.example.com/"}, "https://partnerbot.example.com"),
])
def test_export_links_default_to_the_port_serve_listens_on_and_public_url_wins(tmp_path, monkeypatch, env, url):
    monkeypatch.chdir(tmp_path)
    assert load_settings(env).public_url == url


@pytest.mark.parametrize("env, app_type", [
    ({"MICROSOFT_APP_ID": "a", "MICROSOFT_APP_TENANT_ID": "t"}, "SingleTenant"),  # what Azure creates now
    ({"MICROSOFT_APP_ID": "a"}, "MultiTenant"),  # registered before 31 July 2025: no tenant id to give
    ({"MICROSOFT_APP_ID": "a", "MICROSOFT_APP_TENANT_ID": "t", "MICROSOFT_APP_TYPE": "MultiTenant"}, "MultiTenant"),
])
def test_the_teams_app_type_follows_the_tenant_id_unless_given(tmp_path, monkeypatch, env, app_type):
    monkeypatch.chdir(tmp_path)
    assert load_settings(env).microsoft_app_type == app_type
