"""Findings: what a researcher acts on, each fact with its source agency and record."""
from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import BaseModel, TypeAdapter

from kglink.linkage.entities import split_source_key


class SourceRef(BaseModel):
    agency: str
    record_id: str


class FindingPerson(BaseModel):
    entity_id: str
    name: str
    role: str
    records: list[SourceRef]


class FindingEvent(BaseModel):
    agency: str
    record_id: str
    type: str
    occurred_at: str


class FindingAddress(BaseModel):
    entity_id: str
    label: str
    role: str
    records: list[SourceRef]


class Evidence(BaseModel):
    fact: str
    agency: str
    record_id: str

    @classmethod
    def from_fact(cls, f: list[Any]) -> "Evidence":
        label, agency, record, detail = (list(f) + [None] * 4)[:4]
        _, rid = split_source_key(str(record or ""))
        text = f"{label}: {detail}" if detail not in (None, "") else str(label)
        return cls(fact=text, agency=str(agency or ""), record_id=rid)


class Finding(BaseModel):
    id: str
    query: str
    severity: str
    summary: str
    people: list[FindingPerson]
    events: list[FindingEvent]
    addresses: list[FindingAddress]
    evidence: list[Evidence]
    rank: int | None = None
    role: str | None = None
    unconfirmed_link: bool = False

    def subject_entity(self) -> str | None:
        return self.people[0].entity_id if self.people else None


# A list of findings to and from JSON in one call (pydantic's own serialiser): at 1M
# records, a dict made per finding (model_dump) for json.dumps left millions of objects for
# the garbage collector to walk beside the graph in memory, 6.5 s of the next night.
FINDINGS: TypeAdapter[list[Finding]] = TypeAdapter(list[Finding])


def findings_json(found: list[Finding]) -> str:
    """The findings as an indented JSON array of their fields: the text
    `json.dumps([f.model_dump() for f in found], indent=2, ensure_ascii=False)` gives."""
    return FINDINGS.dump_json(found, indent=2).decode()


def finding_id(query: str, key: str) -> str:
    return "f_" + hashlib.blake2b(f"{query}\x1f{key}".encode(), digest_size=8).hexdigest()


def refs(members: list[str] | None) -> list[SourceRef]:
    out = []
    for m in sorted(members or []):
        agency, rid = split_source_key(m)
        out.append(SourceRef(agency=agency, record_id=rid))
    return out


def normalise_row(row: dict[str, Any]) -> dict[str, Any]:
    """Sort every list so the two stores' rows compare equal."""
    out = dict(row)
    for k in ("people", "addresses", "facts"):
        seen, items = set(), []
        for item in row.get(k) or []:
            t = tuple(item)
            if t not in seen:
                seen.add(t)
                items.append(list(t))
        out[k] = sorted(items, key=lambda x: (x[1] != "subject", json.dumps(x))) if k == "people" else sorted(items)
    out["events"] = sorted(set(row.get("events") or []))
    out.setdefault("grade", None)
    out.setdefault("rank", None)
    out.setdefault("role", None)
    out["numbers"] = dict(sorted((row.get("numbers") or {}).items()))
    return out
