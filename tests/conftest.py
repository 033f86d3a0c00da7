"""Shared fixtures. Every person in these tests is synthetic."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


@pytest.fixture
def sample_dir(tmp_path: Path) -> Path:
    """A writable copy of the hand-written sample extracts."""
    dst = tmp_path / "sample"
    shutil.copytree(DATA / "sample", dst)
    return dst


@pytest.fixture
def bad_dir(tmp_path: Path) -> Path:
    dst = tmp_path / "bad"
    shutil.copytree(DATA / "bad", dst)
    return dst
