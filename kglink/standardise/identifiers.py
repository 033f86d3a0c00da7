"""Strong identifiers: NHS number, PNC id, UPN. An invalid one is never used to link."""
from __future__ import annotations

import re

_NON_DIGIT = re.compile(r"\D")
_PNC = re.compile(r"^(\d{2}|\d{4})/?(\d{1,7})([A-Z])$")
_UPN = re.compile(r"^[A-Z]\d{11}[0-9A-Z]$")


def nhs_digits(text: str | None) -> str | None:
    """The ten digits of an NHS number written with any spacing, else None."""
    if not text:
        return None
    s = _NON_DIGIT.sub("", text)
    if len(s) != 10 or len(text.strip()) > 14:
        return None
    return s


def nhs_check_ok(digits: str) -> bool:
    """Modulus 11 check: weights 10..2 on the first nine digits; 11 -> 0, 10 is invalid."""
    if len(digits) != 10 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1)))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def canonical_nhs(text: str | None) -> str | None:
    """Ten digits when the number passes its check digit, else None."""
    d = nhs_digits(text)
    return d if d is not None and nhs_check_ok(d) else None


def canonical_pnc(text: str | None) -> str | None:
    """`2019/0123456A`, `19/123456a` -> `2019/0123456A` (two-digit years read as 19xx/20xx)."""
    if not text:
        return None
    s = re.sub(r"\s", "", text.upper())
    m = _PNC.match(s)
    if not m:
        return None
    year = m[1]
    if len(year) == 2:
        year = ("20" if int(year) <= 40 else "19") + year
    return f"{year}/{int(m[2]):07d}{m[3]}"


def canonical_upn(text: str | None) -> str | None:
    """Unique pupil number: one letter, eleven digits, a final digit or letter."""
    if not text:
        return None
    s = re.sub(r"\s", "", text.upper())
    return s if _UPN.match(s) else None
