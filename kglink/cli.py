"""The kglink command line. Each command parses, calls one library function, prints."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, Optional

import typer
from typer.core import TyperGroup

from kglink.audit import os_user
from kglink.errors import KglinkError
from kglink.loaders.extract import ExtractError
from kglink.ui import Table, clean, console, err_console, progress_bars
from kglink.workspace import Workspace, WorkspaceError, open_workspace


class _Kglink(TyperGroup):
    """The one place a kglink error becomes `Error: what happened. What to do.` and an exit
    code: every command, of every group, runs inside this invoke."""

    def invoke(self, ctx: Any) -> Any:   # a click Context (typer vendors click)
        try:
            return super().invoke(ctx)
        except KglinkError as e:
            fail(str(e), e.exit_code)


app = typer.Typer(
    cls=_Kglink,
    help=(
        "kglink: link agency extracts about children and families, build a POLE graph, "
        "and find hidden risks.\n\n"
        "Typical day: kglink load EXTRACT... ; kglink link ; kglink risks ; "
        "kglink profile police:P123 --reason 'strategy meeting'."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@dataclass
class Context:
    workspace: Optional[Path]
    neo4j: Optional[str]
    user: str
    quiet: bool

    def open(self, create: bool = True) -> Workspace:
        try:
            return open_workspace(self.workspace, create=create)
        except WorkspaceError as e:
            fail(str(e))

    def audit(self, ws: Workspace, command: str, request: dict[str, Any],
              result: dict[str, Any], reason: str | None = None) -> None:
        """Write the audit entry, BEFORE anything it records is shown; if it cannot be
        written the command stops here (exit 2) and shows nothing."""
        from kglink.audit import AuditError, record

        try:
            record(ws, self.user, command, request, result, reason)
        except AuditError as e:
            ws.close()
            fail(str(e))


def fail(message: str, code: int = 2) -> NoReturn:
    """Print `Error: what happened. What to do.` on one line and exit; no traceback for
    user errors. Control characters from data or arguments are shown escaped."""
    one_line = clean(" ".join(message.split()))
    err_console.print(f"Error: {one_line.rstrip('.')}.", soft_wrap=True)
    raise typer.Exit(code)


@app.callback()
def main(
    ctx: typer.Context,
    workspace: Optional[Path] = typer.Option(
        None, "--workspace", "-w", envvar="KGLINK_WORKSPACE",
        help="Workspace folder (default ./kglink-workspace).", show_default=False),
    neo4j: Optional[str] = typer.Option(
        None, "--neo4j", envvar="NEO4J_URI",
        help="Use a Neo4j server, e.g. bolt://127.0.0.1:7687, or a cluster through a routing "
             "URI, neo4j://HOST:7687 (user/password from "
             "NEO4J_USER / NEO4J_PASSWORD). Default: the embedded store."),
    user: Optional[str] = typer.Option(
        None, "--user", help="Who is asking, for the audit log (default: the OS user)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars."),
) -> None:
    # Owner-only: everything kglink writes (workspace, reports, packs, exports) may hold
    # personal data about children.
    os.umask(0o077)
    ctx.obj = Context(workspace, neo4j, user or os_user(), quiet)


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
    from kglink.loaders.load import load_extracts

    c: Context = ctx.obj
    ws = c.open()
    try:
        with progress_bars(not c.quiet) as bars:
            reports = load_extracts(ws, extracts, progress=bars)
    except (ExtractError, WorkspaceError) as e:
        fail(f"{e}. Nothing was loaded")
    finally:
        ws.close()
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
    from kglink.audit import AuditError
    from kglink.loaders.unload import UnloadError, unload as withdraw

    c: Context = ctx.obj
    ws = c.open(create=False)
    try:
        rep = withdraw(ws, agency, load_id, user=c.user, reason=reason)
    except (UnloadError, WorkspaceError) as e:
        fail(f"{e}. Nothing was changed")
    except AuditError as e:     # the unload and its entry are one transaction: neither landed
        fail(str(e))
    finally:
        ws.close()
    back = f"load {rep.previous} is its latest now" if rep.previous else "no load of it is left"
    console.print(f"{rep.agency}: load {rep.load_id} withdrawn: {rep.removed} records removed, "
                  f"{rep.restored} put back as they were; {back}. Run kglink link next",
                  markup=False, soft_wrap=True)


@app.command()
def status(ctx: typer.Context) -> None:
    """Records per agency and kind, the load history and the reject count.

    Example: kglink --workspace kglink-demo/workspace status
    """
    from kglink.workspace.status import load_history, record_counts, unloaded_count

    ws = ctx.obj.open(create=False)
    counts = record_counts(ws)
    history = load_history(ws)
    table = Table(title=f"Workspace {ws.path}")
    for col in ("agency", "kind", "active", "withdrawn"):
        table.add_column(col, justify="right" if col in ("active", "withdrawn") else "left")
    for agency, kind, active, withdrawn in counts:
        table.add_row(agency, kind, str(active), str(withdrawn))
    console.print(table)
    loads = Table(title="Load history")
    for col in ("load", "agency", "system", "extracted_at", "loaded_at", "added", "changed",
                "withdrawn", "rejected"):
        loads.add_column(col)
    for h in history:
        loads.add_row(*(str(h[k]) for k in ("load_id", "agency", "system", "extracted_at",
                                             "loaded_at", "added", "changed", "withdrawn",
                                             "rejected")))
    console.print(loads)
    console.print(f"rows set aside in all loads: {sum(h['rejected'] for h in history)}")
    if withdrawn := unloaded_count(ws):
        console.print(f"loads withdrawn with kglink unload: {withdrawn} (see kglink audit --command unload)")
    ws.close()


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
    from kglink.workspace.status import rejects as list_rejects

    ws = ctx.obj.open(create=False)
    rows = list_rejects(ws, agency=agency, load_id=load_id,
                        latest_only=not all_loads and load_id is None)
    ws.close()
    table = Table(title=f"{len(rows)} rows set aside")
    for col in ("load", "agency", "file", "row", "column", "reason"):
        table.add_column(col)
    for rj in rows:
        table.add_row(str(rj.load_id), rj.agency, rj.file, str(rj.row), rj.column, rj.reason)
    console.print(table)


from kglink.commands import linking as _linking  # noqa: E402
from kglink.commands import graphq as _graphq  # noqa: E402
from kglink.commands import misc as _misc  # noqa: E402
from kglink.commands import profile as _profile  # noqa: E402

_linking.register(app, fail)
_linking.register_export(app, fail)
_misc.register(app, fail)
_graphq.register(app, fail)
_profile.register(app, fail)
_profile.register_nightly(app, fail)

if __name__ == "__main__":
    app()
