"""Markdown and self-contained HTML for the research pack.

No external assets: the pages open from a file, offline, in any browser, and print.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from kglink.queries.findings import Finding
from kglink.reports.charts import Moment, Step, timeline, waterfall
from kglink.reports.html import (Cell, badge, esc, flag_badge, nice_date, page, picture, severity_badge,
                                 severity_rank, table_html, words)
from kglink.reports.network_svg import LEGEND, network_svg
from kglink.reports.profile import Profile

HIGH_RISK = {"high", "red", "very high"}


def sort_findings(found: list[Finding]) -> list[Finding]:
    """Severity first, then query, then the finding's subject and rank: what to read first on top,
    and one child's ranked places together."""
    return sorted(found, key=lambda f: (severity_rank(f.severity), f.query, f.unconfirmed_link, _group(f),
                                        f.rank or 0, f.id))


def _group(f: Finding) -> str:
    """What a query's ranked findings share: the event they answer (a missing episode), else
    the person they are about."""
    if f.rank is not None and f.events:
        return f"{f.events[0].agency}:{f.events[0].record_id}"
    return f.subject_entity() or ""


def finding_sources(f: Finding) -> str:
    return ", ".join(sorted({f"{e.agency}:{e.record_id}" for e in f.evidence}))


def finding_cells(f: Finding, pack: str | None = None, severity: bool = True) -> list[Any]:
    """query, severity, summary (UNCONFIRMED LINK badged), sources, and the pack's link."""
    summary = f.summary
    prefix = ""
    if f.unconfirmed_link:
        summary = summary.split("): ", 1)[-1] if summary.startswith("UNCONFIRMED LINK") else summary
        prefix = badge("UNCONFIRMED LINK", "unconfirmed", "rests on a pair awaiting review") + " "
        head = f.summary.split("): ", 1)[0] + ")" if f.summary.startswith("UNCONFIRMED LINK") else ""
        if head:
            prefix += f'<span class="note">{esc(head.replace("UNCONFIRMED LINK ", ""))}</span> '
    query = f.query + (f" #{f.rank}" if f.rank else "")
    cells: list[Any] = [Cell(esc(query), sort=f"{f.query} {f.rank or 0:04d}")]
    if severity:
        cells.append(Cell(severity_badge(f.severity), sort=severity_rank(f.severity)))
    cells += [Cell(prefix + esc(summary)), finding_sources(f)]
    if pack is not None:
        none = "not in the graph yet" if f.people else "no person named"
        cells.append(Cell(f'<a href="{esc(pack)}">research pack</a>' if pack else
                          f'<span class="note">{none}</span>'))
    return cells


def findings_table(found: list[Finding], table_id: str, packs: dict[str, str] | None = None) -> str:
    ordered = sort_findings(found)
    headers = ["query", "severity", "summary", "source records"] + (["pack"] if packs is not None else [])
    rows = [finding_cells(f, None if packs is None else packs.get(f.id, "")) for f in ordered]
    classes = [f"row-{f.severity}" + (" unconfirmed-row" if f.unconfirmed_link else "") for f in ordered]
    return table_html(headers, rows, table_id=table_id, row_classes=classes,
                      filter_label="filter: query, name, record, severity")


def findings_rows(found: list[Finding]) -> list[list[Any]]:
    return [[f.query + (f" #{f.rank}" if f.rank else ""), f.severity, f.summary, finding_sources(f)]
            for f in sort_findings(found)]


def _timeline_chart(p: Profile) -> str:
    moments = [Moment(t.when, words(t.agency), words(t.type),
                      f"{nice_date(t.when)}: {words(t.type)} ({t.agency}:{t.record_id})\n{t.who}"
                      + (f"\nroles: {words(t.roles)}" if t.roles else "")
                      + (f"\nrisk: {t.risk}" if t.risk else ""),
                      high=(t.risk or "").lower() in HIGH_RISK)
               for t in p.timeline]
    return f'<div class="chart">{timeline(moments)}</div>'


def pair_waterfall(steps: list[Any], total: float, probability: float) -> str:
    return waterfall([Step(s.label, s.detail, s.weight) for s in steps], total, probability)


def as_of_html(reference_date: str, reason: str) -> str:
    """The pack's reference date and recorded reason: all a carried-over pack changes."""
    return f"As of {esc(nice_date(reference_date))}. Reason recorded: <em>{esc(reason)}</em>."


def profile_html(p: Profile) -> str:
    s = p.subject
    flags = "".join(flag_badge(f) for f in sorted(set(s.flags)))
    counts: dict[str, int] = {}
    for f in p.findings:
        counts[f.severity] = counts.get(f.severity, 0) + 1
    cards = "".join(f'<div class="card sev-{esc(k)}"><b>{n}</b>{esc(k)} findings</div>'
                    for k, n in sorted(counts.items(), key=lambda kv: severity_rank(kv[0])))
    waterfalls = "".join(
        f'<h3>{esc(w.a)} ~ {esc(w.b)}: p = {w.probability:.3f}</h3>'
        f'<div class="chart">{pair_waterfall(w.steps, w.total, w.probability)}</div>' for w in p.pairs)
    body = [f"<h1>Research pack: {esc(s.name)} {flags}</h1>",
            f"<p>Born {esc(nice_date(s.dob) or 'unknown')} (age {esc(s.age if s.age is not None else 'unknown')}), "
            f"person entity <code>{esc(s.entity_id)}</code>. {as_of_html(p.reference_date, p.reason)}</p>",
            "<p class=note>Official-sensitive. Every fact names its source agency and record; "
            "check it in the source system before acting.</p>",
            f'<div class="cards">{cards}</div>' if cards else "",
            "<h2>Network: household, relatives and the places the findings name</h2>",
            picture(network_svg(p.network), "the child's network"), LEGEND,
            "<h2>Findings touching the child or household</h2>", findings_table(p.findings, "pack-findings"),
            "<h2>Timeline across agencies</h2>", _timeline_chart(p),
            table_html(["when", "type", "who", "role", "risk", "status", "source", "description"],
                       [[Cell(esc(nice_date(t.when)), sort=t.when), words(t.type), t.who, words(t.roles),
                         t.risk, t.status, f"{t.agency}:{t.record_id}", t.description] for t in p.timeline],
                       table_id="pack-timeline", filter_label="filter events"),
            "<h2>Linked records of the child</h2>",
            table_html(["agency", "record", "record says", "confidence", "why linked"],
                       [[r.agency, r.record_id, r.summary, f"{r.confidence:.3f}", r.why] for r in p.records]),
            waterfalls and "<h3>Why the records were linked: match weight, step by step</h3>" + waterfalls,
            "<h2>Household and relationships</h2>",
            table_html(["name", "born", "age", "connection", "flags", "sources"],
                       [[m.name, Cell(esc(nice_date(m.dob)), sort=m.dob or ""), m.age, m.relation,
                         Cell("".join(flag_badge(f) for f in m.flags)), ", ".join(m.sources)]
                        for m in p.household], table_id="pack-household"),
            "<h2>Addresses</h2>",
            table_html(["address", "kind", "records"], [[a["label"], words(a["kind"]), ", ".join(a["records"])]
                                                        for a in p.addresses]),
            "<h2>Flags</h2>",
            table_html(["who", "flag", "detail", "from", "to", "source"],
                       [[f.who, Cell(flag_badge(f.flag)), f.detail, nice_date(f.from_date), nice_date(f.to_date),
                         f"{f.agency}:{f.record_id}"] for f in p.flags])]
    return page(f"Research pack {s.entity_id}", "".join(body))


def _md_table(headers: list[str], rows: list[list[Any]]) -> str:
    def cell(x: Any) -> str:
        return ("" if x is None else str(x)).replace("|", "\\|").replace("\n", " ")
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(cell(c) for c in r) + " |" for r in rows]
    return "\n".join(out) if rows else "_none_"


def profile_markdown(p: Profile) -> str:
    s = p.subject
    parts = [f"# Research pack: {s.name}", "",
             f"Born {s.dob or 'unknown'} (age {s.age}); person entity `{s.entity_id}`; as of {p.reference_date}.",
             f"Reason recorded: {p.reason}", "",
             "## Findings touching the child or household", "",
             _md_table(["query", "severity", "summary", "sources"], findings_rows(p.findings)), "",
             "## Linked records of the child", "",
             _md_table(["agency", "record", "record says", "confidence", "why linked"],
                       [[r.agency, r.record_id, r.summary, f"{r.confidence:.3f}", r.why] for r in p.records]), "",
             "## Household and relationships", "",
             _md_table(["name", "born", "age", "connection", "flags", "sources"],
                       [[m.name, m.dob, m.age, m.relation, ", ".join(m.flags), ", ".join(m.sources)]
                        for m in p.household]), "",
             "## Flags", "",
             _md_table(["who", "flag", "detail", "from", "to", "source"],
                       [[f.who, f.flag, f.detail, f.from_date, f.to_date, f"{f.agency}:{f.record_id}"]
                        for f in p.flags]), "",
             "## Timeline across agencies", "",
             _md_table(["when", "type", "who", "role", "risk", "status", "source"],
                       [[t.when, t.type, t.who, t.roles, t.risk, t.status, f"{t.agency}:{t.record_id}"]
                        for t in p.timeline]), ""]
    return "\n".join(parts)


def write_profile(p: Profile, out: Path, fmt: str = "all") -> list[Path]:
    """profile-ID.md, .html and .json (or the one `fmt` names: markdown, html, json) in
    `out`, each written atomically and owner-only; returns the paths written."""
    import json

    from kglink.outputs import private_dir, write_atomic

    stem = f"profile-{p.subject.entity_id}"
    files = {"markdown": (f"{stem}.md", profile_markdown),
             "html": (f"{stem}.html", profile_html),
             "json": (f"{stem}.json", lambda q: json.dumps(q.model_dump(), indent=2, ensure_ascii=False))}
    written = []
    private_dir(out)
    for key, (fname, render) in files.items():
        if fmt in ("all", key):
            write_atomic(out / fname, render(p))
            written.append(out / fname)
    return written
