"""County styles: the kglink style is the county of before, byte for byte; the varied style
draws its parameters from the seed, shapes its county by them, and keeps the truth exact."""
from __future__ import annotations

import csv
import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from conftest import county_extracts
from kglink.cli import app
from kglink.synth import generate, oracle
from kglink.synth.county_style import KGLINK, style_for, varied
from kglink.synth.pools import NamePools
from kglink.synth.styles import AGENCIES

# The digest of generate(out, 300, 5) as main wrote it before styles existed (commit a58d019).
# The kglink style must go on writing exactly that county.
KGLINK_300_5 = "be981c35b1ed0b36bb3dcd43d76e8b7f2425721048701cb7ea1e61b671dffa67"
# Two varied seeds whose drawn styles are far apart on the shapes measured below.
SEED_A, SEED_B = 3, 4


def digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file():
            h.update(f"{p.relative_to(root).as_posix()}\0{hashlib.sha256(p.read_bytes()).hexdigest()}\n".encode())
    return h.hexdigest()


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def counties(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    root = tmp_path_factory.mktemp("styled")
    out = {}
    for seed in (SEED_A, SEED_B):
        out[seed] = root / f"varied{seed}"
        generate(out[seed], 300, seed, style="varied")
    out[0] = root / "kglink"
    generate(out[0], 300, SEED_A)
    return out


def shapes(county: Path) -> dict[str, float]:
    """What a reader of the extracts can measure of a county's style."""
    police = rows(county / "police" / "persons.csv")
    homes = {r["person_id"] for r in rows(county / "police" / "occupancies.csv")
             if r["relation"] in ("lives_at", "registered_at", "placed_at")}
    carers = {r["person_id"] for r in rows(county / "education" / "relationships.csv")
              if r["relation"] in ("parent_of", "carer_of")}
    contacts = [r for r in rows(county / "education" / "persons.csv") if r["record_id"] in carers]
    truth = {(r["agency"], r["record_id"]): r["true_id"] for r in rows(county / "truth" / "persons.csv")}
    surname: dict[str, str] = {}
    for agency in AGENCIES:
        for r in rows(county / agency / "persons.csv"):
            surname.setdefault(truth[(agency, r["record_id"])], r["surname"].upper())
    top = Counter(surname.values()).most_common(10)
    return {"police_no_home": sum(r["record_id"] not in homes for r in police) / len(police),
            "contacts_no_dob": sum(not r["dob"] for r in contacts) / len(contacts),
            "top10_surnames": sum(n for _, n in top) / len(surname)}


# -- the kglink style -------------------------------------------------------------------------
def test_kglink_style_is_the_county_of_before(tmp_path: Path) -> None:
    generate(tmp_path / "implicit", 300, 5)
    generate(tmp_path / "explicit", 300, 5, style="kglink")
    assert digest(tmp_path / "implicit") == digest(tmp_path / "explicit") == KGLINK_300_5
    assert "style" not in json.loads((tmp_path / "explicit" / "truth" / "meta.json").read_text(encoding="utf-8"))


def test_unknown_style_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown style"):
        generate(tmp_path / "x", 10, 1, style="plain")
    res = CliRunner().invoke(app, ["synth", str(tmp_path / "y"), "--households", "5", "--style", "plain"])
    assert res.exit_code == 2
    assert "Error: unknown style 'plain'. Use one of: kglink, varied" in res.output


def test_cli_writes_a_varied_county(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["synth", str(tmp_path / "c"), "--households", "2", "--seed", "5",
                                   "--style", "varied"])
    assert res.exit_code == 0, res.output
    meta = json.loads((tmp_path / "c" / "truth" / "meta.json").read_text(encoding="utf-8"))
    assert meta["style"]["name"] == "varied" and meta["style"]["seed"] == 5


# -- the varied style: drawn from the seed ------------------------------------------------------
def test_varied_seeds_draw_different_styles_and_meta_records_them(counties: dict[int, Path]) -> None:
    a, b = varied(SEED_A), varied(SEED_B)
    assert a == varied(SEED_A) and a != b and style_for("kglink", SEED_A) is KGLINK
    ja, jb = a.to_json(), b.to_json()
    for agency in AGENCIES:
        assert ja["agencies"][agency] != jb["agencies"][agency], agency
    assert ja["households"]["shapes"] != jb["households"]["shapes"]
    assert ja["names"] != jb["names"]
    for seed in (SEED_A, SEED_B):
        meta = json.loads((counties[seed] / "truth" / "meta.json").read_text(encoding="utf-8"))
        assert meta["style"] == json.loads(json.dumps(varied(seed).to_json()))
        assert meta["seed"] == seed and meta["households"] == 300


def test_varied_is_deterministic_per_seed_and_style(tmp_path: Path, counties: dict[int, Path]) -> None:
    generate(tmp_path / "again", 300, SEED_A, style="varied")
    assert digest(tmp_path / "again") == digest(counties[SEED_A])
    assert digest(counties[SEED_A]) != digest(counties[0])      # same seed, other style


def test_styles_shape_what_the_extracts_show(counties: dict[int, Path]) -> None:
    a, b, k = shapes(counties[SEED_A]), shapes(counties[SEED_B]), shapes(counties[0])
    sa, sb = varied(SEED_A), varied(SEED_B)
    # the kglink county records every police nominal with a home; a varied one does not
    assert k["police_no_home"] == 0.0 and a["police_no_home"] > 0.0 and b["police_no_home"] > 0.0
    pa, pb = sa.agency("police").party_home_missing, sb.agency("police").party_home_missing
    assert abs(pa - pb) > 0.1 and (a["police_no_home"] < b["police_no_home"]) == (pa < pb)
    # pupils' contacts without a date of birth, as often as the style says
    for measured, style in ((a, sa), (b, sb), (k, KGLINK)):
        assert abs(measured["contacts_no_dob"] - style.agency("education").contact_dob_missing) < 0.08
    # a heavier head of the surname distribution: the ten commonest surnames cover more people
    za, zb = sa.names.surname_zipf, sb.names.surname_zipf
    assert abs(za - zb) > 0.15 and (a["top10_surnames"] < b["top10_surnames"]) == (za < zb)


def test_varied_dates_and_record_ids_follow_each_agency_style(counties: dict[int, Path]) -> None:
    for seed in (SEED_A, SEED_B):
        style = varied(seed)
        for agency in AGENCIES:
            ag = style.agency(agency)
            persons = rows(counties[seed] / agency / "persons.csv")
            assert persons[0]["record_id"] == ag.person_id(1)
            dob = next(r["dob"] for r in persons if r["dob"])
            assert (dob[2] == ag.date_sep) if ag.uk_dates else (dob[4] == "-"), (agency, seed)


def test_name_pools_grow_with_the_county() -> None:
    style = varied(SEED_A).names
    small, large = NamePools(style, 1000, _rng()), NamePools(style, 100_000, _rng())
    for community in ("white_british", "pakistani", "polish"):
        assert len(small.surnames[community]) < len(large.surnames[community])
        assert len(set(large.surnames[community])) == len(large.surnames[community])
    fixed_small, fixed_large = NamePools(KGLINK.names, 1000, _rng()), NamePools(KGLINK.names, 100_000, _rng())
    assert fixed_small.surnames == fixed_large.surnames


def _rng() -> Any:
    from random import Random
    return Random(1)


# -- the truth stays exact in every style -------------------------------------------------------
@pytest.mark.parametrize("seed", [SEED_A, SEED_B])
def test_varied_truth_is_exact(seed: int, counties: dict[int, Path]) -> None:
    from kglink.loaders.extract import read_extract
    county = counties[seed]
    for agency in AGENCIES:
        extract = read_extract(county / agency)
        assert [r for f in extract.files for r in f.rejects] == [], agency
    for kind in ("persons", "addresses"):
        truth = Counter((r["agency"], r["record_id"]) for r in rows(county / "truth" / f"{kind}.csv"))
        records = Counter((a, r["record_id"]) for a in AGENCIES for r in rows(county / a / f"{kind}.csv"))
        assert truth == records and max(truth.values()) == 1
    findings = json.loads((county / "truth" / "findings.json").read_text(encoding="utf-8"))
    c = oracle.load(county)
    assert c.ambiguous() == []
    for q, run in oracle.SUBJECT_QUERIES.items():
        expected = {oracle.subject_key(i) for i in findings if i["query"] == q and i["expect"] == "finding"}
        decoys = {oracle.subject_key(i) for i in findings if i["query"] == q and i["expect"] == "no_finding"}
        got = run(c)
        assert got == expected, (q, sorted(got ^ expected)[:5])
        assert not decoys & got, q


def test_planted_scenarios_are_findable_in_a_varied_county(counties: dict[int, Path], tmp_path: Path) -> None:
    """With true linkage, kglink's queries find every planted scenario and flag no decoy."""
    from kglink.queries.runner import run_embedded
    from kglink.loaders.load import load_extracts
    from kglink.synth.truth import Truth, apply_true_linkage, score
    from kglink.workspace import open_workspace

    county = counties[SEED_B]
    ws = open_workspace(tmp_path / "ws")
    load_extracts(ws, county_extracts(county))
    truth = Truth.read(county)
    apply_true_linkage(ws, truth)
    result = score(run_embedded(ws), truth)
    assert not result.missed, [(m["query"], m["scenario"]) for m in result.missed]
    assert not result.decoys_flagged, [(m["query"], m["scenario"]) for m in result.decoys_flagged]
