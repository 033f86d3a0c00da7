"""Check findings against a synthetic county's truth: which planted scenarios were found,
which decoys were (wrongly) flagged. Used by the tests, the benchmarks and the demo."""
from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kglink.queries.findings import Finding


@dataclass
class Truth:
    person: dict[str, str]                  # agency:record_id -> true person id
    address: dict[str, str]
    items: list[dict[str, Any]]

    @classmethod
    def read(cls, county: Path) -> "Truth":
        def ids(name: str) -> dict[str, str]:
            with (county / "truth" / name).open(encoding="utf-8") as fh:
                return {f"{r['agency']}:{r['record_id']}": r["true_id"] for r in csv.DictReader(fh)}
        items = json.loads((county / "truth" / "findings.json").read_text(encoding="utf-8"))
        return cls(ids("persons.csv"), ids("addresses.csv"), items)


@dataclass
class Score:
    found: list[dict[str, Any]] = field(default_factory=list)
    missed: list[dict[str, Any]] = field(default_factory=list)
    decoys_flagged: list[dict[str, Any]] = field(default_factory=list)
    decoys_clear: list[dict[str, Any]] = field(default_factory=list)

    @property
    def all_found(self) -> bool:
        return not self.missed and not self.decoys_flagged

    def summary(self) -> str:
        return (f"planted scenarios found {len(self.found)}/{len(self.found) + len(self.missed)}, "
                f"decoys flagged {len(self.decoys_flagged)}/{len(self.decoys_flagged) + len(self.decoys_clear)}")


def _finding_keys(f: Finding, truth: Truth) -> tuple[set[str], set[str]]:
    """(true ids of the finding's subject, event keys)."""
    subjects: set[str] = set()
    for p in f.people:
        if p.role == "subject":
            subjects |= {truth.person.get(f"{r.agency}:{r.record_id}", "") for r in p.records}
    if not subjects:
        for a in f.addresses:
            subjects |= {truth.address.get(f"{r.agency}:{r.record_id}", "") for r in a.records}
    subjects.discard("")
    return subjects, {f"{e.agency}:{e.record_id}" for e in f.events}


def _item_keys(item: dict[str, Any]) -> tuple[set[str], set[str]]:
    subjects = {p["true_id"] for p in item.get("people", []) if p.get("role") == "subject"}
    subjects |= {a["true_id"] for a in item.get("addresses", []) if a.get("role") == "subject"}
    return subjects, {f"{e['agency']}:{e['record_id']}" for e in item.get("events", [])}


def matches(f: Finding, item: dict[str, Any], truth: Truth) -> bool:
    if f.query != item["query"]:
        return False
    fs, fe = _finding_keys(f, truth)
    ts, te = _item_keys(item)
    if te:
        return bool(fe & te)
    return bool(fs & ts)


def score(findings: Iterable[Finding], truth: Truth) -> Score:
    found = list(findings)
    out = Score()
    for item in truth.items:
        hit = any(matches(f, item, truth) for f in found)
        if item["expect"] == "finding":
            (out.found if hit else out.missed).append(item)
        else:
            (out.decoys_flagged if hit else out.decoys_clear).append(item)
    return out


def apply_true_linkage(ws: Any, truth: Truth) -> None:
    """Write the county's true identities as the workspace's entities (perfect linkage), to
    test queries apart from linkage."""
    from kglink.linkage.entities import entity_id_for, split_source_key

    rows = []
    for kind, ids in (("person", truth.person), ("address", truth.address)):
        groups: dict[str, list[str]] = {}
        for key, true_id in ids.items():
            groups.setdefault(true_id, []).append(key)
        for members in groups.values():
            eid = entity_id_for(kind, members)
            rows += [(kind, *split_source_key(k), eid, 1.0) for k in members]
    with ws.transaction() as c:
        c.execute("DELETE FROM entity_members")
        c.executemany("INSERT INTO entity_members (kind, agency, record_id, entity_id, probability)"
                      " VALUES (?,?,?,?,?)", rows)
        ws.set_meta(c, "linkage_run", str(int(ws.get_meta("linkage_run") or 0) + 1))
        from kglink.linkage.store import mark_linked

        mark_linked(ws, c)
