"""The kglink command line: the global options, and the command groups of kglink/commands/.

Each command parses, calls one method of `kglink.Workspace`, prints. Every error kglink
raises on purpose is a KglinkError, turned here, in one place, into
`Error: what happened. What to do.` and its exit code.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Optional

import typer
from typer.core import TyperGroup

from kglink.audit import os_user
from kglink.commands import Context, fail
from kglink.commands import graphq, linking, loading, misc, profile
from kglink.errors import KglinkError


class _Kglink(TyperGroup):
    """Every command, of every group, runs inside this invoke: the one handler."""

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
    purpose: Optional[str] = typer.Option(
        None, "--purpose", envvar="KGLINK_PURPOSE",
        help="Why you are looking, recorded with every audit entry of this command "
             "(a command's own --reason wins)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars."),
) -> None:
    # Owner-only: everything kglink writes (workspace, reports, packs, exports) may hold
    # personal data about children.
    os.umask(0o077)
    ctx.obj = Context(workspace, neo4j, user or os_user(), quiet, purpose)


for _group in (loading, linking, misc, graphq, profile):
    app.add_typer(_group.app)

if __name__ == "__main__":
    app()
