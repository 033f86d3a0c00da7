"""profile: the research pack on one child and family."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from kglink import audit
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
            console.print(candidate_list(e.candidates), markup=False, highlight=False, soft_wrap=True)
            audit.record(ws, c.user, "profile", {"search": terms.given()},
                         {"candidates": [h.entity_id for h in e.candidates]}, reason)
            raise typer.Exit(1)
        except (ProfileError, ValueError) as e:
            fail(str(e))
        try:
            pack = build_profile(ws, uid, reason, all_findings(ws, neo), neo)
        except ProfileError as e:
            fail(str(e))
        out.mkdir(parents=True, exist_ok=True)
        written = []
        stem = f"profile-{uid}"
        if fmt in ("all", "markdown"):
            written.append(out / f"{stem}.md")
            written[-1].write_text(profile_markdown(pack), encoding="utf-8")
        if fmt in ("all", "html"):
            written.append(out / f"{stem}.html")
            written[-1].write_text(profile_html(pack), encoding="utf-8")
        if fmt in ("all", "json"):
            written.append(out / f"{stem}.json")
            written[-1].write_text(json.dumps(pack.model_dump(), indent=2, ensure_ascii=False), encoding="utf-8")
        for w in written:
            console.print(f"wrote {w}", markup=False, soft_wrap=True)
        audit.record(ws, c.user, "profile", {"subject": uid, "record": record, "search": terms.given()},
                     {"subject": uid, "records": [f"{r.agency}:{r.record_id}" for r in pack.records],
                      "household": [m.entity_id for m in pack.household],
                      "findings": [f.id for f in pack.findings]}, reason)


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

        from kglink.loaders.extract import ExtractError
        from kglink.reports.nightly import run_nightly
        from kglink.ui import progress_bars

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
        try:
            with progress_bars(not c.quiet) as bars:
                res = run_nightly(ws, list(extracts or []), out, neo4j=neo, today=when, progress=bars)
        except ExtractError as e:
            fail(f"{e}. Nothing was loaded; tonight's report was not written")
        except Exception as e:
            from kglink.graph.neo4j_store import Neo4jStoreError

            if isinstance(e, Neo4jStoreError):
                fail(str(e))
            raise
        console.print(f"{len(res.findings)} findings ({len(res.new)} new, {len(res.still)} still present, "
                      f"{len(res.gone)} gone); report: {res.folder / 'report.html'}", markup=False, soft_wrap=True)
        audit.record(ws, c.user, "nightly", {"extracts": [str(e) for e in extracts or []], "out": str(out)},
                     {"findings": [f.id for f in res.findings], "new": res.new, "gone": res.gone,
                      "packs": sorted({p.rsplit("profile-", 1)[-1].removesuffix(".html")
                                       for p in res.packs.values()})})
