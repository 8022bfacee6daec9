"""Who gets how much of a win (SPEC §4): pure arithmetic, no storage, no settings.

The originator (who created the handoff or the idea), the deliverer (the receiving rep or the
lead owner) and the contributors (everyone who kept a commitment linked to it) share the win
in the configured proportions; contributors split theirs equally; one person in several roles
gets the sum of those shares, as one credit.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

ROLES = ("originator", "deliverer", "contributor")  # also the order of ties and of a person's roles


class Shares(NamedTuple):
    """The `credit` settings: each role's part of a whole win."""

    originator: float
    deliverer: float
    contributors: float


class Credit(NamedTuple):
    person_id: int
    roles: tuple[str, ...]  # in ROLES order, e.g. ("originator", "contributor")
    share: float  # of the whole win, 0..1


def split(originator_id: int, deliverer_id: int, contributor_ids: Sequence[int], shares: Shares) -> list[Credit]:
    """Every credited person once, largest share first (then by role, then as given).

    The shares are taken relative to their sum, so the credits of a win always add up to 1.
    A person whose share comes to nothing (contributors with `credit.contributors` 0) is left out.
    """
    originator, deliverer, contributors = _weights(shares, bool(contributor_ids))
    parts: dict[int, dict[str, float]] = {}  # person -> role -> share; insertion order breaks last ties
    parts.setdefault(originator_id, {})["originator"] = originator
    parts.setdefault(deliverer_id, {})["deliverer"] = deliverer
    unique_contributors = list(dict.fromkeys(contributor_ids))
    for person_id in unique_contributors:
        parts.setdefault(person_id, {})["contributor"] = contributors / len(unique_contributors)
    credits = [Credit(person_id, tuple(r for r in ROLES if r in roles), sum(roles.values()))
               for person_id, roles in parts.items()]
    credits = [c for c in credits if c.share > 0]
    order = {c.person_id: i for i, c in enumerate(credits)}
    # rounded for sorting: 0.1 + 0.2 and 0.3 are the same share to a reader
    return sorted(credits, key=lambda c: (-round(c.share, 9), ROLES.index(c.roles[0]), order[c.person_id]))


def _weights(shares: Shares, has_contributors: bool) -> tuple[float, float, float]:
    """Each role's part of 1.

    Product decision, kept here only: a win with no contributors gives the contributors' share
    to the originator and the deliverer in proportion to theirs (30/50/20 becomes 37.5/62.5),
    so a win always hands out all of its credit. Should both of theirs be 0, they halve it.
    """
    if min(shares) < 0:
        raise ValueError(f"credit shares can't be negative: {tuple(shares)}")
    originator, deliverer, contributors = shares
    if not has_contributors:
        pair = originator + deliverer
        if pair > 0:
            originator, deliverer = (originator + contributors * originator / pair,
                                     deliverer + contributors * deliverer / pair)
        else:
            originator = deliverer = contributors / 2
        contributors = 0.0
    total = originator + deliverer + contributors
    if total <= 0:
        raise ValueError("credit shares add up to nothing; at least one must be above 0")
    return originator / total, deliverer / total, contributors / total


def contributors_share_moved(contributor_ids: Sequence[int], shares: Shares) -> bool:
    """True when nobody kept a linked commitment, so `_weights` gave their share to the others."""
    return not contributor_ids and shares.contributors > 0


def amounts(credits: Sequence[Credit], total_cents: int) -> list[int]:
    """Each credit's part of `total_cents`, in whole cents that add up to the total exactly
    (the cents lost to rounding go to the largest remainders, the first credit on a tie)."""
    exact = [c.share * total_cents for c in credits]
    cents = [int(x) for x in exact]
    short = total_cents - sum(cents)
    by_remainder = sorted(range(len(credits)), key=lambda i: (-(exact[i] - cents[i]), i))
    for i in by_remainder[:max(short, 0)]:
        cents[i] += 1
    return cents


def percent(share: float) -> str:
    """0.375 → '37.5%', 0.3 → '30%', 0.0667 → '6.7%' (at most one decimal)."""
    return f"{share * 100:.1f}".removesuffix(".0") + "%"
