"""A scored pair's match weight as waterfall steps, from what linkage stored.

The links table keeps each pair's comparison levels and match weight; with the saved
model that is the whole waterfall (the term-frequency step is what remains), so no
record table is rebuilt: cheap for every pair of a large queue.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from kglink.linkage.model import Model
from kglink.linkage.registry import comparisons_for
from kglink.linkage.store import saved_model
from kglink.reports.charts import Step
from kglink.workspace import Workspace


@dataclass
class Waterfall:
    steps: list[Step]
    total: float
    probability: float


class Models:
    """Each kind's saved model, read once."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self._cache: dict[str, Model | None] = {}

    def get(self, kind: str) -> Model | None:
        if kind not in self._cache:
            self._cache[kind] = saved_model(self.ws, kind)
        return self._cache[kind]


def stored_waterfall(ws: Workspace, kind: str, a: str, b: str, models: Models) -> Waterfall | None:
    """None when the pair was never scored (a decision alone) or there is no model."""
    model = models.get(kind)
    lo, hi = sorted((a, b))
    row = ws.conn.execute("SELECT match_weight, probability, explanation FROM links WHERE kind=? AND a=? AND b=?",
                          (kind, lo, hi)).fetchone()
    if model is None or row is None:
        return None
    levels = json.loads(row[2]).get("levels")
    comps = comparisons_for(kind, model.settings.comparisons)
    if not levels or len(levels) != len(comps):
        return None
    weights = model.weights()
    steps = [Step("prior", "two records picked at random", model.prior_weight)]
    for c, (comp, lv) in enumerate(zip(comps, levels)):
        if lv < 0:
            steps.append(Step(comp.name, "not known on one side", 0.0))
        else:
            steps.append(Step(comp.name, comp.labels[lv], weights[c][lv]))
    tf = float(row[0]) - sum(s.weight for s in steps)
    steps.append(Step("term frequency", "rare names count for more", tf))
    return Waterfall(steps, float(row[0]), float(row[1]))
