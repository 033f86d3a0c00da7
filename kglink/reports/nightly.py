"""The nightly batch: load, link, sync, run every query, and report what is new since the
previous run, what is still there and what has gone."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from kglink.linkage.review import queue
from kglink.linkage.run import LinkReport, link
from kglink.loaders.load import ExtractReport, load_extracts
from kglink.queries.findings import Finding
from kglink.queries.service import findings_for
from kglink.reports.render import esc, findings_rows, page, table_html
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


def previous_findings(out: Path, today: str) -> tuple[str | None, dict[str, dict[str, Any]]]:
    """The newest earlier run's findings by id."""
    runs = sorted(p.name for p in out.iterdir() if p.is_dir() and (p / "findings.json").exists()
                  and p.name < today) if out.exists() else []
    if not runs:
        return None, {}
    data = json.loads((out / runs[-1] / "findings.json").read_text(encoding="utf-8"))
    return runs[-1], {f["id"]: f for f in data}


def run_nightly(ws: Workspace, extracts: list[Path], out: Path, *, neo4j: Any = None,
                today: date | None = None, progress: Any = None) -> NightlyResult:
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
    (folder / "report.html").write_text(_report_html(ws, res, prev_day, prev), encoding="utf-8")
    return res


def _report_html(ws: Workspace, r: NightlyResult, prev_day: str | None, prev: dict[str, Any]) -> str:
    by_id = {f.id: f for f in r.findings}
    new = [by_id[i] for i in r.new]
    still = [by_id[i] for i in r.still]
    gone_rows = [[g["query"], g["severity"], g["summary"], ""] for g in (prev[i] for i in r.gone)]
    load_rows = []
    for rep in r.loads:
        for f in rep.files:
            load_rows.append([rep.agency, f.name, f.read, f.loaded, len(f.rejects),
                              "unchanged (already loaded)" if rep.skipped_reason else f"load {rep.load_id}"])
    rej = rejects(ws, latest_only=True)
    link_rows = [[k.kind, k.records, k.changed, k.candidate_pairs, k.links, k.review, k.entities,
                  k.multi_record_entities, f"{k.seconds:.1f}"] for k in (r.linkage.kinds if r.linkage else [])]
    q = queue(ws, limit=50)
    counts: dict[str, int] = {}
    for finding in r.findings:
        counts[finding.query] = counts.get(finding.query, 0) + 1
    body = [
        f"<h1>kglink nightly link report — {esc(r.folder.name)}</h1>",
        f"<p>{len(r.findings)} findings: <b>{len(new)} new</b>, {len(still)} still present, "
        f"{len(r.gone)} gone since {esc(prev_day or 'the first run')}.</p>",
        "<p class=note>Official-sensitive. Each finding lists its source records; see findings.json.</p>",
        "<h2>New findings</h2>", table_html(["query", "severity", "summary", "sources"], findings_rows(new)),
        "<h2>Findings by query</h2>", table_html(["query", "findings"], [[q, n] for q, n in sorted(counts.items())]),
        "<h2>Still present</h2>", table_html(["query", "severity", "summary", "sources"], findings_rows(still)),
        "<h2>Gone since the previous run</h2>", table_html(["query", "severity", "summary", ""], gone_rows),
        "<h2>Loads</h2>", table_html(["agency", "file", "read", "loaded", "rejected", "load"], load_rows),
        "<h2>Rows set aside (each agency's latest load)</h2>",
        table_html(["agency", "file", "row", "column", "reason"],
                   [[x.agency, x.file, x.row, x.column, x.reason] for x in rej[:500]]),
        "<h2>Linkage</h2>",
        table_html(["kind", "records", "relinked", "pairs compared", "links", "review queue", "entities",
                    "multi-record", "seconds"], link_rows),
        "<h2>Review queue (most probable first)</h2>",
        table_html(["kind", "record", "record", "probability", "why queued"],
                   [[i.kind, i.a, i.b, f"{i.probability:.3f}", f"{i.status}: {i.reason}"] for i in q]),
    ]
    if r.synced is not None:
        body.append(f"<p class=note>Neo4j {esc(r.synced.target)}: {r.synced.nodes} nodes, "
                    f"{r.synced.relationships} relationships.</p>")
    return page(f"kglink nightly {r.folder.name}", "".join(body))
