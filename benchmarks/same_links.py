"""Are two linked workspaces' results the same? Every `links` row (all columns) and every
entity's members (and id), compared exactly.

    python benchmarks/same_links.py WORKSPACE_A WORKSPACE_B

Prints, per kind, how many rows each side has and how many differ; exits 1 if anything
differs. For checking that a speed change computes exactly what it replaced.
"""
from __future__ import annotations

import argparse
import sqlite3
import sys
from collections import defaultdict
from pathlib import Path

from kglink.workspace.store import DB_NAME


def _db(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path / DB_NAME}?mode=ro", uri=True)


def links(conn: sqlite3.Connection, kind: str) -> set[tuple]:
    return set(conn.execute(
        "SELECT a, b, match_weight, probability, model_status, status, reason, explanation "
        "FROM links WHERE kind = ?", (kind,)))


def entities(conn: sqlite3.Connection, kind: str) -> dict[str, frozenset[tuple]]:
    members: dict[str, set[tuple]] = defaultdict(set)
    for agency, rid, eid, p in conn.execute(
            "SELECT agency, record_id, entity_id, probability FROM entity_members WHERE kind = ?", (kind,)):
        members[eid].add((agency, rid, p))
    return {e: frozenset(m) for e, m in members.items()}


def compare(a: Path, b: Path) -> bool:
    ca, cb = _db(a), _db(b)
    same = True
    for kind in ("address", "person"):
        la, lb = links(ca, kind), links(cb, kind)
        ea, eb = entities(ca, kind), entities(cb, kind)
        part_a = {frozenset((ag, r) for ag, r, _ in m) for m in ea.values()}
        part_b = {frozenset((ag, r) for ag, r, _ in m) for m in eb.values()}
        diff_links, diff_ent = len(la ^ lb), len(set(ea.items()) ^ set(eb.items()))
        diff_part = len(part_a ^ part_b)
        print(f"{kind}: links {len(la):,} / {len(lb):,}, differing rows {diff_links:,}; "
              f"entities {len(ea):,} / {len(eb):,}, differing partition {diff_part:,}, "
              f"differing (id, members, probability) {diff_ent:,}")
        same &= diff_links == 0 and diff_ent == 0 and diff_part == 0
    print("SAME" if same else "DIFFERENT")
    return same


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("a", type=Path)
    ap.add_argument("b", type=Path)
    args = ap.parse_args()
    sys.exit(0 if compare(args.a, args.b) else 1)


if __name__ == "__main__":
    main()
