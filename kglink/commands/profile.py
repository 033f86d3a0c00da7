"""profile and nightly: the research pack on one child and family, and the nightly batch."""
from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Optional

import typer

from kglink.commands import Context, fail
from kglink.errors import writing
from kglink.ui import console, err_console, progress_bars

app = typer.Typer()


@app.command()
def profile(
    ctx: typer.Context,
    record: Optional[str] = typer.Argument(None, help="AGENCY:RECORD_ID of any record of the child, or the child's entity id from a finding."),
    name: Optional[str] = typer.Option(
        None, "--name", help="Find the child by name instead: spelling variants and nicknames match."),
    dob: Optional[str] = typer.Option(None, "--dob", help="Date of birth (YYYY-MM-DD or DD/MM/YYYY)."),
    address: Optional[str] = typer.Option(None, "--address", help="Lives at this address, e.g. \"14 High St\"."),
    postcode: Optional[str] = typer.Option(None, "--postcode", help="Lives at this postcode, district or sector."),
    phone: Optional[str] = typer.Option(None, "--phone", help="Has this phone number."),
    ident: Optional[str] = typer.Option(None, "--id", help="NHS number, PNC id or UPN."),
    reason: Optional[str] = typer.Option(
        None, "--reason", help="Why you are looking (required, or the global --purpose; audited)."),
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
    from kglink.reports.profile import Ambiguous
    from kglink.reports.render import write_profile
    from kglink.search import Terms

    c: Context = ctx.obj
    if fmt not in ("all", "markdown", "html", "json"):
        fail(f"unknown --format {fmt}; use all, markdown, html or json")
    terms = Terms(name=name, dob=dob, address=address, postcode=postcode, phone=phone, identifier=ident)
    try:
        with c.open() as w:
            pack = w.profile(record, terms=terms, purpose=reason)
    except Ambiguous as e:
        console.print(candidate_list(e.candidates), markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    with writing(f"the research pack in {out}", "Choose another --out"):
        written = write_profile(pack, out, fmt)
    for path in written:
        console.print(f"wrote {path}", markup=False, soft_wrap=True)


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
    c: Context = ctx.obj
    try:
        when = date.fromisoformat(day) if day else None
    except ValueError:
        fail("--date takes YYYY-MM-DD")
    with c.open(create=True) as w, progress_bars(not c.quiet) as bars:
        res = w.nightly(extracts or [], out, today=when, progress=bars)
    for warning in res.warnings:
        err_console.print(f"Warning: {warning}.", soft_wrap=True)
    console.print(f"{len(res.findings)} findings ({len(res.new)} new, {len(res.still)} still present, "
                  f"{len(res.gone)} gone); report: {res.folder / 'report.html'}", soft_wrap=True)
