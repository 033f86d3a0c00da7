"""Two records side by side, for a person deciding whether they are one: each record's
names, date of birth, current homes, identifiers and where it came from (agency, file,
row). For the review queue and `kglink explain`; personal values are shown to the
authorised user at the terminal and never written to logs."""
from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field

from kglink import vocab
from kglink.linkage.entities import source_key, split_source_key
from kglink.workspace import Workspace


@dataclass
class Card:
    key: str
    kind: str
    source: str                     # "police, persons.csv row 4"
    title: str                      # the name, or the address line
    details: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [self.key, self.title, *self.details, f"from {self.source}"]


def _load(ws: Workspace, key: str) -> tuple[str, str, int, dict] | None:  # type: ignore[type-arg]
    agency, rid = split_source_key(key)
    row = ws.conn.execute("SELECT kind, source_file, source_row, data FROM records WHERE agency=? AND key=? "
                          "AND kind IN ('person', 'address')", (agency, rid)).fetchone()
    return (row[0], row[1], int(row[2]), json.loads(row[3])) if row else None


def cards(ws: Workspace, keys: list[str]) -> dict[str, Card]:
    """A card for each record key (AGENCY:RECORD_ID); a key not loaded gets a card saying so."""
    loaded = {k: _load(ws, k) for k in dict.fromkeys(keys)}
    homes = _homes(ws, {k for k, v in loaded.items() if v and v[0] == "person"})
    out: dict[str, Card] = {}
    for key, got in loaded.items():
        if got is None:
            out[key] = Card(key, "", "nowhere", "(not loaded, or withdrawn)")
            continue
        kind, file, row, d = got
        source = f"{split_source_key(key)[0]}, {file} row {row}"
        out[key] = _person(key, source, d, homes.get(key, [])) if kind == "person" else _address(key, source, d)
    return out


def _person(key: str, source: str, d: dict, homes: list[str]) -> Card:  # type: ignore[type-arg]
    name = f"{d['forenames']} {d['surname']}".strip() or "(no name)"
    c = Card(key, "person", source, name)
    if d.get("aliases"):
        c.details.append("aka " + "; ".join(f"{a['forenames']} {a['surname']}".strip() for a in d["aliases"]))
    born = f"born {d['dob']}" if d.get("dob") else "date of birth not recorded"
    c.details.append(born + (f", sex {d['sex']}" if d.get("sex") else ""))
    c.details.append("home: " + ("; ".join(homes) if homes else "none recorded"))
    ids = [f"{label} {d[k]}" for k, label in (("nhs_number", "NHS"), ("pnc_id", "PNC"), ("upn", "UPN"))
           if d.get(k)]
    if ids:
        c.details.append(", ".join(ids))
    return c


def _address(key: str, source: str, d: dict) -> Card:  # type: ignore[type-arg]
    text = ", ".join(x for x in (d.get("line1"), d.get("line2"), d.get("town"), d.get("postcode")) if x)
    c = Card(key, "address", source, text)
    c.details.append(d.get("kind", "residential").replace("_", " ") + (f", UPRN {d['uprn']}" if d.get("uprn") else ""))
    return c


def _homes(ws: Workspace, people: set[str]) -> dict[str, list[str]]:
    """The homes each of these person records names (lives at, registered at, placed at)."""
    if not people:
        return {}
    wanted: dict[str, list[str]] = defaultdict(list)      # address key -> person keys
    agencies = {split_source_key(k)[0] for k in people}
    for agency in sorted(agencies):
        for (data,) in ws.conn.execute("SELECT data FROM records WHERE kind='occupancy' AND agency=? "
                                       "AND status='active'", (agency,)):
            o = json.loads(data)
            pk = source_key(agency, o["person_id"])
            if pk in people and o["relation"] in vocab.HOME_RELATIONS:
                ended = f" (until {o['to_date']})" if o.get("to_date") else ""
                wanted[source_key(agency, o["address_id"])].append(pk + "\x1f" + ended)
    out: dict[str, list[str]] = defaultdict(list)
    for akey, whos in wanted.items():
        got = _load(ws, akey)
        if not got:
            continue
        d = got[3]
        text = ", ".join(x for x in (d.get("line1"), d.get("town"), d.get("postcode")) if x)
        for who in whos:
            pk, _, ended = who.partition("\x1f")
            out[pk].append(text + ended)
    return out
