"""sync, risks, queries and cypher: the graph and its risk queries."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from kglink.commands import fail
from kglink.errors import writing
from kglink.reports.findings import write_findings
from kglink.ui import Table, console, err_console

app = typer.Typer()


def parse_params(values: list[str] | None) -> dict[str, object]:
    """NAME=VALUE pairs; a value is read as JSON when it is JSON, else as text."""
    out: dict[str, object] = {}
    for v in values or []:
        key, sep, raw = v.partition("=")
        if not sep or not key:
            fail(f"--param takes NAME=VALUE, got {v!r}")
        try:
            out[key] = json.loads(raw)
        except json.JSONDecodeError:
            out[key] = raw
    return out


@app.command()
def sync(ctx: typer.Context) -> None:
    """Write the graph to Neo4j (--neo4j or NEO4J_URI): constraints, then only what changed.

    Example: kglink --neo4j bolt://127.0.0.1:7687 sync
    """
    with ctx.obj.open() as w, console.status("syncing to Neo4j"):
        rep = w.sync()
    console.print(f"synced to {rep.target}: {rep.nodes} nodes, {rep.relationships} relationships; "
                  f"written {rep.nodes_written} nodes and {rep.relationships_written} relationships, "
                  f"deleted {rep.nodes_deleted} and {rep.relationships_deleted} "
                  f"({'full' if rep.full else 'incremental'}, {rep.seconds:.1f} s)",
                  markup=False, soft_wrap=True)


@app.command()
def risks(
    ctx: typer.Context,
    query: Optional[list[str]] = typer.Option(None, "--query", help="Run only this query (repeatable)."),
    fmt: str = typer.Option("table", "--format", help="table, json or csv."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write to this file instead of the screen."),
    param: Optional[list[str]] = typer.Option(
        None, "--param", help="QUERY.NAME=VALUE, e.g. custody-appropriate-adult-delay.hours=2"),
    confirmed_only: bool = typer.Option(
        False, "--confirmed-only", help="Leave out findings that rest on a pair awaiting review."),
) -> None:
    """Run the risk queries and list what they find, each finding with its sources.

    On the embedded store by default, on Neo4j with --neo4j. `kglink risks --format json`
    gives the findings as JSON; list the queries with `kglink queries`. A finding that
    rests on a pair still awaiting review is marked UNCONFIRMED LINK.

    Example: kglink risks --query missing-ppn --param missing-ppn.days=14
    """
    if fmt not in ("table", "json", "csv"):
        fail(f"unknown --format {fmt}; use table, json or csv")
    params: dict[str, dict[str, object]] = {}
    for k, v in parse_params(param).items():
        qname, dot, pname = k.rpartition(".")
        if not dot:
            fail(f"--param names the query too: QUERY.NAME=VALUE, got {k}")
        params.setdefault(qname, {})[pname] = v
    with ctx.obj.open() as w:
        found = w.risks(query, params, confirmed_only=confirmed_only)
        note = reference_note(w.reference_day())
    with writing(out, "Choose another --out"):
        write_findings(found, fmt, out)
    if fmt == "table" and out is None:
        console.print(note, markup=False, soft_wrap=True)


@app.command()
def queries(ctx: typer.Context) -> None:
    """The risk queries kglink knows, with what each looks for and its parameters.

    Example: kglink queries
    """
    from kglink.queries.registry import QUERIES, describe_params
    from kglink.workspace import WorkspaceError

    table = Table(title="Risk queries")
    table.add_column("name")
    table.add_column("severity")
    table.add_column("looks for")
    table.add_column("parameters (--param QUERY.NAME=VALUE)")
    for name, mod in sorted(QUERIES.items()):
        table.add_row(name, mod.SEVERITY, mod.DESCRIPTION, describe_params(mod))
    console.print(table)
    try:
        with ctx.obj.open() as w:
            note = reference_note(w.reference_day())
    except WorkspaceError:
        note = reference_note(None, workspace=False)
    console.print(note, markup=False, soft_wrap=True)


@app.command()
def cypher(
    ctx: typer.Context,
    statement: str = typer.Argument(..., help="A read-only Cypher query, e.g. \"MATCH (p:Person) RETURN count(p)\"."),
    param: Optional[list[str]] = typer.Option(None, "--param", help="NAME=VALUE, used as $NAME."),
    fmt: str = typer.Option("table", "--format", help="table or json."),
) -> None:
    """Ask Neo4j about the graph, read-only.

    kglink refuses, before sending it, anything but reading the graph: writes, LOAD CSV,
    SHOW, TERMINATE, admin commands, USE, and CALL of procedures other than db.labels,
    db.relationshipTypes, db.propertyKeys and db.schema.*; what is sent runs in a read
    transaction. Refused attempts are audited.

    Example: kglink --neo4j bolt://127.0.0.1:7687 cypher "MATCH (p:Person {entity_id: $id})--(x) RETURN x" --param id=per_0123
    """
    from kglink.graph import notifications

    if fmt not in ("table", "json"):
        fail(f"unknown --format {fmt}; use table or json")
    params = parse_params(param)
    with ctx.obj.open() as w:
        rows, notes = w.cypher(statement, params)
    for note in notes:
        err_console.print(notifications.describe(note), markup=False, highlight=False, soft_wrap=True)
    if fmt == "json":
        console.print_json(json.dumps(rows, default=str))
    elif not rows:
        console.print("(no rows)", markup=False)
    else:
        table = Table(title=f"{len(rows)} rows")
        cols = list(rows[0]) if rows else []
        for col in cols:
            table.add_column(col)
        for r in rows:
            table.add_row(*(json.dumps(r[col], default=str) if not isinstance(r[col], str) else r[col] for col in cols))
        console.print(table)


def reference_note(day: object, workspace: bool = True) -> str:
    """Which day 'days' and 'current' are counted from: the newest extract's, not today."""
    if not workspace:
        return ("Days and hours are counted back from the newest loaded extract's date "
                "(its manifest's extracted_at), not from today.")
    if day is None:
        return "Days are counted back from the newest loaded extract's date; nothing is loaded yet."
    return (f"Days and hours are counted back from {day}, the newest loaded extract's date "
            "(its manifest's extracted_at), not from today.")
