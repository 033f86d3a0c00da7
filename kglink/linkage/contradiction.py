"""Why clustering held a pair back: the contradiction between the two entities it would join.

A pair in conflict scored as a link, but joining the entities of its two records would
put together two records that an evidence rule says cannot be one (or that a person
called different). This names those two records and the rule, in words, by asking the
clustering's own conflict test (cluster.conflict_for) one rule at a time.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import product

from kglink.linkage.cluster import conflict_for
from kglink.linkage.entities import entity_map
from kglink.linkage.prepare import address_table, person_table
from kglink.linkage.rules import MEANING
from kglink.linkage.store import saved_model
from kglink.workspace import Workspace

MAX_PAIRS = 2500        # records compared across two entities, at most


@dataclass(frozen=True)
class Contradiction:
    a: str              # a record of the first entity
    b: str              # a record of the second
    rule: str           # "rule:dob_conflict", or "human" for a decision "different"
    meaning: str


def contradictions(ws: Workspace, kind: str, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], list[Contradiction]]:
    """For each pair (a, b) of records, the contradictions between a's entity and b's."""
    model = saved_model(ws, kind)
    if model is None or not pairs:
        return {}
    st = model.settings
    ents = entity_map(ws, kind)
    by_entity: dict[str, list[str]] = {}
    for key, m in ents.items():
        by_entity.setdefault(m.entity_id, []).append(key)
    sides = {(a, b): (sorted(by_entity.get(ents[a].entity_id, [a])), sorted(by_entity.get(ents[b].entity_id, [b])))
             for a, b in pairs if a in ents and b in ents}
    keys = {k for left, right in sides.values() for k in left + right}
    table = (person_table(ws, entity_map(ws, "address"), st.crowded_address_people, only=keys)
             if kind == "person" else address_table(ws, only=keys))
    index = {k: i for i, k in enumerate(table.keys)}
    tests = [(rule, conflict_for(table, st.model_copy(update={"evidence_rules": (rule,)})))
             for rule in st.evidence_rules]
    different = {tuple(r) for r in ws.conn.execute(
        "SELECT a, b FROM decisions WHERE kind = ? AND decision = 'different'", (kind,))}
    out: dict[tuple[str, str], list[Contradiction]] = {}
    for pair, (left, right) in sides.items():
        found: list[Contradiction] = []
        for x, y in list(product(left, right))[:MAX_PAIRS]:
            if tuple(sorted((x, y))) in different:
                found.append(Contradiction(x, y, "human", "a person decided they are different"))
                continue
            i, j = index.get(x), index.get(y)
            if i is None or j is None:
                continue
            for rule, test in tests:
                if test(i, j):
                    name = f"rule:{rule}"
                    found.append(Contradiction(x, y, name, MEANING.get(name, rule.replace("_", " "))))
                    break
        out[pair] = found
    return out
