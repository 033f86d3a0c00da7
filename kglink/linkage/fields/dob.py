"""Dates of birth compared as agencies get them wrong: swapped day and month, a slipped digit."""
from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def dob_key(iso: str | None) -> str:
    """`1985-04-03` -> `19850403`; "" when not known."""
    return iso.replace("-", "") if iso else ""


def swapped(a: str, b: str) -> bool:
    """Same year, day and month transposed (03/04 vs 04/03)."""
    return a[:4] == b[:4] and a[4:6] == b[6:8] and a[6:8] == b[4:6] and a != b


def one_digit_apart(a: str, b: str) -> bool:
    """One digit differs, in the day, the month or the last digit of the year: a typo or an
    off-by-one. A difference in the century or decade (1960 / 1990) is another person."""
    diff = [k for k, (x, y) in enumerate(zip(a, b)) if x != y]
    return len(diff) == 1 and diff[0] >= 3


def compatible(a: str, b: str) -> bool:
    """Could be the same person's date of birth, allowing for one recording error."""
    return not a or not b or a == b or swapped(a, b) or one_digit_apart(a, b)


def levels(a: NDArray[np.object_], b: NDArray[np.object_]) -> NDArray[np.int8]:
    """Per pair: 0 exact, 1 day/month swapped, 2 one digit apart, 3 same year, 4 else, -1 null."""
    out = np.full(len(a), 4, dtype=np.int8)
    for i, (x, y) in enumerate(zip(a, b)):
        if not x or not y:
            out[i] = -1
        elif x == y:
            out[i] = 0
        elif swapped(x, y):
            out[i] = 1
        elif one_digit_apart(x, y):
            out[i] = 2
        elif x[:4] == y[:4]:
            out[i] = 3
    return out
