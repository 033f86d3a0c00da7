"""The research pack's network as inline SVG, laid out in rows like a family chart.

Parents, carers and their partners on top; the child at the centre of the middle row with
siblings, household and other people beside; events the findings name below; addresses at
the bottom. Order in a row follows the rows above (so lines cross little), and the layout
depends only on the data: the same pack draws the same picture.
"""
from __future__ import annotations

import math
import textwrap
from typing import Any

from kglink.reports.charts import CHAR
from kglink.reports.html import esc, nice_date

NAME_CHAR = 7.6                # px per character of the 12px bold names
WRAP = 24                      # characters per label line
ROW_GAP = 200
EDGE_STYLE = {                 # colour, dash
    "PARENT_OF": ("#37474f", ""), "CARER_OF": ("#37474f", "6,3"), "SIBLING_OF": ("#5c6bc0", "2,3"),
    "PARTNER_OF": ("#ad1457", ""), "EX_PARTNER_OF": ("#ad1457", "6,3"), "HOUSEHOLD_MEMBER": ("#78909c", "2,3"),
    "ASSOCIATE_OF": ("#b45f06", "6,3"), "INVOLVED_IN": ("#6a1b9a", ""), "OCCURRED_AT": ("#6a1b9a", ""),
    "FINDING": ("#c62828", "6,3"),
}
PLACE_STYLE = ("#2e7d32", "")
HOME_TYPES = ("LIVES_AT", "PLACED_AT", "REGISTERED_AT")
BADGE_COLOUR = {"WANTED": "#4a148c", "RSO": "#4a148c", "SHPO": "#4a148c", "MISSING": "#0d47a1",
                "DA PERP": "#b71c1c"}


def _elder(n: dict[str, Any]) -> bool:
    rel = n.get("relation", "")
    return n["kind"] == "person" and any(w in rel for w in ("parent", "carer"))


def _row(n: dict[str, Any]) -> int:
    if n["kind"] == "address":
        return 3
    if n["kind"] == "event":
        return 2
    return 0 if _elder(n) else 1


def _lines(n: dict[str, Any]) -> list[str]:
    label = str(n.get("label") or n["id"])
    if n["kind"] == "address":
        parts: list[str] = []
        for bit in label.split(", "):
            if parts and len(parts[-1]) + len(bit) + 2 <= WRAP:
                parts[-1] += ", " + bit
            else:
                parts.extend(textwrap.wrap(bit, WRAP) or [bit])
        return parts
    return textwrap.wrap(label, WRAP) or [label]


# The one connection a caption shows (the hover and the tables give them all), strongest first.
CAPTION_ORDER = ("the child", "parent", "carer", "sibling", "partner of a parent", "partner", "child",
                 "household", "lives at the same address", "associate")


def _primary(relation: str) -> str:
    parts = [r.strip() for r in relation.split(";") if r.strip()]
    for word in CAPTION_ORDER:
        for r in parts:
            if r == word or r.startswith(word):
                return "same home" if r == "lives at the same address" else r
    return parts[0] if parts else ""


def _caption(n: dict[str, Any]) -> str:
    if n["kind"] in ("subject", "person"):
        from kglink.reports.html import words

        age = "" if n.get("age") is None else f"age {n['age']}"
        rel = _primary(n.get("relation", ""))
        home = "same home" if "lives at the same address" in n.get("relation", "") and rel != "same home" else ""
        return ", ".join(x for x in (age, words(rel) if "_" in rel else rel, home) if x)
    if n["kind"] == "event":
        return nice_date(n.get("when"))
    return n.get("relation", "")


def _width(n: dict[str, Any]) -> float:
    longest = max([len(x) * NAME_CHAR for x in _lines(n)] + [len(_caption(n)) * CHAR])
    return max(150.0, longest + 40)


def layout(network: dict[str, Any]) -> dict[str, tuple[float, float]]:
    """x, y of every node: rows, the child at (0, row 1), each row ordered by its neighbours above."""
    nodes = {n["id"]: n for n in network["nodes"]}
    subject = next((n["id"] for n in network["nodes"] if n["kind"] == "subject"), None)
    nbrs: dict[str, set[str]] = {k: set() for k in nodes}
    for e in network["edges"]:
        if e["source"] in nodes and e["target"] in nodes:
            nbrs[e["source"]].add(e["target"])
            nbrs[e["target"]].add(e["source"])
    rows: dict[int, list[str]] = {}
    for k in sorted(nodes, key=lambda k: (str(nodes[k].get("label")), k)):
        rows.setdefault(_row(nodes[k]), []).append(k)
    pos: dict[str, tuple[float, float]] = {}
    # Middle row: the child in the centre; the people closest to the household next to it.
    peers = [k for k in rows.get(1, []) if k != subject]
    peers.sort(key=lambda k: ("finding" in nodes[k].get("relation", ""), -len(nbrs[k]), str(nodes[k]["label"]), k))
    order: list[str] = [subject] if subject else []
    for i, k in enumerate(peers):
        order = order + [k] if i % 2 == 0 else [k] + order
    level = {r: i for i, r in enumerate(sorted(set(rows) | {1}))}     # no empty rows
    _place(order, nodes, level[1], pos, centre_on=subject)
    if 0 in rows:
        _place(_by_neighbours(rows[0], nbrs, pos), nodes, level[0], pos)
    for r in (2, 3):
        if r in rows:
            _place(_by_neighbours(rows[r], nbrs, pos), nodes, level[r], pos)
    return pos


def _by_neighbours(keys: list[str], nbrs: dict[str, set[str]], pos: dict[str, tuple[float, float]]) -> list[str]:
    def centre(k: str) -> float:
        # fsum: the same centre whatever order the set gives the neighbours in (a plain sum
        # of floats depends on it, and a set of strings' order on the process's hash seed:
        # two runs drew one pack's family differently)
        xs = [pos[m][0] for m in nbrs[k] if m in pos]
        return math.fsum(xs) / len(xs) if xs else 1e9
    return sorted(keys, key=lambda k: (centre(k), k))


def _place(order: list[str], nodes: dict[str, dict[str, Any]], row: int,
           pos: dict[str, tuple[float, float]], centre_on: str | None = None) -> None:
    widths = [_width(nodes[k]) for k in order]
    xs, x = [], 0.0
    for w in widths:
        xs.append(x + w / 2)
        x += w
    shift = xs[order.index(centre_on)] if centre_on in order else x / 2
    y = row * ROW_GAP
    for k, cx in zip(order, xs):
        pos[k] = (cx - shift, y)


def _radius(n: dict[str, Any]) -> float:
    return {"subject": 22.0, "person": 16.0, "address": 17.0, "event": 13.0}.get(n["kind"], 14.0)


def _icon(n: dict[str, Any], x: float, y: float) -> str:
    kind = n["kind"]
    if kind == "address":
        ring = ('<circle cx="{x:.1f}" cy="{y:.1f}" r="23" fill="none" stroke="#c62828" stroke-width="2" '
                'stroke-dasharray="4,3"/>').format(x=x, y=y) if n.get("named_by_finding") else ""
        return ring + (f'<path d="M{x - 15:.1f},{y - 1:.1f} L{x:.1f},{y - 16:.1f} L{x + 15:.1f},{y - 1:.1f} '
                       f'L{x + 11:.1f},{y - 1:.1f} L{x + 11:.1f},{y + 14:.1f} L{x - 11:.1f},{y + 14:.1f} '
                       f'L{x - 11:.1f},{y - 1:.1f} Z" fill="#2e7d32" stroke="#fff" stroke-width="1.5"/>'
                       f'<rect x="{x - 3:.1f}" y="{y + 5:.1f}" width="6" height="9" fill="#fff"/>')
    if kind == "event":
        return (f'<path d="M{x:.1f},{y - 14:.1f} L{x + 14:.1f},{y:.1f} L{x:.1f},{y + 14:.1f} L{x - 14:.1f},{y:.1f} Z" '
                f'fill="#6a1b9a" stroke="#fff" stroke-width="1.5"/>'
                f'<text x="{x:.1f}" y="{y + 4:.1f}" text-anchor="middle" fill="#fff" font-weight="700">!</text>')
    r = _radius(n)
    fill = "#c62828" if kind == "subject" else ("#4fa3e0" if n.get("child") else "#1565c0")
    ring = (f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r + 3:.1f}" fill="none" stroke="#f9a825" stroke-width="3"/>'
            if n.get("child") else "")
    s = r / 16
    glyph = (f'<circle cx="{x:.1f}" cy="{y - 4 * s:.1f}" r="{5 * s:.1f}" fill="#fff"/>'
             f'<path d="M{x - 9 * s:.1f},{y + 11 * s:.1f} Q{x:.1f},{y - 3 * s:.1f} {x + 9 * s:.1f},{y + 11 * s:.1f} Z" '
             f'fill="#fff"/>')
    return ring + f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{fill}"/>' + glyph


def _badges(n: dict[str, Any], x: float, y: float) -> str:
    out, items = [], n.get("badges") or []
    widths = [len(b) * 6.6 + 10 for b in items]
    bx = x - (sum(widths) + 4 * (len(items) - 1)) / 2
    top = y - _radius(n) - 22
    for b, w in zip(items, widths):
        out.append(f'<g class="badge-{esc(b.lower().replace(" ", "-"))}"><rect x="{bx:.1f}" y="{top:.1f}" '
                   f'width="{w:.1f}" height="16" rx="8" fill="{BADGE_COLOUR.get(b, "#37474f")}"/>'
                   f'<text x="{bx + w / 2:.1f}" y="{top + 12:.1f}" text-anchor="middle" fill="#fff" '
                   f'font-size="10" font-weight="700">{esc(b)}</text></g>')
        bx += w + 4
    return "".join(out)


def _tip(n: dict[str, Any]) -> str:
    from kglink.reports.html import words

    bits = [str(n.get("label", ""))]
    if n["kind"] in ("subject", "person"):
        bits.append(f"connection: {n.get('relation', '')}")
        if n.get("dob"):
            bits.append(f"born {nice_date(n['dob'])}")
        if n.get("flags"):
            bits.append("flags: " + ", ".join(words(f) for f in n["flags"]))
    elif n["kind"] == "address":
        bits.append(f"{n.get('relation', '')}; {words(n.get('address_kind')) or 'kind unknown'}")
    else:
        bits.append(nice_date(n.get("when")))
    if n.get("records"):
        bits.append("records: " + ", ".join(n["records"][:8]) + (" ..." if len(n["records"]) > 8 else ""))
    return "\n".join(b for b in bits if b)


def network_svg(network: dict[str, Any]) -> str:
    """The picture, with a legend; pan, zoom and hover come from the page's script."""
    nodes = {n["id"]: n for n in network["nodes"]}
    if not nodes:
        return '<p class="note">no network to draw</p>'
    pos = layout(network)
    subject = next((k for k, n in nodes.items() if n["kind"] == "subject"), None)
    core = {k for k, n in nodes.items() if n["kind"] == "subject" or _elder(n)}
    child_homes = {e["target"] for e in network["edges"] if e["source"] == subject and e["type"] in HOME_TYPES}
    edges = [e for e in network["edges"] if e["source"] in pos and e["target"] in pos
             and not (nodes[e["source"]]["kind"] == nodes[e["target"]]["kind"] == "person"
                      and not {e["source"], e["target"]} & core)
             and not (e["type"] in HOME_TYPES and e["source"] != subject and e["target"] in child_homes)]
    drawn = {e["source"] for e in edges} | {e["target"] for e in edges}
    edges += [e for e in network["edges"] if e["type"] in HOME_TYPES and e["source"] not in drawn
              and e["target"] in pos]           # a person with no other line keeps the one home
    colours = sorted({EDGE_STYLE.get(e["type"], PLACE_STYLE)[0] for e in edges})
    defs = "".join(f'<marker id="kg-arrow-{i}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
                   f'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{c}"/></marker>'
                   for i, c in enumerate(colours))
    lines, labels = [], []
    bend: list[tuple[float, float]] = []           # each curve's furthest point, for the frame
    pair_count: dict[tuple[str, str], int] = {}
    edges, family_svg = _families(edges, pos, nodes, colours)
    lines += family_svg
    for e in edges:
        a, b = e["source"], e["target"]
        (x1, y1), (x2, y2) = pos[a], pos[b]
        key = (min(a, b), max(a, b))
        k = pair_count.get(key, 0)
        pair_count[key] = k + 1
        colour, dash = EDGE_STYLE.get(e["type"], PLACE_STYLE)
        ra, rb = _radius(nodes[a]) + 3, _radius(nodes[b]) + 6
        if y2 > y1 + 1:                # leaving downwards: start below the name, not through it
            y1, ra = y1 + _below(nodes[a]), 2
        elif y1 > y2 + 1:
            y2, rb = y2 + _below(nodes[b]), 6
        if abs(y1 - y2) < 1:           # same row: an arc above the nodes between them
            lift = 40 + 0.18 * abs(x2 - x1) + 18 * k
            cx, cy = (x1 + x2) / 2, y1 - lift
        skip = abs(y2 - y1) > ROW_GAP * 1.5
        if abs(y1 - y2) >= 1:          # a row skipped: bend round the nodes between
            side = 1 if (x2 - x1) > 0 or (x2 == x1 and a < b) else -1
            cx, cy = (x1 + x2) / 2 + 30 * k + (side * 110 if skip else 0), (y1 + y2) / 2
        sx, sy = _towards(x1, y1, cx, cy, ra)
        ex, ey = _towards(x2, y2, cx, cy, rb)
        arrow = f' marker-end="url(#kg-arrow-{colours.index(colour)})"' if e.get("directed") else ""
        tip = f"{nodes[a].get('label')} — {e['label']} — {nodes[b].get('label')}"
        d = f"M{sx:.1f},{sy:.1f} Q{cx:.1f},{cy:.1f} {ex:.1f},{ey:.1f}"
        bend.append(((sx + 2 * cx + ex) / 4, (sy + 2 * cy + ey) / 4))
        lines.append(f'<g data-tip="{esc(tip)}"><title>{esc(tip)}</title>'
                     f'<path d="{d}" fill="none" stroke="transparent" stroke-width="10"/>'
                     f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="1.7"'
                     f'{f" stroke-dasharray={chr(34)}{dash}{chr(34)}" if dash else ""}{arrow}/></g>')
        if subject in (a, b) or e["type"] in ("FINDING", "OCCURRED_AT", "INVOLVED_IN") or a in core and b in core:
            t = 0.78 if skip else 0.5   # a long bend's middle passes the row it skips
            lx = (1 - t) ** 2 * sx + 2 * (1 - t) * t * cx + t * t * ex
            ly = (1 - t) ** 2 * sy + 2 * (1 - t) * t * cy + t * t * ey
            labels.append(f'<text class="edge-label" x="{lx:.1f}" y="{ly + 4:.1f}" text-anchor="middle" '
                          f'fill="{colour}" stroke="#fcfcfe" stroke-width="4" paint-order="stroke" '
                          f'font-size="11">{esc(e["label"])}</text>')
    shapes = []
    xs, ys = [], []
    for k, n in nodes.items():
        x, y = pos[k]
        ls = _lines(n)
        cap = _caption(n)
        r = _radius(n)
        text = "".join(f'<tspan x="{x:.1f}" dy="{0 if i == 0 else 14}">{esc(s)}</tspan>' for i, s in enumerate(ls))
        cap_y = y + r + 16 + 14 * len(ls)
        weight = ' font-weight="700"' if n["kind"] == "subject" else ' font-weight="600"'
        shapes.append(f'<g class="node node-{n["kind"]}" data-id="{esc(k)}" data-tip="{esc(_tip(n))}">'
                      f'<title>{esc(_tip(n))}</title>' + _icon(n, x, y) + _badges(n, x, y)
                      + f'<text class="name" x="{x:.1f}" y="{y + r + 16:.1f}" text-anchor="middle" '
                        f'font-size="12"{weight} stroke="#fcfcfe" stroke-width="3" paint-order="stroke">{text}</text>'
                      + (f'<text class="caption" x="{x:.1f}" y="{cap_y:.1f}" text-anchor="middle" fill="#5a6170" '
                         f'font-size="11">{esc(cap)}</text>' if cap else "") + "</g>")
        half = _width(n) / 2
        xs += [x - half, x + half]
        ys += [y - r - 30, cap_y + 8]
    xs += [bx for bx, _ in bend]
    ys += [by - 16 for _, by in bend]
    x0, y0 = min(xs) - 20, min(ys) - 10
    w, h = max(xs) - x0 + 20, max(ys) - y0 + 10
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{x0:.0f} {y0:.0f} {w:.0f} {h:.0f}" '
           f'role="img" aria-label="the child\'s network" font-family="system-ui,sans-serif" font-size="12" '
           f'style="max-height:{max(420, min(900, h)):.0f}px">'
           f"<defs>{defs}</defs>" + "".join(lines) + "".join(shapes) + "".join(labels) + "</svg>")
    return svg


def _families(edges: list[dict[str, Any]], pos: dict[str, tuple[float, float]], nodes: dict[str, dict[str, Any]],
              colours: list[str]) -> tuple[list[dict[str, Any]], list[str]]:
    """Children with the same parents, drawn as a family chart does: each parent to one
    junction, the junction to each child. Two parents and five children make seven lines,
    not ten crossing ones. Returns the edges left to draw one by one, and the drawing."""
    parents: dict[str, set[str]] = {}
    for e in edges:
        if e["type"] == "PARENT_OF" and pos[e["target"]][1] > pos[e["source"]][1] + 1:
            parents.setdefault(e["target"], set()).add(e["source"])
    groups: dict[frozenset[str], list[str]] = {}
    for child, mine in parents.items():
        groups.setdefault(frozenset(mine), []).append(child)
    grouped = {(p, c) for ps, cs in groups.items() if len(cs) > 1 for p in ps for c in cs}
    colour = EDGE_STYLE["PARENT_OF"][0]
    arrow = f' marker-end="url(#kg-arrow-{colours.index(colour)})"' if colour in colours else ""
    out = []
    for ps, cs in sorted(groups.items(), key=lambda g: sorted(g[1])):
        if len(cs) < 2:
            continue
        top = max(pos[p][1] + _below(nodes[p]) for p in ps)
        bottom = min(pos[c][1] for c in cs) - 60
        jx = math.fsum(pos[p][0] for p in ps) / len(ps)   # fsum: whatever the set's order
        jy = top + (bottom - top) * 0.55
        who = ", ".join(str(nodes[p].get("label")) for p in sorted(ps))
        kids = ", ".join(str(nodes[c].get("label")) for c in sorted(cs))
        tip = esc(f"{who} — parent of — {kids}")
        parts = [f'<path d="M{pos[p][0]:.1f},{pos[p][1] + _below(nodes[p]):.1f} L{jx:.1f},{jy:.1f}" fill="none" '
                 f'stroke="{colour}" stroke-width="1.7"/>' for p in sorted(ps)]
        for c in sorted(cs):
            ex, ey = _towards(pos[c][0], pos[c][1], jx, jy, _radius(nodes[c]) + 6)
            parts.append(f'<path d="M{jx:.1f},{jy:.1f} L{ex:.1f},{ey:.1f}" fill="none" stroke="{colour}" '
                         f'stroke-width="1.7"{arrow}/>')
        parts.append(f'<circle cx="{jx:.1f}" cy="{jy:.1f}" r="4" fill="{colour}"/>'
                     f'<text class="edge-label" x="{jx + 8:.1f}" y="{jy - 6:.1f}" fill="{colour}" stroke="#fcfcfe" '
                     f'stroke-width="4" paint-order="stroke" font-size="11">parents of</text>')
        out.append(f'<g class="family" data-tip="{tip}"><title>{tip}</title>' + "".join(parts) + "</g>")
    family = {c: ps for ps, cs in groups.items() if len(cs) > 1 for c in cs}
    rest = [e for e in edges if not (e["type"] == "PARENT_OF" and (e["source"], e["target"]) in grouped)
            and not (e["type"] == "SIBLING_OF" and e["source"] in family     # shown by the junction
                     and family[e["source"]] == family.get(e["target"]))]
    return rest, out


def _below(n: dict[str, Any]) -> float:
    """How far below a node's centre its name and caption end."""
    return _radius(n) + 8 + 14 * len(_lines(n)) + (14 if _caption(n) else 0)


def _towards(x: float, y: float, tx: float, ty: float, r: float) -> tuple[float, float]:
    """The point r along the way from (x, y) towards (tx, ty)."""
    dx, dy = tx - x, ty - y
    d = (dx * dx + dy * dy) ** 0.5 or 1.0
    return x + dx / d * r, y + dy / d * r


LEGEND = (
    '<div class="legend">'
    '<span><svg width="16" height="16"><circle cx="8" cy="8" r="7" fill="#c62828"/></svg>the child</span>'
    '<span><svg width="16" height="16"><circle cx="8" cy="8" r="7" fill="#1565c0"/></svg>adult</span>'
    '<span><svg width="18" height="18"><circle cx="9" cy="9" r="6" fill="#4fa3e0" stroke="#f9a825" '
    'stroke-width="2.5"/></svg>child</span>'
    '<span><svg width="16" height="16"><path d="M1,8 L8,1 L15,8 L13,8 L13,15 L3,15 L3,8 Z" fill="#2e7d32"/>'
    '</svg>address (red dashed ring: named in a finding)</span>'
    '<span><svg width="16" height="16"><path d="M8,1 L15,8 L8,15 L1,8 Z" fill="#6a1b9a"/></svg>event in a finding</span>'
    '<span><svg width="40" height="10"><line x1="0" y1="5" x2="40" y2="5" stroke="#37474f" stroke-width="2"/>'
    '</svg>parent or carer of (arrow to the child; children of the same parents hang from one junction)</span>'
    '<span><svg width="40" height="10"><line x1="0" y1="5" x2="40" y2="5" stroke="#2e7d32" stroke-width="2"/>'
    '</svg>lives, placed or registered at</span>'
    '<span><svg width="40" height="10"><line x1="0" y1="5" x2="40" y2="5" stroke="#c62828" stroke-width="2" '
    'stroke-dasharray="6,3"/></svg>named in a finding</span>'
    "</div><p class=\"note\">Drag to move, wheel or buttons to zoom, hover for details and records. "
    "Not drawn, to keep the picture clear (the tables below list them): links between two people who "
    "are neither the child nor a parent or carer, and the lines from people marked \u201csame home\u201d "
    "to the child's home.</p>"
)
