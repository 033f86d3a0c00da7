"""Fellegi–Sunter: u from random pairs, m by expectation maximisation, weights in bits.

Unsupervised: no labelled pairs are needed. The fitted parameters are saved in the
workspace with the settings that produced them and reused until `--retrain`.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from kglink.linkage.comparisons import Comparison, first_name_counts
from kglink.linkage.prepare import Table
from kglink.linkage.registry import comparison_vectors
from kglink.linkage.settings import LinkageSettings
from kglink.linkage.variants import of as learnt_variants

SMOOTH = 1e-4
U_PSEUDO_COUNT = 0.5     # per level of the random-pair sample (Jeffreys): never a zero u


@dataclass
class Model:
    settings: LinkageSettings
    m: list[list[float]]                 # per comparison, per level
    u: list[list[float]]
    prior: float                         # probability two random records match
    tf: dict[str, dict[str, float]] = field(default_factory=dict)  # column -> value -> frequency
    em_iterations: int = 0
    candidate_match_share: float = 0.0
    records: int = -1                    # records of the kind it was fitted on (-1: not known)

    def weights(self) -> list[list[float]]:
        return [[math.log2(mi / ui) for mi, ui in zip(mc, uc)] for mc, uc in zip(self.m, self.u)]

    @property
    def prior_weight(self) -> float:
        return math.log2(self.prior / (1 - self.prior))

    def to_json(self) -> dict[str, Any]:
        return {"m": self.m, "u": self.u, "prior": self.prior, "tf": self.tf,
                "em_iterations": self.em_iterations,
                "candidate_match_share": self.candidate_match_share, "records": self.records}

    @classmethod
    def from_json(cls, settings: LinkageSettings, d: dict[str, Any]) -> "Model":
        return cls(settings, d["m"], d["u"], d["prior"], d.get("tf", {}), d.get("em_iterations", 0),
                   d.get("candidate_match_share", 0.0), d.get("records", -1))


def _level_freqs(gamma: NDArray[np.int8], comps: list[Comparison]) -> list[list[float]]:
    out = []
    for c, comp in enumerate(comps):
        col = gamma[:, c]
        col = col[col >= 0]
        counts = np.bincount(col.astype(np.int64), minlength=comp.n_levels)[:comp.n_levels]
        total = counts.sum()
        out.append([float((k + U_PSEUDO_COUNT) / (total + U_PSEUDO_COUNT * comp.n_levels))
                    for k in counts])
    return out


def estimate_u(table: Table, comps: list[Comparison], settings: LinkageSettings) -> list[list[float]]:
    """u: how often each level occurs between two records picked at random.

    From a sample of random pairs; but a million random pairs of a million records hold
    a handful at one home (u about 4e-6) and none at all of the rarer ties (an event's
    place, a visit), whose u was then the sample's pseudo-count alone, and its weight
    whatever that made it. A comparison that names a `u_stratum` (a blocking key whose
    shared values hold its rarest agreeing levels) is counted in two parts instead
    (_stratified_u): the pairs sharing the key, and the random pairs that do not."""
    rng = np.random.default_rng(settings.seed)
    n = table.n
    total = n * (n - 1) // 2
    k = min(settings.u_sample_pairs, total)
    left = rng.integers(0, n, size=k)
    right = rng.integers(0, n, size=k)
    keep = left != right
    if settings.link_only_between:
        side = table.cols[settings.link_only_between]
        keep &= side[left] != side[right]
    left, right = left[keep], right[keep]
    gamma = comparison_vectors(table, comps, left, right)
    u = _level_freqs(gamma, comps)
    if settings.link_only_between or k < settings.u_sample_pairs:
        # Every pair could be read (a small table), or only pairs across one column's
        # values count: the blocks of a key would count pairs within a side too.
        return u
    for c, comp in enumerate(comps):
        if comp.u_stratum:
            got = _stratified_u(table, comp, gamma[:, c], left, right, total,
                                settings.u_sample_pairs, np.random.default_rng(settings.seed + 1 + c))
            if got is not None:
                u[c] = got
    return u


def _stratified_u(table: Table, comp: Comparison, levels: NDArray[np.int8], left: NDArray[np.int64],
                  right: NDArray[np.int64], total: int, sample: int,
                  rng: np.random.Generator) -> list[float] | None:
    """u of one comparison as P(S) P(level | S) + P(not S) P(level | not S), S the pairs
    that share a value of the comparison's u_stratum key.

    P(S) is counted from the key's blocks (the pairs each value's records make; a pair
    sharing two values, two places, is weighed once). P(level | S) is read from up to
    `sample` pairs drawn uniformly among them (from all of them when there are no more),
    P(level | not S) from the random pairs that share no value. A sampled part has the
    random sample's pseudo-count (half a pair per level), but a level seen only among the
    pairs sharing the key (one home, one date of birth, one NHS number) gets none outside
    them: it cannot occur there."""
    from kglink.linkage.arrays import share_any, shared_counts
    from kglink.linkage.blocking import _Blocks, _pairs_in_blocks, key_entries

    rec, code, n_codes = key_entries(table, comp.u_stratum or "")
    if len(rec) == 0:
        return None
    sizes = np.bincount(code, minlength=n_codes).astype(np.int64)
    slots = sizes * (sizes - 1) // 2
    n_slots = int(slots.sum())
    if n_slots == 0:
        return None
    # Each record's values, for telling which pairs share one.
    by_rec = np.argsort(rec, kind="stable")
    vals = code[by_rec]
    offsets = np.zeros(table.n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rec, minlength=table.n), out=offsets[1:])
    by_code = np.argsort(code, kind="stable")
    starts = np.cumsum(sizes) - sizes
    census = n_slots <= sample
    if census:
        # Few enough to read every one.
        two = np.flatnonzero(sizes > 1)
        sl, sr = _pairs_in_blocks(_Blocks(rec[by_code], starts[two], sizes[two]))
    else:
        # Pairs drawn among the blocks' pairs: a block as often as it has pairs, then two
        # of its records.
        block = rng.choice(n_codes, size=sample, p=slots / n_slots)
        a = rng.integers(0, sizes[block])
        b = rng.integers(0, sizes[block] - 1)
        b += b >= a
        sl, sr = rec[by_code[starts[block] + a]], rec[by_code[starts[block] + b]]
    weight = 1.0 / np.maximum(shared_counts(offsets, vals, sl, sr), 1)
    in_s = n_slots * float(weight.mean())               # distinct pairs sharing a value
    s_levels = comparison_vectors(table, [comp], sl, sr)[:, 0]
    out_levels = levels[~share_any(offsets, vals, left, right)]
    n_levels = comp.n_levels
    s_known = s_levels >= 0
    s_counts = np.bincount(s_levels[s_known], weights=weight[s_known], minlength=n_levels)[:n_levels]
    r_counts = np.bincount(out_levels[out_levels >= 0].astype(np.int64), minlength=n_levels)[:n_levels]
    s_share = in_s / total
    only_in_s = (s_counts > 0) & (r_counts == 0)
    s_pseudo = 0.0 if census else U_PSEUDO_COUNT
    p_s = (s_counts + s_pseudo) / (s_counts.sum() + s_pseudo * n_levels)
    r_pseudo = np.where(only_in_s, 0.0, U_PSEUDO_COUNT)
    r_total = r_counts.sum() + r_pseudo.sum()
    p_r = (r_counts + r_pseudo) / r_total if r_total > 0 else np.zeros(n_levels)
    # Known on both sides: P(S and known) + P(not S and known), as _level_freqs reads u.
    s_known_share = float(weight[s_known].sum() / weight.sum())
    r_known_share = float((out_levels >= 0).mean()) if len(out_levels) else 1.0
    joint = s_share * s_known_share * p_s + (1 - s_share) * r_known_share * p_r
    return [float(x) for x in joint / joint.sum()]


def _tf_column(comparison: str) -> str:
    return TF_COLUMN.get(comparison) or comparison.partition(":")[2] or comparison


def term_frequencies(table: Table, columns: tuple[str, ...]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for col in columns:
        values = table.cols.get(_tf_column(col))
        if values is None:
            continue
        # First names counted as the misspelt-name test counts them (comparisons.slips_of
        # reads these shares back from a saved model).
        counts = first_name_counts(table) if col == "forename" else Counter(v for v in values if v)
        total = sum(counts.values()) or 1
        out[col] = {v: c / total for v, c in counts.items()}
    return out


def _patterns(gamma: NDArray[np.int8]) -> tuple[NDArray[np.int8], NDArray[np.float64]]:
    """The distinct comparison patterns of the pairs, and how many pairs have each."""
    code = np.zeros(len(gamma), dtype=np.int64)
    for c in range(gamma.shape[1]):
        code = code * 16 + (gamma[:, c].astype(np.int64) + 1)
    _, first, counts = np.unique(code, return_index=True, return_counts=True)
    return gamma[first], counts.astype(np.float64)


def learnable(gamma: NDArray[np.int8], comps: list[Comparison], settings: LinkageSettings) -> list[bool]:
    """Comparisons whose m EM can estimate from these pairs: those agreeing on at least
    `min_agreeing_pairs` of them. An identifier only one agency records (a pupil number)
    is present on both sides only for that agency's own pairs, nearly all of two children:
    EM then made "the same UPN" a match weight of -8 bits."""
    return [int((gamma[:, c] == 0).sum()) >= settings.min_agreeing_pairs for c in range(len(comps))]


def fit_em(gamma: NDArray[np.int8], comps: list[Comparison], u: list[list[float]],
           settings: LinkageSettings, m_start: list[list[float]] | None = None,
           active: list[bool] | None = None, fit_m: bool = True,
           learn: list[bool] | None = None) -> tuple[list[list[float]], float, int]:
    """EM over distinct comparison patterns (with counts) of the candidate pairs.

    u stays fixed at its random-pair estimate (as Splink does): left free, EM drifts to
    a class of "same household" rather than "same person". Inactive comparisons are left
    out of the likelihood; comparisons that are not `learnable` from these pairs (or not
    in `learn`, when the caller has worked that out) keep their starting m. With `fit_m`
    off only the match share is estimated.
    Returns m per level, the share of pairs that match, iterations used.
    """
    active = active or [True] * len(comps)
    if fit_m and learn is None:
        learn = learnable(gamma, comps, settings)
    pats, w = _patterns(gamma)                           # (patterns x comparisons), counts
    m = [list(x) for x in (m_start or [comp.start_m() for comp in comps])]
    lu_tab = [np.log(np.asarray(uc)) for uc in u]
    lam = 0.1
    it = 0
    for it in range(1, settings.em_max_iterations + 1):
        lm = np.full(len(pats), math.log(lam))
        lu = np.full(len(pats), math.log(1 - lam))
        for c in range(len(comps)):
            if not active[c]:
                continue
            lv = pats[:, c]
            has = lv >= 0
            lm[has] += np.log(np.asarray(m[c]))[lv[has]]
            lu[has] += lu_tab[c][lv[has]]
        p = 1 / (1 + np.exp(np.clip(lu - lm, -700, 700)))
        new_lam = min(max(float((p * w).sum() / w.sum()), 1e-9), 1 - 1e-9)
        new_m = m
        if fit_m:
            new_m = []
            for c, comp in enumerate(comps):
                if not active[c] or not learn[c]:  # type: ignore[index]
                    new_m.append(m[c])
                    continue
                lv = pats[:, c]
                has = lv >= 0
                pm = np.bincount(lv[has], weights=(p * w)[has], minlength=comp.n_levels)[:comp.n_levels]
                new_m.append(list((pm + SMOOTH) / (pm.sum() + SMOOTH * comp.n_levels)))
        delta = max([abs(a - b) for mc, nc in zip(m, new_m) for a, b in zip(mc, nc)] + [abs(new_lam - lam)])
        m, lam = new_m, new_lam
        if delta < settings.em_tolerance:
            break
    return m, lam, it


def comparable_pairs(table: Table, settings: LinkageSettings) -> float:
    """How many pairs could match at all: every pair, or only pairs across sources."""
    n = table.n
    if not settings.link_only_between:
        return n * (n - 1) / 2 or 1
    _, counts = np.unique(table.cols[settings.link_only_between].astype(str), return_counts=True)
    return ((n * n - float((counts.astype(np.float64) ** 2).sum())) / 2) or 1


def _sessions(table: Table, comps: list[Comparison], u: list[list[float]],
              settings: LinkageSettings) -> tuple[list[list[float]], int]:
    """One EM session per training rule; each comparison's m averaged over the sessions
    that could estimate it."""
    from kglink.linkage.blocking import involved, rule_pairs

    sums: list[np.ndarray | None] = [None] * len(comps)
    seen = [0] * len(comps)
    iterations = 0
    m_now = [comp.start_m() for comp in comps]
    rng = np.random.default_rng(settings.seed)
    for rule in settings.training_rules:
        lo, hi = rule_pairs(table, rule, settings)
        if len(lo) < settings.min_pairs_for_em:
            continue
        if len(lo) > settings.em_sample_pairs:
            pick = np.sort(rng.choice(len(lo), size=settings.em_sample_pairs, replace=False))
            lo, hi = lo[pick], hi[pick]
        skip = involved(rule)
        active = [c.name not in skip for c in comps]
        g = comparison_vectors(table, comps, lo, hi)
        learn = learnable(g, comps, settings)
        m_r, _, it = fit_em(g, comps, u, settings, m_now, active, learn=learn)
        iterations += it
        for c, on in enumerate(a and b for a, b in zip(active, learn)):
            if on:
                arr = np.asarray(m_r[c])
                sums[c] = arr if sums[c] is None else sums[c] + arr
                seen[c] += 1
    m = [[float(x) for x in np.asarray(sums[c]) / seen[c]] if seen[c] else m_now[c]
         for c in range(len(comps))]
    return m, iterations


def train(table: Table, comps: list[Comparison], gamma: NDArray[np.int8],
          settings: LinkageSettings) -> Model:
    u = estimate_u(table, comps, settings)
    total_pairs = comparable_pairs(table, settings)
    if len(gamma) < settings.min_pairs_for_em:
        # Too few pairs for EM to say anything: keep the default m, assume half match.
        m, lam, iterations = [c.start_m() for c in comps], 0.5, 0
        prior = min(max(lam * len(gamma) / total_pairs, 1e-12), 0.5)
    else:
        if not settings.estimate_m:
            m, iterations = [c.start_m() for c in comps], 0
        elif settings.training_rules:
            m, iterations = _sessions(table, comps, u, settings)
        else:
            m, _, iterations = fit_em(gamma, comps, u, settings)
        prior, lam = match_prior(gamma, m, u, total_pairs)
    tf = term_frequencies(table, settings.tf_adjust)
    if {"forename", "surname"} <= set(tf):
        tf["full_name"] = full_name_frequencies(table)
    if "forename" in tf:
        tf["forename_variants"] = learnt_variants(table)
    return Model(settings, m, u, prior, tf, iterations, lam, table.n)


def match_prior(gamma: NDArray[np.int8], m: list[list[float]], u: list[list[float]],
                total_pairs: float, max_iterations: int = 10_000,
                tolerance: float = 1e-9) -> tuple[float, float]:
    """(probability that two records picked at random match, share of candidates that do).

    EM for the match share with m and u fixed, over *all* pairs: the pairs blocking did not
    make count as non-matches. Fitted over the candidate pairs alone it comes out far too
    high (0.63 of 19M candidates at 1M records, for 0.4M true pairs), because candidates
    were chosen for agreeing, and random-pair u calls every agreement a match; spread over
    all pairs as a prior, that overstated every match by 3 to 5 bits, more the larger the
    data."""
    pats, w = _patterns(gamma)
    log_lr = np.zeros(len(pats))
    for c in range(pats.shape[1]):
        lv = pats[:, c]
        has = lv >= 0
        log_lr[has] += (np.log(np.asarray(m[c])) - np.log(np.asarray(u[c])))[lv[has]]
    prior = min(float(w.sum()) / total_pairs, 0.5)       # start from "every candidate matches"
    share = 1.0
    for _ in range(max_iterations):
        logit = math.log(prior / (1 - prior)) + log_lr
        p = 1 / (1 + np.exp(-np.clip(logit, -700, 700)))
        share = float((p * w).sum() / w.sum())
        new = min(max(share * float(w.sum()) / total_pairs, 1e-15), 0.5)
        if abs(new - prior) <= tolerance * prior:
            prior = new
            break
        prior = new
    return prior, share


TF_COLUMN = {"forename": "forenames_all", "surname": "surname", "street": "street"}


def tf_adjustments(model: Model, table: Table, comps: list[Comparison], gamma: NDArray[np.int8],
                   left: NDArray[np.int64]) -> NDArray[np.float64]:
    """Extra bits for an exact agreement on a rare value (fewer for a common one)."""
    adj = np.zeros(len(gamma))
    for c, comp in enumerate(comps):
        if model.tf.get(comp.name):
            exact = gamma[:, c] == 0
            adj[exact] += _tf_bits(model, table, comp.name, model.u[c][0])[left[exact]]
    _joint_name(model, table, comps, gamma, left, adj)
    return adj


def full_name_key(forenames: str, surname: str) -> str:
    return f"{forenames.split(' ')[0]}\x1f{surname}"


def full_name_frequencies(table: Table) -> dict[str, float]:
    """How often each full name (first forename and surname) is held, among the records;
    only names held at least twice (no pair can agree on a name held once)."""
    counts = Counter(full_name_key(f, s) for f, s in zip(table.cols["forenames_all"], table.cols["surname"]))
    return {k: c / max(table.n, 1) for k, c in counts.items() if c > 1}


def _joint_name(model: Model, table: Table, comps: list[Comparison], gamma: NDArray[np.int8],
                left: NDArray[np.int64], adj: NDArray[np.float64]) -> None:
    """Where first name and surname both agree exactly, the two term-frequency adjustments
    are replaced by one from the full name's own frequency (model.tf["full_name"], counted
    when the model was fitted): first names and surnames are not independent (a family's
    or a community's names go together), so a full name can be rarer, or commoner, than
    its two parts' frequencies multiplied."""
    names = {c.name: i for i, c in enumerate(comps)}
    freqs = model.tf.get("full_name")
    if not freqs or not {"forename", "surname"} <= set(names):
        return
    fc, sc = names["forename"], names["surname"]
    both = np.flatnonzero((gamma[:, fc] == 0) & (gamma[:, sc] == 0))
    if len(both) == 0:
        return
    u_both = model.u[fc][0] * model.u[sc][0]

    def make() -> NDArray[np.float64]:
        fore, sur = table.cols["forenames_all"], table.cols["surname"]
        return np.array([freqs.get(full_name_key(f, s), 0.0) for f, s in zip(fore, sur)])
    # Kept on the table for this model's frequencies: each round of collective linkage rescores.
    freq = table.derived(f"full_name_frequency:{id(freqs)}", make)[left[both]]
    known = freq > 0                     # a name the model has not seen keeps its parts'
    rows = left[both][known]
    bits = np.clip(np.log2(u_both / freq[known]), -16.0, 16.0)
    adj[both[known]] += bits - _tf_bits(model, table, "forename", model.u[fc][0])[rows] \
        - _tf_bits(model, table, "surname", model.u[sc][0])[rows]


def _tf_bits(model: Model, table: Table, comparison: str, u_exact: float) -> NDArray[np.float64]:
    """Per record, the term-frequency adjustment an exact agreement on its value gets."""
    from kglink.linkage.comparisons import codes_of

    def make() -> NDArray[np.float64]:
        freqs = model.tf[comparison]
        uniq, codes = codes_of(table, _tf_column(comparison))
        keys = [u.split(" ")[0] for u in uniq] if comparison == "forename" else list(uniq)
        bits = np.array([min(max(math.log2(u_exact / freqs[k]), -8.0), 8.0) if freqs.get(k) else 0.0
                         for k in keys])
        return bits[codes]
    return table.derived(f"tf_bits:{comparison}:{id(model.tf[comparison])}:{u_exact!r}", make)


def score(model: Model, table: Table, comps: list[Comparison], gamma: NDArray[np.int8],
          left: NDArray[np.int64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Match weight (bits) and probability per pair."""
    weights = model.weights()
    total = np.full(len(gamma), model.prior_weight)
    for c in range(len(comps)):
        wc = np.asarray(weights[c])
        lv = gamma[:, c]
        has = lv >= 0
        total[has] += wc[lv[has]]
    total += tf_adjustments(model, table, comps, gamma, left)
    prob = 1 / (1 + np.power(2.0, -np.clip(total, -1000, 1000)))
    return total, prob
