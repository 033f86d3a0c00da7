"""Dates and datetimes as agencies write them: ISO, or UK day-first.

Errors never repeat the value: dates of birth are personal data.
"""
from __future__ import annotations

import re
from datetime import date, datetime
from functools import lru_cache

from kglink.errors import KglinkError

_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_UK_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_ISO_DT = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
_UK_DT = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})[T ,]+(\d{1,2}):(\d{2})(?::(\d{2}))?$")

FORMATS_HELP = "expected YYYY-MM-DD or DD/MM/YYYY"
DATETIME_FORMATS_HELP = "expected YYYY-MM-DD[THH:MM[:SS]] or DD/MM/YYYY [HH:MM]"


class DateError(KglinkError, ValueError):
    """A date that cannot be read; the message names the problem, never the value."""


def _make_date(y: str, m: str, d: str) -> date:
    try:
        return date(int(y), int(m), int(d))
    except ValueError:
        raise DateError("impossible date (no such day)") from None


@lru_cache(maxsize=1 << 16)
def parse_date(text: str | None) -> date | None:
    """Parse `YYYY-MM-DD` or UK `DD/MM/YYYY`; empty means not known (None).

    A datetime is accepted and truncated to its date, since some systems export
    dates of birth with a midnight time. Kept per distinct text (dates are immutable;
    a text that is not a date raises each time): a load reads the same dates of birth
    and episode dates over and over.
    """
    if text is None:
        return None
    s = text.strip()
    if not s:
        return None
    if m := _ISO_DATE.match(s):
        return _make_date(m[1], m[2], m[3])
    if m := _UK_DATE.match(s):
        return _make_date(m[3], m[2], m[1])
    if _ISO_DT.match(s) or _UK_DT.match(s):
        dt = parse_datetime(s)
        return dt.date() if dt else None
    raise DateError(f"not a date ({FORMATS_HELP})")


def parse_datetime(text: str | None) -> datetime | None:
    """Parse an ISO datetime, a UK `DD/MM/YYYY HH:MM`, or a bare date (midnight).

    Time zones are dropped after conversion to UTC: extracts are UK local time in
    practice and only differences of hours matter to the queries.
    """
    if text is None:
        return None
    s = text.strip()
    if not s:
        return None
    if m := _ISO_DT.match(s):
        y, mo, d, hh, mi, ss, tz = m.groups()
        day = _make_date(y, mo, d)
        dt = _make_time(day, hh, mi, ss)
        if tz and tz != "Z":
            try:
                aware = datetime.fromisoformat(f"{dt.isoformat()}{_colon_tz(tz)}")
            except ValueError:
                raise DateError("impossible time zone offset") from None
            dt = (aware - aware.utcoffset()).replace(tzinfo=None)  # type: ignore[operator]
        return dt
    if m := _UK_DT.match(s):
        d, mo, y, hh, mi, ss = m.groups()
        return _make_time(_make_date(y, mo, d), hh, mi, ss)
    day2 = parse_date(s) if (_ISO_DATE.match(s) or _UK_DATE.match(s)) else None
    if day2 is not None:
        return datetime(day2.year, day2.month, day2.day)
    raise DateError(f"not a date or time ({DATETIME_FORMATS_HELP})")


def _make_time(day: date, hh: str, mi: str, ss: str | None) -> datetime:
    try:
        return datetime(day.year, day.month, day.day, int(hh), int(mi), int(ss or 0))
    except ValueError:
        raise DateError("impossible time of day") from None


def _colon_tz(tz: str) -> str:
    return tz if ":" in tz else f"{tz[:3]}:{tz[3:]}"
