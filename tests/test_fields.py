"""Table-driven tests of the normalisers, and properties: idempotent, never raise."""
from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from kglink.standardise import contact, dates, identifiers, postcode
from kglink.standardise import names as name


@pytest.mark.parametrize("forenames,surname,expected", [
    ("", "SMITH, Jon", ("JON", "SMITH")),
    ("Jon", "SMITH", ("JON", "SMITH")),
    ("  amy   louise ", "o'brien", ("AMY LOUISE", "OBRIEN")),
    ("Zoë", "Smith - Jones", ("ZOE", "SMITH-JONES")),
    ("Mr. J.", "Smith", ("J", "SMITH")),
    ("SMITH, Jon", "", ("JON", "SMITH")),
    ("Anne-Marie", "O’Neil", ("ANNE-MARIE", "ONEIL")),
])
def test_person_names(forenames: str, surname: str, expected: tuple[str, str]) -> None:
    assert tuple(name.split_person_name(forenames, surname)) == expected


def test_aliases_split_and_deduplicate() -> None:
    assert name.split_aliases("Johnny Smyth| J Smith |johnny smyth||SMITH, Bob") == [
        ("JOHNNY", "SMYTH"), ("J", "SMITH"), ("BOB", "SMITH")]


@pytest.mark.parametrize("text,expected", [
    ("1985-04-03", date(1985, 4, 3)),
    ("03/04/1985", date(1985, 4, 3)),
    ("3/4/1985", date(1985, 4, 3)),
    ("03-04-1985", date(1985, 4, 3)),
    ("1985-04-03T00:00:00", date(1985, 4, 3)),
    ("", None),
    ("   ", None),
])
def test_dates(text: str, expected: date | None) -> None:
    assert dates.parse_date(text) == expected


@pytest.mark.parametrize("text,reason", [
    ("31/02/1990", "impossible date"),
    ("1990-13-01", "impossible date"),
    ("yesterday", "not a date"),
    ("1990/01/01", "not a date"),
])
def test_bad_dates(text: str, reason: str) -> None:
    with pytest.raises(dates.DateError, match=reason) as e:
        dates.parse_date(text)
    assert text not in str(e.value)


@pytest.mark.parametrize("text,expected", [
    ("2026-10-12T03:00", datetime(2026, 10, 12, 3, 0)),
    ("2026-10-12 03:00:59", datetime(2026, 10, 12, 3, 0, 59)),
    ("12/10/2026 23:00", datetime(2026, 10, 12, 23, 0)),
    ("2026-11-26T02:00:00Z", datetime(2026, 11, 26, 2, 0)),
    ("2026-07-01T10:00:00+01:00", datetime(2026, 7, 1, 9, 0)),
    ("2026-10-12", datetime(2026, 10, 12)),
    ("12/10/2026", datetime(2026, 10, 12)),
])
def test_datetimes(text: str, expected: datetime) -> None:
    assert dates.parse_datetime(text) == expected


def test_impossible_time() -> None:
    with pytest.raises(dates.DateError, match="impossible time"):
        dates.parse_datetime("12/10/2026 25:00")


@pytest.mark.parametrize("text,expected", [
    ("bh151aa", "BH15 1AA"), (" BH15  1AA ", "BH15 1AA"), ("sw1a1aa", "SW1A 1AA"),
    ("M1 1AE", "M1 1AE"), ("B33 8TH", "B33 8TH"), ("CR2 6XH", "CR2 6XH"),
    ("DN55 1PT", "DN55 1PT"), ("W1A 0AX", "W1A 0AX"), ("EC1A 1BB", "EC1A 1BB"),
    ("NOT A CODE", None), ("BH15 1CI", None), ("12345", None), ("", None), (None, None),
])
def test_postcodes(text: str | None, expected: str | None) -> None:
    assert postcode.canonical_postcode(text) == expected


def test_postcode_parts() -> None:
    assert postcode.parse_postcode("bh151aa") == ("BH", "BH15", "BH15 1", "BH15 1AA")


@pytest.mark.parametrize("text,expected", [
    ("943 476 5919", "9434765919"), ("9434765919", "9434765919"),
    ("943-476-5919", "9434765919"),
    ("943 476 5918", None),      # wrong check digit
    ("123", None), ("", None),
])
def test_nhs_numbers(text: str, expected: str | None) -> None:
    assert identifiers.canonical_nhs(text) == expected


@pytest.mark.parametrize("text,expected", [
    ("2019/0123456A", "2019/0123456A"), ("19/123456a", "2019/0123456A"),
    ("99/1Z", "1999/0000001Z"), ("bad", None),
])
def test_pnc(text: str, expected: str | None) -> None:
    assert identifiers.canonical_pnc(text) == expected


@pytest.mark.parametrize("text,expected", [
    ("07700 900123", "07700900123"), ("+44 (0)7700 900123", "07700900123"),
    ("+44 7700 900123", "07700900123"), ("0044 7700 900123", "07700900123"),
    ("01202 123456", "01202123456"), ("+33 1 23 45 67 89", None), ("999", None),
])
def test_phones(text: str, expected: str | None) -> None:
    assert contact.canonical_phone(text) == expected


def test_emails() -> None:
    assert contact.canonical_email(" AMY@Example.COM ") == "amy@example.com"
    assert contact.canonical_email("not an email") is None


text = st.text(max_size=40)
NORMALISERS = [
    name.clean_name, name.clean_forenames, postcode.canonical_postcode,
    identifiers.canonical_pnc, identifiers.canonical_upn, identifiers.canonical_nhs,
    contact.canonical_phone, contact.canonical_email,
]


@pytest.mark.parametrize("fn", NORMALISERS, ids=lambda f: f.__name__)
@settings(max_examples=300, deadline=None)
@given(s=text)
def test_normalisers_never_raise_and_are_idempotent(fn, s: str) -> None:  # type: ignore[no-untyped-def]
    once = fn(s)
    assert once is None or fn(once) == once


@settings(max_examples=300, deadline=None)
@given(s=text)
@example(s="tim")
def test_date_parsing_raises_only_date_errors(s: str) -> None:
    # Any error but DateError fails the test. A value with a mark no fixed message has
    # shows whether the message echoes it (a bare value such as "tim" can be a piece of
    # "not a date or time" itself).
    marked = s + "\u2603"
    for parse in (dates.parse_date, dates.parse_datetime):
        for value in (s, marked):
            try:
                parse(value)
            except dates.DateError as e:
                assert "\u2603" not in str(e)


@settings(max_examples=200, deadline=None)
@given(d=st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 1, 1)))
def test_dates_round_trip_both_styles(d: date) -> None:
    assert dates.parse_date(d.isoformat()) == d
    assert dates.parse_date(d.strftime("%d/%m/%Y")) == d


def _clean_name_every_step(text: str) -> str:
    """clean_name as it was before its shortcuts: every text transliterated, decomposed and
    stripped of accents (the reference the kept, ASCII-shortcut version must equal)."""
    import re
    import unicodedata

    if not text:
        return ""
    s = unicodedata.normalize("NFKD", text.translate(name._TRANSLITERATE))
    s = "".join(c for c in s if not unicodedata.combining(c)).upper()
    s = re.sub(r"[’'`´]", "", s)
    s = re.sub(r"[^A-Z\- ]+", " ", s)
    s = re.sub(r"\s*-\s*", "-", s)
    return re.sub(r"\s+", " ", s).strip(" -")


@settings(max_examples=500, deadline=None)
@given(s=st.one_of(st.text(max_size=30), st.text(alphabet="abcXYZ '-,.ßøé\u0301\t", max_size=30)))
@example(s="  o'Brien ")
@example(s="Zoë  Smith-Jones")
def test_clean_name_equals_every_step_twice(s: str) -> None:
    assert name.clean_name(s) == _clean_name_every_step(s)
    assert name.clean_name(s) == _clean_name_every_step(s)     # the second from the cache


@settings(max_examples=300, deadline=None)
@given(s=st.one_of(st.dates().map(lambda d: d.isoformat()), st.dates().map(lambda d: d.strftime("%d/%m/%Y")),
                   st.text(alphabet="0123456789-/ T:", max_size=16)))
def test_parse_date_kept_answers_as_a_first_reading(s: str) -> None:
    """A date read again (from the cache) is the date read first; a text that is not a
    date raises every time, with the same message."""
    outcomes = []
    for _ in range(2):
        try:
            outcomes.append(dates.parse_date(s))
        except dates.DateError as e:
            outcomes.append(str(e))
    dates.parse_date.cache_clear()
    try:
        fresh: object = dates.parse_date(s)
    except dates.DateError as e:
        fresh = str(e)
    assert outcomes == [fresh, fresh]
