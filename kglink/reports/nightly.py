"""The nightly batch: load, link, sync, run every query, and report what is new since the
previous run, what is still there and what has gone.

Each report file is written to a temporary name and renamed (outputs.write_atomic), so a
full disk or a killed run never leaves a cut-off file; an earlier run's file that cannot
be read (e.g. cut off by an older kglink) is reported in `warnings`, never fatal.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kglink.graph.schema import child_on
from kglink.linkage.run import LinkReport, link
from kglink.loaders.load import ExtractReport, load_extracts
from kglink.outputs import private_dir, write_atomic
from kglink.queries.findings import Finding, findings_json
from kglink.queries.runner import embedded_view
from kglink.queries.service import findings_for
from kglink.reports.carry import CARRY_FILE
from kglink.reports.carry import VERSION as CARRY_VERSION
from kglink.reports.carry import read as read_carried
from kglink.reports.findings import findings_csv
from kglink.workspace import Workspace
from kglink.workspace.status import rejects

if TYPE_CHECKING:
    from kglink.linkage.review import QueueItem


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
    warnings: list[str] = field(default_factory=list)
    previous_day: str | None = None
    previous: dict[str, Any] = field(default_factory=dict)
    # The embedded store's whole graph the findings were found on (graph.compact): the
    # packs take their subgraphs from it instead of reading the tables again.
    graph: Any = field(default=None, repr=False)


def previous_findings(out: Path, today: str,
                      warnings: list[str] | None = None) -> tuple[str | None, dict[str, dict[str, Any]]]:
    """The newest earlier run's findings by id. A run whose findings.json cannot be read
    is skipped (and named in `warnings`): the comparison is with the run before it."""
    runs = sorted(p.name for p in out.iterdir() if p.is_dir() and (p / "findings.json").exists()
                  and p.name < today) if out.exists() else []
    for run in reversed(runs):
        path = out / run / "findings.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return run, {f["id"]: f for f in data}
        except (OSError, UnicodeDecodeError, ValueError, TypeError, KeyError) as e:
            if warnings is not None:
                warnings.append(f"the run of {run} left an unreadable {path} ({type(e).__name__}); "
                                "compared with the run before it. Remove or restore that file")
    return None, {}


# Waterfalls on tonight's review page; `kglink review --html` writes every pair.
REVIEW_PAGE_PAIRS = 200


def run_nightly(ws: Workspace, extracts: list[Path], out: Path, *, neo4j: Any = None,
                today: date | None = None, progress: Any = None, packs: bool = True) -> NightlyResult:
    res = compute_nightly(ws, extracts, out, neo4j=neo4j, today=today, progress=progress)
    write_nightly(ws, res, out, neo4j=neo4j, packs=packs)
    return res


def compute_nightly(ws: Workspace, extracts: list[Path], out: Path, *, neo4j: Any = None,
                    today: date | None = None, progress: Any = None) -> NightlyResult:
    """Load, link, sync and run the queries; compare with the previous run. Writes no file."""
    day = (today or date.today()).isoformat()
    folder = out / day
    loads = load_extracts(ws, extracts, progress=progress) if extracts else []
    linkage = link(ws)
    synced = None
    if neo4j is not None:
        from kglink.graph.neo4j_store import sync

        synced = sync(ws, neo4j)
    view = embedded_view(ws) if neo4j is None else None
    found = findings_for(ws, neo4j, view=view)
    res = NightlyResult(folder, found, loads=loads, linkage=linkage, synced=synced,
                        graph=view.g if view is not None else None)
    prev_day, prev = previous_findings(out, day, res.warnings)
    ids = {f.id for f in found}
    res.new = sorted(ids - set(prev))
    res.still = sorted(ids & set(prev))
    res.gone = sorted(set(prev) - ids)
    res.previous_day, res.previous = prev_day, prev
    return res


def write_nightly(ws: Workspace, res: NightlyResult, out: Path, *, neo4j: Any = None,
                  packs: bool = True, carry: bool = True) -> None:
    """OUT/DAY/findings.json, findings.csv, changes.json, packs/, review.html and
    report.html, each written atomically and owner-only. `carry`: take from the previous
    run's folder what would be made the same again (reports.carry); False makes all."""
    folder, found, day = res.folder, res.findings, res.folder.name
    prev_day, prev = res.previous_day, res.previous
    private_dir(out)
    private_dir(folder)
    write_atomic(folder / "findings.json", findings_json(found))
    write_atomic(folder / "findings.csv", findings_csv(found))
    write_atomic(folder / "changes.json", json.dumps(
        {"previous_run": prev_day, "new": res.new, "still": res.still, "gone": res.gone,
         "gone_findings": [prev[i] for i in res.gone], "warnings": res.warnings},
        indent=2, ensure_ascii=False))
    # What the previous night made and tonight's report would make the same is carried
    # over from its folder (reports.carry); what tonight made is kept in this one.
    before = out / prev_day if carry and prev_day else None
    kept: dict[str, Any] = {"version": CARRY_VERSION, "packs": {}}
    if packs:
        res.packs = write_packs(ws, found, folder, day, neo4j, res.graph, before=before, kept=kept)
    res.graph = None     # the report needs it no more: let it go
    from kglink.linkage.review import queue
    from kglink.reports.review_page import review_html, review_pairs

    # The whole queue read once, for the review page's count and the report's table
    # (129k pairs at 1M: each read was 4-5 s of the next night's report).
    waiting = queue(ws)
    pairs = review_pairs(ws, limit=REVIEW_PAGE_PAIRS)
    write_atomic(folder / "review.html",
                 review_html(pairs, len(waiting), title=f"kglink review queue — {day}"))
    res.review_written = True
    write_atomic(folder / "report.html", _report_html(ws, res, prev_day, prev, waiting))
    write_atomic(folder / CARRY_FILE, json.dumps(kept, sort_keys=True))


def pack_subject(ws: Workspace, f: Finding, ref: date) -> str | None:
    """Whose research pack a finding opens: the first child it names, else its first person."""
    for p in f.people:
        for r in p.records:
            row = ws.conn.execute("SELECT json_extract(data, '$.dob') FROM records WHERE kind='person' "
                                  "AND agency=? AND key=?", (r.agency, r.record_id)).fetchone()
            if row and row[0] and child_on(row[0], ref.isoformat()):
                return p.entity_id
    return f.people[0].entity_id if f.people else None


def pack_subjects(ws: Workspace, found: list[Finding]) -> dict[str, str | None]:
    """finding id -> whose research pack it opens (known before any pack is written)."""
    from kglink.queries.runner import reference_date

    ref = reference_date(ws)
    return {f.id: pack_subject(ws, f, ref) for f in found}


def write_packs(ws: Workspace, found: list[Finding], folder: Path, day: str, neo4j: Any = None,
                graph: Any = None, before: Path | None = None,
                kept: dict[str, Any] | None = None) -> dict[str, str]:
    """One research pack (HTML) per child or person the findings name; finding id -> link.
    `graph`: the embedded graph in memory, if the caller has it (reports.profile.subgraph).
    With it, each pack's key (reports.carry.pack_key) goes into `kept`, and a pack whose
    key is the one kept in the previous night's folder `before` is carried over from it."""
    from kglink.queries.base import QueryContext
    from kglink.queries.runner import reference_date
    from kglink.reports.carry import Reads, Touching, models_text, pack_key
    from kglink.reports.profile import HOPS, HUB_DEGREE, ProfileError, build_profile
    from kglink.reports.render import as_of_html, profile_html
    from kglink.reports.waterfall import Models

    subjects = pack_subjects(ws, found)
    models = Models(ws)      # read once for every pack
    private_dir(folder / "packs")
    reason = f"nightly report {day}"
    ctx = QueryContext(reference_date(ws))
    made: dict[str, Any] = {}
    prev = read_carried(before) if graph is not None else {}
    prev_packs = prev.get("packs", {})
    swap = (as_of_html(prev.get("reference_date", ""), prev.get("reason", "")),
            as_of_html(ctx.reference_date.isoformat(), reason))
    models_txt = models_text(ws) if graph is not None else b""
    written: dict[str, str] = {}

    by_entity = Touching(found)

    def key(uid: str, hood: Any, nodes: list[str], adjacency: list[tuple[str, str]], touching: list[str]) -> str:
        return pack_key(ws, uid, hood, nodes, adjacency, set(touching), by_entity, ctx, models_txt)

    for uid in sorted({u for u in subjects.values() if u}):
        name = f"profile-{uid}.html"
        last = prev_packs.get(uid)
        # The child's neighbourhood, found once for the pack and its keys.
        hood = graph.around([uid], hops=HOPS, max_degree=HUB_DEGREE) if graph is not None else None
        if before is not None and last is not None:
            same = key(uid, hood, last["nodes"], [tuple(a) for a in last["adjacency"]], last["touching"]) == last["key"]
            text = _carried(before / "packs" / name, *swap) if same else None
            if text is not None:
                write_atomic(folder / "packs" / name, text)
                written[uid] = f"packs/{name}"
                made[uid] = last
                continue
        reads = Reads() if graph is not None else None
        try:
            pack = build_profile(ws, uid, reason, found, neo4j, models, hood, reads, by_entity)
        except ProfileError:
            continue
        write_atomic(folder / "packs" / name, profile_html(pack))
        written[uid] = f"packs/{name}"
        if reads is not None and not reads.other:
            nodes, adjacency = sorted(reads.nodes), sorted(reads.adjacency)
            touching = sorted({uid, *(m.entity_id for m in pack.household),
                               *(a["entity_id"] for a in pack.addresses)})
            made[uid] = {"key": key(uid, hood, nodes, adjacency, touching), "nodes": nodes,
                         "adjacency": adjacency, "touching": touching}
    if kept is not None and graph is not None:
        kept.update(reference_date=ctx.reference_date.isoformat(), reason=reason, packs=made)
    return {fid: written[u] for fid, u in subjects.items() if u in written}


def _carried(path: Path, old: str, new: str) -> str | None:
    """The previous night's pack with its "as of" line made tonight's (None: unreadable)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return text.replace(old, new) if text.count(old) == 1 else None


def _report_html(ws: Workspace, r: NightlyResult, prev_day: str | None, prev: dict[str, Any],
                 waiting: list[QueueItem]) -> str:
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
        gone=[prev[i] for i in r.gone], packs=r.packs, queue=waiting,
        review_page="review.html" if r.review_written else None, load_rows=load_rows,
        rejects=[[x.agency, x.file, x.row, x.column, x.reason] for x in rej[:REJECTS_SHOWN]],
        rejects_total=len(rej), link_rows=link_rows, synced=synced, warnings=r.warnings)
    return report_html(ws, data)
