"""Research pack, nightly report and review page: their structure, and the pages opened in
headless Chromium (skipped with a reason when Chromium is not installed).

Screenshots of the report, a pack and the review page go to benchmarks/out/screenshots/
(gitignored; KGLINK_SCREENSHOTS overrides) for a person to look at.
"""
from __future__ import annotations

import html as htmlmod
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kglink.reports import network_svg
from kglink.cli import app

runner = CliRunner()
REPO = Path(__file__).parent.parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# conftest: skipped with the reason when Chromium is not installed, a failure under
# KGLINK_REQUIRE_CHROMIUM=1 (.ci/run installs it, so there these tests must run)
needs_chromium = pytest.mark.chromium
SHOTS = Path(os.environ.get("KGLINK_SCREENSHOTS") or REPO / "benchmarks" / "out" / "screenshots")
DAY = "2026-11-27"


def kg(ws: Path, *args: str):  # type: ignore[no-untyped-def]
    res = runner.invoke(app, ["--workspace", str(ws), "--quiet", "--user", "tester", *args])
    assert res.exit_code == 0, res.output
    return res


# ---- Chromium --------------------------------------------------------------------------

# Run after the page's own script: measures layout and exercises the inline script, and
# writes what it found into the DOM for the test to read. Counts and ids only, no values.
CHECK = r"""
<script>(function(){
var out={},de=document.documentElement;
out.docOverflow=de.scrollWidth-de.clientWidth;
out.tablesOverflowing=[];
document.querySelectorAll('table').forEach(function(t){var p=t.parentElement;
 if(!p.classList.contains('scroll')&&t.getBoundingClientRect().right>p.getBoundingClientRect().right+1)
  out.tablesOverflowing.push(t.id||'table');});
out.textOutsideSvg=0;out.svgs=0;
document.querySelectorAll('svg[viewBox]').forEach(function(svg){var vb=svg.viewBox.baseVal;if(!vb||!vb.width||svg.closest('.legend'))return;
 out.svgs++;svg.querySelectorAll('text').forEach(function(t){var b=t.getBBox();
  if(b.width&&(b.x<vb.x-1||b.y<vb.y-1||b.x+b.width>vb.x+vb.width+1||b.y+b.height>vb.y+vb.height+1))out.textOutsideSvg++;});});
function boxes(sel){return Array.prototype.map.call(document.querySelectorAll(sel),function(e){return e.getBoundingClientRect();});}
function hit(a,b){return a.left<b.right-1&&b.left<a.right-1&&a.top<b.bottom-1&&b.top<a.bottom-1;}
var names=boxes('.picture text.name'),caps=boxes('.picture text.caption'),edges=boxes('.picture text.edge-label');
var labels=names.concat(caps);out.nameOverlaps=0;out.edgeOnName=0;
for(var i=0;i<labels.length;i++)for(var j=i+1;j<labels.length;j++)if(hit(labels[i],labels[j]))out.nameOverlaps++;
edges.forEach(function(e){labels.forEach(function(n){if(hit(e,n))out.edgeOnName++;});});
out.networkNodes=document.querySelectorAll('.picture g.node').length;
var t=document.getElementById('queue')||document.querySelector('table.sortable[data-total]');
if(t&&t.tBodies[0].rows.length>1){var col=t.tHead.rows[0].cells.length-1,th=t.tHead.rows[0].cells[col];
 function vals(){return Array.prototype.map.call(t.tBodies[0].rows,function(r){return r.cells[col].textContent;});}
 th.click();var a=vals();th.click();var d=vals();
 out.sortAscending=a.join('\u0001')===a.slice().sort(function(x,y){return x.toLowerCase()<y.toLowerCase()?-1:x.toLowerCase()>y.toLowerCase()?1:0;}).join('\u0001');
 out.sortReversed=d.join('\u0001')===a.slice().reverse().join('\u0001')||a.length<2;
 out.sortedTable=t.id;}
var inp=document.querySelector('input[data-filter]');
if(inp){var ft=document.getElementById(inp.getAttribute('data-filter')),first=ft.tBodies[0].rows[0].cells[1].textContent;
 inp.value=first;inp.dispatchEvent(new Event('input'));
 var shown=Array.prototype.filter.call(ft.tBodies[0].rows,function(r){return r.style.display!=='none';}).length;
 out.filterShown=shown;out.filterTotal=ft.tBodies[0].rows.length;
 out.filterCount=document.getElementById(ft.id+'-count').textContent;
 inp.value='';inp.dispatchEvent(new Event('input'));}
var node=document.querySelector('.picture g.node');
if(node){node.dispatchEvent(new MouseEvent('mousemove',{clientX:50,clientY:50,bubbles:true}));
 var tip=document.querySelector('.tip');out.tipShown=tip.style.display==='block'&&tip.textContent.length>0;}
var pic=document.querySelector('.picture');
if(pic){var svg=pic.querySelector('svg'),w0=svg.viewBox.baseVal.width;
 pic.querySelector('button[data-zoom="in"]').click();var w1=svg.viewBox.baseVal.width;
 pic.querySelector('button[data-zoom="reset"]').click();out.zoomed=w1<w0&&svg.viewBox.baseVal.width===w0;}
out.printStyle=Array.prototype.some.call(document.styleSheets,function(s){return Array.prototype.some.call(s.cssRules,
 function(r){return r.media&&r.media.mediaText==='print';});});
document.body.setAttribute('data-check',JSON.stringify(out));})();</script>
"""


def _flags(profile: Path) -> list[str]:
    assert CHROMIUM
    return [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--hide-scrollbars", f"--user-data-dir={profile}"]


def open_in_chromium(page: Path, tmp: Path, shot_name: str, height: int = 2400) -> dict[str, Any]:
    """The checker's findings on the page as Chromium lays it out, and a screenshot of it."""
    checked = tmp / f"checked-{page.name}"
    text = page.read_text(encoding="utf-8")
    assert text.endswith("</body></html>")
    checked.write_text(text[: -len("</body></html>")] + CHECK + "</body></html>", encoding="utf-8")
    flags = _flags(tmp / "chromium-profile") + ["--window-size=1280,1600"]
    dom = subprocess.run(flags + ["--dump-dom", checked.as_uri()], capture_output=True, text=True, timeout=180)
    found = re.search(r'data-check="([^"]*)"', dom.stdout)
    assert found, "the checker did not run: " + dom.stderr[-500:]
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = SHOTS / shot_name
    shot.unlink(missing_ok=True)
    subprocess.run(_flags(tmp / "chromium-profile") + [f"--window-size=1280,{height}", f"--screenshot={shot}",
                                                        page.as_uri()], capture_output=True, timeout=180)
    assert shot.exists() and shot.stat().st_size > 10_000
    print(f"screenshot: {shot}")
    return json.loads(htmlmod.unescape(found.group(1)))


def assert_laid_out(check: dict[str, Any]) -> None:
    assert check["docOverflow"] <= 0, "the page scrolls sideways"
    assert check["tablesOverflowing"] == []
    assert check["textOutsideSvg"] == 0, "a label is cut off at the edge of a picture"
    assert check["printStyle"]


# ---- fixtures ------------------------------------------------------------------------


@pytest.fixture
def linked_ws(sample_dir: Path, tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    kg(ws, "load", str(sample_dir / "police"), str(sample_dir / "childrens_social_care"))
    kg(ws, "link")
    return ws


@pytest.fixture(scope="module")
def county_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A synthetic county (invented people) through `kglink nightly`: report, packs, review page."""
    from kglink.synth import generate

    base = tmp_path_factory.mktemp("reports")
    county = base / "county"
    generate(county, households=400, seed=1)
    extracts = sorted(str(p) for p in county.iterdir() if (p / "manifest.json").exists())
    ws = base / "ws"
    kg(ws, "nightly", *extracts, "--out", str(base / "nightly"), "--date", DAY)
    return {"ws": ws, "folder": base / "nightly" / DAY, "base": base}


def _findings(folder: Path) -> list[Any]:
    from kglink.queries.findings import Finding

    return [Finding.model_validate(f) for f in json.loads((folder / "findings.json").read_text())]


# ---- the research pack --------------------------------------------------------------------


def test_profile_pack_renders_and_is_audited(linked_ws: Path, tmp_path: Path) -> None:
    out = tmp_path / "packs"
    kg(linked_ws, "profile", "police:P3", "--reason", "strategy meeting (test)", "--out", str(out))
    page = next(out.glob("*.html")).read_text()
    pack = json.loads(next(out.glob("*.json")).read_text())
    assert pack["subject"]["name"] == "LEAH OBRIEN"
    assert {m["name"] for m in pack["household"]} >= {"AMY OBRIEN"}
    assert any(f["query"] == "wanted-with-child-access" for f in pack["findings"])
    assert all(t["agency"] and t["record_id"] for t in pack["timeline"])
    assert "Research pack: LEAH OBRIEN" in page and "Timeline across agencies" in page
    assert "WANTED" in page                                   # the wanted carer is badged
    assert 'href="http' not in page and 'src="http' not in page and "<link" not in page   # offline
    from kglink.audit import entries
    from kglink.workspace import open_workspace

    [entry] = entries(open_workspace(linked_ws), command="profile")
    assert entry.reason == "strategy meeting (test)" and entry.user == "tester"
    assert entry.result["subject"] == pack["subject"]["entity_id"]
    assert "LEAH" not in json.dumps(entry.request) + json.dumps(entry.result)   # ids, never names


def test_a_pack_can_be_asked_for_by_the_entity_id_findings_print(linked_ws: Path, tmp_path: Path) -> None:
    by_record, by_entity = tmp_path / "r", tmp_path / "e"
    kg(linked_ws, "profile", "police:P3", "--reason", "test", "--out", str(by_record), "--format", "json")
    uid = json.loads(next(by_record.glob("*.json")).read_text())["subject"]["entity_id"]
    kg(linked_ws, "profile", uid, "--reason", "test", "--out", str(by_entity), "--format", "json")
    assert json.loads(next(by_entity.glob("*.json")).read_text())["subject"]["entity_id"] == uid
    res = runner.invoke(app, ["--workspace", str(linked_ws), "profile", "per_nobody", "--reason", "t"])
    assert res.exit_code != 0 and "no person record or entity per_nobody" in res.output


def test_the_demo_runs_end_to_end_and_writes_a_childs_pack(tmp_path: Path) -> None:
    """README's first command: `kglink demo` (it once failed at its last step, the pack)."""
    res = runner.invoke(app, ["--quiet", "demo", "--out", str(tmp_path / "demo")])
    assert res.exit_code == 0, res.output
    packs = list((tmp_path / "demo" / "profiles").glob("*.html"))
    assert packs, res.output


def test_profile_requires_a_reason(linked_ws: Path) -> None:
    res = runner.invoke(app, ["--workspace", str(linked_ws), "profile", "police:P3"])
    assert res.exit_code == 2
    assert "needs --reason" in res.output


def test_pack_picture_includes_every_place_its_findings_name(county_run: dict[str, Path]) -> None:
    from kglink.queries.service import all_findings
    from kglink.reports.network_svg import network_svg
    from kglink.reports.profile import build_profile
    from kglink.workspace import open_workspace

    ws = open_workspace(county_run["ws"])
    found = all_findings(ws)
    missing = [f for f in found if f.query == "missing-child-likely-locations"]
    assert missing
    checked = 0
    for child in sorted({f.subject_entity() for f in missing if f.subject_entity()}):
        pack = build_profile(ws, child, "test", found)
        svg = network_svg(pack.network)
        ids = set(re.findall(r'data-id="([^"]+)"', svg))
        for f in pack.findings:
            for a in f.addresses:
                assert a.entity_id in ids, (f.query, f.rank)
                checked += 1
        for e in re.findall(r'<text class="edge-label"[^>]*>([^<]*)<', svg):
            assert "_" not in e and e == e.lower(), "edge labels are words, not codes"
        assert 'marker-end="url(#kg-arrow-' in svg                 # directed relations have arrows
    assert checked >= 2 * len({f.subject_entity() for f in missing}) - 1


def test_pack_badges_flags_and_the_missing_child(county_run: dict[str, Path]) -> None:
    from kglink.queries.service import all_findings
    from kglink.reports.network_svg import network_svg
    from kglink.reports.profile import build_profile
    from kglink.workspace import open_workspace

    ws = open_workspace(county_run["ws"])
    found = all_findings(ws)
    wanted = next(f for f in found if f.query == "wanted-with-child-access")
    child = next(p.entity_id for p in wanted.people if p.role == "child")
    svg = network_svg(build_profile(ws, child, "test", found).network)
    assert 'class="badge-wanted"' in svg
    missing = next(f for f in found if f.query == "missing-child-likely-locations")
    svg = network_svg(build_profile(ws, missing.subject_entity() or "", "test", found).network)
    assert 'class="badge-missing"' in svg
    assert 'class="node node-event"' in svg                  # the missing episode itself


def _family(n_children: int) -> dict[str, Any]:
    """A synthetic network: two parents, a partner, n children, two homes."""
    nodes = [{"id": "c0", "kind": "subject", "label": "CHILD ZERO", "child": True, "relation": "the child"}]
    edges = []
    for p in ("p1", "p2"):
        nodes.append({"id": p, "kind": "person", "label": f"PARENT {p.upper()} LONGER-SURNAME", "relation": "parent"})
    nodes.append({"id": "q1", "kind": "person", "label": "NEW PARTNER", "relation": "partner of a parent or carer"})
    edges.append({"source": "p1", "target": "q1", "type": "PARTNER_OF", "label": "partner", "directed": False})
    for i in range(n_children):
        c = f"c{i}"
        if i:
            nodes.append({"id": c, "kind": "person", "label": f"SIBLING NUMBER {i}", "child": True,
                          "relation": "sibling; lives at the same address"})
            edges.append({"source": "c0", "target": c, "type": "SIBLING_OF", "label": "sibling", "directed": False})
        for p in ("p1", "p2"):
            edges.append({"source": p, "target": c, "type": "PARENT_OF", "label": "parent of", "directed": True})
        edges.append({"source": c, "target": "a1", "type": "LIVES_AT", "label": "lives at", "directed": True})
    nodes += [{"id": "a1", "kind": "address", "label": "Flat 12, 345 A Rather Long Street Name, Sometown, AB12 3CD",
               "relation": "home"},
              {"id": "a2", "kind": "address", "label": "9 Other Road, Elsewhere, XY9 8ZZ",
               "relation": "found at in a finding", "named_by_finding": True}]
    edges.append({"source": "c0", "target": "a2", "type": "FINDING", "label": "found at", "directed": True})
    return {"nodes": nodes, "edges": edges}


def test_family_layout_is_deterministic_in_rows_without_overlap() -> None:
    from kglink.reports.network_svg import _width, layout

    net = _family(5)                                      # a family of seven and a partner
    pos = layout(net)
    shuffled = {"nodes": list(reversed(net["nodes"])), "edges": list(reversed(net["edges"]))}
    assert layout(shuffled) == pos                        # input order does not move anything
    assert pos["c0"][0] == 0                              # the child in the centre
    assert pos["p1"][1] < pos["c0"][1] < pos["a1"][1]     # carers above, places below
    by_id = {n["id"]: n for n in net["nodes"]}
    for a in pos:
        for b in pos:
            if a < b and pos[a][1] == pos[b][1]:
                gap = abs(pos[a][0] - pos[b][0])
                assert gap >= (_width(by_id[a]) + _width(by_id[b])) / 2 - 0.01, (a, b)


# ---- the nightly report --------------------------------------------------------------------


def test_nightly_report_is_built_for_triage(county_run: dict[str, Path]) -> None:
    from kglink.linkage.review import queue
    from kglink.workspace import open_workspace

    folder = county_run["folder"]
    page = (folder / "report.html").read_text()
    found = _findings(folder)
    # Summary first, findings by severity, the review queue, linkage, and load accounting last.
    order = [page.index(s) for s in ('id="by-query"', 'id="sev-high"', 'id="sev-medium"', 'id="sev-low"',
                                     'id="review"', "<h2>Linkage</h2>", "Load accounting")]
    assert order == sorted(order)
    # Every finding's row sits in its severity's table; within it, queries in order.
    for sev in ("high", "medium", "low"):
        table = page[page.index(f'id="findings-{sev}"'):]
        table = table[: table.index("</table>")]
        rows = re.findall(r'<tr class="row-([a-z]+)', table)
        assert rows and set(rows) == {sev}
        assert len(rows) == sum(1 for f in found if f.severity == sev)
    assert 'class="badge sev-high"' in page                  # the severity classes are used
    unconfirmed = [f for f in found if f.unconfirmed_link]
    assert page.count('<span class="badge unconfirmed"') >= len(unconfirmed) + 1
    # Each finding naming a person links to a pack that exists; each names its records.
    packs = re.findall(r'<a href="(packs/profile-[^"]+\.html)">research pack</a>', page)
    assert len(packs) == sum(1 for f in found if f.people)
    assert all((folder / p).exists() for p in packs)
    for f in found:
        for e in f.evidence:
            assert f"{e.agency}:{e.record_id}" in page
    # The whole review queue, not the first 50.
    total = len(queue(open_workspace(county_run["ws"])))
    assert total > 50
    qtable = page[page.index('id="queue"'):]
    assert qtable[: qtable.index("</table>")].count("<tr class") == total
    assert f"{total} pairs, all listed" in page
    # The linkage charts, drawn in the page.
    for label in ("distribution of match weights", "match weight per comparison level", "cluster sizes"):
        assert label in page
    assert 'src="http' not in page and 'href="http' not in page and "<link" not in page


def test_nightly_tracks_new_still_gone(linked_ws: Path, sample_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "nightly"
    kg(linked_ws, "nightly", str(sample_dir / "police"), "--out", str(out), "--date", "2026-11-27")
    first = json.loads((out / "2026-11-27" / "changes.json").read_text())
    assert first["new"] and not first["still"] and not first["gone"]
    kg(linked_ws, "nightly", "--out", str(out), "--date", "2026-11-28")
    second = json.loads((out / "2026-11-28" / "changes.json").read_text())
    assert second["still"] == first["new"] and not second["new"]
    assert (out / "2026-11-28" / "findings.csv").read_text().startswith("id,query,severity")
    page = (out / "2026-11-28" / "report.html").read_text()
    assert f"0 new</b>" in page and "still</span>" in page


# ---- waterfalls and the review page --------------------------------------------------------


def test_stored_waterfall_is_what_linkage_scored(county_run: dict[str, Path]) -> None:
    """The picture's steps are the stored levels' weights and add up to the stored match
    weight; each comparison that needs no other record agrees with `explain`."""
    from kglink.linkage.explain import explain
    from kglink.linkage.review import queue
    from kglink.reports.waterfall import Models, stored_waterfall
    from kglink.workspace import open_workspace

    ws = open_workspace(county_run["ws"])
    models = Models(ws)
    items = queue(ws)
    pairs = [(i.kind, i.a, i.b) for i in items[:6] + items[-6:]]
    pairs += [("person", a, b) for a, b in ws.conn.execute(
        "SELECT a, b FROM links WHERE kind='person' AND status='link' ORDER BY a LIMIT 6")]
    context = {"relatives"}          # needs the linked relatives, which explain does not rebuild
    for kind, a, b in pairs:
        w = stored_waterfall(ws, kind, a, b, models)
        assert w is not None
        stored = ws.conn.execute("SELECT match_weight FROM links WHERE kind=? AND a=? AND b=?",
                                 (kind, *sorted((a, b)))).fetchone()[0]
        assert sum(s.weight for s in w.steps) == pytest.approx(stored, abs=1e-9) == w.total
        ex = explain(ws, a, b)
        assert w.steps[0].weight == pytest.approx(ex.prior_weight)
        mine = [(s.label, s.detail, s.weight) for s in w.steps[1:-1] if s.label not in context]
        theirs = [(s.comparison, s.level, s.weight) for s in ex.steps if s.comparison not in context]
        assert [m[:2] for m in mine] == [t[:2] for t in theirs]
        assert [m[2] for m in mine] == pytest.approx([t[2] for t in theirs])


def test_review_html_shows_every_pair_and_the_command_to_decide(county_run: dict[str, Path],
                                                              tmp_path: Path) -> None:
    from kglink.linkage.review import queue
    from kglink.workspace import open_workspace

    out = tmp_path / "queue.html"
    res = kg(county_run["ws"], "review", "--html", str(out))
    items = queue(open_workspace(county_run["ws"]))
    assert f"wrote {len(items)} pairs" in res.output
    page = out.read_text()
    assert page.count('<section class="item"') == len(items)
    assert page.count('aria-label="match weight waterfall"') == len(items)
    for i in items:
        for d in ("same", "different"):
            assert f"review --decide {i.a} {i.b} {d}</code>" in page
    assert "conflict: conflict" not in page and "rule:" not in page     # reasons in words
    assert page.count("<h4") == 2 * len(items)                         # both records side by side


# ---- in Chromium -------------------------------------------------------------------------


@needs_chromium
def test_nightly_report_in_chromium(county_run: dict[str, Path], tmp_path: Path) -> None:
    check = open_in_chromium(county_run["folder"] / "report.html", tmp_path, "nightly-report.png", 5000)
    assert_laid_out(check)
    assert check["svgs"] >= 6                                     # three charts per kind
    assert check["sortAscending"] and check["sortReversed"]
    assert 1 <= check["filterShown"] < check["filterTotal"]
    assert check["filterCount"] == f"showing {check['filterShown']} of {check['filterTotal']}"


@needs_chromium
def test_research_pack_in_chromium(county_run: dict[str, Path], tmp_path: Path) -> None:
    folder = county_run["folder"]
    found = _findings(folder)
    missing = next(f for f in found if f.query == "missing-child-likely-locations")
    page = folder / "packs" / f"profile-{missing.subject_entity()}.html"
    check = open_in_chromium(page, tmp_path, "research-pack-missing-child.png", 3000)
    assert_laid_out(check)
    assert check["networkNodes"] >= 3
    assert check["nameOverlaps"] == 0, "names or captions on the picture overlap"
    assert check["edgeOnName"] == 0, "a relation label covers a name"
    assert check["tipShown"] and check["zoomed"]
    wanted = next(f for f in found if f.query == "wanted-with-child-access")
    child = next(p.entity_id for p in wanted.people if p.role == "child")
    check = open_in_chromium(folder / "packs" / f"profile-{child}.html", tmp_path, "research-pack-wanted.png", 3000)
    assert_laid_out(check)
    assert check["nameOverlaps"] == 0 and check["edgeOnName"] == 0
    pdf = SHOTS / "research-pack-wanted.pdf"                       # the print style, as a file to look at
    pdf.unlink(missing_ok=True)
    subprocess.run(_flags(tmp_path / "chromium-profile") + ["--no-pdf-header-footer", f"--print-to-pdf={pdf}",
                                                            (folder / "packs" / f"profile-{child}.html").as_uri()],
                   capture_output=True, timeout=180)
    assert pdf.exists() and pdf.stat().st_size > 10_000


@needs_chromium
def test_review_page_in_chromium(county_run: dict[str, Path], tmp_path: Path) -> None:
    check = open_in_chromium(county_run["folder"] / "review.html", tmp_path, "review-page.png", 3000)
    assert_laid_out(check)
    assert check["sortAscending"] and check["sortReversed"]


@pytest.mark.parametrize("value,written", [
    ("2024-03-03", "3 Mar 2024"), ("2026-10-29T22:00:00", "29 Oct 2026 22:00"),
    ("2026-01-05T00:00:00", "5 Jan 2026"), ("", ""), (None, ""), ("not a date", "not a date"),
])
def test_dates_are_written_as_people_write_them(value: str | None, written: str) -> None:
    from kglink.reports.html import nice_date

    assert nice_date(value) == written


def test_every_reason_a_pair_waits_reads_as_words() -> None:
    from kglink.linkage.rules import MEANING
    from kglink.reports.review_page import reason_words

    for status, reason in [("review", "model"), ("conflict", "conflict"), ("unsure", "human")] + [
            ("review", r) for r in MEANING]:
        text = reason_words(status, reason)
        assert text and ":" not in text.split(" ")[0] and "rule:" not in text and "_" not in text, reason


@needs_chromium
def test_a_large_family_in_chromium(tmp_path: Path) -> None:
    """Two parents, six children, a wanted partner, two places: nothing overlaps, and the
    parents' lines meet at one junction instead of crossing."""
    from kglink.reports.html import page, picture
    from kglink.reports.network_svg import LEGEND, network_svg

    net = _family(6)
    next(n for n in net["nodes"] if n["id"] == "q1")["badges"] = ["WANTED", "RSO"]
    svg = network_svg(net)
    assert svg.count('class="family"') == 1 and ">sibling<" not in svg    # siblings hang from it
    out = tmp_path / "family.html"
    out.write_text(page("family", picture(svg, "a large family") + LEGEND), encoding="utf-8")
    check = open_in_chromium(out, tmp_path, "large-family-network.png", 900)
    assert_laid_out(check)
    assert check["networkNodes"] == 11
    assert check["nameOverlaps"] == 0 and check["edgeOnName"] == 0


def test_cluster_sizes_count_each_kinds_entities_by_their_records(county_ws: Any) -> None:
    """The report's cluster-size chart: every entity of the kind counted once, by how many
    records it has (read along the entity index)."""
    from collections import Counter

    from kglink.reports.linkage_charts import cluster_sizes

    for kind in ("person", "address"):
        members = Counter(e for (e,) in county_ws.conn.execute(
            "SELECT entity_id FROM entity_members WHERE kind = ?", (kind,)))
        sizes = Counter(members.values())
        got = dict(cluster_sizes(county_ws, kind))
        assert sum(got.values()) == len(members) > 100
        assert [got[str(n)] for n in range(1, 6)] == [sizes.get(n, 0) for n in range(1, 6)]
        assert got["1"] and got["2"]


def test_a_row_is_ordered_the_same_whatever_order_a_set_gives_the_neighbours_in() -> None:
    """Two people whose neighbours sit at the same places have one centre, and the row
    puts them in key order: the centre must not depend on the order the neighbours are
    summed in (a set of strings has the process's hash order; two nightly runs drew one
    pack's family differently)."""
    pos = {"a": (0.1, 0.0), "b": (0.2, 0.0), "c": (0.3, 0.0)}
    assert 0.1 + 0.2 + 0.3 != 0.3 + 0.2 + 0.1          # why the order matters
    nbrs = {"k1": ["a", "b", "c"], "k2": ["c", "b", "a"]}
    assert network_svg._by_neighbours(["k2", "k1"], nbrs, pos) == ["k1", "k2"]  # type: ignore[arg-type]
    nbrs = {"k1": ["c", "b", "a"], "k2": ["a", "b", "c"]}
    assert network_svg._by_neighbours(["k2", "k1"], nbrs, pos) == ["k1", "k2"]  # type: ignore[arg-type]
