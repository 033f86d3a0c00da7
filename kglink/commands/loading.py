"""load, unload, status, rejects: what goes into the workspace."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from kglink.commands import Context
from kglink.ui import Table, console, progress_bars

app = typer.Typer()


@app.command()
def load(
    ctx: typer.Context,
    extracts: list[Path] = typer.Argument(
        ..., help="Extract folders (each with manifest.json), or a folder of them."),
) -> None:
    """Load agency extracts into the workspace, validating every row.

    Bad rows are set aside with file, row, column and reason (see `kglink rejects`);
    the rest loads. All the extracts named land together or not at all.

    A folder without manifest.json whose subfolders are extracts loads each of them and
    says which subfolders it passed over.

    Example: kglink load extracts/police extracts/education
    """
    c: Context = ctx.obj
    with c.open(create=True) as w, progress_bars(not c.quiet) as bars:
        reports = w.load(extracts, progress=bars)
    for rep in reports:
        head = f"{rep.agency} ({rep.path})" if rep.agency else str(rep.path)
        if rep.skipped_reason:
            console.print(f"{head}: {rep.skipped_reason}", markup=False, soft_wrap=True)
            continue
        console.print(f"{head}: load {rep.load_id}: {rep.added} added, {rep.changed} changed, "
                      f"{rep.withdrawn} withdrawn, {rep.unchanged} unchanged", markup=False, soft_wrap=True)
        for f in rep.files:
            console.print(f"  {f.name}: {f.read} read = {f.loaded} loaded + "
                          f"{len(f.rejects)} rejected", markup=False, soft_wrap=True)
    total_rejects = sum(len(f.rejects) for rep in reports for f in rep.files)
    if total_rejects:
        console.print(f"{total_rejects} rows set aside: see `kglink rejects`", markup=False, soft_wrap=True)


@app.command()
def unload(
    ctx: typer.Context,
    agency: str = typer.Argument(..., help="The agency whose load to withdraw."),
    load_id: int = typer.Argument(..., metavar="LOAD", help="The load number (see kglink status)."),
    reason: Optional[str] = typer.Option(None, "--reason", help="Why, for the audit log."),
) -> None:
    """Withdraw a load that should not have happened, as if it had not been made.

    Records it added are removed, records it changed or withdrew are put back, and later
    extracts of the agency are compared with the load before it. Only an agency's latest
    load can be withdrawn (newest first). Audited. Run kglink link afterwards.

    Example: kglink unload police 7 --reason "extract dated 2206 by mistake"
    """
    with ctx.obj.open() as w:
        rep = w.unload(agency, load_id, reason=reason)
    back = f"load {rep.previous} is its latest now" if rep.previous else "no load of it is left"
    console.print(f"{rep.agency}: load {rep.load_id} withdrawn: {rep.removed} records removed, "
                  f"{rep.restored} put back as they were; {back}. Run kglink link next",
                  markup=False, soft_wrap=True)


@app.command()
def status(ctx: typer.Context) -> None:
    """Records per agency and kind, the load history and the reject count.

    Example: kglink --workspace kglink-demo/workspace status
    """
    with ctx.obj.open() as w:
        st = w.status()
    table = Table(title=f"Workspace {st.path}")
    for col in ("agency", "kind", "active", "withdrawn"):
        table.add_column(col, justify="right" if col in ("active", "withdrawn") else "left")
    for agency, kind, active, withdrawn in st.counts:
        table.add_row(agency, kind, str(active), str(withdrawn))
    console.print(table)
    loads = Table(title="Load history")
    for col in ("load", "agency", "system", "extracted_at", "loaded_at", "added", "changed",
                "withdrawn", "rejected"):
        loads.add_column(col)
    for h in st.history:
        loads.add_row(*(str(h[k]) for k in ("load_id", "agency", "system", "extracted_at",
                                             "loaded_at", "added", "changed", "withdrawn",
                                             "rejected")))
    console.print(loads)
    console.print(f"rows set aside in all loads: {st.rejected}")
    if st.unloaded:
        console.print(f"loads withdrawn with kglink unload: {st.unloaded} (see kglink audit --command unload)")


@app.command()
def rejects(
    ctx: typer.Context,
    agency: Optional[str] = typer.Option(None, help="Only this agency."),
    load_id: Optional[int] = typer.Option(None, "--load", help="Only this load number."),
    all_loads: bool = typer.Option(False, "--all", help="Every load, not only each agency's latest."),
) -> None:
    """List the rows set aside: file, row (the header is row 1), column and reason.

    Values are never shown: they may be personal data. Open the file at that row.

    Example: kglink rejects --agency police
    """
    with ctx.obj.open() as w:
        rows = w.rejects(agency=agency, load_id=load_id, latest_only=not all_loads)
    table = Table(title=f"{len(rows)} rows set aside")
    for col in ("load", "agency", "file", "row", "column", "reason"):
        table.add_column(col)
    for rj in rows:
        table.add_row(str(rj.load_id), rj.agency, rj.file, str(rj.row), rj.column, rj.reason)
    console.print(table)
