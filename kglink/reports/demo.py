"""`kglink demo`: a synthetic county end to end, on the embedded store, with no server."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kglink.queries.findings import Finding
from kglink.reports.nightly import NightlyResult, run_nightly
from kglink.workspace import open_workspace

AGENCIES = ("police", "childrens_social_care", "education", "health", "visor", "marac", "nca")


@dataclass
class DemoResult:
    county: Path
    workspace: Path
    nightly: NightlyResult
    profile: list[Path]
    child: str | None
    truth_score: str


def pick_child(findings: list[Finding], is_child: Any) -> str | None:
    """A child named in a finding: the first by query name and finding id."""
    for f in sorted(findings, key=lambda f: (f.severity != "high", f.query, f.id)):
        for p in f.people:
            if is_child(p.entity_id):
                return p.entity_id
    return None


def run_demo(out: Path, households: int = 400, seed: int = 1, progress: Any = None) -> DemoResult:
    from kglink.graph.embedded import load_graph
    from kglink.queries.runner import reference_date
    from kglink.queries.service import all_findings
    from kglink.reports.profile import build_profile
    from kglink.reports.render import profile_html, profile_markdown
    from kglink.synth import generate

    county = out / "county"
    if not (county / "truth" / "meta.json").exists():
        generate(county, households=households, seed=seed)
    ws = open_workspace(out / "workspace")
    extracts = [county / a for a in AGENCIES if (county / a / "manifest.json").exists()]
    nightly = run_nightly(ws, extracts, out / "reports", progress=progress)
    g = load_graph(ws)
    ref = reference_date(ws).replace(year=reference_date(ws).year - 18).isoformat()
    child = pick_child(nightly.findings, lambda u: u in g and (g.nodes[u].get("dob") or "") > ref)
    written: list[Path] = []
    if child:
        pack = build_profile(ws, child, "kglink demo: synthetic data", all_findings(ws))
        packs = out / "profiles"
        packs.mkdir(parents=True, exist_ok=True)
        for suffix, text in ((".md", profile_markdown(pack)), (".html", profile_html(pack)),
                             (".json", pack.model_dump_json(indent=2))):
            path = packs / f"profile-{child}{suffix}"
            path.write_text(text, encoding="utf-8")
            written.append(path)
    from kglink.synth.truth import Truth, score

    truth = score(nightly.findings, Truth.read(county)).summary()
    ws.close()
    return DemoResult(county, out / "workspace", nightly, written, child, truth)
