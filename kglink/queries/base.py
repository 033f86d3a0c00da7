"""What every risk query is: a named module with params, Cypher, an embedded twin, findings.

A query returns *rows* in one neutral shape from either store; one shared function turns
rows into findings, so the two stores cannot disagree in how a finding is written.

Row shape (plain JSON values only):
    key        str: what makes this finding itself (stable id = hash of query and key)
    people     [[person uid, role], ...]      the first with role "subject" is the subject
    events     [event uid, ...]
    addresses  [[address uid, role], ...]
    facts      [[text, agency, source key], ...]  evidence, each with its source
    grade      str | None: the practitioners' grading found in the data (RSO risk, RAG...)
    rank       int | None, role: str | None  (ranked queries)
    numbers    {name: number}                 counts or hours a summary quotes
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from types import ModuleType
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from kglink.graph import schema

Row = dict[str, Any]


class QueryParams(BaseModel):
    """Thresholds and sizes a user may change; each query extends this."""
    model_config = ConfigDict(frozen=True, extra="forbid")


@dataclass(frozen=True)
class QueryContext:
    reference_date: date          # "today": the newest extract's date

    @property
    def child_born_after(self) -> str:
        """ISO date: a person born after this is under 18 on the reference date."""
        return schema.years_before(self.reference_date.isoformat(), schema.ADULT_AGE)

    def days_before(self, days: int) -> str:
        return (self.reference_date - timedelta(days=days)).isoformat()

    def cypher_params(self) -> dict[str, Any]:
        return {"ref": self.reference_date.isoformat(), "child_born_after": self.child_born_after}


class QueryModule(Protocol):
    NAME: str
    DESCRIPTION: str
    SEVERITY: str
    CYPHER: str
    Params: type[QueryParams]

    def embedded(self, g: Any, p: QueryParams, ctx: QueryContext) -> list[Row]: ...
    def summary(self, row: Row, names: dict[str, str]) -> str: ...


def check_module(mod: ModuleType) -> None:
    missing = [a for a in ("NAME", "DESCRIPTION", "SEVERITY", "CYPHER", "Params", "embedded", "summary")
               if not hasattr(mod, a)]
    if missing:
        raise TypeError(f"query module {mod.__name__} lacks {', '.join(missing)}")
    if "$" not in mod.CYPHER and "{" in mod.CYPHER and "}" in mod.CYPHER:
        pass  # literal maps are fine; values always come from $params
