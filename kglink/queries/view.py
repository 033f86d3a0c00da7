"""Navigation over the embedded graph, in the same terms the Cypher queries use."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from typing import Any

import networkx as nx

from kglink.graph import schema
from kglink.queries.base import QueryContext

HOME = tuple(sorted(schema.HOME_TYPES))          # LIVES_AT, PLACED_AT, REGISTERED_AT
PARENTING = ("PARENT_OF", "CARER_OF")


def current(props: dict[str, Any], ref: str) -> bool:
    """No end date, or one on or after the reference date (ISO strings compare as dates)."""
    to = props.get("to_date")
    return to is None or to >= ref


class _Networkx:
    """A networkx MultiDiGraph in the terms the view reads a graph in (those of
    graph.compact.CompactGraph): the research pack's subgraphs, and tests."""

    def __init__(self, g: nx.MultiDiGraph) -> None:
        self.g = g
        self._by_label: dict[str, list[str]] | None = None

    def __contains__(self, uid: object) -> bool:
        return uid in self.g

    def by_label(self, label: str) -> list[str]:
        if self._by_label is None:
            self._by_label = defaultdict(list)
            for uid, data in self.g.nodes(data=True):
                self._by_label[data.get(schema.LABEL_ATTR, "")].append(uid)
            for uids in self._by_label.values():
                uids.sort()
        return self._by_label.get(label, [])

    def props(self, uid: str) -> dict[str, Any]:
        return self.g.nodes[uid]  # type: ignore[no-any-return]

    def label(self, uid: str) -> str:
        return self.g.nodes[uid][schema.LABEL_ATTR]  # type: ignore[no-any-return]

    def out(self, uid: str, types: tuple[str, ...] | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
        for _, dst, data in self.g.out_edges(uid, data=True):
            if types is None or data[schema.TYPE_ATTR] in types:
                yield dst, data

    def into(self, uid: str, types: tuple[str, ...] | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
        for src, _, data in self.g.in_edges(uid, data=True):
            if types is None or data[schema.TYPE_ATTR] in types:
                yield src, data

    def neighbours(self, uid: str) -> Iterator[str]:
        yield from self.g.successors(uid)
        yield from self.g.predecessors(uid)

    def adjacent(self, uid: str) -> Iterator[tuple[str, str]]:
        for adjacency in (self.g.succ[uid], self.g.pred[uid]):
            for other, keys in adjacency.items():
                for key in keys:
                    yield other, key


class View:
    """`g`: the stored graph (graph.compact.CompactGraph), a research pack's part of it
    (graph.neighbourhood.Neighbourhood) or a networkx MultiDiGraph."""

    def __init__(self, g: Any, ctx: QueryContext) -> None:
        from kglink.graph.compact import CompactGraph
        from kglink.graph.neighbourhood import Neighbourhood

        self.g = g
        self.store: Any = g if isinstance(g, CompactGraph | Neighbourhood) else _Networkx(g)
        self.ctx = ctx
        self.ref = ctx.reference_date.isoformat()
        self.born_after = ctx.child_born_after      # worked out once, asked of every person
        self._indexes: dict[tuple[str, str], dict[Any, list[str]]] = {}

    # --- where a query starts: the few nodes an index names, not every node -------------
    def nodes(self, label: str) -> list[str]:
        return self.store.by_label(label)  # type: ignore[no-any-return]

    def starts(self, uids: Iterable[str]) -> list[str]:
        """Of `uids`, those a query may start from, by uid (all of them here; a what-if
        view narrows them to the merged entities' neighbourhood)."""
        return sorted(set(uids))

    def all_where(self, label: str, prop: str, *values: Any) -> list[str]:
        """Every node of `label` whose `prop` is one of `values`, by uid. Read from an index
        built on first use (one pass over the label's nodes), as Neo4j's property indexes."""
        index = self._indexes.get((label, prop))
        if index is None:
            index = defaultdict(list)
            for uid in self.nodes(label):
                index[self.props(uid).get(prop)].append(uid)
            self._indexes[(label, prop)] = index
        if len(values) == 1:
            return index.get(values[0], [])
        return sorted(u for v in set(values) for u in index.get(v, ()))

    def where(self, label: str, prop: str, *values: Any) -> list[str]:
        """`all_where`, as nodes a query starts from."""
        return self.starts(self.all_where(label, prop, *values))

    def flagged(self, flag: str) -> list[str]:
        """People with a flag of this kind (current or not), as nodes a query starts from."""
        return self.starts(p for f in self.all_where("Flag", "flag", flag) for p, _ in self.into(f, "HAS_FLAG"))

    def props(self, uid: str) -> dict[str, Any]:
        return self.store.props(uid)  # type: ignore[no-any-return]

    def has(self, uid: str) -> bool:
        return uid in self.store

    def label(self, uid: str) -> str:
        return self.store.label(uid)  # type: ignore[no-any-return]

    def out(self, uid: str, *types: str) -> Iterator[tuple[str, dict[str, Any]]]:
        return self.store.out(uid, types)  # type: ignore[no-any-return]

    def into(self, uid: str, *types: str) -> Iterator[tuple[str, dict[str, Any]]]:
        return self.store.into(uid, types)  # type: ignore[no-any-return]

    def all_out(self, uid: str) -> Iterator[tuple[str, dict[str, Any]]]:
        return self.store.out(uid)  # type: ignore[no-any-return]

    def all_in(self, uid: str) -> Iterator[tuple[str, dict[str, Any]]]:
        return self.store.into(uid)  # type: ignore[no-any-return]

    def neighbours(self, uid: str) -> Iterator[str]:
        """Every node one relationship away, either direction, any type."""
        return self.store.neighbours(uid)  # type: ignore[no-any-return]

    def both(self, uid: str, *types: str) -> Iterator[tuple[str, dict[str, Any]]]:
        yield from self.out(uid, *types)
        yield from self.into(uid, *types)

    # --- people -------------------------------------------------------------------------
    def is_child(self, uid: str) -> bool:
        dob = self.props(uid).get("dob")
        return dob is not None and dob > self.born_after

    def is_child_on(self, uid: str, day: str) -> bool:
        """Under 18 on that day (ISO date or datetime). Cypher:
        `p.dob > toString(date(left(day, 10)) - duration({years: 18}))`."""
        return schema.child_on(self.props(uid).get("dob"), day)

    def flags(self, uid: str, flag: str, *, current_only: bool = True) -> list[dict[str, Any]]:
        out = []
        for fuid, _ in self.out(uid, "HAS_FLAG"):
            f = self.props(fuid)
            if f.get("flag") == flag and (not current_only or current(f, self.ref)):
                out.append(f)
        return sorted(out, key=lambda f: f["uid"])

    def homes(self, uid: str) -> list[tuple[str, dict[str, Any]]]:
        """Current home addresses with the edge that says so."""
        return sorted(((a, e) for a, e in self.out(uid, *HOME) if current(e, self.ref)),
                      key=lambda t: (t[0], t[1]["uid"]))

    def occupants(self, address: str) -> list[tuple[str, dict[str, Any]]]:
        return sorted(((p, e) for p, e in self.into(address, *HOME) if current(e, self.ref)),
                      key=lambda t: (t[0], t[1]["uid"]))

    def children_at_home(self, uid: str) -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
        """(child, address, this person's home edge, the child's home edge) for every child
        currently living at one of this person's current homes."""
        return [(c, a, h1, h2) for a, h1 in self.homes(uid) for c, h2 in self.occupants(a)
                if c != uid and self.is_child(c)]

    def children_of(self, uid: str) -> list[tuple[str, dict[str, Any]]]:
        """Children this person is parent or carer of (edge read start -> end)."""
        return sorted(((c, e) for c, e in self.out(uid, *PARENTING) if self.is_child(c)),
                      key=lambda t: (t[0], t[1]["uid"]))

    def related(self, uid: str, *types: str) -> list[tuple[str, dict[str, Any]]]:
        """Either direction, current only."""
        return sorted(((o, e) for o, e in self.both(uid, *types) if current(e, self.ref) and o != uid),
                      key=lambda t: (t[0], t[1]["uid"]))

    def events(self, uid: str, *roles: str) -> list[tuple[str, dict[str, Any]]]:
        return sorted(((ev, e) for ev, e in self.out(uid, "INVOLVED_IN") if not roles or e.get("role") in roles),
                      key=lambda t: (t[0], t[1]["uid"]))

    def event_people(self, ev: str, *roles: str) -> list[tuple[str, dict[str, Any]]]:
        return sorted(((p, e) for p, e in self.into(ev, "INVOLVED_IN") if not roles or e.get("role") in roles),
                      key=lambda t: (t[0], t[1]["uid"]))

    def event_addresses(self, ev: str, *roles: str) -> list[tuple[str, dict[str, Any]]]:
        return sorted(((a, e) for a, e in self.out(ev, "OCCURRED_AT") if not roles or e.get("role") in roles),
                      key=lambda t: (t[0], t[1]["uid"]))

    def address_events(self, address: str, *roles: str) -> list[tuple[str, dict[str, Any]]]:
        return sorted(((ev, e) for ev, e in self.into(address, "OCCURRED_AT") if not roles or e.get("role") in roles),
                      key=lambda t: (t[0], t[1]["uid"]))


def fact(label: str, item: dict[str, Any], record: str | None = None,
         detail: Any = None) -> list[Any]:
    """Evidence [label, agency, source record, detail] from an edge's or node's provenance.

    The Cypher twins build the same four values: agency and source record come from
    `agency` and `start_record` (edges), `person_record` (flags) or `id` (events).
    """
    rec = record or item.get("start_record") or item.get("person_record") or item.get("id")
    return [label, item.get("agency"), rec, detail]


def uniq(items: Iterable[Any]) -> list[Any]:
    seen, out = set(), []
    for i in items:
        k = repr(i)
        if k not in seen:
            seen.add(k)
            out.append(i)
    return out


# --- times: the same arithmetic as the Cypher twins -------------------------------------
def seconds_between(start: str, end: str) -> int:
    """Whole seconds from one ISO datetime to another, floored.

    Cypher: `duration.inSeconds(datetime(start), datetime(end)).seconds`. Stored times
    carry no zone, so both sides read them in the same one.
    """
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)) // timedelta(seconds=1)


