"""Phone numbers and emails in a canonical form."""
from __future__ import annotations

import re

_NON_DIGIT = re.compile(r"\D")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def canonical_phone(text: str | None) -> str | None:
    """UK numbers as national digits `07700900123`; `+44 (0)7700 900123` likewise.

    Anything that is not 10 or 11 national digits after that is not a usable number.
    """
    if not text:
        return None
    s = text.strip()
    digits = _NON_DIGIT.sub("", s)
    if s.startswith("+") or s.startswith("00"):
        digits = digits[2:] if s.startswith("00") else digits
        if not digits.startswith("44"):
            return None
        digits = digits[2:]
        if digits.startswith("0"):
            digits = digits[1:]
        digits = "0" + digits
    elif digits.startswith("44") and len(digits) in (12, 13):
        digits = "0" + digits[2:].lstrip("0")
    if not digits.startswith("0") or len(digits) not in (10, 11):
        return None
    return digits


def canonical_email(text: str | None) -> str | None:
    if not text:
        return None
    s = text.strip().lower()
    return s if _EMAIL.match(s) else None
