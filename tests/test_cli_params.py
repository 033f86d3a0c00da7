"""--param errors name the parameter and what it may be; the day "days" count back from is named."""
from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from kglink.cli import app

runner = CliRunner()


def kg(ws: Path, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["--workspace", str(ws), "--quiet", "--user", "tester", *args])


@pytest.fixture
def loaded_ws(sample_dir: Path, tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    assert kg(ws, "load", str(sample_dir / "police")).exit_code == 0
    assert kg(ws, "link").exit_code == 0          # risks refuses a workspace never linked
    return ws


@pytest.mark.parametrize("param, says", [
    ("q.hourz=2", ["no risk query named 'q'", "custody-appropriate-adult-delay"]),
    ("custody-appropriate-adult-delay.hourz=2",
     ["custody-appropriate-adult-delay has no parameter 'hourz'",
      "Its parameters: hours: a whole number, at least 0 (default 4)"]),
    ("custody-appropriate-adult-delay.hours=-1",
     ["--param custody-appropriate-adult-delay.hours cannot take that value",
      "Give hours: a whole number, at least 0 (default 4)"]),
    ("custody-appropriate-adult-delay.hours=soon",
     ["custody-appropriate-adult-delay.hours cannot take that value", "a whole number"]),
    ("repeat-missing-locations.tops=1",
     ["has no parameter 'tops'", "top: a whole number, at least 1 (default 3)",
      "min_episodes:", "children_only: true or false (default False)"]),
])
def test_a_bad_param_names_the_parameter_and_its_valid_values(loaded_ws: Path, param: str,
                                                              says: list[str]) -> None:
    res = kg(loaded_ws, "risks", "--param", param)
    assert res.exit_code == 2, res.output
    assert res.output.startswith("Error: ")
    for text in says:
        assert text in res.output.replace("\n", " ")
    assert "validation error" not in res.output


def test_a_good_param_still_runs(loaded_ws: Path) -> None:
    res = kg(loaded_ws, "risks", "--query", "custody-appropriate-adult-delay",
             "--param", "custody-appropriate-adult-delay.hours=2")
    assert res.exit_code == 0, res.output


def test_queries_and_risks_say_which_date_days_count_back_from(loaded_ws: Path) -> None:
    for cmd in (["queries"], ["risks", "--query", "sex-offenders-by-area"]):
        res = kg(loaded_ws, *cmd)
        assert res.exit_code == 0, res.output
        assert ("counted back from 2026-11-26, the newest loaded extract's date"
                in res.output.replace("\n", " ")), res.output
