"""Why clustering held a pair back: the contradiction between the two entities it would join.

A pair in conflict scored as a link, but joining the entities of its two records would
put together two records that an evidence rule says cannot be one (or that a person
called different). This names those two records and the rule, in words.

The rules' part is found when linking, where the prepared table is in memory: `found`
asks each rule's per-pair test (the clustering's own conflict test, rule by rule) of the
two entities' records, and `link` keeps the answer in `link_conflicts` with a hash of the
two entities' records. Reading it back costs a few indexed lookups; working it out again
costs preparing every record's features (a million-record person table: ~45 s), which
`contradictions` does only for a pair the table has no answer for, or whose entities are
not the ones linking saw (a workspace linked by a kglink before the table). A person's
"different" is added when read, so a decision made since the run is named too.
"""
from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import islice, product

import orjson

from kglink.linkage.entities import entity_map, split_source_key
from kglink.linkage.prepare import Table, address_table, person_table
from kglink.linkage.rules import MEANING, named_pair_tests
from kglink.linkage.settings import LinkageSettings
from kglink.linkage.store import saved_model
from kglink.workspace import Workspace

MAX_PAIRS = 2500        # records compared across two entities, at most

Pair = tuple[str, str]
Sides = tuple[list[str], list[str]]     # the sorted records of a's entity, and of b's
Hits = dict[Pair, str]                  # (x, y) -> "rule:<name>", in the order found


@dataclass(frozen=True)
class Contradiction:
    a: str              # a record of the first entity
    b: str              # a record of the second
    rule: str           # "rule:dob_conflict", or "human" for a decision "different"
    meaning: str


def sides_hash(sides: Sides) -> str:
    """Names the two entities' records, to tell whether a kept answer is about them."""
    left, right = sides
    return hashlib.blake2b("\x1f".join(left).encode() + b"\x1e" + "\x1f".join(right).encode(),
                           digest_size=16).hexdigest()


def found(table: Table, st: LinkageSettings, sides: dict[Pair, Sides],
          index: dict[str, int] | None = None) -> dict[Pair, Hits]:
    """For each pair, the pairs of records across its two entities that an evidence rule
    keeps apart, with the first rule (RULES order) that does; the most MAX_PAIRS compared."""
    tests = named_pair_tests(table, st)
    index = index if index is not None else table.index()
    out: dict[Pair, Hits] = {}
    for pair, (left, right) in sides.items():
        hits: Hits = {}
        for x, y in islice(product(left, right), MAX_PAIRS):
            i, j = index.get(x), index.get(y)
            if i is None or j is None:
                continue
            for rule, test in tests:
                if test(i, j):
                    hits[(x, y)] = f"rule:{rule}"
                    break
        out[pair] = hits
    return out


def kept_rows(kind: str, sides: dict[Pair, Sides], hits: dict[Pair, Hits]) -> list[tuple[str, ...]]:
    """`link_conflicts` rows (docs/workspace-format.md) of what `found` found."""
    return [(kind, a, b, sides_hash(s), orjson.dumps([[x, y, r] for (x, y), r in hits[(a, b)].items()]).decode())
            for (a, b), s in sides.items()]


def contradictions(ws: Workspace, kind: str, pairs: Sequence[Pair]) -> dict[Pair, list[Contradiction]]:
    """For each pair (a, b) of records, the contradictions between a's entity and b's."""
    model = saved_model(ws, kind)
    if model is None or not pairs:
        return {}
    sides = {(a, b): (_entity(ws, kind, a), _entity(ws, kind, b)) for a, b in pairs}
    sides = {p: s for p, s in sides.items() if s[0] and s[1]}
    hits: dict[Pair, Hits] = {}
    for a, b in sides:
        row = ws.conn.execute("SELECT sides, found FROM link_conflicts WHERE kind = ? AND a = ? AND b = ?",
                              (kind, a, b)).fetchone()
        if row and row[0] == sides_hash(sides[(a, b)]):
            hits[(a, b)] = {(x, y): r for x, y, r in orjson.loads(row[1])}
    missing = {p: s for p, s in sides.items() if p not in hits}
    if missing:
        keys = {k for left, right in missing.values() for k in left + right}
        st = model.settings
        table = (person_table(ws, entity_map(ws, "address"), st.crowded_address_people, only=keys,
                              with_related=True)
                 if kind == "person" else address_table(ws, only=keys))
        hits |= found(table, st, missing)
    different = {tuple(r) for r in ws.conn.execute(
        "SELECT a, b FROM decisions WHERE kind = ? AND decision = 'different'", (kind,))}
    out: dict[Pair, list[Contradiction]] = {}
    for pair, (left, right) in sides.items():
        said: list[Contradiction] = []
        for x, y in islice(product(left, right), MAX_PAIRS):
            if tuple(sorted((x, y))) in different:
                said.append(Contradiction(x, y, "human", "a person decided they are different"))
            elif (rule := hits[pair].get((x, y))) is not None:
                said.append(Contradiction(x, y, rule, MEANING.get(rule, rule.removeprefix("rule:").replace("_", " "))))
        out[pair] = said
    return out


def _entity(ws: Workspace, kind: str, key: str) -> list[str]:
    """The active records of `key`'s entity, sorted (only `key` if no run placed it; none
    if it is not an active record)."""
    agency, rid = split_source_key(key)
    if ws.conn.execute("SELECT 1 FROM records WHERE kind = ? AND agency = ? AND key = ? AND status = 'active'",
                       (kind, agency, rid)).fetchone() is None:
        return []
    got = sorted(k for (k,) in ws.conn.execute(
        "SELECT o.agency || ':' || o.record_id FROM entity_members m "
        "JOIN entity_members o ON o.entity_id = m.entity_id AND o.kind = m.kind "
        "JOIN records r ON r.kind = o.kind AND r.agency = o.agency AND r.key = o.record_id "
        "WHERE m.kind = ? AND m.agency = ? AND m.record_id = ? AND r.status = 'active'", (kind, agency, rid)))
    return got or [key]
