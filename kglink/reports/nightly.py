"""The nightly batch: load, link, sync, run every query, and report what is new since the
previous run, what is still there and what has gone."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from kglink.graph.schema import child_on
from kglink.linkage.run import LinkReport, link
from kglink.loaders.load import ExtractReport, load_extracts
from kglink.queries.findings import Finding
from kglink.queries.service import findings_for
from kglink.workspace import Workspace
from kglink.workspace.status import rejects


@dataclass
class NightlyResult:
    folder: Path
    findings: list[Finding]
    new: list[str] = field(default_factory=list)
    still: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    loads: list[ExtractReport] = field(default_factory=list)
    linkage: LinkReport | None = None
    synced: Any = None
    packs: dict[str, str] = field(default_factory=dict)     # finding id -> its pack, relative
    review_written: bool = False


def previous_findings(out: Path, today: str) -> tuple[str | None, dict[str, dict[str, Any]]]:
    """The newest earlier run's findings by id."""
    runs = sorted(p.name for p in out.iterdir() if p.is_dir() and (p / "findings.json").exists()
                  and p.name < today) if out.exists() else []
    if not runs:
        return None, {}
    data = json.loads((out / runs[-1] / "findings.json").read_text(encoding="utf-8"))
    return runs[-1], {f["id"]: f for f in data}


# Waterfalls on tonight's review page; `kglink review --html` writes every pair.
REVIEW_PAGE_PAIRS = 200


def run_nightly(ws: Workspace, extracts: list[Path], out: Path, *, neo4j: Any = None,
                today: date | None = None, progress: Any = None, packs: bool = True) -> NightlyResult:
    day = (today or date.today()).isoformat()
    folder = out / day
    loads = load_extracts(ws, extracts, progress=progress) if extracts else []
    linkage = link(ws)
    synced = None
    if neo4j is not None:
        from kglink.graph.neo4j_store import sync

        synced = sync(ws, neo4j)
    found = findings_for(ws, neo4j)
    prev_day, prev = previous_findings(out, day)
    ids = {f.id for f in found}
    res = NightlyResult(folder, found, loads=loads, linkage=linkage, synced=synced)
    res.new = sorted(ids - set(prev))
    res.still = sorted(ids & set(prev))
    res.gone = sorted(set(prev) - ids)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "findings.json").write_text(
        json.dumps([f.model_dump() for f in found], indent=2, ensure_ascii=False), encoding="utf-8")
    from kglink.commands.graphq import write_findings

    write_findings(found, "csv", folder / "findings.csv", announce=False)
    (folder / "changes.json").write_text(json.dumps(
        {"previous_run": prev_day, "new": res.new, "still": res.still, "gone": res.gone,
         "gone_findings": [prev[i] for i in res.gone]}, indent=2, ensure_ascii=False), encoding="utf-8")
    if packs:
        res.packs = write_packs(ws, found, folder, day, neo4j)
    from kglink.linkage.review import queue
    from kglink.reports.review_page import review_html, review_pairs

    pairs = review_pairs(ws, limit=REVIEW_PAGE_PAIRS)
    (folder / "review.html").write_text(review_html(pairs, len(queue(ws)), title=f"kglink review queue — {day}"),
                                        encoding="utf-8")
    res.review_written = True
    (folder / "report.html").write_text(_report_html(ws, res, prev_day, prev), encoding="utf-8")
    return res


def pack_subject(ws: Workspace, f: Finding, ref: date) -> str | None:
    """Whose research pack a finding opens: the first child it names, else its first person."""
    for p in f.people:
        for r in p.records:
            row = ws.conn.execute("SELECT json_extract(data, '$.dob') FROM records WHERE kind='person' "
                                  "AND agency=? AND key=?", (r.agency, r.record_id)).fetchone()
            if row and row[0] and child_on(row[0], ref.isoformat()):
                return p.entity_id
    return f.people[0].entity_id if f.people else None


def write_packs(ws: Workspace, found: list[Finding], folder: Path, day: str, neo4j: Any = None) -> dict[str, str]:
    """One research pack (HTML) per child or person the findings name; finding id -> link."""
    from kglink.queries.runner import reference_date
    from kglink.reports.profile import ProfileError, build_profile
    from kglink.reports.render import profile_html

    ref = reference_date(ws)
    subjects = {f.id: pack_subject(ws, f, ref) for f in found}
    (folder / "packs").mkdir(parents=True, exist_ok=True)
    written: dict[str, str] = {}
    for uid in sorted({u for u in subjects.values() if u}):
        try:
            pack = build_profile(ws, uid, f"nightly report {day}", found, neo4j)
        except ProfileError:
            continue
        (folder / "packs" / f"profile-{uid}.html").write_text(profile_html(pack), encoding="utf-8")
        written[uid] = f"packs/profile-{uid}.html"
    return {fid: written[u] for fid, u in subjects.items() if u in written}


def _report_html(ws: Workspace, r: NightlyResult, prev_day: str | None, prev: dict[str, Any]) -> str:
    from kglink.linkage.review import queue
    from kglink.reports.nightly_html import REJECTS_SHOWN, ReportInput, report_html

    load_rows = []
    for rep in r.loads:
        for f in rep.files:
            load_rows.append([rep.agency, f.name, f.read, f.loaded, len(f.rejects),
                              "unchanged (already loaded)" if rep.skipped_reason else f"load {rep.load_id}"])
    rej = rejects(ws, latest_only=True)
    link_rows = [[k.kind, k.records, k.changed, k.candidate_pairs, k.links, k.review, k.entities,
                  k.multi_record_entities, f"{k.seconds:.1f}"] for k in (r.linkage.kinds if r.linkage else [])]
    synced = (f"Neo4j {r.synced.target}: {r.synced.nodes} nodes, {r.synced.relationships} relationships."
              if r.synced is not None else None)
    data = ReportInput(
        day=r.folder.name, previous_day=prev_day, findings=r.findings, new=set(r.new),
        gone=[prev[i] for i in r.gone], packs=r.packs, queue=queue(ws),
        review_page="review.html" if r.review_written else None, load_rows=load_rows,
        rejects=[[x.agency, x.file, x.row, x.column, x.reason] for x in rej[:REJECTS_SHOWN]],
        rejects_total=len(rej), link_rows=link_rows, synced=synced)
    return report_html(ws, data)
