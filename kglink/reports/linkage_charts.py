"""The charts people expect from a linker (Splink draws these): the distribution of match
weights, the model's m, u and weight per comparison level, and cluster sizes, per kind."""
from __future__ import annotations

import math

from kglink.linkage.registry import comparisons_for
from kglink.linkage.store import saved_model
from kglink.reports.charts import bars, histogram, level_weights, weight_of
from kglink.reports.html import esc
from kglink.workspace import Workspace

BIN_BITS = 2.0
STATUS_COLOUR = {"link": "#2e7d32", "same": "#1b5e20", "review": "#f9a825", "unsure": "#b45f06",
                 "conflict": "#c62828", "different": "#78909c"}
SIZE_BUCKETS = ((1, 1), (2, 2), (3, 3), (4, 4), (5, 5), (6, 10), (11, 20), (21, 50), (51, 10**9))


def weight_bins(ws: Workspace, kind: str) -> list[tuple[float, dict[str, int]]]:
    """Stored pairs (those at or above the review threshold, and decided pairs) by match
    weight bin and status."""
    bins: dict[float, dict[str, int]] = {}
    for w, status, n in ws.conn.execute(
            "SELECT CAST(floor(match_weight / ?) AS INTEGER), status, count(*) FROM links "
            "WHERE kind = ? AND reason != 'human' GROUP BY 1, 2", (BIN_BITS, kind)):
        bins.setdefault(w * BIN_BITS, {s: 0 for s in STATUS_COLOUR})[status] = n
    return sorted(bins.items())


def cluster_sizes(ws: Workspace, kind: str) -> list[tuple[str, int]]:
    """How many entities have each number of records. Counted along the entity index (it
    holds the kind too): grouping the kind's rows of the table in a temporary b-tree
    instead was 2.6 s of the first night's report at 1M records."""
    counts = dict(ws.conn.execute(
        "SELECT n, count(*) FROM (SELECT count(*) AS n FROM entity_members INDEXED BY entity_members_entity "
        "WHERE kind = ? GROUP BY entity_id) GROUP BY n", (kind,)).fetchall())
    out = []
    for lo, hi in SIZE_BUCKETS:
        n = sum(c for size, c in counts.items() if lo <= size <= hi)
        label = str(lo) if lo == hi else (f"{lo}+" if hi > 10**8 else f"{lo}-{hi}")
        if n or hi <= 5:
            out.append((label, n))
    return out


def linkage_section(ws: Workspace) -> str:
    """The linkage charts of every kind with a model, as HTML."""
    parts = []
    for kind in ("person", "address"):
        model = saved_model(ws, kind)
        if model is None:
            continue
        th = model.settings.thresholds
        bins = weight_bins(ws, kind)
        stored = sum(sum(c.values()) for _, c in bins)
        legend = "".join(f'<span><svg width="10" height="10"><rect width="10" height="10" fill="{c}"/></svg>'
                         f"{esc(s)}</span>" for s, c in STATUS_COLOUR.items())
        comps = comparisons_for(kind, model.settings.comparisons)
        levels = [(c.name, [(c.labels[i], model.m[ci][i], model.u[ci][i]) for i in range(c.n_levels)])
                  for ci, c in enumerate(comps)]
        parts.append(
            f"<h3>{esc(kind)}: distribution of match weights</h3>"
            f'<div class="chart">' + histogram(
                bins, BIN_BITS, STATUS_COLOUR,
                [(weight_of(th.review), f"review {th.review:g}"), (weight_of(th.link), f"link {th.link:g}")])
            + f'</div><div class="legend">{legend}</div>'
            f'<p class="note">{stored} stored pairs by status: every pair at or above the review threshold '
            f"(p = {th.review:g}, a match weight of {weight_of(th.review):+.1f} bits); pairs below it are "
            f"compared but not kept. Prior: {model.prior_weight:+.1f} bits "
            f"(one pair in {_one_in(model.prior)} of random pairs is a match).</p>"
            f"<h3>{esc(kind)}: the model's weight for each comparison level</h3>"
            f'<div class="chart">{level_weights(levels)}</div>'
            '<p class="note">m: how often records of one person (or place) agree at this level; '
            "u: how often two random records do. Weight = log2(m/u): green adds to the match weight, "
            "red takes away. Hover for the numbers.</p>"
            f"<h3>{esc(kind)}: cluster sizes (source records per entity)</h3>"
            f'<div class="chart">{bars(cluster_sizes(ws, kind), x_label="records in the entity (bar height: log scale)")}'
            "</div>")
    return "".join(parts) or '<p class="note">no linkage model yet</p>'


def _one_in(p: float) -> str:
    return f"{round(1 / p):,}" if p > 0 and math.isfinite(1 / p) else "?"
