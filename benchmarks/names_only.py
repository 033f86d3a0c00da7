"""How often two records of one full name are one person, by how many records hold the
name and whether both record a date of birth: what a names-only pair is worth.

    python benchmarks/names_only.py --county /tmp/v104 --workspace /tmp/ws-v104

Reads the workspace's active person records (loaded; linking is not needed) and the
county's truth. For every pair of records whose first forename and surname are the same
(upper case), by how many records hold that full name (2, 3, ... 6 or more): how many
pairs are one person when both dates of birth are recorded and equal, recorded and
different, or recorded on one side only or neither. The last row is the pair linkage
cannot decide from the name alone: if it is far from certain there, no setting of the
link threshold links those pairs at high precision, and they are left to the review queue.
It prints counts only, never a name.
"""
from __future__ import annotations

import argparse
import csv
import itertools
from collections import Counter, defaultdict
from pathlib import Path

from kglink.workspace import open_workspace

CATEGORIES = ("both recorded, equal", "both recorded, different", "one side or neither")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--county", type=Path, required=True, help="a synthetic county (with truth/)")
    ap.add_argument("--workspace", type=Path, required=True, help="a workspace its extracts are loaded into")
    ap.add_argument("--most", type=int, default=6, help="names held by this many records or more are one row")
    args = ap.parse_args()
    truth: dict[tuple[str, str], str] = {}
    with (args.county / "truth" / "persons.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            truth[(row["agency"], row["record_id"])] = row["true_id"]
    ws = open_workspace(args.workspace)
    by_name: dict[tuple[str, str], list[tuple[str, str, str | None]]] = defaultdict(list)
    for agency, key, d in ws.records("person"):
        first = (d.get("forenames") or "").upper().split(" ")[0]
        by_name[(first, d["surname"].upper())].append((agency, key, d.get("dob")))
    counts: Counter[tuple[int, str, bool]] = Counter()
    for records in by_name.values():
        held = min(len(records), args.most)
        for a, b in itertools.combinations(records, 2):
            if a[2] and b[2]:
                category = CATEGORIES[0] if a[2] == b[2] else CATEGORIES[1]
            else:
                category = CATEGORIES[2]
            counts[(held, category, truth.get(a[:2]) == truth.get(b[:2]))] += 1
    print(f"{'records holding the name':>24} | {'dates of birth':<26} | {'pairs':>8} | {'one person':>10} | share")
    for held in range(2, args.most + 1):
        label = f"{held}{' or more' if held == args.most else ''}"
        for category in CATEGORIES:
            same, other = counts[(held, category, True)], counts[(held, category, False)]
            if same + other:
                print(f"{label:>24} | {category:<26} | {same + other:8d} | {same:10d} | {same / (same + other):.3f}")


if __name__ == "__main__":
    main()
