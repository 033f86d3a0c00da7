"""Identifiers that look real but cannot belong to a real person.

NHS numbers come from the 999 test range; phone numbers from Ofcom's drama ranges;
e-mail addresses from the reserved example domains. Each allocator hands out unique
values in a seed-dependent order.
"""
from __future__ import annotations

from random import Random

_UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"
_PNC_LETTERS = "ZABCDEFGHJKLMNPQRTUVWXY"


def nhs_check_digit(first9: str) -> int | None:
    """The mod-11 check digit, or None when the nine digits cannot be an NHS number."""
    total = sum(int(d) * w for d, w in zip(first9, range(10, 1, -1)))
    check = 11 - total % 11
    if check == 11:
        return 0
    return None if check == 10 else check


def nhs_is_valid(number: str) -> bool:
    digits = number.replace(" ", "")
    return len(digits) == 10 and digits.isdigit() and nhs_check_digit(digits[:9]) == int(digits[9])


class NhsNumbers:
    """999 + six digits walked by a full-period LCG, skipping impossible check digits."""

    _M = 1_000_000

    def __init__(self, rng: Random) -> None:
        self._x = rng.randrange(self._M)
        self._left = self._M

    def next(self) -> str:
        while self._left > 0:
            self._left -= 1
            self._x = (840_001 * self._x + 370_373) % self._M
            first9 = f"999{self._x:06d}"
            check = nhs_check_digit(first9)
            if check is not None:
                return f"{first9}{check}"
        return ""  # the test range is used up: the person simply has no NHS number


def invalid_nhs(number: str) -> str:
    """The same number with a wrong check digit (a keying error)."""
    check = int(number[9])
    return f"{number[:9]}{(check + 3) % 10}"


def upn_check_letter(body12: str) -> str:
    total = sum(int(d) * w for d, w in zip(body12, range(2, 14)))
    return _UPN_LETTERS[total % 23]


class Upns:
    """UPN: check letter, LA code, DfE establishment number, year, serial."""

    def __init__(self) -> None:
        self._serial: dict[tuple[str, int], int] = {}

    def next(self, la_code: str, establishment: str, year: int) -> str:
        key = (establishment, year)
        serial = self._serial.get(key, 0) + 1
        self._serial[key] = serial
        body = f"{la_code}{establishment}{year % 100:02d}{serial % 1000:03d}"
        return upn_check_letter(body) + body


def pnc_check_letter(year: int, serial: int) -> str:
    return _PNC_LETTERS[int(f"{year % 100:02d}{serial:07d}") % 23]


class PncIds:
    def __init__(self, rng: Random) -> None:
        self._rng = rng
        self._serial: dict[int, int] = {}

    def next(self, year: int) -> str:
        serial = self._serial.get(year, self._rng.randrange(100_000, 400_000)) + self._rng.randrange(1, 40)
        self._serial[year] = serial
        return f"{year}/{serial:07d}{pnc_check_letter(year, serial)}"


# Ofcom numbers reserved for drama: never connected to a real subscriber.
_DRAMA_RANGES = (
    ("07700 900", 1000), ("01632 960", 1000), ("020 7946 0", 1000), ("0113 496 0", 1000),
    ("0114 496 0", 1000), ("0115 496 0", 1000), ("0116 496 0", 1000), ("0117 496 0", 1000),
    ("0118 496 0", 1000), ("0121 496 0", 1000), ("0131 496 0", 1000), ("0141 496 0", 1000),
    ("0151 496 0", 1000), ("0161 496 0", 1000), ("0191 498 0", 1000),
)


class Phones:
    def __init__(self) -> None:
        self._range = 0
        self._n = 0

    def next(self) -> str:
        while self._range < len(_DRAMA_RANGES):
            prefix, size = _DRAMA_RANGES[self._range]
            if self._n < size:
                self._n += 1
                return f"{prefix}{self._n - 1:03d}"
            self._range += 1
            self._n = 0
        return ""  # drama ranges used up: no phone rather than a possibly real one


class Uprns:
    def __init__(self, rng: Random) -> None:
        self._next = 100_080_000_000 + rng.randrange(1_000_000)

    def next(self, rng: Random) -> str:
        self._next += rng.randrange(1, 9)
        return str(self._next)
