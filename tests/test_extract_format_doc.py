"""docs/extract-format.md and the loader stay in step: every file, column, required column
and closed value the loader accepts is documented, and nothing else is; the example
extract in the page loads without a reject."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from kglink import vocab
from kglink.loaders import records
from kglink.loaders.extract import FILES, read_extract

DOC = Path(__file__).resolve().parent.parent / "docs" / "extract-format.md"
TEXT = DOC.read_text(encoding="utf-8")

# Model fields the loader works out itself rather than reading from a column.
DERIVED = {"nhs_number_valid", "postcode_valid"}
# Which closed list each documented "Values of ..." table must equal.
VOCABULARIES = {
    ("manifest.json", "agency"): vocab.KNOWN_AGENCIES,
    ("addresses.csv", "kind"): vocab.ADDRESS_KINDS,
    ("occupancies.csv", "relation"): vocab.OCCUPANCY_RELATIONS,
    ("relationships.csv", "relation"): vocab.PERSON_RELATIONS,
    ("events.csv", "type"): vocab.EVENT_TYPES,
    ("event_people.csv", "role"): vocab.EVENT_PERSON_ROLES,
    ("event_addresses.csv", "role"): vocab.EVENT_ADDRESS_ROLES,
    ("flags.csv", "flag"): vocab.FLAGS,
}


def _sections(level: str) -> dict[str, str]:
    parts = re.split(rf"^{level} (.+)$", TEXT, flags=re.M)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts), 2)}


def _cells(line: str) -> list[str]:
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]


def _first_table(body: str) -> list[list[str]]:
    rows: list[list[str]] = []
    for line in body.splitlines():
        if line.startswith("|"):
            if not set(line) <= set("|- "):
                rows.append(_cells(line))
        elif rows:
            break
    return rows[1:]   # without the header


def _columns(section: str) -> dict[str, str]:
    """column -> 'yes'/'no' from the first table of a `## FILE` section."""
    return {row[0]: row[1] for row in _first_table(_sections("##")[section])}


def _documented_values() -> dict[tuple[str, str], set[str]]:
    out: dict[tuple[str, str], set[str]] = {}
    files = [s for s in _sections("##") if s.endswith((".csv", ".json"))]
    for title, body in _sections("###").items():
        m = re.fullmatch(r"Values of (\w+)(?: in ([\w.]+))?", title)
        if not m:
            continue
        column, file = m[1], m[2]
        if file is None:
            [file] = [f for f in files if column in _columns(f)]
        out[(file, column)] = {row[0] for row in _first_table(body)}
    return out


def test_every_file_the_loader_reads_is_documented_and_no_other() -> None:
    documented = {s for s in _sections("##") if s.endswith(".csv")}
    assert documented == {spec.name for spec in FILES}


@pytest.mark.parametrize("spec", FILES, ids=lambda s: s.name)
def test_columns_and_required_columns_match_the_loader(spec) -> None:  # type: ignore[no-untyped-def]
    documented = _columns(spec.name)
    read = set(spec.model.model_fields) - DERIVED
    assert set(documented) == read, f"{spec.name}: documented vs read differ"
    assert {c for c, req in documented.items() if req == "yes"} == set(spec.required_columns)
    assert set(documented.values()) <= {"yes", "no"}


def test_derived_fields_are_not_columns_but_come_from_documented_ones() -> None:
    for name in DERIVED:
        base = name.removesuffix("_valid")
        assert any(base in spec.model.model_fields and base in _columns(spec.name) for spec in FILES)


def test_manifest_keys_match_the_manifest_model() -> None:
    documented = _columns("manifest.json")
    fields = records.Manifest.model_fields
    assert set(documented) == set(fields)
    assert {k for k, req in documented.items() if req == "yes"} == {
        k for k, f in fields.items() if f.is_required()}


def test_every_closed_vocabulary_is_documented_exactly() -> None:
    documented = _documented_values()
    assert set(documented) == set(VOCABULARIES)
    for key, values in VOCABULARIES.items():
        assert documented[key] == set(values), f"{key}: documented values differ from kglink.vocab"
    # every closed list kglink.vocab declares is one of those checked here
    lists = {name for name, v in vars(vocab).items() if name.isupper() and isinstance(v, tuple)}
    assert lists == {name for name, v in vars(vocab).items() if v in VOCABULARIES.values()}


def test_directed_relations_are_the_ones_the_page_calls_directed() -> None:
    sentence = re.search(r"Only (.+?) have a direction", TEXT)
    assert sentence and set(re.findall(r"`(\w+)`", sentence[1])) == vocab.DIRECTED_PERSON_RELATIONS


def test_parsed_event_attributes_are_documented_with_their_kind() -> None:
    table = _first_table(_sections("###")["Attributes"])
    assert {row[0] for row in table} <= set(vocab.EVENT_TYPES)
    times = {row[1] for row in table if row[2].endswith("(time)")}
    yes_no = {row[1] for row in table if row[2].endswith("(yes/no)")}
    assert times == records._DATETIME_ATTRIBUTES
    assert yes_no == records._BOOL_ATTRIBUTES


def test_the_example_extract_loads_without_a_reject(tmp_path: Path) -> None:
    example = TEXT.split("## A complete small example", 1)[1]
    files = re.findall(r"^`([\w.]+)`:\n\n```\w*\n(.*?)```", example, flags=re.M | re.S)
    folder = tmp_path / "example"
    folder.mkdir()
    for name, body in files:
        (folder / name).write_text(body, encoding="utf-8")
    assert {n for n, _ in files} == {"manifest.json"} | {spec.name for spec in FILES}
    extract = read_extract(folder)
    for f in extract.files:
        assert not f.rejects, f"{f.name}: {f.rejects}"
        assert f.loaded == f.read > 0
    assert len(extract.files) == len(FILES)


def test_the_loaders_limits_are_the_ones_the_page_gives() -> None:
    from kglink.loaders.extract import MAX_MANIFEST_BYTES, MAX_MANIFEST_DEPTH

    assert f"between {records.EARLIEST.year} and today" in TEXT
    assert f"at most {MAX_MANIFEST_BYTES // (1 << 20)} MiB of JSON, nested\nno deeper than {MAX_MANIFEST_DEPTH} levels" in TEXT
