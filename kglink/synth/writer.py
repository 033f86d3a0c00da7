"""Streaming CSV writers: one per file of each extract, and the truth files.

Rows go to disk as they are made; nothing of the county is held beyond a household.
"""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, Any

from kglink.synth.model import Address, Person
from kglink.synth.styles import AgencyStyle

FILE_COLUMNS: dict[str, tuple[str, ...]] = {
    "addresses": ("record_id", "line1", "line2", "town", "postcode", "uprn", "kind"),
    "occupancies": ("person_id", "address_id", "relation", "from_date", "to_date"),
    "relationships": ("person_id", "other_person_id", "relation", "from_date", "to_date"),
    "events": ("record_id", "type", "occurred_at", "ended_at", "risk", "status", "reference",
               "description", "attributes"),
    "event_people": ("event_id", "person_id", "role"),
    "event_addresses": ("event_id", "address_id", "role"),
    "flags": ("person_id", "flag", "from_date", "to_date", "detail"),
}


class _Csv:
    def __init__(self, path: Path, columns: tuple[str, ...]) -> None:
        self.columns = columns
        self._fh: IO[str] = path.open("w", encoding="utf-8", newline="")
        self._w = csv.writer(self._fh, lineterminator="\n")
        self._w.writerow(columns)
        self.rows = 0

    def write(self, row: dict[str, str]) -> None:
        self._w.writerow([row.get(c, "") for c in self.columns])
        self.rows += 1

    def write_values(self, values: list[str]) -> None:
        self._w.writerow(values)
        self.rows += 1

    def close(self) -> None:
        self._fh.close()


class TruthWriter:
    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root = root
        self.persons = _Csv(root / "persons.csv", ("agency", "record_id", "true_id"))
        self.addresses = _Csv(root / "addresses.csv", ("agency", "record_id", "true_id"))

    def close(self) -> None:
        self.persons.close()
        self.addresses.close()


class ExtractWriter:
    """One agency's extract folder. Record ids are sequential in the agency's style."""

    def __init__(self, root: Path, style: AgencyStyle, truth: TruthWriter) -> None:
        self.style = style
        self.dir = root / style.agency
        self.dir.mkdir(parents=True, exist_ok=True)
        self.truth = truth
        persons = style.person_columns
        self.files = {"persons": _Csv(self.dir / "persons.csv", persons)}
        events = FILE_COLUMNS["events"] + style.event_extra
        for name, cols in FILE_COLUMNS.items():
            self.files[name] = _Csv(self.dir / f"{name}.csv", events if name == "events" else cols)
        self._n = {"p": 0, "a": 0, "e": 0}

    def person(self, row: dict[str, str], true_id: str) -> str:
        self._n["p"] += 1
        rid = self.style.person_id(self._n["p"])
        row["record_id"] = rid
        self.files["persons"].write(row)
        self.truth.persons.write_values([self.style.agency, rid, true_id])
        return rid

    def address(self, row: dict[str, str], true_id: str) -> str:
        self._n["a"] += 1
        rid = self.style.address_id(self._n["a"])
        row["record_id"] = rid
        self.files["addresses"].write(row)
        self.truth.addresses.write_values([self.style.agency, rid, true_id])
        return rid

    def event(self, row: dict[str, str]) -> str:
        self._n["e"] += 1
        rid = self.style.event_id(self._n["e"])
        row["record_id"] = rid
        self.files["events"].write(row)
        return rid

    def row(self, file: str, values: list[str]) -> None:
        self.files[file].write_values(values)

    def close(self, reference_date: date) -> dict[str, int]:
        for f in self.files.values():
            f.close()
        manifest = {"format": "kglink-extract", "version": 1, "agency": self.style.agency,
                    "system": self.style.system,
                    "extracted_at": f"{reference_date.isoformat()}T{self.style.extracted_time}Z"}
        (self.dir / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        return {f"{name}.csv": f.rows for name, f in self.files.items()}


@dataclass
class Finding:
    """One planted scenario or decoy, as truth/findings.json holds it."""

    query: str
    expect: str                       # "finding" or "no_finding"
    scenario: str
    people: list[tuple[Person, str]] = field(default_factory=list)
    addresses: list[tuple[Address, str]] = field(default_factory=list)
    events: list[tuple[str, str]] = field(default_factory=list)
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        missing = [p for p, _ in self.people if not p.tid] + [a for a, _ in self.addresses if not a.tid]
        if missing:
            raise RuntimeError(f"{self.query}/{self.scenario}: a truth item names someone no agency recorded")
        return {"query": self.query, "expect": self.expect, "scenario": self.scenario,
                "people": [{"true_id": p.tid, "role": role} for p, role in self.people],
                "addresses": [{"true_id": a.tid, "role": role} for a, role in self.addresses],
                "events": [{"agency": ag, "record_id": rid} for ag, rid in self.events],
                "note": self.note}
