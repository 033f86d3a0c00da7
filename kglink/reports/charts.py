"""Charts as inline SVG, drawn in Python: a match-weight waterfall, the distribution of match
weights, the model's weights per comparison level, cluster sizes, and a timeline across
agencies. No JavaScript library: the pictures print and open offline.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import Sequence

from kglink.reports.html import MONTHS, esc, nice_date

CHAR = 6.4                     # px per character of 11px text: enough to keep labels apart
GOOD, BAD, NEUTRAL = "#2e7d32", "#c62828", "#607d8b"
PALETTE = ("#1565c0", "#2e7d32", "#b45f06", "#6a1b9a", "#00838f", "#ad1457", "#5d4037", "#455a64", "#827717")


def weight_of(probability: float) -> float:
    """A match probability as a match weight in bits."""
    p = min(max(probability, 1e-12), 1 - 1e-12)
    return math.log2(p / (1 - p))


def _svg(width: float, height: float, label: str, body: list[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
            f'width="{width:.0f}" height="{height:.0f}" role="img" aria-label="{esc(label)}" '
            f'font-family="system-ui,sans-serif" font-size="11">' + "".join(body) + "</svg>")


def _text(x: float, y: float, s: str, anchor: str = "start", fill: str = "#1d2330", extra: str = "") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{fill}"{extra}>{esc(s)}</text>'


def _nice_step(span: float, ticks: int = 6) -> float:
    raw = span / max(ticks, 1)
    mag = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    return next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)


@dataclass
class Step:
    label: str
    detail: str
    weight: float


def waterfall(steps: Sequence[Step], total: float, probability: float, width: int = 640) -> str:
    """Splink's waterfall: each comparison moves the match weight up or down from the prior."""
    left = max([len(s.label) for s in steps] + [14]) * CHAR + 16
    right_pad = 125
    row = 22
    running, spans = 0.0, []
    for s in steps:
        spans.append((running, running + s.weight))
        running += s.weight
    lo = min([0.0, total] + [min(a, b) for a, b in spans])
    hi = max([0.0, total] + [max(a, b) for a, b in spans])
    if hi - lo < 1:
        hi += 1
    plot = width - left - right_pad

    def x(v: float) -> float:
        return left + (v - lo) / (hi - lo) * plot

    height = row * (len(steps) + 1) + 46
    body = []
    step = _nice_step(hi - lo)
    t = math.ceil(lo / step) * step
    while t <= hi + 1e-9:
        body.append(f'<line x1="{x(t):.1f}" y1="8" x2="{x(t):.1f}" y2="{height - 30}" stroke="#e3e6ee"/>'
                    + _text(x(t), height - 16, f"{t:+g}", "middle", "#5a6170"))
        t += step
    body.append(f'<line x1="{x(0):.1f}" y1="8" x2="{x(0):.1f}" y2="{height - 30}" stroke="#889"/>')
    for i, (s, (a, b)) in enumerate(zip(steps, spans)):
        y = 10 + i * row
        colour = GOOD if s.weight > 0 else BAD if s.weight < 0 else NEUTRAL
        x0, x1 = sorted((x(a), x(b)))
        tip = f"{s.label}: {s.detail}\nweight {s.weight:+.2f} bits, running total {b:+.2f}"
        body.append(f'<g data-tip="{esc(tip)}"><title>{esc(tip)}</title>'
                    + _text(left - 8, y + 14, s.label, "end")
                    + f'<rect x="{x0:.1f}" y="{y + 3}" width="{max(x1 - x0, 1.5):.1f}" height="{row - 6}" '
                      f'fill="{colour}" rx="2"/>'
                    + _text(x1 + 4, y + 14, f"{s.weight:+.1f}", fill="#5a6170") + "</g>")
        if i + 1 < len(steps):
            body.append(f'<line x1="{x(b):.1f}" y1="{y + row - 3}" x2="{x(b):.1f}" y2="{y + row + 3}" '
                        f'stroke="#889" stroke-dasharray="2,2"/>')
    y = 10 + len(steps) * row
    x0, x1 = sorted((x(0), x(total)))
    body.append(_text(left - 8, y + 14, "match weight", "end", extra=' font-weight="600"')
                + f'<rect x="{x0:.1f}" y="{y + 3}" width="{max(x1 - x0, 1.5):.1f}" height="{row - 6}" '
                  f'fill="#1d2330" rx="2"/>'
                + _text(x1 + 4, y + 14, f"{total:+.1f} (p={probability:.3f})", fill="#1d2330"))
    body.append(_text(left + plot / 2, height - 3, "match weight (bits): each step adds its weight", "middle",
                      "#5a6170"))
    return _svg(width, height, "match weight waterfall", body)


def histogram(bins: list[tuple[float, dict[str, int]]], bin_width: float, colours: dict[str, str],
              markers: list[tuple[float, str]], width: int = 720, height: int = 230,
              x_label: str = "match weight (bits)") -> str:
    """Stacked bars per bin (left edge, count per series), with labelled vertical markers."""
    if not bins:
        return '<p class="note">no pairs to draw</p>'
    left, bottom, top = 52, 36, 34
    lo = min(b for b, _ in bins)
    hi = max(b for b, _ in bins) + bin_width
    for v, _ in markers:
        lo, hi = min(lo, v - bin_width), max(hi, v + bin_width)
    peak = max(sum(c.values()) for _, c in bins) or 1
    plot_w, plot_h = width - left - 12, height - bottom - top

    def x(v: float) -> float:
        return left + (v - lo) / (hi - lo) * plot_w

    def y(n: float) -> float:
        return top + plot_h - n / peak * plot_h

    body = []
    ystep = _nice_step(peak, 4)
    t = 0.0
    while t <= peak + 1e-9:
        body.append(f'<line x1="{left}" y1="{y(t):.1f}" x2="{width - 12}" y2="{y(t):.1f}" stroke="#eceef4"/>'
                    + _text(left - 6, y(t) + 4, f"{t:g}", "end", "#5a6170"))
        t += ystep
    for start, counts in bins:
        base = 0
        for series, n in counts.items():
            if not n:
                continue
            tip = f"{start:+g} to {start + bin_width:+g} bits: {n} {series}"
            body.append(f'<rect x="{x(start) + .5:.1f}" y="{y(base + n):.1f}" '
                        f'width="{max(x(start + bin_width) - x(start) - 1, 1):.1f}" '
                        f'height="{y(base) - y(base + n):.1f}" fill="{colours.get(series, NEUTRAL)}" '
                        f'data-tip="{esc(tip)}"><title>{esc(tip)}</title></rect>')
            base += n
    xstep = _nice_step(hi - lo, 10)
    t = math.ceil(lo / xstep) * xstep
    while t <= hi + 1e-9:
        body.append(_text(x(t), height - bottom + 14, f"{t:g}", "middle", "#5a6170"))
        t += xstep
    body.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 12}" y2="{top + plot_h}" stroke="#889"/>')
    for i, (v, label) in enumerate(markers):       # labels on alternate heights: never on each other
        body.append(f'<line x1="{x(v):.1f}" y1="{top - 4 - 12 * (i % 2)}" x2="{x(v):.1f}" y2="{top + plot_h}" '
                    f'stroke="#1d2330" stroke-dasharray="4,3"/>'
                    + _text(x(v) + 3, top - 8 - 12 * (i % 2), label, fill="#1d2330"))
    body.append(_text(left + plot_w / 2, height - 6, x_label, "middle", "#5a6170"))
    return _svg(width, height, "distribution of match weights", body)


def level_weights(comparisons: list[tuple[str, list[tuple[str, float, float]]]], width: int = 860) -> str:
    """Each comparison level's match weight (log2 m/u), as Splink's match weights chart, with m and u."""
    rows = [(name, label, m, u) for name, levels in comparisons for label, m, u in levels]
    if not rows:
        return '<p class="note">no model yet</p>'
    label_w = max(len(f"{lb}") for _, lb, _, _ in rows) * CHAR + 14
    name_w = max(len(n) for n, _, _, _ in rows) * CHAR + 14
    right_w = 220
    weights = [math.log2(m / u) for _, _, m, u in rows]
    lo, hi = min(weights + [0.0]), max(weights + [0.0])
    plot = max(340.0, width - name_w - label_w - right_w)      # long level labels widen the picture
    width = int(name_w + label_w + plot + right_w)

    def x(v: float) -> float:
        return name_w + label_w + (v - lo) / ((hi - lo) or 1) * plot

    row = 18
    body, y, last = [], 18.0, None
    for (name, label, m, u), w in zip(rows, weights):
        if name != last:
            y += 8
            body.append(f'<line x1="0" y1="{y - 4:.1f}" x2="{width}" y2="{y - 4:.1f}" stroke="#e3e6ee"/>'
                        + _text(4, y + 12, name, extra=' font-weight="600"'))
            last = name
        x0, x1 = sorted((x(0), x(w)))
        tip = f"{name}: {label}\nm = {m:.4g} (matches), u = {u:.4g} (random pairs)\nweight {w:+.2f} bits"
        body.append(f'<g data-tip="{esc(tip)}"><title>{esc(tip)}</title>'
                    + _text(name_w + label_w - 6, y + 12, label, "end", "#3a4150")
                    + f'<rect x="{x0:.1f}" y="{y + 3:.1f}" width="{max(x1 - x0, 1.5):.1f}" height="{row - 6}" '
                      f'fill="{GOOD if w >= 0 else BAD}" rx="2"/>'
                    + _text(width - right_w + 6, y + 12, f"{w:+.1f}  m={m:.3g} u={u:.3g}", fill="#5a6170")
                    + "</g>")
        y += row
    axis = y + 6
    body.append(f'<line x1="{x(0):.1f}" y1="20" x2="{x(0):.1f}" y2="{axis:.1f}" stroke="#889"/>')
    step = _nice_step(hi - lo, 6)
    t = math.ceil(lo / step) * step
    while t <= hi + 1e-9:
        body.append(_text(x(t), axis + 14, f"{t:+g}", "middle", "#5a6170"))
        t += step
    body.append(_text(name_w + label_w + plot / 2, axis + 30, "match weight of the level (bits) = log2(m/u)",
                      "middle", "#5a6170"))
    return _svg(width, axis + 38, "match weight per comparison level", body)


def bars(items: list[tuple[str, int]], width: int = 720, height: int = 200, x_label: str = "",
         colour: str = "#1565c0") -> str:
    """Vertical bars with their counts, for a few categories (cluster sizes)."""
    if not items:
        return '<p class="note">nothing to draw</p>'
    left, bottom, top = 16, 36, 18
    peak = max(n for _, n in items) or 1
    slot = (width - left * 2) / len(items)
    body = []
    for i, (label, n) in enumerate(items):
        h = (height - bottom - top) * (math.log10(n + 1) / math.log10(peak + 1))
        x = left + i * slot
        tip = f"{label}: {n}"
        body.append(f'<g data-tip="{esc(tip)}"><title>{esc(tip)}</title>'
                    f'<rect x="{x + slot * .15:.1f}" y="{height - bottom - h:.1f}" width="{slot * .7:.1f}" '
                    f'height="{h:.1f}" fill="{colour}" rx="2"/>'
                    + _text(x + slot / 2, height - bottom - h - 4, str(n), "middle")
                    + _text(x + slot / 2, height - bottom + 14, label, "middle", "#5a6170") + "</g>")
    body.append(f'<line x1="{left}" y1="{height - bottom}" x2="{width - left}" y2="{height - bottom}" stroke="#889"/>')
    body.append(_text(width / 2, height - 6, x_label, "middle", "#5a6170"))
    return _svg(width, height, x_label or "bar chart", body)


@dataclass
class Moment:
    when: str                  # ISO date or date-time
    lane: str                  # the agency
    kind: str                  # the event type, in words
    tip: str                   # hover details
    high: bool = False         # high risk: drawn larger with a dark ring


def timeline(moments: list[Moment], width: int = 900) -> str:
    """One lane per agency, a mark per event at its date, coloured by the kind of event."""
    dated = [(m, d) for m in moments if (d := _day(m.when)) is not None]
    if not dated:
        return '<p class="note">no dated events</p>'
    lanes = sorted({m.lane for m, _ in dated})
    kinds = sorted({m.kind for m, _ in dated})
    colour = {k: PALETTE[i % len(PALETTE)] for i, k in enumerate(kinds)}
    first = min(d for _, d in dated)
    last = max(d for _, d in dated)
    start = date(first.year, first.month, 1)
    end = date(last.year + (last.month == 12), last.month % 12 + 1, 1)
    left = max(len(lane) for lane in lanes) * CHAR + 20
    lane_h, top = 38, 10
    plot = width - left - 20
    span = (end - start).days or 1

    def x(d: date) -> float:
        return left + (d - start).days / span * plot

    height = top + lane_h * len(lanes) + 40
    body = []
    months = (end.year - start.year) * 12 + end.month - start.month
    every = next(k for k in (1, 2, 3, 6, 12, 24, 60) if months / k <= 12)
    m = 0
    while m <= months:
        d = date(start.year + (start.month - 1 + m) // 12, (start.month - 1 + m) % 12 + 1, 1)
        label = str(d.year) if every >= 12 or d.month == 1 else MONTHS[d.month - 1]
        if every < 12 and (d.month == 1 or m == 0):
            label = f"{MONTHS[d.month - 1]} {d.year}"
        body.append(f'<line x1="{x(d):.1f}" y1="{top}" x2="{x(d):.1f}" y2="{height - 30}" stroke="#eceef4"/>'
                    + _text(x(d), height - 16, label, "middle", "#5a6170"))
        m += every
    for i, lane in enumerate(lanes):
        y = top + i * lane_h
        body.append(f'<rect x="{left}" y="{y}" width="{plot}" height="{lane_h}" fill="{"#f7f8fb" if i % 2 else "#fff"}"/>'
                    + _text(left - 8, y + lane_h / 2 + 4, lane, "end"))
    seen: dict[tuple[str, int], int] = {}
    for mo, when in sorted(dated, key=lambda t: (t[1], t[0].kind)):
        row = lanes.index(mo.lane)
        px = x(when)
        bucket = (mo.lane, int(px // 8))
        stack = seen.get(bucket, 0)
        seen[bucket] = stack + 1
        cy = top + row * lane_h + lane_h / 2 + (stack % 3 - 1) * 8
        r = 6 if mo.high else 4.5
        ring = ' stroke="#1d2330" stroke-width="2"' if mo.high else ' stroke="#fff" stroke-width="1"'
        body.append(f'<circle cx="{px:.1f}" cy="{cy:.1f}" r="{r}" fill="{colour[mo.kind]}"{ring} '
                    f'data-tip="{esc(mo.tip)}"><title>{esc(mo.tip)}</title></circle>')
    legend = "".join(f'<span><svg width="10" height="10"><circle cx="5" cy="5" r="4.5" fill="{colour[k]}"/></svg>'
                     f"{esc(k)}</span>" for k in kinds)
    legend += ('<span><svg width="12" height="12"><circle cx="6" cy="6" r="5" fill="#fff" stroke="#1d2330" '
               'stroke-width="2"/></svg>high risk</span>')
    return (_svg(width, height, "timeline across agencies", body)
            + f'<div class="legend">{legend}</div>'
            + f'<p class="note">{nice_date(first.isoformat())} to {nice_date(last.isoformat())}; '
              "hover over a mark for the record.</p>")


def _day(value: str) -> date | None:
    try:
        return datetime.fromisoformat(value).date() if len(value) > 10 else date.fromisoformat(value[:10])
    except (ValueError, TypeError):
        return None
