"""sync, risks and cypher: the graph and its risk queries."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer
from kglink.ui import Table

from kglink.reports.findings import write_findings
from kglink.ui import console, err_console


def neo4j_settings(ctx: typer.Context):  # type: ignore[no-untyped-def]
    from kglink.graph.neo4j_store import Neo4jSettings

    return Neo4jSettings.from_env(uri=ctx.obj.neo4j)


def parse_params(values: list[str] | None, fail) -> dict[str, object]:  # type: ignore[no-untyped-def]
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


def register(app: typer.Typer, fail) -> None:  # type: ignore[no-untyped-def]
    @app.command()
    def sync(ctx: typer.Context) -> None:
        """Write the graph to Neo4j (--neo4j or NEO4J_URI): constraints, then only what changed.

        Example: kglink --neo4j bolt://127.0.0.1:7687 sync
        """
        from kglink.graph.neo4j_store import Neo4jStoreError
        from kglink.graph.neo4j_store import sync as run_sync

        if not ctx.obj.neo4j:
            fail("no Neo4j named. Pass --neo4j bolt://HOST:PORT or set NEO4J_URI "
                 "(scripts/neo4j-local start runs one on 127.0.0.1:7687)")
        ws = ctx.obj.open(create=False)
        # copies personal data into another store (a disclosure): logged before it starts
        ctx.obj.audit(ws, "sync", {"target": ctx.obj.neo4j}, {})
        try:
            with console.status("syncing to Neo4j"):
                rep = run_sync(ws, neo4j_settings(ctx))
        except Neo4jStoreError as e:
            fail(str(e))
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
        from kglink.queries.registry import BadParam, UnknownQuery, check_params
        from kglink.queries.service import findings_for

        if fmt not in ("table", "json", "csv"):
            fail(f"unknown --format {fmt}; use table, json or csv")
        params: dict[str, dict[str, object]] = {}
        for k, v in parse_params(param, fail).items():
            qname, dot, pname = k.rpartition(".")
            if not dot:
                fail(f"--param names the query too: QUERY.NAME=VALUE, got {k}")
            params.setdefault(qname, {})[pname] = v
        try:
            check_params(params)
        except UnknownQuery as e:
            fail(f"--param names {e}")
        except BadParam as e:
            fail(str(e))
        ws = ctx.obj.open(create=False)
        refuse_unlinked(ws, fail)
        try:
            found = findings_for(ws, neo4j=neo4j_settings(ctx) if ctx.obj.neo4j else None,
                                 names=list(query) if query else None, params=params,
                                 unconfirmed=not confirmed_only)
        except UnknownQuery as e:
            fail(str(e))
        except Exception as e:  # store errors and bad params carry their own advice
            from kglink.graph.neo4j_store import Neo4jStoreError
            from pydantic import ValidationError

            if isinstance(e, (Neo4jStoreError, ValidationError)):
                fail(str(e).splitlines()[0])
            raise
        ctx.obj.audit(ws, "risks", {"queries": query or "all", "params": params,
                                    "store": "neo4j" if ctx.obj.neo4j else "embedded"},
                      {"findings": [f.id for f in found]})
        try:
            write_findings(found, fmt, out)
        except OSError as e:
            fail(f"cannot write {out} ({e.strerror}). Choose another --out")
        if fmt == "table" and out is None:
            console.print(reference_note(ctx), markup=False, soft_wrap=True)

    @app.command()
    def queries(ctx: typer.Context) -> None:
        """The risk queries kglink knows, with what each looks for and its parameters.

        Example: kglink queries
        """
        from kglink.queries.registry import QUERIES, describe_params

        table = Table(title="Risk queries")
        table.add_column("name")
        table.add_column("severity")
        table.add_column("looks for")
        table.add_column("parameters (--param QUERY.NAME=VALUE)")
        for name, mod in sorted(QUERIES.items()):
            table.add_row(name, mod.SEVERITY, mod.DESCRIPTION, describe_params(mod))
        console.print(table)
        console.print(reference_note(ctx), markup=False, soft_wrap=True)

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
        from kglink.graph.cypher_guard import CypherRefused, check_read_only
        from kglink.graph.neo4j_store import Neo4jStoreError, read_query

        if fmt not in ("table", "json"):
            fail(f"unknown --format {fmt}; use table or json")
        if not ctx.obj.neo4j:
            fail("kglink cypher needs Neo4j. Pass --neo4j bolt://HOST:PORT or set NEO4J_URI")
        ws = ctx.obj.open(create=False)
        params = parse_params(param, fail)
        from kglink.graph import notifications

        try:
            check_read_only(statement)
        except CypherRefused as e:
            ctx.obj.audit(ws, "cypher", {"statement": statement, "params": sorted(params)},
                          {"refused": str(e)})
            ws.close()
            fail(f"refused, nothing was sent: {e}")
        try:
            with notifications.collected() as notes:
                rows = read_query(statement, params, neo4j_settings(ctx), require_complete=False)
        except Neo4jStoreError as e:
            fail(str(e))
        except Exception as e:
            import neo4j.exceptions as nxe

            if isinstance(e, nxe.Neo4jError):
                fail(f"Neo4j refused the query: {e.message}. Check the Cypher")
            raise
        ctx.obj.audit(ws, "cypher", {"statement": statement, "params": sorted(params)},
                      {"rows": len(rows)})
        for note in notes:
            err_console.print(notifications.describe(note), markup=False, highlight=False, soft_wrap=True)
        if fmt == "json":
            console.print_json(json.dumps(rows, default=str))
        elif not rows:
            console.print("(no rows)", markup=False)
        else:
            table = Table(title=f"{len(rows)} rows")
            cols = list(rows[0]) if rows else []
            for c in cols:
                table.add_column(c)
            for r in rows:
                table.add_row(*(json.dumps(r[c], default=str) if not isinstance(r[c], str) else r[c] for c in cols))
            console.print(table)


def refuse_unlinked(ws, fail) -> None:  # type: ignore[no-untyped-def]
    """Findings from a workspace never linked, or linked before its last load, are wrong."""
    from kglink.workspace.status import link_problem

    problem = link_problem(ws)
    if problem:
        ws.close()
        fail(problem)


def reference_note(ctx: typer.Context) -> str:
    """Which day 'days' and 'current' are counted from: the newest extract's, not today."""
    from kglink.queries.runner import reference_date
    from kglink.workspace import WorkspaceError, open_workspace

    try:
        ws = open_workspace(ctx.obj.workspace, create=False)
    except WorkspaceError:
        return ("Days and hours are counted back from the newest loaded extract's date "
                "(its manifest's extracted_at), not from today.")
    try:
        loaded = ws.conn.execute("SELECT COUNT(*) FROM loads").fetchone()[0]
        day = reference_date(ws).isoformat()
    finally:
        ws.close()
    if not loaded:
        return "Days are counted back from the newest loaded extract's date; nothing is loaded yet."
    return (f"Days and hours are counted back from {day}, the newest loaded extract's date "
            "(its manifest's extracted_at), not from today.")
