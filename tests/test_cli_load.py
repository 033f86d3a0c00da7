"""The load, status and rejects commands, with their exact output and error text."""
from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from kglink.cli import app

runner = CliRunner()


def kg(ws: Path, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["--workspace", str(ws), "--quiet", *args])


def test_load_prints_per_file_accounting(sample_dir: Path, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    res = kg(ws, "load", str(sample_dir / "police"), str(sample_dir / "childrens_social_care"))
    assert res.exit_code == 0, res.output
    assert "  persons.csv: 5 read = 5 loaded + 0 rejected" in res.output
    assert "  persons.csv: 3 read = 3 loaded + 0 rejected" in res.output
    again = kg(ws, "load", str(sample_dir / "police"))
    assert "already loaded as load 2; nothing changed" in again.output
    status = kg(ws, "status")
    assert status.exit_code == 0 and "police" in status.output and "Load history" in status.output


def test_rejects_command_lists_file_row_column_reason(bad_dir: Path, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    res = kg(ws, "load", str(bad_dir / "police"))
    assert res.exit_code == 0
    assert "  persons.csv: 7 read = 1 loaded + 6 rejected" in res.output
    assert "18 rows set aside: see `kglink rejects`" in res.output
    out = runner.invoke(app, ["--workspace", str(ws), "rejects"], env={"COLUMNS": "200"}).output
    assert "18 rows set aside" in out
    assert "impossible date (no such day)" in out


def test_missing_manifest_is_a_one_line_error_exit_2(sample_dir: Path, tmp_path: Path) -> None:
    (sample_dir / "police" / "manifest.json").unlink()
    res = kg(tmp_path / "ws", "load", str(sample_dir / "police"))
    assert res.exit_code == 2
    assert res.output.strip() == (
        f"Error: {sample_dir / 'police' / 'manifest.json'} is missing. Every extract needs a "
        "manifest.json (see the extract format). Nothing was loaded.")
    assert "Traceback" not in res.output


def test_unknown_format_version(sample_dir: Path, tmp_path: Path) -> None:
    mf = sample_dir / "police" / "manifest.json"
    m = json.loads(mf.read_text())
    m["version"] = 9
    mf.write_text(json.dumps(m))
    res = kg(tmp_path / "ws", "load", str(sample_dir / "police"))
    assert res.exit_code == 2
    assert "version: unknown format version; this kglink reads [1]. Fix the manifest" in res.output


def test_status_without_workspace_says_what_to_do(tmp_path: Path) -> None:
    res = kg(tmp_path / "nowhere", "status")
    assert res.exit_code == 2
    assert res.output.strip() == (f"Error: no kglink workspace at {tmp_path / 'nowhere'}. Load an "
                                  "extract first (kglink load DIR) or pass --workspace.")


def test_review_interactive_records_a_decision_and_relinks(sample_dir: Path, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    kg(ws, "load", str(sample_dir / "police"), str(sample_dir / "childrens_social_care"))
    kg(ws, "link")
    listed = runner.invoke(app, ["--workspace", str(ws), "review", "--list"], env={"COLUMNS": "200"})
    assert "childrens_social_care:CA1" in listed.output           # the two flat addresses
    res = runner.invoke(app, ["--workspace", str(ws), "--user", "mash-1", "review", "--interactive",
                              "--kind", "address"],
                        input="same\n", env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "same / different / unsure / skip / quit" in res.output
    from kglink.linkage.members import entity_records
    from kglink.workspace import open_workspace

    found = entity_records(open_workspace(ws), "police:A1")
    assert found is not None and {k for k, _, _ in found[2]} == {"police:A1", "childrens_social_care:CA1"}


def test_explain_shows_every_comparison_as_a_waterfall(sample_dir: Path, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    kg(ws, "load", str(sample_dir / "police"), str(sample_dir / "childrens_social_care"))
    kg(ws, "link")
    res = runner.invoke(app, ["--workspace", str(ws), "explain", "police:P1", "childrens_social_care:C10"],
                        env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    for row in ("prior", "forename", "surname", "dob", "sex", "location", "nhs_number", "pnc_id", "upn",
                "contact", "term frequency"):
        assert f"│ {row} " in res.output, row
    assert "nickname or middle name used" in res.output and "dates of birth equal" in res.output
    assert "match weight" in res.output and "model and rules say: " in res.output
    unknown = kg(ws, "explain", "police:P1", "police:NOPE")
    assert unknown.exit_code == 2 and "police:NOPE" in unknown.output and "Traceback" not in unknown.output
