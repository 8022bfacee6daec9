"""A weekly trend as a line of text: the same characters in Slack, Teams and a terminal.

Plain Unicode block characters instead of an image: a Fact value is text on every platform,
and a screen reader or a terminal without images still gets the numbers beside it.
"""
from __future__ import annotations

from collections.abc import Sequence

LEVELS = "▁▂▃▄▅▆▇█"
NO_DATA = "·"
FLAT_ZERO, FLAT = LEVELS[0], LEVELS[3]


def sparkline(values: Sequence[float | None], bounds: tuple[float, float] | None = None) -> str:
    """One character per bucket, scaled between the lowest and highest bucket with data;
    None (no data that week) is '·'. When every bucket with data holds the same value there
    is no scale: its place between `bounds` when the figure has them (a rate: 0 to 1, so a
    single week at 100% is '█', not half height), else '▁' when that value is 0 (nothing
    happened) and '▄' (steady) otherwise."""
    known = [v for v in values if v is not None]
    if not known:
        return NO_DATA * len(values)
    low, high = min(known), max(known)
    if low == high and bounds is not None and bounds[0] < bounds[1]:
        low, high = bounds
        known_level = LEVELS[min(max(int((known[0] - low) / (high - low) * (len(LEVELS) - 1) + 0.5), 0),
                                 len(LEVELS) - 1)]
        return "".join(NO_DATA if v is None else known_level for v in values)
    if low == high:
        flat = FLAT_ZERO if high == 0 else FLAT
        return "".join(NO_DATA if v is None else flat for v in values)
    top = len(LEVELS) - 1
    # rounded half up, so a value midway between two levels does not depend on banker's rounding
    return "".join(NO_DATA if v is None else LEVELS[int((v - low) / (high - low) * top + 0.5)] for v in values)
