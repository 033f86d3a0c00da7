"""Markdown and self-contained HTML for the research pack and the nightly report.

No external assets: the pages open from a file, offline, in any browser.
"""
from __future__ import annotations

import html
import math
from typing import Any

import networkx as nx

from kglink.queries.findings import Finding
from kglink.reports.profile import Profile

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;max-width:1100px;color:#1d2330}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ccd}
table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{border:1px solid #dde;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f2f4f8}.sev-high,.sev-very.high,.sev-red{color:#a40000;font-weight:600}.sev-medium,.sev-amber{color:#9a5b00}
.note{color:#556;font-size:.85rem}.badge{display:inline-block;padding:0 .4rem;border-radius:.3rem;background:#eef}
svg text{font-size:11px;font-family:inherit}
"""


def esc(x: Any) -> str:
    return html.escape("" if x is None else str(x))


def table_html(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body or '<tr><td colspan=99>none</td></tr>'}</tbody></table>"


def page(title: str, body: str) -> str:
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{esc(title)}</title>"
            f"<style>{_CSS}</style></head><body>{body}</body></html>")


def network_svg(network: dict[str, Any], width: int = 900, height: int = 520) -> str:
    """The household's network drawn with a seeded spring layout, as inline SVG."""
    g = nx.Graph()
    for n in network["nodes"]:
        g.add_node(n["id"])
    for e in network["edges"]:
        g.add_edge(e["source"], e["target"])
    if not g:
        return "<p class=note>no network to draw</p>"
    pos = nx.spring_layout(g, seed=7, k=1.5 / math.sqrt(max(len(g), 1)))
    xs = [p[0] for p in pos.values()] or [0]
    ys = [p[1] for p in pos.values()] or [0]

    def sx(x: float) -> float:
        return 60 + (x - min(xs)) / ((max(xs) - min(xs)) or 1) * (width - 300)

    def sy(y: float) -> float:
        return 40 + (y - min(ys)) / ((max(ys) - min(ys)) or 1) * (height - 80)

    colour = {"subject": "#c62828", "person": "#1565c0", "address": "#2e7d32"}
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'role="img" aria-label="household network">']
    for e in network["edges"]:
        a, b = pos[e["source"]], pos[e["target"]]
        mx, my = (sx(a[0]) + sx(b[0])) / 2, (sy(a[1]) + sy(b[1])) / 2
        parts.append(f'<line x1="{sx(a[0]):.1f}" y1="{sy(a[1]):.1f}" x2="{sx(b[0]):.1f}" y2="{sy(b[1]):.1f}" '
                     f'stroke="#99a" stroke-width="1.5"/><text x="{mx:.1f}" y="{my:.1f}" fill="#667">'
                     f'{esc(e["type"].lower())}</text>')
    for n in network["nodes"]:
        x, y = pos[n["id"]]
        c = colour.get(n["kind"], "#555")
        shape = (f'<rect x="{sx(x) - 8:.1f}" y="{sy(y) - 8:.1f}" width="16" height="16" fill="{c}"/>'
                 if n["kind"] == "address" else
                 f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="{12 if n["kind"] == "subject" else 9}" '
                 f'fill="{c}" stroke="{"#f9a825" if n.get("child") else "none"}" stroke-width="3"/>')
        parts.append(shape + f'<text x="{sx(x) + 14:.1f}" y="{sy(y) + 4:.1f}">{esc(n["label"])}</text>')
    parts.append("</svg>")
    legend = ("<p class=note>red: the child; blue: people (a gold ring marks a child); "
              "green squares: addresses</p>")
    return "".join(parts) + legend


def findings_rows(found: list[Finding]) -> list[list[Any]]:
    return [[f.query + (f" #{f.rank}" if f.rank else ""), f.severity, f.summary,
             ", ".join(sorted({f"{e.agency}:{e.record_id}" for e in f.evidence}))] for f in found]


def profile_html(p: Profile) -> str:
    s = p.subject
    body = [f"<h1>Research pack: {esc(s.name)}</h1>",
            f"<p>Born {esc(s.dob or 'unknown')} (age {esc(s.age)}), person entity <code>{esc(s.entity_id)}</code>. "
            f"As of {esc(p.reference_date)}. Reason recorded: <em>{esc(p.reason)}</em>.</p>",
            "<p class=note>Official-sensitive. Every fact names its source agency and record; "
            "check it in the source system before acting.</p>",
            "<h2>Household network</h2>", network_svg(p.network),
            "<h2>Findings touching the child or household</h2>",
            table_html(["query", "severity", "summary", "sources"], findings_rows(p.findings)),
            "<h2>Linked records of the child</h2>",
            table_html(["agency", "record", "record says", "confidence", "why linked"],
                       [[r.agency, r.record_id, r.summary, f"{r.confidence:.3f}", r.why] for r in p.records]),
            "<h2>Household and relationships</h2>",
            table_html(["name", "born", "age", "connection", "flags", "sources"],
                       [[m.name, m.dob, m.age, m.relation, ", ".join(m.flags), ", ".join(m.sources)]
                        for m in p.household]),
            "<h2>Addresses</h2>",
            table_html(["address", "kind", "records"], [[a["label"], a["kind"], ", ".join(a["records"])]
                                                        for a in p.addresses]),
            "<h2>Flags</h2>",
            table_html(["who", "flag", "detail", "from", "to", "source"],
                       [[f.who, f.flag, f.detail, f.from_date, f.to_date, f"{f.agency}:{f.record_id}"]
                        for f in p.flags]),
            "<h2>Timeline across agencies</h2>",
            table_html(["when", "type", "who", "role", "risk", "status", "source", "description"],
                       [[t.when, t.type, t.who, t.roles, t.risk, t.status, f"{t.agency}:{t.record_id}",
                         t.description] for t in p.timeline])]
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
