"""Extracts written as Parquet load exactly as the same extracts in CSV: the same records,
the same rejects (file named as read, same row numbers, columns and reasons). Every
person here is synthetic."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kglink.loaders.extract import ExtractError, read_extract
from kglink.loaders.load import load_extracts
from kglink.workspace import open_workspace
from kglink.workspace.status import rejects

pa = pytest.importorskip("pyarrow", reason="reading Parquet extracts needs pyarrow (the parquet extra)")
import pyarrow.csv as pacsv  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402


def as_parquet(src: Path, dst: Path) -> Path:
    """The extract with every CSV written as Parquet, every column a string column."""
    dst.mkdir(parents=True)
    shutil.copy(src / "manifest.json", dst / "manifest.json")
    for f in sorted(src.glob("*.csv")):
        with f.open(encoding="utf-8") as fh:
            header = fh.readline().rstrip("\r\n").split(",")
        table = pacsv.read_csv(f, convert_options=pacsv.ConvertOptions(
            column_types={c: pa.string() for c in header}, strings_can_be_null=False))
        pq.write_table(table, dst / (f.stem + ".parquet"))
    return dst


def _records(ws_path: Path) -> list[tuple[object, ...]]:
    ws = open_workspace(ws_path, create=False)
    rows = sorted((kind, key, str(data)) for kind, key, data in
                  [(k, key, d) for kind in ("person", "address", "event") for k, key, d in ws.records(kind)])
    ws.close()
    return rows  # type: ignore[return-value]


def test_a_parquet_extract_loads_as_its_csv(sample_dir: Path, tmp_path: Path) -> None:
    for agency in ("police", "childrens_social_care"):
        as_parquet(sample_dir / agency, tmp_path / "pq" / agency)
    csv_ws, pq_ws = tmp_path / "csv-ws", tmp_path / "pq-ws"
    load_extracts(open_workspace(csv_ws), [sample_dir / "police", sample_dir / "childrens_social_care"])
    load_extracts(open_workspace(pq_ws), [tmp_path / "pq" / "police", tmp_path / "pq" / "childrens_social_care"])
    assert _records(pq_ws) == _records(csv_ws)
    assert len(_records(pq_ws)) > 10


def test_bad_rows_in_parquet_are_rejected_as_in_csv(bad_dir: Path, tmp_path: Path) -> None:
    # The bad rows whose values are wrong (a row of the wrong width is CSV's own problem,
    # which a Parquet file cannot have).
    src = tmp_path / "csv"
    src.mkdir()
    shutil.copy(bad_dir / "police" / "manifest.json", src / "manifest.json")
    lines = (bad_dir / "police" / "persons.csv").read_text(encoding="utf-8").splitlines()
    width = lines[0].count(",")
    (src / "persons.csv").write_text("\n".join(ln for ln in lines if ln.count(",") == width) + "\n",
                                     encoding="utf-8")
    as_parquet(src, tmp_path / "pq")
    from_csv = read_extract(src)
    from_pq = read_extract(tmp_path / "pq")
    csv_rejects = [(r.row, r.column, r.reason) for f in from_csv.files for r in f.rejects]
    pq_rejects = [(r.row, r.column, r.reason) for f in from_pq.files for r in f.rejects]
    assert csv_rejects and pq_rejects == csv_rejects
    assert {r.file for f in from_pq.files for r in f.rejects} == {"persons.parquet"}
    assert [f.loaded for f in from_pq.files] == [f.loaded for f in from_csv.files]
    ws = open_workspace(tmp_path / "ws")
    load_extracts(ws, [tmp_path / "pq"])
    assert {r.file for r in rejects(ws)} == {"persons.parquet"}


def test_a_file_in_both_forms_or_with_a_column_that_is_not_text_is_refused(
        sample_dir: Path, tmp_path: Path) -> None:
    both = as_parquet(sample_dir / "police", tmp_path / "both")
    shutil.copy(sample_dir / "police" / "persons.csv", both / "persons.csv")
    with pytest.raises(ExtractError, match="holds both persons.csv and persons.parquet. Keep one of them"):
        read_extract(both)
    odd = as_parquet(sample_dir / "police", tmp_path / "odd")
    table = pq.read_table(odd / "persons.parquet")
    table = table.append_column("photo", pa.array([b"\x00"] * table.num_rows, pa.binary()))
    pq.write_table(table, odd / "persons.parquet")
    with pytest.raises(ExtractError, match="column photo is binary, which is not text"):
        read_extract(odd)
