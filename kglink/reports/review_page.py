"""The review page: each queued pair side by side (names, dates, addresses, sources), the
reason in words and the match-weight waterfall. A static page: decisions are still recorded
through kglink, with the command the page shows for each pair."""
from __future__ import annotations

import re

import json
import shlex
from dataclasses import dataclass, field
from typing import Any

from kglink.linkage.entities import split_source_key
from kglink.linkage.review import QueueItem, queue
from kglink.linkage.rules import MEANING
from kglink.reports.charts import Step, waterfall
from kglink.reports.html import esc, nice_date, page, table_html, words
from kglink.reports.waterfall import Models, stored_waterfall
from kglink.workspace import Workspace


@dataclass
class RecordCard:
    """One source record as a reviewer compares it."""
    key: str
    kind: str
    lines: list[tuple[str, str]] = field(default_factory=list)     # (what, value)


@dataclass
class ReviewPair:
    item: QueueItem
    left: RecordCard
    right: RecordCard
    reason: str
    steps: list[Step] = field(default_factory=list)
    total: float = 0.0
    probability: float = 0.0


def reason_words(status: str, reason: str) -> str:
    """Why a pair waits for a person, in words."""
    if status == "unsure":
        return "a person marked this pair unsure"
    if status == "conflict" or reason == "conflict":
        return ("the model links them, but joining them would put into one entity records the evidence "
                "rules keep apart (for example two different identifiers or dates of birth)")
    if reason == "model":
        return "the match probability is between the review and link thresholds"
    return MEANING.get(reason, words(reason.removeprefix("rule:")))


def _data(ws: Workspace, kind: str, key: str) -> tuple[dict[str, Any], str, int] | None:
    agency, rid = split_source_key(key)
    row = ws.conn.execute("SELECT data, source_file, source_row FROM records WHERE kind=? AND agency=? AND key=?",
                          (kind, agency, rid)).fetchone()
    return (json.loads(row[0]), row[1], row[2]) if row else None


def _address_text(d: dict[str, Any]) -> str:
    return ", ".join(x for x in (d.get("line1"), d.get("line2"), d.get("town"), d.get("postcode")) if x)


def record_card(ws: Workspace, kind: str, key: str) -> RecordCard:
    card = RecordCard(key, kind)
    got = _data(ws, kind, key)
    if got is None:
        card.lines.append(("record", "not loaded (withdrawn?)"))
        return card
    d, source_file, source_row = got
    agency, rid = split_source_key(key)
    if kind == "person":
        card.lines.append(("name", f"{d.get('forenames') or ''} {d.get('surname') or ''}".strip()))
        for a in d.get("aliases") or []:
            card.lines.append(("also known as", f"{a.get('forenames') or ''} {a.get('surname') or ''}".strip()))
        card.lines.append(("born", nice_date(d.get("dob")) or "unknown"))
        if d.get("sex"):
            card.lines.append(("sex", d["sex"]))
        for k in ("nhs_number", "pnc_id", "upn", "phone", "email", "occupation"):
            if d.get(k):
                card.lines.append((words(k).replace("nhs", "NHS").replace("pnc", "PNC").replace("upn", "UPN"),
                                   str(d[k])))
        lo, hi = f"{rid}|", f"{rid}|\x7f"
        for (occ,) in ws.conn.execute("SELECT data FROM records WHERE kind='occupancy' AND agency=? AND key >= ? "
                                      "AND key < ? AND status='active' ORDER BY key", (agency, lo, hi)):
            o = json.loads(occ)
            place = _data(ws, "address", f"{agency}:{o['address_id']}")
            since = f" since {nice_date(o.get('from_date'))}" if o.get("from_date") else ""
            until = f" until {nice_date(o.get('to_date'))}" if o.get("to_date") else ""
            card.lines.append((words(o.get("relation")), (_address_text(place[0]) if place else o["address_id"])
                               + since + until))
    else:
        card.lines.append(("address", _address_text(d)))
        for k in ("uprn", "kind"):
            if d.get(k):
                card.lines.append((k.upper() if k == "uprn" else "kind", words(str(d[k]))))
    card.lines.append(("source", f"{agency} record {rid} ({source_file}, row {source_row})"))
    return card


def review_pairs(ws: Workspace, kind: str | None = None, limit: int | None = None) -> list[ReviewPair]:
    from kglink.linkage.review import why_waiting

    out, models = [], Models(ws)
    items = queue(ws, kind, limit)
    # As `kglink review --list` says it, a conflict naming its two records and what keeps
    # them apart; the rule's own name is left to `kglink explain`.
    why = {pair: re.sub(r" \(rule:[a-z_]+\)", "", text) for pair, text in why_waiting(ws, items).items()}
    for it in items:
        pair = ReviewPair(it, record_card(ws, it.kind, it.a), record_card(ws, it.kind, it.b),
                          why.get((it.a, it.b)) or reason_words(it.status, it.reason))
        w = stored_waterfall(ws, it.kind, it.a, it.b, models)
        if w is not None:
            pair.steps, pair.total, pair.probability = w.steps, w.total, w.probability
        out.append(pair)
    return out


def decide_command(a: str, b: str, decision: str, workspace: str | None) -> str:
    ws = f"--workspace {shlex.quote(workspace)} " if workspace else ""
    return f"kglink {ws}review --decide {shlex.quote(a)} {shlex.quote(b)} {decision}"


def _card_html(card: RecordCard) -> str:
    rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in card.lines)
    return f'<div><h4 style="margin:.2rem 0">{esc(card.key)}</h4><table class="card-table">{rows}</table></div>'


def pair_html(p: ReviewPair, n: int, workspace: str | None) -> str:
    it = p.item
    cmds = "".join(
        f'<div class="cmd"><code>{esc(decide_command(it.a, it.b, d, workspace))}</code>'
        f'<button type="button" class="noprint" data-copy="{esc(decide_command(it.a, it.b, d, workspace))}">'
        f"copy</button></div>" for d in ("same", "different"))
    picture = (waterfall(p.steps, p.total, p.probability) if p.steps
               else '<p class="note">no model to explain this pair</p>')
    return (f'<section class="item" id="pair-{n}"><h3>{n}. {esc(it.kind)} pair: probability {it.probability:.3f} '
            f'<span class="badge">{esc(it.status)}</span></h3>'
            f"<p><b>Why it waits for a person:</b> {esc(p.reason)}.</p>"
            f'<div class="pair">{_card_html(p.left)}{_card_html(p.right)}</div>'
            f'<div class="chart">{picture}</div>'
            f"<p class=note>Record the decision in kglink (copy one; `unsure` keeps it queued):</p>{cmds}</section>")


def review_html(pairs: list[ReviewPair], total: int, workspace: str | None = None, title: str = "") -> str:
    index = table_html(
        ["#", "kind", "record", "record", "probability", "why it waits"],
        [[i, p.item.kind, p.item.a, p.item.b, f"{p.item.probability:.3f}", p.reason]
         for i, p in enumerate(pairs, 1)], table_id="review-index", filter_label="filter pairs", scroll=True)
    shown = (f"all {total} pairs" if len(pairs) == total
             else f"the first {len(pairs)} of {total} pairs (most probable first; `kglink review --html` "
                  "without --limit writes them all)")
    body = (f"<h1>{esc(title or 'kglink review queue')}</h1>"
            f"<p>{shown} awaiting a person's decision. Official-sensitive: the records are shown in full.</p>"
            "<p class=note>This page is a static picture of the queue: decisions are recorded with "
            "the kglink command shown under each pair, which records it in the audit log and relinks.</p><h2>Queue</h2>" + index
            + "<h2>Pairs</h2>" + "".join(pair_html(p, i, workspace) for i, p in enumerate(pairs, 1)))
    return page(title or "kglink review queue", body)
