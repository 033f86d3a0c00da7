"""synth, demo and audit commands."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from kglink.commands import fail
from kglink.ui import Table, console

app = typer.Typer()


@app.command()
def synth(
    out_dir: Path = typer.Argument(..., help="Folder to write one extract per agency into, plus truth/."),
    households: int = typer.Option(2000, "--households", min=1, help="Size of the county."),
    seed: int = typer.Option(1, "--seed", help="Same seed and style, same bytes."),
    style: str = typer.Option("kglink", "--style",
                              help="kglink (the usual county) or varied (every style parameter "
                                   "drawn from the seed: dates of birth, homes, households, names, noise)."),
) -> None:
    """Generate a synthetic county: multi-agency extracts with known truth and planted risks.

    Every person in it is invented. Example: kglink synth county --households 2000 --seed 1
    """
    from kglink.synth import generate
    from kglink.synth.county_style import STYLE_NAMES

    if style not in STYLE_NAMES:
        fail(f"unknown style {style!r}. Use one of: {', '.join(STYLE_NAMES)}")
    if out_dir.exists() and any(out_dir.iterdir()):
        fail(f"{out_dir} is not empty. Choose a new folder or remove it first")
    with console.status("generating"):
        summary = generate(out_dir, households=households, seed=seed, style=style)
    console.print(f"wrote a county of {households} households to {out_dir}", markup=False)
    console.print(str(summary), markup=False, soft_wrap=True)
    console.print(f"next: kglink load {out_dir}  (loads each agency's extract; truth/ is passed over)",
                  markup=False, soft_wrap=True)


@app.command()
def demo(
    ctx: typer.Context,
    out: Path = typer.Option(Path("kglink-demo"), "--out", help="Folder for the county, workspace and reports."),
    households: int = typer.Option(400, "--households", min=50, help="Size of the synthetic county."),
) -> None:
    """Run kglink end to end on a synthetic county, no server needed.

    Generates a county of invented people, loads every agency's extract, links people
    and addresses, runs every risk query, writes the nightly report and the research
    pack of one child with findings, and prints where they are.

    Example: kglink demo --out kglink-demo --households 400
    """
    from kglink.reports.demo import run_demo
    from kglink.ui import progress_bars

    with progress_bars(not ctx.obj.quiet) as bars:
        res = run_demo(out, households=households, progress=bars, user=ctx.obj.user)
    n = res.nightly
    console.print(f"synthetic county:   {res.county}", markup=False, soft_wrap=True)
    console.print(f"workspace:          {res.workspace}  (try: kglink --workspace {res.workspace} status)",
                  markup=False, soft_wrap=True)
    for k in n.linkage.kinds if n.linkage else []:
        label = "addresses:" if k.kind == "address" else "persons:  "
        console.print(f"linked {label}   {k.records} records into {k.entities} entities "
                      f"({k.review} pairs await review)", markup=False, soft_wrap=True)
    console.print(f"findings:           {len(n.findings)} from {len({f.query for f in n.findings})} queries",
                  markup=False, soft_wrap=True)
    console.print(f"against the truth:  {res.truth_score}", markup=False, soft_wrap=True)
    console.print(f"nightly report:     {n.folder / 'report.html'}", markup=False, soft_wrap=True)
    for p in res.profile:
        console.print(f"research pack:      {p}", markup=False, soft_wrap=True)


@app.command("audit")
def audit_cmd(
    ctx: typer.Context,
    user: Optional[str] = typer.Option(None, "--by", help="Only this user's entries."),
    command: Optional[str] = typer.Option(None, help="Only this command."),
    limit: int = typer.Option(50, help="Most recent entries to show."),
    verify: bool = typer.Option(False, "--verify", help="Check the hash chain of every entry."),
) -> None:
    """The audit log of who consulted, disclosed or combined personal data, when and why.

    Append-only and hash-chained; entries name record and entity ids, never personal
    values. `kglink audit --verify` checks every link of the chain and names the first
    broken one (exit 2); note the newest hash it prints somewhere else, to tell later
    that no entry was cut off or rewritten since.

    Example: kglink audit --command profile --limit 20
    """
    with ctx.obj.open() as w:
        v = w.verify_audit() if verify else None
        rows = [] if verify else w.audit_log(user=user, command=command, limit=limit)
    if v is not None:
        if not v.ok:
            fail(f"the audit log is broken at entry {v.broken_at}: {v.problem}. Entries from "
                 "there on cannot be trusted; keep the workspace as it is and report it to "
                 "your data protection officer")
        console.print(f"audit log intact: {v.entries} entries, {v.entries - v.unchained} chained"
                      + (f" ({v.unchained} older ones written before the chain began)"
                         if v.unchained else "")
                      + f"; newest hash {v.head or 'none'}", soft_wrap=True)
        return
    table = Table(title=f"Audit log ({len(rows)} entries)")
    for col in ("#", "when", "who", "OS user", "command", "asked", "returned", "reason"):
        table.add_column(col)
    for e in rows:
        table.add_row(str(e.seq), e.at, e.user, e.os_user or "", e.command, _short(e.request),
                      _short(e.result), e.reason or "")
    console.print(table)


def _short(d: dict) -> str:  # type: ignore[type-arg]
    import json

    s = json.dumps(d, sort_keys=True)
    return s if len(s) <= 120 else s[:117] + "..."
