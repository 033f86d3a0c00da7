"""Every risk query by name. Unknown or duplicate names are refused."""
from __future__ import annotations

from types import ModuleType

from kglink.queries.base import check_module
from kglink.queries.risks import wanted_with_child_access
from kglink.queries.risks import custody_appropriate_adult_delay, domestic_abuse_prior_children  # events
from kglink.queries.risks import missing_child_likely_locations, missing_ppn  # events
from kglink.queries.risks import police_protection_lapsed, repeat_missing_locations  # events
from kglink.queries.risks import online_offender_child_access, reactive_rso_breach  # offenders
from kglink.queries.risks import sex_offender_child_contact, sex_offenders_by_area  # offenders

_MODULES: tuple[ModuleType, ...] = (
    wanted_with_child_access,
    custody_appropriate_adult_delay, domestic_abuse_prior_children,  # events
    missing_child_likely_locations, missing_ppn,  # events
    police_protection_lapsed, repeat_missing_locations,  # events
    online_offender_child_access, reactive_rso_breach,  # offenders
    sex_offender_child_contact, sex_offenders_by_area,  # offenders
)


def _build() -> dict[str, ModuleType]:
    out: dict[str, ModuleType] = {}
    for mod in _MODULES:
        check_module(mod)
        if mod.NAME in out:
            raise ValueError(f"two risk queries are named {mod.NAME}")
        out[mod.NAME] = mod
    return out


QUERIES: dict[str, ModuleType] = _build()


class UnknownQuery(KeyError):
    def __str__(self) -> str:
        return (f"no risk query named {self.args[0]!r}. Known: {', '.join(sorted(QUERIES))}")


def get(name: str) -> ModuleType:
    if name not in QUERIES:
        raise UnknownQuery(name)
    return QUERIES[name]
