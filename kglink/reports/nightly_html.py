"""report.html of the nightly run, built for triage: what is new and how serious on top,
findings grouped by severity then query, the review queue in full, the linkage charts, and
the load accounting last."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kglink.linkage.review import QueueItem
from kglink.queries.findings import Finding
from kglink.reports.html import (SEVERITY_ORDER, Cell, badge, esc, page, severity_badge, severity_rank,
                                 table_html)
from kglink.reports.linkage_charts import linkage_section
from kglink.reports.render import finding_cells, sort_findings
from kglink.reports.review_page import reason_words
from kglink.workspace import Workspace

REJECTS_SHOWN = 500


@dataclass
class ReportInput:
    day: str
    previous_day: str | None
    findings: list[Finding]
    new: set[str]
    gone: list[dict[str, Any]]
    packs: dict[str, str] = field(default_factory=dict)      # finding id -> relative link
    queue: list[QueueItem] = field(default_factory=list)
    review_page: str | None = None
    load_rows: list[list[Any]] = field(default_factory=list)
    rejects: list[list[Any]] = field(default_factory=list)
    rejects_total: int = 0
    link_rows: list[list[Any]] = field(default_factory=list)
    synced: str | None = None
    warnings: list[str] = field(default_factory=list)       # an earlier run's unreadable files


def _severities(found: list[Finding]) -> list[str]:
    seen = {f.severity for f in found}
    return [s for s in SEVERITY_ORDER if s in seen] + sorted(seen - set(SEVERITY_ORDER))


def summary_html(r: ReportInput) -> str:
    new = [f for f in r.findings if f.id in r.new]
    cards = []
    for sev in _severities(r.findings) or list(SEVERITY_ORDER):
        n_new = sum(1 for f in new if f.severity == sev)
        n_all = sum(1 for f in r.findings if f.severity == sev)
        cards.append(f'<a class="card sev-{esc(sev)}" href="#sev-{esc(sev)}" style="text-decoration:none">'
                     f"<b>{n_new} new</b>{esc(sev)} severity; {n_all} in all</a>")
    unconfirmed = sum(1 for f in r.findings if f.unconfirmed_link)
    cards.append(f'<div class="card"><b>{unconfirmed}</b>{badge("UNCONFIRMED LINK", "unconfirmed")} '
                 "rest on a pair awaiting review</div>")
    cards.append(f'<a class="card" href="#review" style="text-decoration:none;color:inherit">'
                 f"<b>{len(r.queue)}</b>pairs awaiting review</a>")
    queries = sorted({f.query for f in r.findings}, key=lambda q: (
        min(severity_rank(f.severity) for f in r.findings if f.query == q), q))
    sevs = _severities(r.findings)
    rows = []
    for q in queries:
        mine = [f for f in r.findings if f.query == q]
        row: list[Any] = [Cell(f'<a href="#q-{esc(q)}">{esc(q)}</a>', sort=q)]
        for sev in sevs:
            n_new = sum(1 for f in mine if f.severity == sev and f.id in r.new)
            n_all = sum(1 for f in mine if f.severity == sev)
            row.append(Cell(f"<b>{n_new}</b> new of {n_all}" if n_all else "", sort=n_new * 10000 + n_all,
                            cls="num"))
        row += [sum(1 for f in mine if f.id in r.new), len(mine)]
        rows.append(row)
    gone_by: dict[str, int] = {}
    for g in r.gone:
        gone_by[g["query"]] = gone_by.get(g["query"], 0) + 1
    for row, q in zip(rows, queries):
        row.append(gone_by.get(q, 0))
    headers = ["query"] + [f"{s} (new of all)" for s in sevs] + ["new", "all", "gone"]
    return (f'<div class="cards">{"".join(cards)}</div>'
            "<h2>New findings by query and severity</h2>"
            + table_html(headers, rows, table_id="by-query"))


def findings_html(r: ReportInput) -> str:
    parts = []
    for sev in _severities(r.findings):
        mine = sort_findings([f for f in r.findings if f.severity == sev])
        n_new = sum(1 for f in mine if f.id in r.new)
        parts.append(f'<h3 id="sev-{esc(sev)}">{severity_badge(sev)} {len(mine)} findings, {n_new} new</h3>')
        rows, classes, last = [], [], None
        for f in mine:
            cells = finding_cells(f, r.packs.get(f.id, ""), severity=False)
            anchor = f' id="q-{esc(f.query)}"' if f.query != last and sev == _first_sev(r.findings, f.query) else ""
            last = f.query
            status = badge("NEW", "sev-" + sev) if f.id in r.new else '<span class="note">still</span>'
            rows.append([Cell(f"<span{anchor}>{status}</span>", sort=0 if f.id in r.new else 1)] + cells)
            classes.append(f"row-{sev}" + (" unconfirmed-row" if f.unconfirmed_link else ""))
        parts.append(table_html(["", "query", "summary", "source records", "pack"], rows,
                                table_id=f"findings-{sev}", row_classes=classes,
                                filter_label="filter: query, name, record"))
    return "".join(parts) or "<p>No findings tonight.</p>"


def _first_sev(found: list[Finding], query: str) -> str:
    return min((f.severity for f in found if f.query == query), key=severity_rank)


def queue_html(r: ReportInput) -> str:
    link = (f' <a href="{esc(r.review_page)}">Open the review page</a> (each pair side by side, with its '
            "waterfall and the command that records a decision).") if r.review_page else ""
    rows = [[i.kind, i.a, i.b, Cell(f"{i.probability:.3f}", sort=f"{i.probability:.6f}", cls="num"),
             i.status, reason_words(i.status, i.reason)] for i in r.queue]
    return (f"<p>{len(r.queue)} pairs, all listed, most probable first.{link}</p>"
            + table_html(["kind", "record", "record", "probability", "status", "why it waits for a person"],
                         rows, table_id="queue", filter_label="filter pairs", scroll=True))


def report_html(ws: Workspace, r: ReportInput) -> str:
    since = f"since {esc(r.previous_day)}" if r.previous_day else "(the first run)"
    body = [
        f"<h1>kglink nightly link report — {esc(r.day)}</h1>",
        f"<p>{len(r.findings)} findings: <b>{len(r.new)} new</b>, {len(r.findings) - len(r.new)} still present, "
        f"{len(r.gone)} gone {since}.</p>",
        "<p class=note>Official-sensitive. Each finding names its source records; its research pack "
        "(the child and family) opens from the pack column. findings.json and findings.csv hold the same.</p>",
        *(f"<p class=note><b>Warning:</b> {esc(w)}</p>" for w in r.warnings),
        summary_html(r),
        "<h2>Findings, most serious first</h2>", findings_html(r),
        "<h2>Gone since the previous run</h2>",
        table_html(["query", "severity", "summary", "source records"],
                   [[g["query"], Cell(severity_badge(g["severity"]), sort=severity_rank(g["severity"])),
                     g["summary"], ", ".join(sorted({f"{e['agency']}:{e['record_id']}" for e in g["evidence"]}))]
                    for g in sorted(r.gone, key=lambda g: (severity_rank(g["severity"]), g["query"]))],
                   table_id="gone", filter_label="filter"),
        '<h2 id="review">Review queue</h2>', queue_html(r),
        "<h2>Linkage</h2>",
        table_html(["kind", "records", "relinked", "pairs compared", "links", "review queue", "entities",
                    "multi-record", "seconds"], r.link_rows),
        linkage_section(ws),
        "<h2>Load accounting</h2>",
        table_html(["agency", "file", "read", "loaded", "rejected", "load"], r.load_rows,
                   table_id="loads", filter_label="filter files"),
        "<h3>Rows set aside (each agency's latest load)</h3>",
        (f"<p class=note>showing {len(r.rejects)} of {r.rejects_total}; `kglink rejects` lists them all.</p>"
         if r.rejects_total > len(r.rejects) else ""),
        table_html(["agency", "file", "row", "column", "reason"], r.rejects, table_id="rejects",
                   filter_label="filter rows set aside", scroll=True),
    ]
    if r.synced:
        body.append(f"<p class=note>{esc(r.synced)}</p>")
    return page(f"kglink nightly {r.day}", "".join(body))
