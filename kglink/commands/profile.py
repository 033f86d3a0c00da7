"""profile: the research pack on one child and family."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from kglink.outputs import private_dir, write_atomic
from kglink.ui import console


def register(app: typer.Typer, fail) -> None:  # type: ignore[no-untyped-def]
    @app.command()
    def profile(
        ctx: typer.Context,
        record: Optional[str] = typer.Argument(None, help="AGENCY:RECORD_ID of any record of the child."),
        name: Optional[str] = typer.Option(
            None, "--name", help="Find the child by name instead: spelling variants and nicknames match."),
        dob: Optional[str] = typer.Option(None, "--dob", help="Date of birth (YYYY-MM-DD or DD/MM/YYYY)."),
        address: Optional[str] = typer.Option(None, "--address", help="Lives at this address, e.g. \"14 High St\"."),
        postcode: Optional[str] = typer.Option(None, "--postcode", help="Lives at this postcode, district or sector."),
        phone: Optional[str] = typer.Option(None, "--phone", help="Has this phone number."),
        ident: Optional[str] = typer.Option(None, "--id", help="NHS number, PNC id or UPN."),
        reason: Optional[str] = typer.Option(None, "--reason", help="Why you are looking (required; audited)."),
        out: Path = typer.Option(Path("."), "--out", help="Folder for profile.md, profile.html, profile.json."),
        fmt: str = typer.Option("all", "--format", help="all, markdown, html or json."),
    ) -> None:
        """The MASH research pack on a child and family, before a strategy meeting.

        Every linked record with its match confidence and why, the household, flags,
        a timeline across agencies and the findings touching them, each fact with its
        source. Writes Markdown, a self-contained HTML page with a picture of the
        household's network, and JSON.

        Without a record, search: --name (fuzzy), --dob, --address, --postcode, --phone, --id;
        several matches are listed with names, ages, homes and agencies to choose from.

        Example: kglink profile health:H123 --reason "strategy meeting 28/11" --out packs/
        """
        from kglink.queries.service import all_findings
        from kglink.reports.profile import Ambiguous, ProfileError, build_profile, find_subject
        from kglink.reports.render import profile_html, profile_markdown

        reason = (reason or "").strip()
        if not reason:
            fail("a research pack needs --reason (it is recorded in the audit log), "
                 "e.g. --reason \"strategy meeting 28/11\"")
        if fmt not in ("all", "markdown", "html", "json"):
            fail(f"unknown --format {fmt}; use all, markdown, html or json")
        c = ctx.obj
        ws = c.open(create=False)
        neo = None
        if c.neo4j:
            from kglink.commands.graphq import neo4j_settings

            neo = neo4j_settings(ctx)
        from kglink.search import Terms

        terms = Terms(name=name, dob=dob, address=address, postcode=postcode, phone=phone, identifier=ident)
        try:
            uid = find_subject(ws, record, terms=terms)
        except Ambiguous as e:
            c.audit(ws, "profile", {"search": terms.given()},
                    {"candidates": [h.entity_id for h in e.candidates]}, reason)
            console.print(candidate_list(e.candidates), markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(1)
        except (ProfileError, ValueError) as e:
            fail(str(e))
        try:
            pack = build_profile(ws, uid, reason, all_findings(ws, neo), neo)
        except ProfileError as e:
            fail(str(e))
        c.audit(ws, "profile", {"subject": uid, "record": record, "search": terms.given()},
                {"subject": uid, "records": [f"{r.agency}:{r.record_id}" for r in pack.records],
                 "household": [m.entity_id for m in pack.household],
                 "findings": [f.id for f in pack.findings]}, reason)
        stem = f"profile-{uid}"
        files = {"markdown": (f"{stem}.md", profile_markdown),
                 "html": (f"{stem}.html", profile_html),
                 "json": (f"{stem}.json",
                          lambda p: json.dumps(p.model_dump(), indent=2, ensure_ascii=False))}
        written = []
        try:
            private_dir(out)
            for key, (fname, render) in files.items():
                if fmt in ("all", key):
                    write_atomic(out / fname, render(pack))
                    written.append(out / fname)
        except OSError as e:
            fail(f"cannot write the research pack in {out} ({e.strerror}). Choose another --out")
        for w in written:
            console.print(f"wrote {w}", markup=False, soft_wrap=True)


def candidate_list(found: list, shown: int = 20) -> str:  # type: ignore[type-arg]
    """The people a search found, best first, each with what tells them apart."""
    lines = [f"{len(found)} people match; run again with one of their records, "
             "e.g. kglink profile AGENCY:RECORD_ID --reason ...:"]
    for n, c in enumerate(found[:shown], 1):
        name, others = (c.names[0] if c.names else "(no name)"), c.names[1:]
        also = f" (also {'; '.join(others[:3])}{' ...' if len(others) > 3 else ''})" if others else ""
        if c.dobs:
            born = ", ".join(f"age {a}" for a in c.ages) + f" (born {', '.join(c.dobs)})"
        else:
            born = "date of birth not recorded"
        lines.append(f"{n:>3}. {name}{also}, {born}")
        lines.append(f"     home: {'; '.join(c.homes) if c.homes else 'no current home on record'}")
        lines.append(f"     agencies: {', '.join(c.agencies)}; records: {', '.join(c.records[:6])}"
                     + (f" and {len(c.records) - 6} more" if len(c.records) > 6 else ""))
        lines.append(f"     matched on: {'; '.join(c.matched)}")
    if len(found) > shown:
        lines.append(f"... and {len(found) - shown} more, less alike. Add --dob, --postcode or "
                     "--address to narrow the search.")
    return "\n".join(lines)


def register_nightly(app: typer.Typer, fail) -> None:  # type: ignore[no-untyped-def]
    @app.command()
    def nightly(
        ctx: typer.Context,
        extracts: Optional[list[Path]] = typer.Argument(
            None, help="Tonight's extract folders, or the folder holding them."),
        out: Path = typer.Option(..., "--out", help="Reports go to OUT/YYYY-MM-DD/."),
        day: Optional[str] = typer.Option(None, "--date", help="Run date (YYYY-MM-DD); default today."),
    ) -> None:
        """The nightly batch: load, link, sync (when Neo4j is set), run every query, report.

        Writes OUT/YYYY-MM-DD/report.html, findings.json, findings.csv and changes.json
        (new since the previous run, still present, gone), review.html (the queue side by
        side) and packs/ (the research pack of each child or person a finding names).
        Exit 0 when it ran, findings or not; non-zero when it failed, so a scheduler can run it.

        Example (cron): kglink --workspace /srv/kglink nightly /data/extracts --out /srv/reports
        """
        from datetime import date

        from kglink.commands.graphq import refuse_unlinked
        from kglink.loaders.extract import ExtractError
        from kglink.reports.nightly import compute_nightly, pack_subjects, write_nightly
        from kglink.ui import err_console, progress_bars

        c = ctx.obj
        ws = c.open()
        neo = None
        if c.neo4j:
            from kglink.commands.graphq import neo4j_settings

            neo = neo4j_settings(ctx)
        try:
            when = date.fromisoformat(day) if day else None
        except ValueError:
            fail("--date takes YYYY-MM-DD")
        if neo is not None:      # the graph is copied to Neo4j before the report exists
            c.audit(ws, "sync", {"target": c.neo4j, "by": "nightly"}, {})
        try:
            with progress_bars(not c.quiet) as bars:
                res = compute_nightly(ws, list(extracts or []), out, neo4j=neo, today=when,
                                      progress=bars)
        except ExtractError as e:
            fail(f"{e}. Nothing was loaded; tonight's report was not written")
        except Exception as e:
            from kglink.graph.neo4j_store import Neo4jStoreError

            if isinstance(e, Neo4jStoreError):
                fail(str(e))
            raise
        refuse_unlinked(ws, fail)
        c.audit(ws, "nightly", {"extracts": [str(e) for e in extracts or []], "out": str(out)},
                {"findings": [f.id for f in res.findings], "new": res.new, "gone": res.gone,
                 "packs": sorted({u for u in pack_subjects(ws, res.findings).values() if u})})
        try:
            write_nightly(ws, res, out)
        except OSError as e:
            fail(f"cannot write tonight's report in {res.folder} ({e.strerror}); the files there "
                 "are the previous versions or none. Free space or choose another --out")
        for w in res.warnings:
            err_console.print(f"Warning: {w}.", soft_wrap=True)
        console.print(f"{len(res.findings)} findings ({len(res.new)} new, {len(res.still)} still present, "
                      f"{len(res.gone)} gone); report: {res.folder / 'report.html'}", soft_wrap=True)
