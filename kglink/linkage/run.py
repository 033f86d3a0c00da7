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
from kglink.linkage import contradiction, rare_names, relational, rules
from kglink.linkage.arrays import isin, sorted_unique
from kglink.linkage.blocking import RuleCount, candidate_pairs
from kglink.linkage.comparisons import Comparison, slips_of
from kglink.linkage.entities import entity_id_for, entity_map
from kglink.linkage.model import Model, score, train
from kglink.linkage.prepare import PartsAhead, Table, address_places, address_table, parts_ahead, person_table
from kglink.linkage.registry import comparison_vectors, comparisons_for
from kglink.linkage.settings import LinkageSettings, default_settings
from kglink.linkage.store import (
    LinkRow, MemberRow, ScoredLink, load_decisions, load_model, mark_linked, previous_entities,
    previous_features, previous_links, results_token, save_kind, saved_as_linked, saved_counts,
)
from kglink.workspace import Workspace

Progress = Callable[[str], None]
# block → compare → (train) → score → evidence rules for one kind: `score_pairs` here, or
# an engine's (kglink/engines/spark) that gives the same Scored from a cluster.
Scorer = Callable[[Table, LinkageSettings, Model | None, np.ndarray | None], "Scored"]
# link edges → clusters with the evidence rules, as cl.cluster: `cluster_here`, or a
# scorer's own `cluster` (the Spark engine's clusters on Spark).
Clusterer = Callable[[Table, LinkageSettings, list[cl.Edge], cl.Conflict, set[tuple[int, int]]],
                     tuple[list[int], list[cl.Edge]]]


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
         progress: Progress | None = None, keep_pairs: bool = False,
         scorer: Scorer | None = None) -> LinkReport:
    """Link addresses, then persons. `scorer` scores the candidate pairs (default:
    `score_pairs`, in this process); collective linkage and clustering run here."""
    # Tables, pairs and clusters are millions of long-lived objects: the cyclic collector
    # walked them over and over for nothing (half of building the 1M person table).
    # One transaction for both kinds: persons read the address entities saved just before
    # (same connection), and a run killed between them leaves the workspace as it was.
    # The agencies' parts of the person table that must be made again are made in other
    # processes meanwhile, from what is committed: started before the transaction opens.
    with gc_paused(), parts_ahead(ws) as ahead, ws.transaction() as conn:
        report = _link(ws, full, retrain, settings or {}, progress or (lambda _msg: None), keep_pairs,
                       scorer or score_pairs, ahead)
        mark_linked(ws, conn)
        ws.set_meta(conn, "linked_results", results_token(ws))
        return report


def _link(ws: Workspace, full: bool, retrain: bool, settings: dict[str, LinkageSettings],
          say: Progress, keep_pairs: bool, scorer: Scorer, ahead: PartsAhead | None = None) -> LinkReport:
    report = LinkReport()
    say("addresses: preparing")
    a_settings = settings.get("address") or default_settings("address")
    addresses = address_table(ws, keep=True)
    report.kinds.append(_link_kind(ws, addresses, a_settings, full, retrain, say, keep_pairs, scorer))
    places = address_places(ws, addresses)
    del addresses           # and the arrays linking it made: the person kind needs the memory
    say("persons: preparing")
    p_settings = settings.get("person") or default_settings("person")
    table = person_table(ws, entity_map(ws, "address"), p_settings.crowded_address_people,
                         places=places, keep=True, ahead=ahead)
    report.kinds.append(_link_kind(ws, table, p_settings, full, retrain, say, keep_pairs, scorer))
    return report


def _link_kind(ws: Workspace, table: Table, st: LinkageSettings, full: bool, retrain: bool,
               say: Progress, keep_pairs: bool = False, scorer: Scorer | None = None) -> KindReport:
    scorer = scorer or score_pairs
    # One clustering a round of collective linkage and one at the end, on edges that
    # change little between them: each component merged again only if its edges changed.
    clusterer: Clusterer = getattr(scorer, "cluster", None) or _reclustering()
    t0 = time.perf_counter()
    kind = table.kind
    fps = table.fingerprints()
    old_fps = previous_features(ws, kind)
    saved = None if retrain else load_model(ws, st)
    if saved is not None and 0 <= saved.records and table.n > 2 * saved.records:
        # Fitted on under half of what there is now (on an empty workspace, before the
        # extracts were loaded): its m, u and frequencies describe too little. Fit again.
        say(f"{kind}: fitting the model again ({saved.records} records when it was fitted, {table.n} now)")
        saved = None
    incremental = not full and saved is not None and bool(old_fps)
    changed = np.array([not incremental or old_fps.get(k) != f for k, f in zip(table.keys, fps)])
    collective_on = "relatives" in st.comparisons and st.relational_rounds > 0
    if (incremental and not collective_on and not changed.any() and len(old_fps) == table.n
            and saved_as_linked(ws)):
        # Nothing this kind is linked on changed since the last run (every record's
        # features the same, no record new or gone, the same model), no one decided a pair
        # and nothing else wrote the results: the run would cluster the links it kept as
        # it did last time (clustering depends on the edges alone), so they stand as saved.
        say(f"{kind}: unchanged since the last run")
        return _as_saved(ws, table, t0, keep_pairs)
    rescore_only = changed if incremental and not collective_on else None
    say(f"{kind}: blocking ({int(changed.sum())} of {table.n} records changed)")
    decisions = load_decisions(ws, kind)
    before = previous_entities(ws, kind)
    conflict = cl.conflict_for(table, st)
    if incremental and collective_on:
        # The changed records' pairs are scored; the other pairs the last run kept come
        # back as it scored them; collective linkage then compares again the pairs of every
        # record whose relatives' persons moved, and scores every candidate pair of those
        # records (a pair dropped last time may gain a shared relative now).
        scored = scorer(table, st, saved, changed)
        scored = _with_previous(ws, table, scored, changed)
        say(f"{kind}: relatives")
        scored = collective(table, st, scored, decisions, fit_model=False, conflict=conflict,
                            previous=_previous_entities(table, before), expanded=changed, clusterer=clusterer)
    else:
        scored = scorer(table, st, saved, rescore_only)
        if collective_on:
            say(f"{kind}: relatives")
            scored = collective(table, st, scored, decisions, fit_model=saved is None, conflict=conflict,
                                clusterer=clusterer)
    stages = dict(scored.stages)
    t_links = time.perf_counter()
    left, right, counts, gamma = scored.left, scored.right, scored.rule_counts, scored.gamma
    weight, prob, model_status, reason = scored.weight, scored.prob, scored.status, scored.reason
    trained, model = saved is None, scored.model
    # A pair queued last time for its rare full name (kept by _with_previous) is judged
    # again below, on this run's persons: one more person of the name may have come.
    again = reason == rare_names.REASON
    if again.any():
        model_status = np.where(again, "", model_status).astype(object)
    keep = model_status != ""
    new_links = [
        ScoredLink(table.keys[i], table.keys[j], float(w), float(p), ms, rs,
                   orjson.dumps({"levels": g.tolist()}).decode())
        for i, j, w, p, ms, rs, g in zip(left[keep], right[keep], weight[keep], prob[keep],
                                          model_status[keep], reason[keep], gamma[keep])
    ]
    index = table.index()
    if rescore_only is not None:
        unchanged = {k for k, c in zip(table.keys, changed) if not c}
        new_links += [s for s in previous_links(ws, kind) if s.a in unchanged and s.b in unchanged]
    forced, different = decision_edges(index, decisions)
    edges = [cl.Edge(index[s.a], index[s.b], s.probability) for s in new_links
             if s.model_status == "link" and (s.a, s.b) not in decisions] + forced
    say(f"{kind}: clustering")
    t_cluster = time.perf_counter()
    stages["links"] = t_cluster - t_links
    roots, refused = clusterer(table, st, edges, conflict, different)
    refused_keys = {(table.keys[e.i], table.keys[e.j]) for e in refused}
    members: dict[int, list[int]] = {}
    for i, r in enumerate(roots):
        members.setdefault(r, []).append(i)
    # Names-only pairs of a full name few persons hold wait for a person (linkage.rare_names).
    queued, holders = rare_names.queue(table, st, model, comparisons_for(kind, st.comparisons), left, right,
                                       gamma, model_status, np.asarray(roots, dtype=np.int64), members, conflict)
    new_links += [ScoredLink(table.keys[left[k]], table.keys[right[k]], float(weight[k]), float(prob[k]), "review",
                             rare_names.REASON,
                             orjson.dumps({"levels": gamma[k].tolist(), "name_holders": int(h)}).decode())
                  for k, h in zip(queued.tolist(), holders.tolist())]
    best_p = _membership_probability(edges, roots)
    entity_of = _stable_ids(kind, table, members, before)
    rows = []
    for s in new_links:
        pair = (s.a, s.b)
        status = decisions.get(pair) or ("conflict" if pair in refused_keys else s.model_status)
        why = "human" if pair in decisions else ("conflict" if status == "conflict" else s.reason)
        rows.append(LinkRow(kind, s.a, s.b, s.weight, s.probability, s.model_status, status, why,
                            s.explanation))
    linked_pairs = {(r.a, r.b) for r in rows}
    for (a, b), d in decisions.items():
        if (a, b) not in linked_pairs and a in index and b in index:
            rows.append(LinkRow(kind, a, b, 0.0, 1.0 if d == "same" else 0.0, "review", d, "human",
                                orjson.dumps({"levels": None}).decode()))
    # What keeps each pair in conflict apart, found now that the table is in memory
    # (linkage.contradiction): the review queue and `explain` read it back.
    held = {(table.keys[e.i], table.keys[e.j]): (sorted(table.keys[x] for x in members[roots[e.i]]),
                                                 sorted(table.keys[x] for x in members[roots[e.j]]))
            for e in refused if (table.keys[e.i], table.keys[e.j]) not in decisions}
    conflict_rows = contradiction.kept_rows(kind, held, contradiction.found(table, st, held, index))
    ms_rows = []
    for i, key in enumerate(table.keys):
        agency, record_id = key.split(":", 1)
        ms_rows.append(MemberRow(kind, agency, record_id, entity_of[roots[i]], best_p.get(i, 1.0)))
    t_save = time.perf_counter()
    stages["clustering"] = t_save - t_cluster
    save_kind(ws, kind, st, model if trained else None, rows, ms_rows,
              list(zip(table.keys, fps)), conflict_rows, saved_features=old_fps)
    stages["saving"] = time.perf_counter() - t_save
    statuses = [r.status for r in rows]
    sizes = [len(m) for m in members.values()]
    return KindReport(kind, table.n, int(changed.sum()), len(left), counts,
                      statuses.count("link") + statuses.count("same"),
                      statuses.count("review") + statuses.count("unsure") + statuses.count("conflict"),
                      statuses.count("conflict"), len(members), sum(1 for s in sizes if s > 1),
                      trained, time.perf_counter() - t0, stages,
                      (table.keys, left, right) if keep_pairs else None)


def _as_saved(ws: Workspace, table: Table, t0: float, keep_pairs: bool) -> KindReport:
    """The report of a kind whose saved links and entities stand (nothing changed)."""
    statuses, entities, multi = saved_counts(ws, table.kind)
    none = np.zeros(0, dtype=np.int64)
    return KindReport(table.kind, table.n, 0, 0, [],
                      statuses.get("link", 0) + statuses.get("same", 0),
                      statuses.get("review", 0) + statuses.get("unsure", 0) + statuses.get("conflict", 0),
                      statuses.get("conflict", 0), entities, multi, False, time.perf_counter() - t0, {},
                      (table.keys, none, none.copy()) if keep_pairs else None)


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


class Laps:
    """Seconds per stage: `lap(name)` closes the stage running since the last lap."""

    def __init__(self) -> None:
        self.stages: dict[str, float] = {}
        self._t = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.stages[stage] = now - self._t
        self._t = now


def score_pairs(table: Table, st: LinkageSettings, model: Model | None = None,
                only: np.ndarray | None = None) -> Scored:
    """block → compare → (train) → score → evidence rules, for any prepared table."""
    laps = Laps()
    lap, stages = laps.lap, laps.stages
    comps = comparisons_for(table.kind, st.comparisons)
    left, right, counts = candidate_pairs(table, st, only=only)
    lap("blocking")
    if model is not None and model.tf.get("forename"):
        # misspelt first names and variants as the model's run read them
        slips_of(table, model.tf["forename"], model.tf.get("forename_variants"))
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


def cluster_here(table: Table, st: LinkageSettings, edges: list[cl.Edge], conflict: cl.Conflict,
                 different: set[tuple[int, int]]) -> tuple[list[int], list[cl.Edge]]:
    """The Clusterer of this process: cl.cluster."""
    return cl.cluster(table.n, edges, conflict, different)


def _reclustering() -> Clusterer:
    """A Clusterer of this process that is cl.cluster, reusing its last call's components."""
    again = cl.Reclustering()

    def clusterer(table: Table, st: LinkageSettings, edges: list[cl.Edge], conflict: cl.Conflict,
                  different: set[tuple[int, int]]) -> tuple[list[int], list[cl.Edge]]:
        return again(table.n, edges, conflict, different)
    return clusterer


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


def _with_previous(ws: Workspace, table: Table, s: Scored, changed: np.ndarray) -> Scored:
    """The pairs scored now (each with a changed record) and, as the last run scored them,
    the pairs it kept between two unchanged records: one sorted set of pairs."""
    index = table.index()
    rows = [r for r in previous_links(ws, table.kind)
            if r.a in index and r.b in index and not changed[index[r.a]] and not changed[index[r.b]]]
    if not rows:
        return s
    n = np.int64(table.n)
    left = np.array([index[r.a] for r in rows], dtype=np.int64)
    right = np.array([index[r.b] for r in rows], dtype=np.int64)
    lo, hi = np.minimum(left, right), np.maximum(left, right)
    gamma = np.array([orjson.loads(r.explanation)["levels"] for r in rows], dtype=np.int8)
    weight = np.array([r.weight for r in rows], dtype=np.float64)
    prob = np.array([r.probability for r in rows], dtype=np.float64)
    status = np.array([r.model_status for r in rows], dtype=object)
    reason = np.array([r.reason for r in rows], dtype=object)
    order = np.argsort(np.concatenate((s.left * n + s.right, lo * n + hi)), kind="stable")

    def both(now: np.ndarray, before: np.ndarray) -> np.ndarray:
        return np.concatenate((now, before))[order]
    return Scored(both(s.left, lo), both(s.right, hi), s.rule_counts, both(s.gamma, gamma),
                  both(s.weight, weight), both(s.prob, prob), both(s.status, status),
                  both(s.reason, reason), s.model, s.stages)


def _previous_entities(table: Table, before: dict[str, str]) -> np.ndarray:
    """Each record's person as the last run linked it (`before`: entity id per record key),
    numbered as `_canonical` numbers a clustering (a record new since then alone)."""
    labels: dict[str, int] = {}
    ids = np.array([labels.setdefault(before.get(k, "\x00" + k), len(labels)) for k in table.keys],
                   dtype=np.int64)
    return _canonical(ids)


def collective(table: Table, st: LinkageSettings, s: Scored, decisions: dict[tuple[str, str], str],
               *, fit_model: bool, rounds: int | None = None,
               conflict: cl.Conflict | None = None, previous: np.ndarray | None = None,
               expanded: np.ndarray | None = None, clusterer: Clusterer = cluster_here) -> Scored:
    """Collective linkage (kglink/linkage/relational.py): cluster what is linked so far, then
    add the pairs of records naming one relative, compare everyone's relatives, rescore,
    apply the rules; again until nothing changes or `rounds` (default
    `st.relational_rounds`) have run. With `fit_model` the relatives comparison's m and u
    are learnt after the first pass.

    From the second round on, only pairs with a record whose person changed, or one of
    whose relatives' person changed, can compare differently: only they are compared
    again. The pairs' arrays are updated in place, and the few pairs found through
    relatives are kept apart until the end (no copy of millions of pairs per round).

    Incremental runs (`expanded` given) start from some of the pairs only: those of the
    records in `expanded`, and pairs the last run kept. A record whose relatives' persons
    moved since `previous` (the last run's persons, then each round's) may now pair with
    anyone it shares a block with, so all its candidate pairs are scored and added.
    Each round's clusters are `clusterer`'s (an engine's, or cl.cluster here)."""
    comps = comparisons_for(table.kind, st.comparisons)
    c = next(i for i, comp in enumerate(comps) if comp.name == "relatives")
    index = table.index()
    forced, different = decision_edges(index, decisions)
    n = np.int64(table.n)
    decided = np.sort(np.array([min(index[a], index[b]) * n + max(index[a], index[b])
                                for a, b in decisions if a in index and b in index], dtype=np.int64))
    conflict = conflict or cl.conflict_for(table, st)
    stages = dict(s.stages)
    model = s.model
    base = _Pairs.of(s)
    extra = _Pairs.empty(len(comps))
    known = base.left * n + base.right          # sorted: candidate pairs come ordered
    held: list[cl.Edge] = []
    for rnd in range(st.relational_rounds if rounds is None else rounds):
        t0 = time.perf_counter()
        links = [e for part in (base, extra) for e in part.link_edges(decided, n)]
        # The persons relatives are looked up in come from this round's links and the last
        # round's: two pairs that each need the other's link (a couple, each known by two
        # names) would otherwise take turns, each linked on the other's link of the round
        # before and dropped on its absence, and never settle.
        now = {(e.i, e.j) for e in links}
        edges = forced + links + [e for e in held if (e.i, e.j) not in now]
        held = links
        roots, _ = clusterer(table, st, edges, conflict, different)
        entity = _canonical(roots)
        relational.set_entities(table, entity)
        xl, xr = relational.pairs_sharing_relatives(table, st.max_block_size)
        fresh = ~_in_sorted(xl * n + xr, known) & ~isin(xl * n + xr, extra.left * n + extra.right)
        xl, xr = xl[fresh], xr[fresh]
        touched = None if previous is None else relational.touched_by(table, entity != previous)
        if expanded is not None and touched is not None:
            # Every candidate pair of a newly touched record joins the pairs.
            grow = touched & ~expanded
            expanded = expanded | grow
            gl, gr, _ = candidate_pairs(table, st, only=grow)
            new_pair = ~_in_sorted(gl * n + gr, known) & ~isin(gl * n + gr, extra.left * n + extra.right)
            xl, xr = np.concatenate((xl, gl[new_pair])), np.concatenate((xr, gr[new_pair]))
            code = sorted_unique(xl * n + xr)
            xl, xr = code // n, code % n
            if rnd == 0:
                touched = None      # the pairs kept last run were compared on last run's persons
        changed = [part.recompare_relatives(table, comps[c], c, touched) for part in (base, extra)]
        new = _Pairs.empty(len(comps))
        if len(xl):
            new = _Pairs.unscored(xl, xr, comparison_vectors(table, comps, xl, xr))
        if fit_model and rnd == 0:
            relational.fit(model, table, comps, np.concatenate((base.gamma, extra.gamma, new.gamma)), st)
            # The relatives' m and u are new: every pair where they are known scores anew.
            changed = [np.flatnonzero(part.gamma[:, c] >= 0) for part in (base, extra)]
        moved = False
        for part, redo in zip((base, extra, new), changed + [np.arange(len(new.left))]):
            moved |= part.rescore(table, st, model, comps, redo)
        extra = extra.plus(new)
        stages[f"relatives {rnd + 1}"] = time.perf_counter() - t0
        previous = entity
        if not moved and len(xl) == 0:
            break
    counts = [rc for rc in s.rule_counts if rc.rule != "relatives"] + [
        RuleCount("relatives", len(extra.left), 0, 0, 0, False)]
    out = base.plus(extra)
    return Scored(out.left, out.right, counts, out.gamma, out.weight, out.prob, out.status, out.reason,
                  model, stages)


@dataclass
class _Pairs:
    """Scored pairs as parallel arrays, rescored in place by collective linkage."""
    left: np.ndarray
    right: np.ndarray
    gamma: np.ndarray
    weight: np.ndarray
    prob: np.ndarray
    status: np.ndarray
    reason: np.ndarray

    @classmethod
    def of(cls, s: Scored) -> "_Pairs":
        return cls(s.left, s.right, s.gamma, s.weight, s.prob, s.status, s.reason)

    @classmethod
    def unscored(cls, left: np.ndarray, right: np.ndarray, gamma: np.ndarray) -> "_Pairs":
        k = len(left)
        return cls(left, right, gamma, np.zeros(k), np.zeros(k),
                   np.full(k, "", dtype=object), np.full(k, "", dtype=object))

    @classmethod
    def empty(cls, n_comps: int) -> "_Pairs":
        none = np.zeros(0, dtype=np.int64)
        return cls.unscored(none, none.copy(), np.zeros((0, n_comps), dtype=np.int8))

    def plus(self, other: "_Pairs") -> "_Pairs":
        if len(other.left) == 0:
            return self
        return _Pairs(*(np.concatenate((a, b)) for a, b in (
            (self.left, other.left), (self.right, other.right), (self.gamma, other.gamma),
            (self.weight, other.weight), (self.prob, other.prob), (self.status, other.status),
            (self.reason, other.reason))))

    def link_edges(self, decided: np.ndarray, n: np.int64) -> list[cl.Edge]:
        """The model's links, less the pairs a person decided (their decisions are edges)."""
        sel = np.flatnonzero(self.status == "link")
        sel = sel[~_in_sorted(self.left[sel] * n + self.right[sel], decided)]
        return [cl.Edge(i, j, p) for i, j, p in
                zip(self.left[sel].tolist(), self.right[sel].tolist(), self.prob[sel].tolist())]

    def recompare_relatives(self, table: Table, comp: Comparison, c: int,
                            touched: np.ndarray | None) -> np.ndarray:
        """Compare relatives again (all pairs, or those with a touched record); the indexes
        of pairs whose level changed."""
        idx = (np.arange(len(self.left)) if touched is None
               else np.flatnonzero(touched[self.left] | touched[self.right]))
        if len(idx) == 0:
            return idx
        # In chunks over the cores, as every comparison (the first round compares all pairs).
        level = comparison_vectors(table, [comp], self.left[idx], self.right[idx])[:, 0]
        diff = level != self.gamma[idx, c]
        idx = idx[diff]
        self.gamma[idx, c] = level[diff]
        return idx

    def rescore(self, table: Table, st: LinkageSettings, model: Model, comps: list[Comparison],
                redo: np.ndarray) -> bool:
        """Score and apply the rules again for these pairs; did any status change?"""
        if len(redo) == 0:
            return False
        lr, rr, gr = self.left[redo], self.right[redo], self.gamma[redo]
        self.weight[redo], self.prob[redo] = score(model, table, comps, gr, lr)
        status, reason = rules.apply(table, st, comps, gr, self.prob[redo], lr, rr)
        moved = not np.array_equal(status, self.status[redo])
        self.status[redo], self.reason[redo] = status, reason
        return moved


def _canonical(roots: list[int] | np.ndarray) -> np.ndarray:
    """Each record's cluster as its lowest record index: the same number for the same
    members whatever order the clustering merged them in (`roots`: any label per record
    below the number of records)."""
    r = np.asarray(roots, dtype=np.int64)
    low = np.full(len(r), len(r), dtype=np.int64)
    np.minimum.at(low, r, np.arange(len(r), dtype=np.int64))
    return low[r]


def _in_sorted(a: np.ndarray, sorted_b: np.ndarray) -> np.ndarray:
    """np.isin(a, b) for a sorted integer array b."""
    if len(sorted_b) == 0 or len(a) == 0:
        return np.zeros(len(a), dtype=bool)
    pos = np.searchsorted(sorted_b, a)
    pos[pos == len(sorted_b)] = 0
    return sorted_b[pos] == a


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
