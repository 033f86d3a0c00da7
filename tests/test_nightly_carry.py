"""The next night's report carries over what it would make the same again (reports.carry):
byte for byte what a full render of the same night writes. The synthetic county (every
person in it invented), the police's newer extract, an incremental link."""
from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import kglink.reports.profile as profile
from kglink.reports.nightly import compute_nightly, run_nightly, write_nightly
from kglink.workspace import Workspace
from test_graph_incremental import _copy, _newer


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_the_next_night_carries_over_what_a_full_render_makes_the_same(
        county: Path, county_ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = _copy(county_ws, tmp_path / "ws")
    out, full = tmp_path / "nightly", tmp_path / "full"
    first = run_nightly(ws, [], out, today=date(2026, 12, 1))
    assert first.packs and (out / "2026-12-01" / ".carry.json").exists()

    res = compute_nightly(ws, [_newer(county, "police", tmp_path / "newer")], out, today=date(2026, 12, 2))
    write_nightly(ws, dataclasses.replace(res, folder=full / "2026-12-02"), full, carry=False)

    built: list[str] = []
    make = profile.build_profile

    def counted_build(ws: Workspace, uid: str, *args: Any) -> Any:
        built.append(uid)
        return make(ws, uid, *args)
    monkeypatch.setattr(profile, "build_profile", counted_build)
    write_nightly(ws, res, out)

    carried, made = _files(out / "2026-12-02"), _files(full / "2026-12-02")
    assert carried.keys() == made.keys()
    assert [k for k in made if carried[k] != made[k]] == []
    packs = [k for k in made if k.startswith("packs/")]
    assert 0 < len(built) < len(packs), "some packs carried over, the changed ones made again"
