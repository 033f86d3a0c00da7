"""The synthetic county: deterministic, valid format v1, exact truth, scenarios for every query."""
from __future__ import annotations

import csv
import json
import re
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from kglink import vocab
from kglink.synth import generate, oracle
from kglink.synth.identifiers import nhs_is_valid
from kglink.synth.styles import AGENCIES

DOCS = Path(__file__).resolve().parents[1] / "docs"
REF = date(2026, 11, 1)
QUERIES = re.findall(r"^\| `([a-z-]+)` \|", (DOCS / "queries.md").read_text(encoding="utf-8"), re.M)
PERSON_COLUMNS = ("record_id", "forenames", "surname", "dob", "sex", "aliases", "nhs_number", "pnc_id",
                  "upn", "phone", "email", "occupation")
EVENT_COLUMNS = {"record_id", "type", "occurred_at", "ended_at", "risk", "status", "reference", "description",
                 "attributes"}


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="session")
def county(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "county"
    generate(out, 2000, 20261101)
    return out


@pytest.fixture(scope="session")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "small"
    generate(out, 500, 7)
    return out


@pytest.fixture(scope="session")
def findings(county: Path) -> list[dict[str, Any]]:
    return json.loads((county / "truth" / "findings.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def truth_county(county: Path) -> oracle.County:
    return oracle.load(county)


def files_of(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# -- determinism ----------------------------------------------------------------------------
def test_same_seed_same_bytes_other_seed_differs(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate(a, 600, 42)
    generate(b, 600, 42)
    generate(c, 600, 43)
    fa, fb, fc = files_of(a), files_of(b), files_of(c)
    assert fa.keys() == fb.keys()
    assert [k for k in fa if fa[k] != fb[k]] == []
    assert fa["police/persons.csv"] != fc["police/persons.csv"]
    assert fa["truth/findings.json"] != fc["truth/findings.json"]


def test_bytes_do_not_depend_on_hash_seed(tmp_path: Path) -> None:
    """Another interpreter with another PYTHONHASHSEED writes the same bytes."""
    import os
    import subprocess
    import sys
    generate(tmp_path / "here", 300, 5)
    code = f"from pathlib import Path; from kglink.synth import generate; generate(Path({str(tmp_path / 'there')!r}), 300, 5)"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=Path(__file__).resolve().parents[1])
    assert files_of(tmp_path / "here") == files_of(tmp_path / "there")


def test_a_tiny_county_still_has_every_scenario(tmp_path: Path) -> None:
    summary = generate(tmp_path / "tiny", 1, 3)
    assert set(summary.scenarios) == set(QUERIES)
    assert "police" in str(summary) and summary.total_person_records > 100


# -- format v1 --------------------------------------------------------------------------------
def test_every_agency_has_a_manifest_and_required_columns(county: Path) -> None:
    for agency in AGENCIES:
        manifest = json.loads((county / agency / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["format"] == "kglink-extract" and manifest["version"] == 1
        assert manifest["agency"] == agency
        assert manifest["extracted_at"].startswith(REF.isoformat())
        header = (county / agency / "persons.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
        events = (county / agency / "events.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
        assert {"record_id", "surname"} <= set(header)
        assert {"record_id", "type", "occurred_at"} <= set(events)
        unknown = (set(header) - set(PERSON_COLUMNS)) | (set(events) - EVENT_COLUMNS)
        assert unknown, f"{agency} writes a column the format does not know (kept as an attribute)"


def test_the_loader_rejects_no_row(county: Path) -> None:
    from kglink.loaders.extract import read_extract
    for agency in AGENCIES:
        extract = read_extract(county / agency)
        rejects = [r for f in extract.files for r in f.rejects]
        assert rejects == [], (agency, rejects[:3])


def _parse(text: str) -> datetime:
    t = oracle.parse_time(text)
    assert t is not None
    return t


def test_vocabularies_dates_and_references(county: Path) -> None:
    for agency in AGENCIES:
        d = county / agency
        people = {r["record_id"] for r in rows(d / "persons.csv")}
        places = {r["record_id"]: r["kind"] for r in rows(d / "addresses.csv")}
        events = {r["record_id"]: r for r in rows(d / "events.csv")}
        assert len(people) == len(rows(d / "persons.csv")), "record ids unique"
        for r in rows(d / "persons.csv"):
            assert r["surname"].strip()
            if r["dob"]:
                _parse(r["dob"])
        assert set(places.values()) <= set(vocab.ADDRESS_KINDS) | {""}
        for r in rows(d / "occupancies.csv"):
            assert r["person_id"] in people and r["address_id"] in places
            assert r["relation"] in vocab.OCCUPANCY_RELATIONS
            for col in ("from_date", "to_date"):
                if r[col]:
                    assert _parse(r[col]).date() <= REF
        for r in rows(d / "relationships.csv"):
            assert r["person_id"] in people and r["other_person_id"] in people
            assert r["relation"] in vocab.PERSON_RELATIONS
        for r in events.values():
            assert r["type"] in vocab.EVENT_TYPES
            assert _parse(r["occurred_at"]).date() <= REF
            if r["ended_at"]:
                assert _parse(r["ended_at"]) <= datetime.combine(REF, datetime.min.time())
            if r["attributes"]:
                assert isinstance(json.loads(r["attributes"]), dict)
        for r in rows(d / "event_people.csv"):
            assert r["event_id"] in events and r["person_id"] in people
            assert r["role"] in vocab.EVENT_PERSON_ROLES
        for r in rows(d / "event_addresses.csv"):
            assert r["event_id"] in events and r["address_id"] in places
            assert r["role"] in vocab.EVENT_ADDRESS_ROLES
        for r in rows(d / "flags.csv"):
            assert r["person_id"] in people and r["flag"] in vocab.FLAGS
            if r["from_date"]:
                assert _parse(r["from_date"]).date() <= REF


def test_identifiers_look_real(county: Path) -> None:
    nhs = [r["nhs_number"] for r in rows(county / "health" / "persons.csv") if r["nhs_number"]]
    valid = sum(nhs_is_valid(n) for n in nhs)
    assert 0.95 * len(nhs) <= valid < len(nhs), "mostly valid, now and then a keying error"
    upns = [r["upn"] for r in rows(county / "education" / "persons.csv") if r["upn"]]
    assert upns and all(re.fullmatch(r"[A-Z]\d{12}", u) for u in upns)
    pncs = [r["pnc_id"] for r in rows(county / "police" / "persons.csv") if r["pnc_id"]]
    assert pncs and all(re.fullmatch(r"\d{4}/\d{7}[A-Z]", p) for p in pncs)
    postcodes = [r["postcode"] for r in rows(county / "police" / "addresses.csv") if r["postcode"]]
    pattern = re.compile(r"(?i)^(LU\d|MK4\d|SG1\d) ?\d[A-Z]{2}$")
    assert sum(bool(pattern.match(p)) for p in postcodes) == len(postcodes)
    assert any(" " not in p for p in postcodes) and any(p != p.upper() for p in postcodes)


def test_agencies_write_in_their_own_style(county: Path) -> None:
    police = rows(county / "police" / "persons.csv")
    assert sum(r["surname"].isupper() for r in police) > 0.6 * len(police)
    assert re.fullmatch(r"\d{2}/\d{2}/\d{4}", next(r["dob"] for r in police if r["dob"]))
    health = rows(county / "health" / "persons.csv")
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", health[0]["dob"])
    lines = [r["line1"] for r in rows(county / "police" / "addresses.csv")]
    assert any(re.match(r"Flat \d+", x) for x in lines) and any(re.match(r"\d+/\d+ ", x) for x in lines)
    assert any(re.search(r" (St|Rd|Ave)\b", x) for x in lines)
    aliases = [r["aliases"] for r in rows(county / "visor" / "persons.csv") if r["aliases"]]
    assert aliases


# -- truth ------------------------------------------------------------------------------------
def test_every_record_has_exactly_one_truth_row(county: Path) -> None:
    for kind, prefix in (("persons", "P"), ("addresses", "A")):
        truth = Counter((r["agency"], r["record_id"]) for r in rows(county / "truth" / f"{kind}.csv"))
        assert max(truth.values()) == 1
        records = Counter((a, r["record_id"]) for a in AGENCIES for r in rows(county / a / f"{kind}.csv"))
        assert truth == records
        ids = {r["true_id"] for r in rows(county / "truth" / f"{kind}.csv")}
        assert all(re.fullmatch(prefix + r"\d{7}", t) for t in ids)


def test_meta_and_summary(county: Path, tmp_path: Path) -> None:
    meta = json.loads((county / "truth" / "meta.json").read_text(encoding="utf-8"))
    assert meta["seed"] == 20261101 and meta["households"] == 2000
    assert meta["reference_date"] == REF.isoformat()
    for agency in AGENCIES:
        assert meta["records"][agency]["persons.csv"] == len(rows(county / agency / "persons.csv"))
    total = sum(meta["records"][a]["persons.csv"] for a in AGENCIES)
    assert 8_000 <= total <= 15_000
    assert meta["true_persons"] == len({r["true_id"] for r in rows(county / "truth" / "persons.csv")})


@pytest.mark.parametrize("which", ["county", "small"])
def test_every_query_has_scenarios_and_decoys(which: str, request: pytest.FixtureRequest) -> None:
    out: Path = request.getfixturevalue(which)
    items = json.loads((out / "truth" / "findings.json").read_text(encoding="utf-8"))
    assert len(QUERIES) == 11
    per: dict[str, Counter[str]] = defaultdict(Counter)
    for item in items:
        assert item["query"] in QUERIES and item["expect"] in ("finding", "no_finding")
        per[item["query"]][item["expect"]] += 1
    for q in QUERIES:
        assert per[q]["finding"] >= 3 and per[q]["no_finding"] >= 1, (q, per[q])


def test_truth_is_exactly_what_the_queries_find(findings: list[dict[str, Any]],
                                               truth_county: oracle.County) -> None:
    """Run each query on true identities: the truth lists every finding and no decoy."""
    c = truth_county
    assert c.ambiguous() == []
    for q, run in oracle.SUBJECT_QUERIES.items():
        got = run(c)
        expected = {oracle.subject_key(i) for i in findings if i["query"] == q and i["expect"] == "finding"}
        decoys = {oracle.subject_key(i) for i in findings if i["query"] == q and i["expect"] == "no_finding"}
        assert got == expected, (q, sorted(got ^ expected)[:5])
        assert not decoys & got, q


def test_likely_locations_and_repeat_missing(findings: list[dict[str, Any]], truth_county: oracle.County) -> None:
    likely = oracle.likely_locations(truth_county)
    planted = [i for i in findings if i["query"] == "missing-child-likely-locations"]
    assert {oracle.subject_key(i) for i in planted if i["expect"] == "finding"} == set(likely)
    for item in planted:
        if item["expect"] == "finding":
            assert likely[oracle.subject_key(item)] == {a["true_id"] for a in item["addresses"]}
    ranked = oracle.repeat_missing(truth_county)
    assert "ties" not in ranked
    for item in (i for i in findings if i["query"] == "repeat-missing-locations"):
        role = dict(kv.split("=") for kv in item["note"].split("; "))["role"] if item["note"] else ""
        subject = oracle.subject_key(item)[1]
        tops = {k for r in ("missing_from", "found_at", "child") for k, _ in ranked[r]}
        if item["expect"] == "finding":
            assert subject in {k for k, _ in ranked[role]}, item["scenario"]
        else:
            assert subject not in tops, item["scenario"]


def _event(county: Path, agency: str, rid: str) -> dict[str, str]:
    return next(r for r in rows(county / agency / "events.csv") if r["record_id"] == rid)


def test_scenarios_agree_with_their_records(county: Path, findings: list[dict[str, Any]]) -> None:
    by = {(i["query"], i["scenario"]): i for i in findings}
    truth = {(r["agency"], r["record_id"]): r["true_id"] for r in rows(county / "truth" / "persons.csv")}
    wanted = {truth[("police", r["person_id"])] for r in rows(county / "police" / "flags.csv")
              if r["flag"] == "wanted" and not r["to_date"]}
    for item in findings:
        if item["query"] == "wanted-with-child-access":
            subject = item["people"][0]["true_id"]
            assert (subject in wanted) == (item["scenario"] != "wanted-flag-expired")
    custody = json.loads(_event(county, "police", by[("custody-appropriate-adult-delay", "20-hour-delay")]
                                ["events"][0]["record_id"])["attributes"])
    delay = _parse(custody["appropriate_adult_arrived_at"]) - _parse(custody["detained_at"])
    assert delay == timedelta(hours=20)
    quick = json.loads(_event(county, "police", by[("custody-appropriate-adult-delay", "arrived-within-the-hour")]
                              ["events"][0]["record_id"])["attributes"])
    assert _parse(quick["appropriate_adult_arrived_at"]) - _parse(quick["detained_at"]) <= timedelta(hours=1)
    lapsed = _event(county, "police", by[("police-protection-lapsed", "no-end-recorded")]["events"][0]["record_id"])
    assert lapsed["ended_at"] == "" and "ended_at" not in json.loads(lapsed["attributes"])


def test_background_findings_are_in_the_truth(findings: list[dict[str, Any]]) -> None:
    background = Counter(i["query"] for i in findings if i["scenario"] == "background")
    assert background["sex-offenders-by-area"] >= 1
    assert set(background) <= {"sex-offenders-by-area", "domestic-abuse-prior-children"}


# -- hard negatives --------------------------------------------------------------------------
def test_hard_negatives_are_present(county: Path) -> None:
    truth = {(r["agency"], r["record_id"]): r["true_id"] for r in rows(county / "truth" / "persons.csv")}
    true_dob: dict[str, date] = {}
    for agency in AGENCIES:
        for r in rows(county / agency / "persons.csv"):
            if r["dob"]:
                true_dob.setdefault(truth[(agency, r["record_id"])], _parse(r["dob"]).date())
    homes: dict[str, set[str]] = defaultdict(set)
    atruth = {(r["agency"], r["record_id"]): r["true_id"] for r in rows(county / "truth" / "addresses.csv")}
    names: dict[str, set[str]] = defaultdict(set)
    for agency in AGENCIES:
        for r in rows(county / agency / "occupancies.csv"):
            if r["relation"] in ("lives_at", "placed_at") and not r["to_date"]:
                homes[atruth[(agency, r["address_id"])]].add(truth[(agency, r["person_id"])])
        for r in rows(county / agency / "persons.csv"):
            names[truth[(agency, r["record_id"])]].add(f"{r['forenames']} {r['surname']}".upper())
    father_son = twins = 0
    for people in homes.values():
        ps = sorted(people)
        for i, a in enumerate(ps):
            for b in ps[i + 1:]:
                if a not in true_dob or b not in true_dob:
                    continue
                same_name = names[a] & names[b]
                gap = abs((true_dob[a] - true_dob[b]).days)
                father_son += bool(same_name) and gap > 15 * 365
                twins += gap <= 2 and not same_name and \
                    {n.split()[-1] for n in names[a]} & {n.split()[-1] for n in names[b]} != set()
    assert father_son >= 2 and twins >= 2
    common = Counter(n for ns in names.values() for n in ns if n in ("JOHN SMITH", "MOHAMMED KHAN"))
    assert common["JOHN SMITH"] >= 2 and common["MOHAMMED KHAN"] >= 2


def test_police_has_duplicate_nominals(county: Path) -> None:
    truth = Counter(r["true_id"] for r in rows(county / "truth" / "persons.csv") if r["agency"] == "police")
    assert sum(1 for n in truth.values() if n > 1) >= 50
