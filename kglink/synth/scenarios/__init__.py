"""Planted scenarios and decoys: every risk query in docs/queries.md, several ways."""
from __future__ import annotations

from typing import Callable

from kglink.synth.scenarios import access, hardneg, incidents, missing, online
from kglink.synth.world import World

SCENARIOS: tuple[Callable[[World], None], ...] = (
    access.SCENARIOS + online.SCENARIOS + incidents.SCENARIOS + missing.SCENARIOS + hardneg.SCENARIOS
)
