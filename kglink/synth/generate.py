"""generate(): write a synthetic county, one extract per agency, and its truth."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

from kglink.synth import bg_family, bg_police, offenders
from kglink.synth.county_style import style_for
from kglink.synth.households import make_household
from kglink.synth.model import age_on
from kglink.synth.scenarios import SCENARIOS
from kglink.synth.scope import Scope
from kglink.synth.world import World


@dataclass(frozen=True)
class SynthSummary:
    out_dir: str
    households: int
    seed: int
    reference_date: str
    records: dict[str, dict[str, int]]          # agency -> file -> rows
    true_persons: int
    true_addresses: int
    scenarios: dict[str, dict[str, int]]        # query -> {"finding": n, "no_finding": n}
    hard_negatives: dict[str, int]
    style: str = "kglink"

    @property
    def person_records(self) -> dict[str, int]:
        return {agency: files["persons.csv"] for agency, files in self.records.items()}

    @property
    def total_person_records(self) -> int:
        return sum(self.person_records.values())

    def __str__(self) -> str:
        per = ", ".join(f"{agency} {n:,}" for agency, n in self.person_records.items())
        planted = ", ".join(f"{q} {c['finding']}/{c['no_finding']}" for q, c in self.scenarios.items())
        hard = ", ".join(f"{k} {n}" for k, n in self.hard_negatives.items())
        return (f"person records: {per} (total {self.total_person_records:,})\n"
                f"true persons {self.true_persons:,}, true addresses {self.true_addresses:,}\n"
                f"findings/decoys planted: {planted}\n"
                f"hard negatives: {hard}")


def generate(out_dir: Path, households: int, seed: int,
             reference_date: date = date(2026, 11, 1), style: str = "kglink") -> SynthSummary:
    """Write OUT_DIR/<agency>/ extracts and OUT_DIR/truth/; byte-for-byte the same per
    (seed, style). `style` is "kglink" (the county kglink has always made) or "varied"
    (every style parameter drawn from the seed; see county_style)."""
    if households < 1:
        raise ValueError("households must be at least 1")
    county_style = style_for(style, seed)
    out_dir = Path(out_dir)
    w = World(out_dir, seed, households, reference_date, county_style)
    plants = list(SCENARIOS)
    slots = sorted(w.rng.randrange(households + 1) for _ in plants)
    j = 0
    for i in range(households):
        while j < len(plants) and slots[j] <= i:
            plants[j](w)
            j += 1
        background_household(w)
    for plant in plants[j:]:
        plant(w)
    records = w.close()
    findings = [f.to_json() for f in w.findings]
    truth = out_dir / "truth"
    (truth / "findings.json").write_text(json.dumps(findings, indent=1, ensure_ascii=False) + "\n",
                                         encoding="utf-8")
    summary = SynthSummary(str(out_dir), households, seed, reference_date.isoformat(), records,
                           w.true_persons, w.true_addresses, _count(findings),
                           dict(sorted(w.hard_negatives.items())), style)
    meta = asdict(summary)
    del meta["out_dir"], meta["style"]
    if style != "kglink":          # the kglink style's meta.json is as it always was
        meta["style"] = county_style.to_json()
    (truth / "meta.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    return summary


def _count(findings: list[dict[str, object]]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for f in findings:
        q = out.setdefault(str(f["query"]), {"finding": 0, "no_finding": 0})
        q[str(f["expect"])] += 1
    return dict(sorted(out.items()))


def background_household(w: World) -> None:
    """One ordinary household, as every agency that would know it records it."""
    rng = w.rng
    hh = make_household(w)
    s = Scope(w)
    ages = [age_on(p.dob, w.ref) for p in hh.members]
    alone_man = hh.shape == "alone" and hh.members[0].sex == "M" and ages[0] >= 25
    is_rso = alone_man and rng.random() < 0.008
    is_nca = hh.shape == "alone" and not is_rso and rng.random() < 0.003
    if is_rso or is_nca:
        hh.members[0].occupation = "self-employed"     # never a job with children
    referred = bg_family.social_care(s, hh)
    bg_family.education(s, hh, referred)
    bg_family.health(s, hh)
    bg_police.police(s, hh)
    if is_rso:
        offenders.background_rso(s, hh)
    elif is_nca:
        offenders.background_nca(s, hh)
    if hh.shape == "couple" and rng.random() < 0.02:
        bg_family.foster_applicant(s, hh.members[rng.randrange(2)])
    s.close()
