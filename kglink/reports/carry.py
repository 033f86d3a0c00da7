"""What the next night's report carries over from the night before instead of making again.

A research pack is made from what it reads of the child's neighbourhood in the graph
(noted as it is made: `Recording`), the findings touching the people and places it shows,
the child's own records and links, the linkage models and the reference date. Its key is
a hash of all of those as text (graph.neighbourhood's `read_text`; the reference date only
through what it decides: how every date read compares with it, with the day a child is
born after, and the age it gives). The next night, the same reads give the key again: a
pack whose key is unchanged is the previous night's file, with only its "as of" date and
recorded reason put right, the same bytes a full render gives.

The keys are kept in the night's folder, in CARRY_FILE; a missing or unreadable one carries
nothing over.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kglink.linkage.entities import split_source_key
from kglink.queries.base import QueryContext
from kglink.queries.findings import Finding
from kglink.workspace import Workspace

if TYPE_CHECKING:
    from kglink.graph.neighbourhood import Neighbourhood

CARRY_FILE = ".carry.json"
VERSION = "2"       # of the keys: a kglink that makes packs differently changes it
_DATE = re.compile(rb"\d{4}-\d{2}-\d{2}")


def read(folder: Path | None) -> dict[str, Any]:
    if folder is None:
        return {}
    try:
        got = json.loads((folder / CARRY_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return {}
    return got if isinstance(got, dict) and got.get("version") == VERSION else {}


def _age(dob: str, ref: date) -> int:
    y, m, d = int(dob[:4]), int(dob[5:7]), int(dob[8:10])
    return ref.year - y - ((ref.month, ref.day) < (m, d))


def _cmp(a: str, b: str) -> int:
    return (a > b) - (a < b)


def date_outcomes(texts: Iterable[bytes], ctx: QueryContext) -> list[tuple[str, int, int, int]]:
    """Each date in the texts with what the reference date decides of it: before, on or
    after it, before, on or after the day a child is born after, and the age it gives
    (ISO dates and date-times compare as text on their first ten characters)."""
    ref, born_after = ctx.reference_date.isoformat(), ctx.child_born_after[:10]
    out = []
    for d in sorted({m.decode() for t in texts for m in _DATE.findall(t)}):
        try:
            age = _age(d, ctx.reference_date)
        except ValueError:
            age = -1
        out.append((d, _cmp(d, ref), _cmp(d, born_after), age))
    return out


def models_text(ws: Workspace) -> bytes:
    """The linkage models, as the hash of their text: the text holds the term frequencies
    of every name (megabytes at 1M records), hashed once rather than into every pack's key."""
    text = json.dumps(list(ws.conn.execute("SELECT kind, settings, parameters FROM models ORDER BY kind")))
    return hashlib.blake2b(text.encode(), digest_size=20).hexdigest().encode()


class Reads:
    """What a research pack read of its subgraph: nodes (properties, or whether there),
    each node's relationships out of or into it, and `other` if it read any other way
    (then it is not carried over)."""

    def __init__(self) -> None:
        self.nodes: set[str] = set()
        self.adjacency: set[tuple[str, str]] = set()
        self.other = False


class Recording:
    """A view's store (queries.view) that notes in `reads` what is read through it."""

    def __init__(self, store: Any, reads: Reads) -> None:
        self._store, self._reads = store, reads

    def __contains__(self, uid: object) -> bool:
        self._reads.nodes.add(str(uid))
        return uid in self._store

    def props(self, uid: str) -> Any:
        self._reads.nodes.add(uid)
        return self._store.props(uid)

    def label(self, uid: str) -> Any:
        self._reads.nodes.add(uid)
        return self._store.label(uid)

    def out(self, uid: str, types: tuple[str, ...] | None = None) -> Any:
        self._reads.adjacency.add((uid, "out"))
        return self._store.out(uid, types)

    def into(self, uid: str, types: tuple[str, ...] | None = None) -> Any:
        self._reads.adjacency.add((uid, "in"))
        return self._store.into(uid, types)

    def neighbours(self, uid: str) -> Any:
        self._reads.adjacency |= {(uid, "out"), (uid, "in")}
        return self._store.neighbours(uid)

    def __getattr__(self, name: str) -> Any:
        self._reads.other = True
        return getattr(self._store, name)


class Touching:
    """The night's findings by the people and places they name: which touch a pack's
    subgraph is asked once per pack, of a thousand findings and more at 1M records
    (asking each finding for each pack was half a minute of the next night's report)."""

    def __init__(self, found: list[Finding]) -> None:
        self._json: list[bytes | None] = [None] * len(found)
        self._found = found
        self._of: dict[str, list[int]] = {}
        for n, f in enumerate(found):
            for eid in {p.entity_id for p in f.people} | {a.entity_id for a in f.addresses}:
                self._of.setdefault(eid, []).append(n)

    def _numbers(self, ids: set[str]) -> list[int]:
        return sorted({n for eid in ids for n in self._of.get(eid, ())})

    def findings(self, ids: set[str]) -> list[Finding]:
        """The findings naming any of `ids` (people or places), in the order found."""
        return [self._found[n] for n in self._numbers(ids)]

    def texts(self, ids: set[str]) -> list[bytes]:
        """The findings naming any of `ids`, as JSON, in the order found."""
        out = []
        for n in self._numbers(ids):
            text = self._json[n]
            if text is None:
                text = self._json[n] = self._found[n].model_dump_json().encode()
            out.append(text)
        return out


def pack_key(ws: Workspace, uid: str, hood: Neighbourhood, nodes: list[str],
             adjacency: list[tuple[str, str]], touching: set[str], found: Touching,
             ctx: QueryContext, models: bytes) -> str:
    """The hash of everything the research pack of `uid` was made from (see the module):
    what it read of its subgraph `hood` (`nodes`, `adjacency`; the graph's `around(uid)`,
    found once for both making the pack and its key), the findings touching the people
    and places in it (`touching`), the subject's records and links, the models."""
    texts = hood.read_text(nodes, adjacency)
    h = hashlib.blake2b(digest_size=20)
    h.update(VERSION.encode() + b"\x1e" + uid.encode() + b"\x1e" + models + b"\x1e")
    for t in texts:
        h.update(t + b"\x1e")
    h.update(json.dumps(date_outcomes(texts, ctx)).encode())
    for text in found.texts(touching):
        h.update(b"\x1eF" + text)
    # The subject's records and the links that join them (its members are in its node).
    graph = hood.graph
    if uid in graph:
        for key in sorted(graph.props(uid).get("members", [])):
            agency, rid = split_source_key(key)
            h.update(b"\x1eK" + json.dumps(
                [list(r) for r in ws.conn.execute(
                    "SELECT kind, data FROM records WHERE agency=? AND key=? AND kind IN ('person','address')",
                    (agency, rid))]
                + [list(r) for r in ws.conn.execute(
                    "SELECT a, b, match_weight, probability, status, reason, explanation FROM links "
                    "WHERE kind='person' AND a = ? UNION ALL "
                    "SELECT a, b, match_weight, probability, status, reason, explanation FROM links "
                    "INDEXED BY links_b WHERE kind='person' AND b = ? ORDER BY 1, 2", (key, key))]).encode())
    return h.hexdigest()
