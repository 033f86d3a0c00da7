"""`kglink demo`: a synthetic county end to end, on the embedded store, with no server."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from kglink.queries.findings import Finding
from kglink.reports.nightly import NightlyResult

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


def run_demo(out: Path, households: int = 400, seed: int = 1, progress: Any = None,
             user: str | None = None) -> DemoResult:
    """Generate (or reuse) the county, run the nightly batch on it and write the pack of one
    child it names, through kglink.Workspace: every read audited, purpose "kglink demo"."""
    from kglink.api import Workspace
    from kglink.graph.embedded import load_graph
    from kglink.reports.render import write_profile
    from kglink.synth import generate
    from kglink.synth.truth import Truth, score

    county = out / "county"
    if not (county / "truth" / "meta.json").exists():
        generate(county, households=households, seed=seed)
    extracts = [county / a for a in AGENCIES if (county / a / "manifest.json").exists()]
    with Workspace(out / "workspace", user=user, purpose="kglink demo: synthetic data") as w:
        nightly = w.nightly(extracts, out / "reports", progress=progress)
        g = load_graph(w.store)
        day = w.reference_day() or date.today()
        ref = day.replace(year=day.year - 18).isoformat()
        child = pick_child(nightly.findings, lambda u: u in g and (g.nodes[u].get("dob") or "") > ref)
        written = write_profile(w.profile(child), out / "profiles") if child else []
        truth = score(nightly.findings, Truth.read(county)).summary()
        w._record("demo", {"households": households}, {"findings": len(nightly.findings), "profile": child})
    return DemoResult(county, out / "workspace", nightly, written, child, truth)
