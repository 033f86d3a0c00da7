"""Findings written out: a table on the screen, JSON or CSV, to the screen or a file.

Used by `kglink risks` and the nightly report alike.
"""
from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

from kglink.outputs import csv_text, write_atomic
from kglink.queries.findings import Finding
from kglink.ui import SafeConsole, Table, clean, console, err_console

FINDINGS_CSV_HEADER = ["id", "query", "severity", "rank", "role", "summary", "subject_entity",
                       "people", "events", "addresses", "sources"]


def findings_csv(found: Sequence[Finding]) -> str:
    """The findings as CSV, every cell neutralised against spreadsheet formulas."""
    return csv_text(FINDINGS_CSV_HEADER, (
        [f.id, f.query, f.severity, "" if f.rank is None else f.rank, f.role or "",
         f.summary, f.subject_entity() or "",
         ";".join(p.entity_id for p in f.people),
         ";".join(f"{e.agency}:{e.record_id}" for e in f.events),
         ";".join(a.entity_id for a in f.addresses),
         ";".join(sorted({f"{e.agency}:{e.record_id}" for e in f.evidence}))] for f in found))


def write_findings(found: Sequence[Finding], fmt: str, out: Path | None, announce: bool = True) -> None:
    """Print the findings, or write them to `out` (atomically, owner-only)."""
    if fmt == "json":
        # ASCII on a terminal: every control character in the data arrives escaped
        text = json.dumps([f.model_dump() for f in found], indent=2, ensure_ascii=out is None)
    elif fmt == "csv":
        text = findings_csv(found)
    else:
        table = Table(title=f"{len(found)} findings")
        for col in ("query", "severity", "summary", "sources"):
            table.add_column(col)
        for f in found:
            table.add_row(f.query + (f" #{f.rank}" if f.rank else ""), f.severity, f.summary,
                          ", ".join(sorted({f"{e.agency}:{e.record_id}" for e in f.evidence}))[:200])
        if out is None:
            console.print(table)
            return
        import io

        buf = io.StringIO()
        SafeConsole(file=buf, width=200).print(table)
        text = buf.getvalue()
    if out is None:
        sys.stdout.write(clean(text.replace("\r\n", "\n"), keep="\n"))
        if not text.endswith("\n"):
            sys.stdout.write("\n")
    else:
        write_atomic(out, text)
        if announce:
            err_console.print(f"wrote {len(found)} findings to {out}")
