"""Dates of birth compared as agencies get them wrong: swapped day and month, a slipped digit."""
from __future__ import annotations

from datetime import date

import numpy as np
from numpy.typing import NDArray


def dob_key(iso: str | None) -> str:
    """`1985-04-03` -> `19850403`; "" when not known."""
    return iso.replace("-", "") if iso else ""


def swapped(a: str, b: str) -> bool:
    """Same year, day and month transposed (03/04 vs 04/03)."""
    return a[:4] == b[:4] and a[4:6] == b[6:8] and a[6:8] == b[4:6] and a != b


def _ordinal(v: str) -> int:
    try:
        return date(int(v[:4]), int(v[4:6]), int(v[6:8])).toordinal()
    except ValueError:
        return -10


def day_apart(a: str, b: str) -> bool:
    """A day either side (29th / 30th, 28 February / 1 March): a slip across a boundary."""
    return len(a) == len(b) == 8 and abs(_ordinal(a) - _ordinal(b)) == 1


def one_digit_apart(a: str, b: str) -> bool:
    """One digit differs, in the day, the month or the last digit of the year: a typo or an
    off-by-one. A difference in the century or decade (1960 / 1990) is another person,
    unless the years are ten apart (year_apart)."""
    diff = [k for k, (x, y) in enumerate(zip(a, b)) if x != y]
    return len(diff) == 1 and diff[0] >= 3


# Years this far apart, with the same day and month, are one slip: the year one apart (1989
# for 1990, across a decade, changes more than one digit) or the decade's digit mistyped
# (1984 for 1994). Twenty years or more is a generation (the generation_gap rule), and
# nobody is the parent of a child born ten years after them (parent_gap_years).
SLIP_YEARS = (1, 10)


def year_apart(a: str, b: str) -> bool:
    """The same day and month, the years one or ten apart (SLIP_YEARS)."""
    return (len(a) == len(b) == 8 and a[4:] == b[4:] and a[:4].isdigit() and b[:4].isdigit()
            and abs(int(a[:4]) - int(b[:4])) in SLIP_YEARS)


def compatible(a: str, b: str) -> bool:
    """Could be the same person's date of birth, allowing for one recording error."""
    return (not a or not b or a == b or swapped(a, b) or one_digit_apart(a, b) or day_apart(a, b)
            or year_apart(a, b))


def _digits(values: NDArray[np.object_]) -> tuple[NDArray[np.int8], NDArray[np.bool_]]:
    """(n x 8) digit matrix of YYYYMMDD strings, and which are known."""
    known = np.array([len(v) == 8 for v in values], dtype=bool)
    joined = "".join(v if len(v) == 8 else "00000000" for v in values).encode()
    digits = (np.frombuffer(joined, dtype=np.uint8).reshape(-1, 8) - 48).astype(np.int8)
    return digits, known


def levels(a: NDArray[np.object_], b: NDArray[np.object_]) -> NDArray[np.int8]:
    """Per pair: 0 exact, 1 day/month swapped, 2 one digit, one day, or one or ten years
    apart (SLIP_YEARS), 3 same year, 4 else, -1 null."""
    both = np.concatenate([np.asarray(a, dtype=object), np.asarray(b, dtype=object)])
    idx = np.arange(len(both), dtype=np.int64)
    return coded_levels(both, idx[:len(a)], idx[len(a):])


def coded_levels(uniq: NDArray[np.object_], pa: NDArray[np.int64], pb: NDArray[np.int64]) -> NDArray[np.int8]:
    """`levels` over distinct values and code pairs: digits are split once per value."""
    if len(pa) == 0:
        return np.zeros(0, dtype=np.int8)
    digits, known = _digits(uniq)
    da, ka, db, kb = digits[pa], known[pa], digits[pb], known[pb]
    diff = da != db
    ndiff = diff.sum(axis=1)
    same_year = ~diff[:, :4].any(axis=1)
    swapped_dm = same_year & (da[:, 4:6] == db[:, 6:8]).all(axis=1) & (da[:, 6:8] == db[:, 4:6]).all(axis=1)
    one_digit = (ndiff == 1) & ~diff[:, :3].any(axis=1)
    ordinals = np.fromiter((_ordinal(v) if len(v) == 8 else -10 for v in uniq), dtype=np.int64, count=len(uniq))
    one_digit |= np.abs(ordinals[pa] - ordinals[pb]) == 1
    years = digits[:, :4].astype(np.int64) @ np.array([1000, 100, 10, 1], dtype=np.int64)
    one_digit |= ~diff[:, 4:].any(axis=1) & np.isin(np.abs(years[pa] - years[pb]), SLIP_YEARS)
    out = np.full(len(pa), 4, dtype=np.int8)
    out[same_year] = 3
    out[one_digit] = 2
    out[swapped_dm & (ndiff > 0)] = 1
    out[ndiff == 0] = 0
    out[~(ka & kb)] = -1
    return out
