"""Hard evidence beside the score.

- Conflicting strong identifiers (two valid, different NHS numbers, PNC ids, UPNs, or
  UPRNs) block an automatic link: at most a person reviews it.
- Dates of birth that cannot be one person's, and clearly different first names, do
  the same: a father and son, or twins, share much else.
- The same valid identifier with a compatible date of birth links, whatever the score.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from kglink.linkage.comparisons import Comparison
from kglink.linkage.settings import Thresholds

PERSON_IDS = ("nhs_number", "pnc_id", "upn")


def apply(kind: str, comps: list[Comparison], gamma: NDArray[np.int8], prob: NDArray[np.float64],
          th: Thresholds) -> tuple[NDArray[np.object_], NDArray[np.object_]]:
    """(model status, reason) per pair: "link", "review" or "" (not kept)."""
    col = {c.name: k for k, c in enumerate(comps)}
    n = len(gamma)
    status = np.full(n, "", dtype=object)
    status[prob >= th.review] = "review"
    status[prob >= th.link] = "link"
    reason = np.full(n, "model", dtype=object)

    def level(name: str) -> NDArray[np.int8]:
        return gamma[:, col[name]] if name in col else np.full(n, -1, dtype=np.int8)

    if kind == "person":
        ids = [level(x) for x in PERSON_IDS]
        dob = level("dob")
        dob_ok = (dob <= 2)                       # equal, swapped, one digit apart, or unknown
        same_id = np.logical_or.reduce([x == 0 for x in ids]) & dob_ok
        blockers = [
            ("rule:conflicting_identifier", np.logical_or.reduce([x == 1 for x in ids])),
            ("rule:dob_conflict", ~dob_ok),
            ("rule:forename_conflict", level("forename") == 5),
        ]
    else:
        same_id = level("uprn") == 0
        blockers = [
            ("rule:conflicting_identifier", level("uprn") == 1),
            ("rule:different_flat", level("flat") == 3),
            ("rule:different_number", level("number") == 2),
        ]
    for name, mask in blockers:
        hit = mask & (status == "link")
        status[hit] = "review"
        reason[hit] = name
    blocked = np.logical_or.reduce([m for _, m in blockers])
    promote = same_id & ~blocked
    reason[promote & (status != "link")] = "rule:same_identifier"
    status[promote] = "link"
    return status, reason
