"""A folder of extracts stands for the extracts in it, so README's nightly command works on
a folder where something else (a synthetic county's truth/) sits beside the extracts."""
from __future__ import annotations

import glob
import json
import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kglink.cli import app
from kglink.loaders.extract import extract_folders

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


@pytest.fixture(scope="module")
def small_county(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from kglink.synth import generate

    out = tmp_path_factory.mktemp("small-county") / "county"
    generate(out, households=60, seed=3)
    assert (out / "truth" / "persons.csv").exists() and not (out / "truth" / "manifest.json").exists()
    return out


def test_a_folder_of_extracts_stands_for_them_and_passes_over_the_rest(small_county: Path) -> None:
    found, passed_over = extract_folders([small_county])
    assert found == sorted(p for p in small_county.iterdir() if (p / "manifest.json").exists())
    assert len(found) == 7
    assert passed_over == [small_county / "truth"]
    # an extract named directly is itself; a folder with nothing in it stays as named
    assert extract_folders([found[0]]) == ([found[0]], [])
    assert extract_folders([small_county / "truth"]) == ([small_county / "truth"], [])


def test_readme_nightly_command_runs_on_the_demo_county(small_county: Path, tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    [cron] = re.findall(r"^    0 6 \* \* \* (kglink .+)$", readme, flags=re.M)
    cmd = (cron.replace("/srv/kglink", str(tmp_path / "ws"))
               .replace("/data/extracts", str(small_county))
               .replace("/srv/reports", str(tmp_path / "reports")))
    args: list[str] = []
    for word in shlex.split(cmd)[1:]:           # expand globs as the shell would
        args += sorted(glob.glob(word)) if any(ch in word for ch in "*?[") else [word]
    res = runner.invoke(app, ["--quiet", *args, "--date", "2026-11-27"])
    assert res.exit_code == 0, res.output
    changes = json.loads((tmp_path / "reports" / "2026-11-27" / "changes.json").read_text())
    assert changes["new"]


def test_load_of_a_county_names_the_folder_it_passed_over(small_county: Path, tmp_path: Path) -> None:
    res = runner.invoke(app, ["--workspace", str(tmp_path / "ws"), "--quiet", "load", str(small_county)])
    assert res.exit_code == 0, res.output
    assert f"{small_county / 'truth'}: passed over: no manifest.json, so not an extract" in res.output
    assert sum(1 for line in res.output.splitlines() if ": load " in line) == 7


def test_naming_a_folder_without_manifest_directly_is_still_an_error(small_county: Path, tmp_path: Path) -> None:
    res = runner.invoke(app, ["--workspace", str(tmp_path / "ws"), "load",
                              str(small_county / "police"), str(small_county / "truth")])
    assert res.exit_code == 2
    assert "manifest.json is missing" in res.output and "Nothing was loaded" in res.output
