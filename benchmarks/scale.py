"""Linkage quality and speed on the synthetic county: pairwise precision, recall and F1
for persons and addresses against the truth, seconds and peak memory.

    python benchmarks/scale.py --households 2300        # about 10k person records
    python benchmarks/scale.py --households 23000       # about 100k
    python benchmarks/scale.py --households 235000      # about 1M
    python benchmarks/scale.py --households 2300 --seed 101 --style varied   # a differently styled county
    python benchmarks/scale.py --county C --workspace W --linkage-seed 43      # the same, another sample
"""
from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter, defaultdict
from itertools import combinations
from contextlib import ExitStack
from pathlib import Path

import numpy as np
from _common import command_line, county, county_style, extract_dirs, peak_rss_mb, person_records

from kglink.linkage.arrays import isin
from kglink.linkage.members import all_memberships
from kglink.linkage.run import link
from kglink.linkage.settings import default_settings
from kglink.loaders.load import load_extracts
from kglink.synth.truth import Truth
from kglink.workspace import Workspace, open_workspace


def _pairs(groups: dict[str, list[str]]) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for members in groups.values():
        out.update(combinations(sorted(members), 2))
    return out


def truth_pairs(true_id: dict[str, str]) -> set[tuple[str, str]]:
    """Every pair of records the truth says are one (`Truth.person` or `Truth.address`)."""
    groups: dict[str, list[str]] = defaultdict(list)
    for key, tid in true_id.items():
        groups[tid].append(key)
    return _pairs(groups)


def predicted_pairs(rows: list[tuple[str, str, str, str]], kind: str) -> set[tuple[str, str]]:
    groups: dict[str, list[str]] = defaultdict(list)
    for eid, k, agency, rid in rows:
        if k == kind:
            groups[eid].append(f"{agency}:{rid}")
    return _pairs(groups)


def prf(pred: set, truth: set) -> tuple[float, float, float]:  # type: ignore[type-arg]
    tp = len(pred & truth)
    p = tp / len(pred) if pred else 1.0
    r = tp / len(truth) if truth else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def blocking_recall(keys: list[str], lo: np.ndarray, hi: np.ndarray, truth: set[tuple[str, str]]) -> float:
    """The share of true pairs that blocking (every rule together) made candidates."""
    index = {k: i for i, k in enumerate(keys)}
    n = np.int64(len(keys))
    pairs = [sorted((index[a], index[b])) for a, b in truth if a in index and b in index]
    codes = np.array([i * n + j for i, j in pairs], dtype=np.int64)
    found = isin(codes, lo.astype(np.int64) * n + hi.astype(np.int64))
    return float(found.sum()) / len(truth) if truth else 1.0


def hard_negative_merges(ws: Workspace, true_id: dict[str, str],
                         rows: list[tuple[str, str, str, str]]) -> tuple[int, int, int]:
    """Entities that join two true persons a generation apart (recorded years of birth 12
    or more apart: a father and son of one name); entities that join two true persons who
    share a recorded date of birth (twins, or two people of one name born one day); and of
    those, the ones whose two persons' true ids are within 3 of each other (the generator
    numbers a household's people in a row: siblings, twins, not strangers of one name)."""
    dob = {f"{agency}:{key}": data.get("dob") or "" for agency, key, data in ws.records("person")}
    members: dict[str, list[str]] = defaultdict(list)
    for eid, kind, agency, rid in rows:
        if kind == "person":
            members[eid].append(f"{agency}:{rid}")
    generation = one_date = siblings = 0
    for keys in members.values():
        dates: dict[str, set[str]] = defaultdict(set)
        for k in keys:
            if dob.get(k) and k in true_id:
                dates[true_id[k]].add(dob[k])
        if len({true_id.get(k) for k in keys}) < 2 or not dates:
            continue
        years = {int(d[:4]) for held in dates.values() for d in held}
        generation += max(years) - min(years) >= 12
        people = sorted(dates)
        born_together = [(a, b) for i, a in enumerate(people) for b in people[i + 1:] if dates[a] & dates[b]]
        one_date += bool(born_together)
        siblings += any(abs(_number(a) - _number(b)) <= 3 for a, b in born_together)
    return generation, one_date, siblings


def _number(true_id: str) -> int:
    """The number in a true person id (P0000123 -> 123; -1 where it has none)."""
    digits = "".join(c for c in true_id if c.isdigit())
    return int(digits) if digits else -1


def evidence_ceiling(ws: Workspace, true_id: dict[str, str], truth: set[tuple[str, str]]) -> tuple[float, float]:
    """The recall no linker that needs more than names could pass: the share of true pairs
    joined through true pairs that something besides names corroborates (the names_only
    rule does not hold: a date of birth on both sides, a place, an identifier, a contact,
    a relative in common), with every record's relatives linked as the truth says. And
    the same through pairs no separating rule stops either (a first name clearly
    different, dates of birth that cannot be one person's...)."""
    import networkx as nx

    from kglink.linkage import rules
    from kglink.linkage.entities import entity_map
    from kglink.linkage.evidence import PairLevels, Pairs
    from kglink.linkage.prepare import person_table
    from kglink.linkage.registry import comparison_vectors, comparisons_for
    from kglink.linkage.relational import set_entities
    from kglink.linkage.store import saved_model

    model = saved_model(ws, "person")
    if model is None or not truth:
        return 1.0, 1.0
    st = model.settings
    t = person_table(ws, entity_map(ws, "address"), st.crowded_address_people, with_related=True)
    index = {k: i for i, k in enumerate(t.keys)}
    person: dict[str, int] = {}
    set_entities(t, [person.setdefault(true_id.get(k, k), len(person)) for k in t.keys])
    pairs = np.array([(index[a], index[b]) for a, b in truth if a in index and b in index], dtype=np.int64)
    left, right = pairs[:, 0], pairs[:, 1]
    comps = comparisons_for("person", st.comparisons)
    gamma = comparison_vectors(t, comps, left, right)
    status, _ = rules.apply(t, st, comps, gamma, np.ones(len(left)), left, right)
    p = PairLevels("person", comps, gamma)
    individual = np.zeros(len(left), dtype=bool)
    for name in st.individual_evidence:
        if name in p:
            individual |= p.at_most(name, p.comparison(name).agreeing)
    corroborated = ~rules._names_only(Pairs(t, st, left, right, p, individual))
    out = []
    for ok in (corroborated, corroborated & (status != "")):
        g = nx.Graph()
        g.add_edges_from(zip(left[ok].tolist(), right[ok].tolist()))
        out.append(sum(len(c) * (len(c) - 1) // 2 for c in nx.connected_components(g)) / len(truth))
    return out[0], out[1]


def missed_by_status(ws: Workspace, kind: str, missed: set[tuple[str, str]]) -> str:
    """Where the recall went: each missed true pair's status in the links table (a pair not
    there was never a candidate, or scored below the review threshold)."""
    status = {(a, b): f"{st} ({reason})" for a, b, st, reason in ws.conn.execute(
        "SELECT a, b, status, reason FROM links WHERE kind = ?", (kind,))}
    counts = Counter(status.get(pair, "not a candidate or below review") for pair in missed)
    return ", ".join(f"{n:,} {what}" for what, n in counts.most_common()) or "none"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--households", type=int, default=2300)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--style", choices=("kglink", "varied"), default="kglink",
                    help="style of the generated county (varied: every style parameter drawn from the seed)")
    ap.add_argument("--county", type=Path, default=None, help="reuse a generated county")
    ap.add_argument("--errors", type=int, default=0, help="print this many wrong pairs of each kind")
    ap.add_argument("--workspace", type=Path, default=None,
                    help="keep the workspace here (new or empty), e.g. for benchmarks/queries.py")
    ap.add_argument("--linkage-seed", type=int, default=None,
                    help="the seed of both kinds' linkage settings (random pairs for u, EM samples): "
                         "how much the figures move with it")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        cdir = county(args.county or Path(tmp) / "county", args.households, args.seed, style=args.style)
        persons = person_records(cdir)
        ws = stack.enter_context(open_workspace(args.workspace or Path(tmp) / "ws"))
        loaded = ws.conn.execute("SELECT 1 FROM loads").fetchone() is not None
        t0 = time.perf_counter()
        if not loaded:
            load_extracts(ws, extract_dirs(cdir))
        t_load = time.perf_counter() - t0
        t1 = time.perf_counter()
        # A workspace loaded before is linked again from scratch (model retrained): the
        # same work as the first link, without loading the county again.
        seeded = {} if args.linkage_seed is None else {
            kind: default_settings(kind).model_copy(update={"seed": args.linkage_seed})
            for kind in ("person", "address")}
        report = link(ws, full=loaded, retrain=loaded, keep_pairs=True, settings=seeded)
        t_link = time.perf_counter() - t1
        rows = all_memberships(ws)
        known = Truth.read(cdir)
        print(f"command: {command_line()}")
        print(f"county style: {county_style(cdir)}")
        print(f"person records: {persons}; load {t_load:.1f} s{' (loaded before)' if loaded else ''}; "
              f"link {t_link:.1f} s; peak memory {peak_rss_mb():,.0f} MB")
        print(f"  preparing the tables: {t_link - sum(k.seconds for k in report.kinds):.1f} s")
        for k in report.kinds:
            print(f"  {k.kind}: {k.records} records, {k.candidate_pairs} pairs compared, {k.links} links, "
                  f"{k.review} in review, {k.entities} entities, {k.seconds:.1f} s")
            print("    " + ", ".join(f"{stage} {sec:.1f} s" for stage, sec in k.stages.items()))
        for kind in ("person", "address"):
            truth, pred = truth_pairs(getattr(known, kind)), predicted_pairs(rows, kind)
            p, r, f = prf(pred, truth)
            print(f"{kind}: pairwise precision {p:.4f} recall {r:.4f} F1 {f:.4f} "
                  f"(true pairs {len(truth)}, predicted {len(pred)})")
            print(f"  missed pairs by what linkage made of them: {missed_by_status(ws, kind, truth - pred)}")
            queued = {(a, b) for a, b in ws.conn.execute(
                "SELECT a, b FROM links WHERE kind = ? AND status IN ('review', 'unsure')", (kind,))}
            if kind == "person":
                generation, one_date, siblings = hard_negative_merges(ws, known.person, rows)
                print(f"  hard negatives: {generation} entities join two people a generation apart, "
                      f"{one_date} join two people of one date of birth (twins, or one name born one day), "
                      f"{siblings} of them two of one household born one day (ids within 3: twins)")
            print(f"  recall with the review queue confirmed: "
                  f"{len(truth & (pred | queued)) / len(truth) if truth else 1.0:.4f}")
            if kind == "person" and persons <= 200_000:
                corroborated, unopposed = evidence_ceiling(ws, known.person, truth)
                print(f"  evidence ceiling: {corroborated:.4f} of the true pairs are joined through pairs with "
                      f"evidence beyond names ({unopposed:.4f} through pairs no rule separates)")
            kr = next(k for k in report.kinds if k.kind == kind)
            if kr.candidates is not None:
                keys, lo, hi = kr.candidates
                print(f"  recall of blocking: {blocking_recall(keys, lo, hi, truth):.4f} of the true "
                      f"pairs are among the {len(lo):,} candidate pairs")
            if args.errors:
                from kglink.linkage.members import record_summary
                for label, wrong in (("false link", sorted(pred - truth)), ("missed", sorted(truth - pred))):
                    for a, b in wrong[:args.errors]:
                        print(f"    {label}: {a} | {record_summary(ws, a)}  ~  {b} | {record_summary(ws, b)}")


if __name__ == "__main__":
    main()
