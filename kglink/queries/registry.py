"""Every risk query by name. Unknown or duplicate names are refused."""
from __future__ import annotations

from types import ModuleType
from typing import Any

from pydantic import ValidationError

from kglink.errors import KglinkError
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
# How far (relationships, either direction) each query's findings reach from the node it
# starts from; a query that ranks across the whole graph declares none (see queries.whatif).
REACHES: dict[str, int] = {name: mod.REACH for name, mod in QUERIES.items()
                           if getattr(mod, "REACH", None) is not None}


class UnknownQuery(KglinkError, KeyError):
    def __str__(self) -> str:
        return (f"no risk query named {self.args[0]!r}. Known: {', '.join(sorted(QUERIES))}")


def get(name: str) -> ModuleType:
    if name not in QUERIES:
        raise UnknownQuery(name)
    return QUERIES[name]


class BadParam(KglinkError, ValueError):
    """A --param that names no parameter of its query, or a value it cannot take."""


_KINDS = {int: "a whole number", bool: "true or false", float: "a number", str: "text"}


def describe_param(mod: ModuleType, name: str) -> str:
    """`hours: a whole number, at least 0 (default 4)`: what a user may pass."""
    f = mod.Params.model_fields[name]
    kind = _KINDS.get(f.annotation, "a JSON list of texts" if "tuple" in str(f.annotation) else "a value")
    bounds = [f"at least {m.ge}" for m in f.metadata if hasattr(m, "ge")]
    bounds += [f"more than {m.gt}" for m in f.metadata if hasattr(m, "gt")]
    bounds += [f"at most {m.le}" for m in f.metadata if hasattr(m, "le")]
    default = f.default if not isinstance(f.default, tuple) else f"{len(f.default)} terms"
    return f"{name}: {', '.join([kind, *bounds])} (default {default})"


def describe_params(mod: ModuleType) -> str:
    fields = list(mod.Params.model_fields)
    return "; ".join(describe_param(mod, n) for n in fields) if fields else "none"


def check_params(params: dict[str, dict[str, Any]]) -> None:
    """Refuse, in words, a query or parameter name that does not exist or a value out of range."""
    for qname, values in params.items():
        mod = get(qname)
        try:
            mod.Params(**values)
        except ValidationError as e:
            err = e.errors(include_url=False, include_input=False)[0]
            field = str(err["loc"][0]) if err["loc"] else "?"
            if err["type"] == "extra_forbidden":
                raise BadParam(f"{qname} has no parameter {field!r}. Its parameters: "
                               f"{describe_params(mod)}") from None
            raise BadParam(f"--param {qname}.{field} cannot take that value ({err['msg'].lower()}). "
                           f"Give {describe_param(mod, field)}") from None
