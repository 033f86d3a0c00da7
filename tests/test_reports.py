"""Research pack and nightly report on the sample extracts, opened in headless Chromium."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kglink.cli import app

runner = CliRunner()
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def kg(ws: Path, *args: str):  # type: ignore[no-untyped-def]
    res = runner.invoke(app, ["--workspace", str(ws), "--quiet", "--user", "tester", *args])
    assert res.exit_code == 0, res.output
    return res


def _render(page: Path, tmp: Path) -> tuple[str, Path]:
    """The DOM after Chromium has loaded the page, and a screenshot of it."""
    assert CHROMIUM, "Debian's chromium package is needed (.ci/run installs it)"
    flags = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp / 'chromium-profile'}"]
    dom = subprocess.run(flags + ["--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    shot = tmp / (page.stem + ".png")
    subprocess.run(flags + ["--window-size=1200,1600", f"--screenshot={shot}", page.as_uri()],
                   capture_output=True, timeout=120)
    return dom.stdout, shot


@pytest.fixture
def linked_ws(sample_dir: Path, tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    kg(ws, "load", str(sample_dir / "police"), str(sample_dir / "childrens_social_care"))
    kg(ws, "link")
    return ws


def test_profile_pack_renders_in_chromium(linked_ws: Path, tmp_path: Path) -> None:
    out = tmp_path / "packs"
    kg(linked_ws, "profile", "police:P3", "--reason", "strategy meeting (test)", "--out", str(out))
    html = next(out.glob("*.html"))
    pack = json.loads(next(out.glob("*.json")).read_text())
    assert pack["subject"]["name"] == "LEAH OBRIEN"
    assert {m["name"] for m in pack["household"]} >= {"AMY OBRIEN"}
    assert any(f["query"] == "wanted-with-child-access" for f in pack["findings"])
    assert all(t["agency"] and t["record_id"] for t in pack["timeline"])
    dom, shot = _render(html, tmp_path)
    assert "<svg" in dom and "Research pack: LEAH OBRIEN" in dom and "Timeline across agencies" in dom
    assert shot.exists() and shot.stat().st_size > 10_000
    from kglink.audit import entries
    from kglink.workspace import open_workspace

    [entry] = entries(open_workspace(linked_ws), command="profile")
    assert entry.reason == "strategy meeting (test)" and entry.user == "tester"
    assert entry.result["subject"] == pack["subject"]["entity_id"]
    assert "LEAH" not in json.dumps(entry.request) + json.dumps(entry.result)   # ids, never names


def test_profile_requires_a_reason(linked_ws: Path) -> None:
    res = runner.invoke(app, ["--workspace", str(linked_ws), "profile", "police:P3"])
    assert res.exit_code == 2
    assert "needs --reason" in res.output


def test_nightly_report_renders_and_tracks_new_still_gone(linked_ws: Path, sample_dir: Path,
                                                          tmp_path: Path) -> None:
    out = tmp_path / "nightly"
    kg(linked_ws, "nightly", str(sample_dir / "police"), "--out", str(out), "--date", "2026-11-27")
    first = json.loads((out / "2026-11-27" / "changes.json").read_text())
    assert first["new"] and not first["still"] and not first["gone"]
    kg(linked_ws, "nightly", "--out", str(out), "--date", "2026-11-28")
    second = json.loads((out / "2026-11-28" / "changes.json").read_text())
    assert second["still"] == first["new"] and not second["new"]
    assert (out / "2026-11-28" / "findings.csv").read_text().startswith("id,query,severity")
    dom, shot = _render(out / "2026-11-28" / "report.html", tmp_path)
    assert "nightly link report" in dom and "Review queue" in dom
    assert shot.exists() and shot.stat().st_size > 10_000
