"""load → standardise → block → score → cluster → store, for addresses then persons.

Addresses are linked first, since a person's home (an address entity) is evidence for
person matching.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np
import orjson

from kglink.memory import gc_paused
from kglink.linkage import cluster as cl
from kglink.linkage import relational, rules
from kglink.linkage.arrays import isin
from kglink.linkage.blocking import RuleCount, candidate_pairs
from kglink.linkage.entities import entity_id_for, entity_map
from kglink.linkage.model import Model, score, train
from kglink.linkage.prepare import Table, address_table, person_table
from kglink.linkage.registry import comparison_vectors, comparisons_for
from kglink.linkage.settings import LinkageSettings, default_settings
from kglink.linkage.store import (
    load_decisions, load_model, mark_linked, previous_entities, previous_features,
    previous_links, save_kind,
)
from kglink.workspace import Workspace

Progress = Callable[[str], None]


@dataclass
class KindReport:
    kind: str
    records: int
    changed: int
    candidate_pairs: int
    rules: list[RuleCount]
    links: int
    review: int
    conflicts: int
    entities: int
    multi_record_entities: int
    model_trained: bool
    seconds: float
    # seconds per stage (blocking, comparing, training, scoring, rules, clustering, saving)
    stages: dict[str, float] = field(default_factory=dict)
    # with link(keep_pairs=True): every candidate pair scored, as (record keys, left, right)
    # indexes into the keys (benchmarks measure the recall of blocking with it)
    candidates: tuple[list[str], np.ndarray, np.ndarray] | None = None


@dataclass
class LinkReport:
    kinds: list[KindReport] = field(default_factory=list)


def link(ws: Workspace, *, full: bool = False, retrain: bool = False,
         settings: dict[str, LinkageSettings] | None = None,
         progress: Progress | None = None, keep_pairs: bool = False) -> LinkReport:
    # Tables, pairs and clusters are millions of long-lived objects: the cyclic collector
    # walked them over and over for nothing (half of building the 1M person table).
    # One transaction for both kinds: persons read the address entities saved just before
    # (same connection), and a run killed between them leaves the workspace as it was.
    with gc_paused(), ws.transaction() as conn:
        report = _link(ws, full, retrain, settings or {}, progress or (lambda _msg: None), keep_pairs)
        mark_linked(ws, conn)
        return report


def _link(ws: Workspace, full: bool, retrain: bool, settings: dict[str, LinkageSettings],
          say: Progress, keep_pairs: bool) -> LinkReport:
    report = LinkReport()
    say("addresses: preparing")
    a_settings = settings.get("address") or default_settings("address")
    report.kinds.append(_link_kind(ws, address_table(ws), a_settings, full, retrain, say, keep_pairs))
    say("persons: preparing")
    p_settings = settings.get("person") or default_settings("person")
    table = person_table(ws, entity_map(ws, "address"), p_settings.crowded_address_people)
    report.kinds.append(_link_kind(ws, table, p_settings, full, retrain, say, keep_pairs))
    return report


def _link_kind(ws: Workspace, table: Table, st: LinkageSettings, full: bool, retrain: bool,
               say: Progress, keep_pairs: bool = False) -> KindReport:
    t0 = time.perf_counter()
    kind = table.kind
    fps = table.fingerprints()
    old_fps = previous_features(ws, kind)
    saved = None if retrain else load_model(ws, st)
    incremental = not full and saved is not None and bool(old_fps)
    changed = np.array([not incremental or old_fps.get(k) != f for k, f in zip(table.keys, fps)])
    collective_on = "relatives" in st.comparisons and st.relational_rounds > 0
    # Collective linkage makes every pair depend on how the others were linked: a pair of
    # unchanged records gains evidence when a new record joins their relatives. So with it
    # on, a run that reuses the saved model still rescores every pair (the model is not
    # refitted), and gives exactly the links of a full relink.
    rescore_only = changed if incremental and not collective_on else None
    say(f"{kind}: blocking ({int(changed.sum())} of {table.n} records changed)")
    scored = score_pairs(table, st, saved, only=rescore_only)
    decisions = load_decisions(ws, kind)
    if collective_on:
        say(f"{kind}: relatives")
        scored = collective(table, st, scored, decisions, fit_model=saved is None)
    stages = dict(scored.stages)
    t_links = time.perf_counter()
    left, right, counts, gamma = scored.left, scored.right, scored.rule_counts, scored.gamma
    weight, prob, model_status, reason = scored.weight, scored.prob, scored.status, scored.reason
    trained, model = saved is None, scored.model
    keep = model_status != ""
    new_links = [
        (table.keys[i], table.keys[j], float(w), float(p), ms, rs,
         orjson.dumps({"levels": g.tolist()}).decode())
        for i, j, w, p, ms, rs, g in zip(left[keep], right[keep], weight[keep], prob[keep],
                                          model_status[keep], reason[keep], gamma[keep])
    ]
    index = {k: i for i, k in enumerate(table.keys)}
    if rescore_only is not None:
        unchanged = {k for k, c in zip(table.keys, changed) if not c}
        new_links += [row for row in previous_links(ws, kind)
                      if row[0] in unchanged and row[1] in unchanged]
    forced, different = decision_edges(index, decisions)
    edges = [cl.Edge(index[a], index[b], p) for a, b, w, p, ms, rs, _ in new_links
             if ms == "link" and (a, b) not in decisions] + forced
    conflict = cl.conflict_for(table, st)
    say(f"{kind}: clustering")
    t_cluster = time.perf_counter()
    stages["links"] = t_cluster - t_links
    roots, refused = cl.cluster(table.n, edges, conflict, different)
    refused_keys = {(table.keys[e.i], table.keys[e.j]) for e in refused}
    members: dict[int, list[int]] = {}
    for i, r in enumerate(roots):
        members.setdefault(r, []).append(i)
    best_p = _membership_probability(edges, roots)
    entity_of = _stable_ids(kind, table, members, previous_entities(ws, kind))
    rows = []
    for a, b, w, p, ms, rs, expl in new_links:
        status = decisions.get((a, b)) or ("conflict" if (a, b) in refused_keys else ms)
        rs2 = "human" if (a, b) in decisions else ("conflict" if status == "conflict" else rs)
        rows.append((kind, a, b, w, p, ms, status, rs2, expl))
    linked_pairs = {(r[1], r[2]) for r in rows}
    for (a, b), d in decisions.items():
        if (a, b) not in linked_pairs and a in index and b in index:
            rows.append((kind, a, b, 0.0, 1.0 if d == "same" else 0.0, "review", d, "human",
                         orjson.dumps({"levels": None}).decode()))
    ms_rows = [(kind, *table.keys[i].split(":", 1), entity_of[roots[i]], best_p.get(i, 1.0))
               for i in range(table.n)]
    t_save = time.perf_counter()
    stages["clustering"] = t_save - t_cluster
    save_kind(ws, kind, st, model if trained else None, rows, ms_rows,
              list(zip(table.keys, fps)))
    stages["saving"] = time.perf_counter() - t_save
    statuses = [r[6] for r in rows]
    sizes = [len(m) for m in members.values()]
    return KindReport(kind, table.n, int(changed.sum()), len(left), counts,
                      statuses.count("link") + statuses.count("same"),
                      statuses.count("review") + statuses.count("unsure") + statuses.count("conflict"),
                      statuses.count("conflict"), len(members), sum(1 for s in sizes if s > 1),
                      trained, time.perf_counter() - t0, stages,
                      (table.keys, left, right) if keep_pairs else None)


@dataclass
class Scored:
    """Every candidate pair with its levels, weight, probability and model status."""
    left: np.ndarray
    right: np.ndarray
    rule_counts: list[RuleCount]
    gamma: np.ndarray
    weight: np.ndarray
    prob: np.ndarray
    status: np.ndarray
    reason: np.ndarray
    model: Model
    stages: dict[str, float] = field(default_factory=dict)   # seconds per stage


def score_pairs(table: Table, st: LinkageSettings, model: Model | None = None,
                only: np.ndarray | None = None) -> Scored:
    """block → compare → (train) → score → evidence rules, for any prepared table."""
    stages: dict[str, float] = {}
    t = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal t
        now = time.perf_counter()
        stages[stage] = now - t
        t = now
    comps = comparisons_for(table.kind, st.comparisons)
    left, right, counts = candidate_pairs(table, st, only=only)
    lap("blocking")
    gamma = comparison_vectors(table, comps, left, right)
    lap("comparing")
    if model is None:
        model = train(table, comps, gamma, st)
    lap("training")
    weight, prob = score(model, table, comps, gamma, left)
    lap("scoring")
    status, reason = rules.apply(table, st, comps, gamma, prob, left, right)
    lap("rules")
    return Scored(left, right, counts, gamma, weight, prob, status, reason, model, stages)


def decision_edges(index: dict[str, int], decisions: dict[tuple[str, str], str]
                   ) -> tuple[list[cl.Edge], set[tuple[int, int]]]:
    """People's decisions as clustering input: forced edges for "same", the pairs (i < j)
    never to be joined for "different"."""
    forced, different = [], set()
    for (a, b), d in decisions.items():
        if a in index and b in index:
            i, j = sorted((index[a], index[b]))
            if d == "same":
                forced.append(cl.Edge(i, j, 1.0, forced=True))
            elif d == "different":
                different.add((i, j))
    return forced, different


def collective(table: Table, st: LinkageSettings, s: Scored, decisions: dict[tuple[str, str], str],
               *, fit_model: bool, rounds: int | None = None) -> Scored:
    """Collective linkage (kglink/linkage/relational.py): cluster what is linked so far, then add the pairs of records naming one relative,
    compare everyone's relatives, rescore, apply the rules; again until nothing changes or
    `rounds` (default `st.relational_rounds`) have run. With `fit_model` the relatives
    comparison's m and u are learnt after the first pass."""
    comps = comparisons_for(table.kind, st.comparisons)
    c = next(i for i, comp in enumerate(comps) if comp.name == "relatives")
    forced, different = decision_edges({k: i for i, k in enumerate(table.keys)}, decisions)
    conflict = cl.conflict_for(table, st)
    n = np.int64(table.n)
    stages = dict(s.stages)
    for rnd in range(st.relational_rounds if rounds is None else rounds):
        t0 = time.perf_counter()
        link = s.status == "link"
        edges = [cl.Edge(int(i), int(j), float(p)) for i, j, p in
                 zip(s.left[link], s.right[link], s.prob[link])
                 if (table.keys[i], table.keys[j]) not in decisions] + forced
        roots, _ = cl.cluster(table.n, edges, conflict, different)
        relational.set_entities(table, roots)
        xl, xr = relational.pairs_sharing_relatives(table, st.max_block_size)
        fresh = ~isin(xl * n + xr, s.left * n + s.right)
        xl, xr = xl[fresh], xr[fresh]
        left, right, gamma = s.left, s.right, s.gamma.copy()
        weight, prob, status, reason = s.weight.copy(), s.prob.copy(), s.status.copy(), s.reason.copy()
        if len(xl):
            left, right = np.concatenate((left, xl)), np.concatenate((right, xr))
            gamma = np.concatenate((gamma, comparison_vectors(table, comps, xl, xr)))
            pad = np.full(len(xl), -1, dtype=np.int8)
            before = np.concatenate((s.gamma[:, c], pad))
            weight, prob = np.concatenate((weight, np.zeros(len(xl)))), np.concatenate((prob, np.zeros(len(xl))))
            status = np.concatenate((status, np.full(len(xl), "", dtype=object)))
            reason = np.concatenate((reason, np.full(len(xl), "", dtype=object)))
        else:
            before = s.gamma[:, c]
        gamma[:, c] = comps[c].compute(table, left, right)
        model = s.model
        if fit_model and rnd == 0:
            relational.fit(model, table, comps, gamma, st)
        # Only pairs whose relatives changed, and new pairs, can score differently: the
        # relatives comparison adds nothing where it is not known (-1).
        redo = np.flatnonzero((gamma[:, c] != before) | (np.arange(len(left)) >= len(s.left)))
        if len(redo):
            lr, rr, gr = left[redo], right[redo], gamma[redo]
            weight[redo], prob[redo] = score(model, table, comps, gr, lr)
            status[redo], reason[redo] = rules.apply(table, st, comps, gr, prob[redo], lr, rr)
        if len(xl):
            order = np.argsort(left * n + right, kind="stable")
            left, right, gamma = left[order], right[order], gamma[order]
            weight, prob, status, reason = weight[order], prob[order], status[order], reason[order]
        counts = [rc for rc in s.rule_counts if rc.rule != "relatives"] + [
            RuleCount("relatives", int(fresh.sum()), 0, 0, 0, False)]
        same = len(xl) == 0 and bool(np.array_equal(status, s.status))
        stages[f"relatives {rnd + 1}"] = time.perf_counter() - t0
        s = Scored(left, right, counts, gamma, weight, prob, status, reason, model, stages)
        if same:
            break
    return s


def cluster_scored(table: Table, s: Scored, st: LinkageSettings | None = None) -> list[int]:
    """Cluster root per record from the pairs the model links (no human decisions)."""
    st = st or s.model.settings
    link = s.status == "link"
    edges = [cl.Edge(int(i), int(j), float(p)) for i, j, p in zip(s.left[link], s.right[link], s.prob[link])]
    roots, _ = cl.cluster(table.n, edges, cl.conflict_for(table, st), set())
    return roots


def _membership_probability(edges: list[cl.Edge], roots: list[int]) -> dict[int, float]:
    """Each record's strongest link into its own cluster (1.0 where a person said same)."""
    best: dict[int, float] = {}
    for e in edges:
        i, j, p = e.i, e.j, e.probability
        if roots[i] == roots[j]:
            best[i] = max(best.get(i, 0.0), p)
            best[j] = max(best.get(j, 0.0), p)
    return best


def _stable_ids(kind: str, table: Table, members: dict[int, list[int]],
                previous: dict[str, str]) -> dict[int, str]:
    """Keep an entity's id while it keeps members: each cluster takes the previous id held by
    most of its members (biggest clusters choose first); new clusters get a derived id."""
    out: dict[int, str] = {}
    taken: set[str] = set()
    order = sorted(members.items(), key=lambda kv: (-len(kv[1]), min(table.keys[i] for i in kv[1])))
    for root, idx in order:
        votes: dict[str, int] = {}
        for i in idx:
            pid = previous.get(table.keys[i])
            if pid and pid not in taken:
                votes[pid] = votes.get(pid, 0) + 1
        if votes:
            eid = min(votes, key=lambda e: (-votes[e], e))
        else:
            eid = entity_id_for(kind, (table.keys[i] for i in idx))
            while eid in taken:
                eid = entity_id_for(kind, [eid])
        taken.add(eid)
        out[root] = eid
    return out


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
