"""Neo4j's notifications (warnings about a query) as one readable line each.

The driver logs each notification on the `neo4j.notifications` logger as the repr of a
status object (`<GqlStatusObject gql_status='01N51', ...>`), which Python prints to
stderr when nothing else handles it. `collected()` takes them off that logger while a
query runs, and `describe()` turns each into `warning 01N51 at line 1, column 20: ...`.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

LOGGER = "neo4j.notifications"


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.found: list[Any] = []

    def emit(self, record: logging.LogRecord) -> None:
        arg = record.args[0] if isinstance(record.args, tuple) and record.args else record.getMessage()
        self.found.append(getattr(arg, "notification", arg))


@contextmanager
def collected() -> Iterator[list[Any]]:
    """Notifications logged while the block runs, kept from stderr, in the order received."""
    log = logging.getLogger(LOGGER)
    handler = _Collector()
    old = (log.propagate, log.level)
    log.addHandler(handler)
    log.propagate = False
    log.setLevel(logging.DEBUG)
    try:
        yield handler.found
    finally:
        log.removeHandler(handler)
        log.propagate, log.level = old


def _text(value: Any) -> str:
    return " ".join(str(getattr(value, "value", value) or "").split())


def describe(n: Any) -> str:
    """One line: severity, code, position and what the server said."""
    if isinstance(n, str):
        return " ".join(n.split())
    severity = _text(getattr(n, "raw_severity", None) or getattr(n, "severity", None)).lower() or "note"
    code = _text(getattr(n, "gql_status", None) or getattr(n, "code", None))
    said = _text(getattr(n, "status_description", None) or getattr(n, "description", None)
                 or getattr(n, "title", None))
    for prefix in ("warn: ", "info: ", "note: "):
        said = said.removeprefix(prefix)
    pos = getattr(n, "position", None)
    where = f" at line {pos.line}, column {pos.column}" if pos is not None and getattr(pos, "line", None) else ""
    said = said[:1].upper() + said[1:] if said else "(no description)"
    return f"Neo4j {severity} {code}{where}: {said}".replace("  ", " ")
