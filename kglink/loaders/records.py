"""Typed records of extract format v1 (pydantic v2).

Each model is built from one CSV row (a dict of strings). Cleaning happens in the
validators, so a record that exists is a clean record; the loader keeps the row's
original text beside it. Validation messages never contain the value they reject.
"""
from __future__ import annotations

import json
import math
import time
from datetime import date, datetime, timedelta, timezone
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator

from kglink import vocab
from kglink.standardise.contact import canonical_email, canonical_phone
from kglink.standardise.dates import parse_date, parse_datetime
from kglink.standardise.identifiers import canonical_nhs, canonical_pnc, canonical_upn
from kglink.standardise.names import Name, clean_name, split_aliases, split_person_name
from kglink.standardise.postcode import canonical_postcode


def _blank_to_none(v: Any) -> Any:
    if isinstance(v, str):
        v = v.strip()
        return v or None
    return v


def _required_text(v: Any) -> str:
    v = _blank_to_none(v)
    if v is None:
        raise ValueError("required value missing")
    return str(v)


def _one_of(choices: tuple[str, ...], what: str) -> Any:
    allowed = frozenset(choices)

    def check(v: Any) -> str:
        s = _required_text(v).lower()
        if s not in allowed:
            raise ValueError(f"unknown {what}; expected one of {', '.join(choices)}")
        return s

    return BeforeValidator(check)


# Dates a record can hold: from 1900 to today. A day of grace after today allows for
# clocks and time zones (an event just after midnight, a server on UTC). Planned ends
# (to_date) may lie in the future; everything that has happened may not.
EARLIEST = date(1900, 1, 1)
FUTURE_GRACE = timedelta(days=1)


_latest: tuple[float, date] = (0.0, EARLIEST)     # (until when, in epoch seconds; the date)


def latest_allowed() -> date:
    """Today plus the grace. Asked for every date of every row, so kept until the next
    local midnight (date.today() was 3 % of a load)."""
    global _latest
    now = time.time()
    if now >= _latest[0]:
        today = date.today()
        midnight = datetime.combine(today + timedelta(days=1), datetime.min.time()).timestamp()
        _latest = (midnight, today + FUTURE_GRACE)
    return _latest[1]


def _in_range(d: date, *, future: bool = False) -> None:
    if d < EARLIEST:
        raise ValueError("date before 1900")
    if not future and d > latest_allowed():
        raise ValueError("date more than a day in the future")


def _date_or_none(v: Any) -> date | None:
    d = v if isinstance(v, date) else parse_date(_blank_to_none(v))
    if d is not None:
        _in_range(d)
    return d


def _end_date_or_none(v: Any) -> date | None:
    d = v if isinstance(v, date) else parse_date(_blank_to_none(v))
    if d is not None:
        _in_range(d, future=True)
    return d


def _datetime_or_none(v: Any) -> datetime | None:
    dt = v if isinstance(v, datetime) else parse_datetime(_blank_to_none(v))
    if dt is not None:
        _in_range(dt.date())
    return dt


def _required_datetime(v: Any) -> datetime:
    dt = _datetime_or_none(_required_text(v))
    assert dt is not None
    return dt


def _not_before(v: Any, info: ValidationInfo, start_field: str) -> Any:
    """An end (validated after its start) may not lie before the start."""
    start = info.data.get(start_field)
    if v is not None and start is not None and v < start:
        raise ValueError(f"ends before it starts ({start_field})")
    return v


def _required_name(v: Any) -> str:
    if not v:
        raise ValueError("required value missing (no letters in the name)")
    return str(v)


RecordId = Annotated[str, BeforeValidator(_required_text)]
OptText = Annotated[str | None, BeforeValidator(_blank_to_none)]
OptDate = Annotated[date | None, BeforeValidator(_date_or_none)]
OptEndDate = Annotated[date | None, BeforeValidator(_end_date_or_none)]
OptDateTime = Annotated[datetime | None, BeforeValidator(_datetime_or_none)]


class Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Manifest(Record):
    model_config = ConfigDict(frozen=True, extra="allow")
    format: Literal["kglink-extract"]
    version: int
    agency: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    system: str = ""
    extracted_at: Annotated[datetime, BeforeValidator(_required_datetime)]

    @field_validator("version")
    @classmethod
    def _known_version(cls, v: int) -> int:
        if v not in vocab.FORMAT_VERSIONS:
            raise ValueError(f"unknown format version; this kglink reads {sorted(vocab.FORMAT_VERSIONS)}")
        return v

    @field_validator("extracted_at")
    @classmethod
    def _not_in_future(cls, v: datetime) -> datetime:
        # An extract dated ahead would make every real extract after it look older.
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        if v.replace(tzinfo=None) > now + FUTURE_GRACE:
            raise ValueError("date more than a day in the future")
        return v


class PersonName(Record):
    forenames: str
    surname: str


def _sex(v: Any) -> str | None:
    s = _blank_to_none(v)
    if s is None:
        return None
    s = str(s).strip().lower()
    if s in ("m", "male", "man", "boy"):
        return "M"
    if s in ("f", "female", "woman", "girl"):
        return "F"
    return "U"


class PersonRecord(Record):
    record_id: RecordId
    forenames: str = ""
    surname: Annotated[str, BeforeValidator(_required_name)]
    dob: OptDate = None
    sex: Annotated[str | None, BeforeValidator(_sex)] = None
    aliases: list[PersonName] = []
    nhs_number: str | None = None
    nhs_number_valid: bool = False
    pnc_id: str | None = None
    upn: str | None = None
    phone: str | None = None
    email: str | None = None
    occupation: str | None = None

    @classmethod
    def from_row(cls, row: dict[str, str]) -> "PersonRecord":
        """Clean a persons.csv row; raises pydantic.ValidationError naming the column."""
        name = split_person_name(row.get("forenames"), row.get("surname"))
        nhs = canonical_nhs(row.get("nhs_number"))
        occupation = _blank_to_none(row.get("occupation"))
        return cls.model_validate({
            "record_id": row.get("record_id"),
            "forenames": name.forenames,
            "surname": name.surname,
            "dob": row.get("dob"),
            "sex": row.get("sex"),
            "aliases": [a._asdict() for a in split_aliases(row.get("aliases"))],
            "nhs_number": nhs,
            "nhs_number_valid": nhs is not None,
            "pnc_id": canonical_pnc(row.get("pnc_id")),
            "upn": canonical_upn(row.get("upn")),
            "phone": canonical_phone(row.get("phone")),
            "email": canonical_email(row.get("email")),
            "occupation": " ".join(occupation.lower().split()) if occupation else None,
        })

    def names(self) -> list[Name]:
        """The recorded name first, then every alias."""
        return [Name(self.forenames, self.surname)] + [Name(a.forenames, a.surname) for a in self.aliases]


class AddressRecord(Record):
    record_id: RecordId
    line1: Annotated[str, BeforeValidator(_required_text)]
    line2: OptText = None
    town: OptText = None
    postcode: str | None = None
    postcode_valid: bool = False
    uprn: OptText = None
    kind: Annotated[str, BeforeValidator(lambda v: (_blank_to_none(v) or "residential"))] = "residential"

    @field_validator("kind")
    @classmethod
    def _kind(cls, v: str) -> str:
        s = v.strip().lower().replace(" ", "_")
        if s not in vocab.ADDRESS_KINDS:
            raise ValueError(f"unknown kind; expected one of {', '.join(vocab.ADDRESS_KINDS)}")
        return s

    @classmethod
    def from_row(cls, row: dict[str, str]) -> "AddressRecord":
        pc = canonical_postcode(row.get("postcode"))
        uprn = _blank_to_none(row.get("uprn"))
        return cls.model_validate({
            "record_id": row.get("record_id"),
            "line1": _squash(row.get("line1")),
            "line2": _squash(row.get("line2")),
            "town": _squash(row.get("town")),
            "postcode": pc,
            "postcode_valid": pc is not None,
            "uprn": uprn if uprn and uprn.isdigit() else None,
            "kind": row.get("kind"),
        })


def _squash(v: str | None) -> str | None:
    return " ".join(v.split()) if v else None


class Occupancy(Record):
    person_id: RecordId
    address_id: RecordId
    relation: Annotated[str, _one_of(vocab.OCCUPANCY_RELATIONS, "relation")]
    from_date: OptDate = None
    to_date: OptEndDate = None

    @field_validator("to_date")
    @classmethod
    def _period(cls, v: date | None, info: ValidationInfo) -> date | None:
        return _not_before(v, info, "from_date")


class Relationship(Record):
    person_id: RecordId
    other_person_id: RecordId
    relation: Annotated[str, _one_of(vocab.PERSON_RELATIONS, "relation")]
    from_date: OptDate = None
    to_date: OptEndDate = None

    @field_validator("to_date")
    @classmethod
    def _period(cls, v: date | None, info: ValidationInfo) -> date | None:
        return _not_before(v, info, "from_date")


_DATETIME_ATTRIBUTES = frozenset({
    "detained_at", "appropriate_adult_requested_at", "appropriate_adult_arrived_at",
    "transferred_to_local_authority_at", "started_at", "ended_at", "reported_at", "found_at_time",
})
_BOOL_ATTRIBUTES = frozenset({"charged", "bail_refused"})


# JSON in a value or a manifest nests this deep at most: real ones nest two or three
# levels; the bound keeps a hostile one from exhausting the parser's recursion.
MAX_JSON_DEPTH = 32
_TOO_DEEP = f"JSON nested more than {MAX_JSON_DEPTH} levels deep"


def json_depth(value: Any, limit: int = MAX_JSON_DEPTH) -> int:
    """How deeply parsed JSON nests objects and arrays, counted no further than limit + 1."""
    depth, layer = 0, [value]
    while depth <= limit:
        containers = [v for v in layer if isinstance(v, (dict, list))]
        if not containers:
            return depth
        depth += 1
        layer = [x for c in containers for x in (c.values() if isinstance(c, dict) else c)]
    return depth


def _attributes(v: Any) -> dict[str, Any]:
    """The attributes JSON object, with known time and flag fields parsed."""
    v = _blank_to_none(v)
    if v is None:
        return {}
    if isinstance(v, str):
        try:
            v = json.loads(v)
        except json.JSONDecodeError:
            raise ValueError("not a JSON object") from None
        except RecursionError:
            raise ValueError(_TOO_DEEP) from None
        if json_depth(v) > MAX_JSON_DEPTH:
            raise ValueError(_TOO_DEEP)
    if not isinstance(v, dict):
        raise ValueError("not a JSON object")
    out: dict[str, Any] = {}
    for key, value in v.items():
        if key in _DATETIME_ATTRIBUTES and value not in (None, ""):
            try:
                out[key] = _datetime_or_none(str(value)).isoformat()  # type: ignore[union-attr]
            except ValueError as e:
                raise ValueError(f"attribute {key}: {e}") from None
        elif key in _BOOL_ATTRIBUTES and isinstance(value, str):
            if value.strip().lower() not in ("true", "false", "yes", "no", "1", "0", "y", "n"):
                raise ValueError(f"attribute {key}: not true or false")
            out[key] = value.strip().lower() in ("true", "yes", "1", "y")
        else:
            if not _storable(value):
                raise ValueError(f"attribute {key}: a number out of range (beyond 64 bits, or not finite)")
            out[key] = value
    return out


_INT64 = range(-(1 << 63), 1 << 63)


def _storable(value: Any) -> bool:
    """Every number in a parsed JSON value fits the workspace and Neo4j: an integer
    within 64 bits, a finite float (json.loads reads 1e999 as infinity and NaN as NaN)."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, bool):
            continue
        if isinstance(v, int):
            if v not in _INT64:
                return False
        elif isinstance(v, float):
            if not math.isfinite(v):
                return False
        elif isinstance(v, dict):
            stack += v.values()
        elif isinstance(v, list):
            stack += v
    return True


class Event(Record):
    record_id: RecordId
    type: Annotated[str, _one_of(vocab.EVENT_TYPES, "event type")]
    occurred_at: Annotated[datetime, BeforeValidator(_required_datetime)]
    ended_at: OptDateTime = None
    risk: Annotated[str | None, BeforeValidator(lambda v: (_blank_to_none(v) or "").lower() or None)] = None
    status: Annotated[str | None, BeforeValidator(lambda v: (_blank_to_none(v) or "").lower() or None)] = None
    reference: OptText = None
    description: OptText = None
    attributes: Annotated[dict[str, Any], BeforeValidator(_attributes)] = {}

    @field_validator("ended_at")
    @classmethod
    def _ends_after_start(cls, v: datetime | None, info: ValidationInfo) -> datetime | None:
        return _not_before(v, info, "occurred_at")


class EventPerson(Record):
    event_id: RecordId
    person_id: RecordId
    role: Annotated[str, _one_of(vocab.EVENT_PERSON_ROLES, "role")]


class EventAddress(Record):
    event_id: RecordId
    address_id: RecordId
    role: Annotated[str, _one_of(vocab.EVENT_ADDRESS_ROLES, "role")]


class Flag(Record):
    person_id: RecordId
    flag: Annotated[str, _one_of(vocab.FLAGS, "flag")]
    from_date: OptDate = None
    to_date: OptEndDate = None
    detail: OptText = None

    @field_validator("to_date")
    @classmethod
    def _period(cls, v: date | None, info: ValidationInfo) -> date | None:
        return _not_before(v, info, "from_date")
