"""Retention: the cadence tick forgets platform delivery ids after `retention.processed_delivery_days`,
expired link codes and wrong link codes older than the rate limit's hour, a page at a time."""
import re
from datetime import timedelta

import pytest

from bot.config import ConfigError, load_settings
from storage.models import LinkAttempt, LinkCode, ProcessedDelivery
from tests.conftest import FIXED_NOW
from tests.helpers import Clocked, count, rows


async def _deliveries(db, ages: dict[str, timedelta]) -> None:
    async with db.transaction() as store:
        for key, age in ages.items():
            assert await store.claim_delivery(key, FIXED_NOW - age)


async def test_the_tick_forgets_delivery_ids_after_seven_days_a_page_at_a_time(bot, db):
    old = {f"slack:T1:old{i}": timedelta(days=7, seconds=i + 1) for i in range(1203)}  # more than two pages
    await _deliveries(db, old | {"slack:T1:retry": timedelta(minutes=2), "slack:T1:six-days": timedelta(days=6)})

    done = await bot.at(FIXED_NOW)

    assert done["old delivery ids"] == 1203
    assert [d.key for d in await rows(db, ProcessedDelivery)] == ["slack:T1:retry", "slack:T1:six-days"]
    async with db.transaction() as store:  # a platform's retry of a recent delivery is still recognised
        assert not await store.claim_delivery("slack:T1:retry", FIXED_NOW)
    assert (await bot.at(FIXED_NOW + timedelta(minutes=1)))["old delivery ids"] == 0
    assert (await bot.at(FIXED_NOW + timedelta(days=1, seconds=1)))["old delivery ids"] == 1  # six days, then seven


async def test_how_long_delivery_ids_are_kept_is_a_setting(db, clock, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings({"PARTNERBOT_RETENTION__PROCESSED_DELIVERY_DAYS": "1"})
    assert settings.retention.processed_delivery_days == 1
    await _deliveries(db, {"a": timedelta(hours=25), "b": timedelta(hours=23)})
    assert (await Clocked(db, settings, clock).at(FIXED_NOW))["old delivery ids"] == 1
    assert [d.key for d in await rows(db, ProcessedDelivery)] == ["b"]
    with pytest.raises(ConfigError, match="retention.processed_delivery_days' must be greater than 0"):
        load_settings({"PARTNERBOT_RETENTION__PROCESSED_DELIVERY_DAYS": "0"})


async def test_the_tick_forgets_expired_link_codes_and_wrong_codes_older_than_an_hour(bot, db, clock):
    code = re.search(r"link code is (\w+)", (await bot.say("ana", "link")).text).group(1)
    assert "not a valid link code" in (await bot.say("bob", "link NOPE2345")).text
    assert (await bot.at(FIXED_NOW + timedelta(minutes=9)))["expired link codes"] == 0
    assert [c.code for c in await rows(db, LinkCode)] == [code]

    done = await bot.at(FIXED_NOW + timedelta(minutes=10))
    assert done["expired link codes"] == 1 and await count(db, LinkCode) == 0
    assert done["old wrong link codes"] == 0 and await count(db, LinkAttempt) == 1  # still counts this hour

    done = await bot.at(FIXED_NOW + timedelta(hours=1))
    assert done["old wrong link codes"] == 1 and await count(db, LinkAttempt) == 0
