"""Why two records are (or are not) one: every comparison's level and weight, like a waterfall."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import orjson

from kglink.linkage.comparisons import slips_of
from kglink.linkage.entities import entity_map
from kglink.linkage.model import score, tf_adjustments
from kglink.linkage.prepare import Table, address_table, person_table
from kglink.linkage.rare_names import REASON as RARE_FULL_NAME
from kglink.linkage.registry import comparison_vectors, comparisons_for
from kglink.linkage.review import ReviewError, _kind_of
from kglink.linkage.rules import apply as apply_rules
from kglink.linkage.store import saved_model
from kglink.linkage.variants import pair_key
from kglink.workspace import Workspace


@dataclass
class Step:
    comparison: str
    level: str
    m: float | None
    u: float | None
    weight: float


@dataclass
class Explanation:
    kind: str
    a: str
    b: str
    prior_weight: float
    steps: list[Step] = field(default_factory=list)
    tf_adjustment: float = 0.0
    total: float = 0.0
    probability: float = 0.0
    model_status: str = ""
    rule: str = ""
    stored_status: str | None = None
    decision: str | None = None
    same_entity: bool = False
    note: str = ""                     # what a rule's reason rests on, in words


def explain(ws: Workspace, a: str, b: str) -> Explanation:
    kind = _kind_of(ws, a)
    if kind is None or _kind_of(ws, b) != kind:
        raise ReviewError(f"{a} and {b} are not two person records or two address records in this "
                          "workspace; use AGENCY:RECORD_ID")
    model = saved_model(ws, kind)
    if model is None:
        raise ReviewError("no linkage model yet. Run `kglink link` first")
    st = model.settings
    if kind == "person":
        table = person_table(ws, entity_map(ws, "address"), st.crowded_address_people, only={a, b},
                             with_related=True)
    else:
        table = address_table(ws, only={a, b})
    comps = comparisons_for(kind, st.comparisons)
    if model.tf.get("forename"):
        # a table of two records: the model's counts and variants say
        slips_of(table, model.tf["forename"], model.tf.get("forename_variants"))
    li = np.array([table.keys.index(a)], dtype=np.int64)
    ri = np.array([table.keys.index(b)], dtype=np.int64)
    lo, hi = sorted((a, b))
    stored = ws.conn.execute("SELECT explanation, reason FROM links WHERE kind=? AND a=? AND b=?",
                             (kind, lo, hi)).fetchone()
    saved = orjson.loads(stored[0]) if stored else {}
    levels = saved.get("levels")
    if levels is not None and len(levels) == len(comps):
        # As scored: collective evidence (the relatives comparison) needs every record.
        gamma = np.array([levels], dtype=np.int8)
    else:
        gamma = comparison_vectors(table, comps, li, ri)
    weights = model.weights()
    ex = Explanation(kind, a, b, model.prior_weight)
    for c, comp in enumerate(comps):
        lv = int(gamma[0, c])
        if lv < 0:
            ex.steps.append(Step(comp.name, "not known on one side", None, None, 0.0))
        else:
            level = comp.labels[lv] + (_variant_note(table, model.tf.get("forename_variants", {}), li[0], ri[0])
                                       if comp.name == "forename" else "")
            ex.steps.append(Step(comp.name, level, model.m[c][lv], model.u[c][lv], weights[c][lv]))
    ex.tf_adjustment = float(tf_adjustments(model, table, comps, gamma, li)[0])
    total, prob = score(model, table, comps, gamma, li)
    ex.total, ex.probability = float(total[0]), float(prob[0])
    status, reason = apply_rules(table, st, comps, gamma, prob, li, ri)
    ex.model_status, ex.rule = str(status[0]) or "no link", str(reason[0])
    if stored and stored[1] == RARE_FULL_NAME:
        # Queued by what the whole workspace's persons say (linkage.rare_names), which a
        # table of two records cannot: as the run found it.
        holders = int(saved.get("name_holders", 0))
        ex.model_status, ex.rule = "review", RARE_FULL_NAME
        ex.note = (f"a full name {holders} persons in this workspace hold: the odds that the other "
                   f"record is this one's person are 1 : {holders - 1} before the rest of the evidence")
    row = ws.conn.execute("SELECT status FROM links WHERE kind=? AND a=? AND b=?", (kind, lo, hi)).fetchone()
    ex.stored_status = row[0] if row else None
    d = ws.conn.execute("SELECT decision FROM decisions WHERE kind=? AND a=? AND b=?", (kind, lo, hi)).fetchone()
    ex.decision = d[0] if d else None
    ents = entity_map(ws, kind)
    ex.same_entity = ents[a].entity_id == ents[b].entity_id
    assert math.isfinite(ex.total)
    return ex


def _variant_note(table: Table, learnt: dict[str, float], i: int, j: int) -> str:
    """Where the two first names are a variant the workspace's records taught
    (linkage.variants), say so and how many families showed it: no list holds it."""
    a, b = (str(table.cols["forenames_all"][k]).split(" ")[0] for k in (i, j))
    families = learnt.get(pair_key(a, b)) if a != b else None
    return f" ({a} ~ {b}: a variant {int(families)} families in this workspace show)" if families else ""
