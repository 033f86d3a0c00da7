"""The test run itself: a Neo4j it started is stopped at the end, one it found is left
running; a browser test without Chromium skips with its reason. Each case runs a small
pytest session in a subprocess, against a real Neo4j on a port of its own."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
INNER_NEO4J_TEST = '''
def test_uses_neo4j(neo4j_settings):
    import neo4j
    auth = (neo4j_settings.user, neo4j_settings.password.get_secret_value())
    with neo4j.GraphDatabase.driver(neo4j_settings.uri, auth=auth) as d:
        d.verify_connectivity()
'''


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(2)
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def neo4j_home(tmp_path: Path, neo4j_settings) -> Path:  # type: ignore[no-untyped-def]
    """A home for a second local server that reuses the jars already fetched (no Maven)."""
    built = Path(os.environ.get("KGLINK_NEO4J_HOME", REPO / ".neo4j-local"))
    if not (built / "build.stamp").exists():
        pytest.skip("the Neo4j under test is not scripts/neo4j-local's, so no jars to reuse")
    home = tmp_path / "neo4j-home"
    home.mkdir()
    for part in ("lib", "build"):
        (home / part).symlink_to(built / part)
    shutil.copy(built / "build.stamp", home / "build.stamp")
    return home


def _env(home: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEO4J_")}
    env.update(KGLINK_NEO4J_HOME=str(home), KGLINK_NEO4J_PORT=str(port),
               KGLINK_NEO4J_HEAP="256m", KGLINK_NEO4J_PAGECACHE="64m")
    return env


def _inner_run(tmp_path: Path, env: dict[str, str], body: str) -> subprocess.CompletedProcess[str]:
    inner = tmp_path / "inner"
    inner.mkdir(exist_ok=True)
    (inner / "test_inner.py").write_text(body)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "tests.conftest",
                           "-p", "no:cacheprovider", "--rootdir", str(inner), str(inner)],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.neo4j
def test_a_neo4j_the_run_started_is_stopped_at_the_end(neo4j_home: Path, tmp_path: Path) -> None:
    port = _free_port()
    env = _env(neo4j_home, port)
    try:
        done = _inner_run(tmp_path, env, INNER_NEO4J_TEST)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "1 passed" in done.stdout
        assert not _answers(port), "the test run left its Neo4j running"
        assert not (neo4j_home / "neo4j.pid").exists()
    finally:
        subprocess.run([str(REPO / "scripts" / "neo4j-local"), "stop"], env=env, capture_output=True)


@pytest.mark.neo4j
def test_a_neo4j_already_running_is_left_running(neo4j_home: Path, tmp_path: Path) -> None:
    port = _free_port()
    env = _env(neo4j_home, port)
    script = str(REPO / "scripts" / "neo4j-local")
    started = subprocess.run([script, "start"], env=env, capture_output=True, text=True, timeout=600)
    assert started.returncode == 0, started.stdout + started.stderr
    try:
        done = _inner_run(tmp_path, env, INNER_NEO4J_TEST)
        assert done.returncode == 0, done.stdout + done.stderr
        assert _answers(port), "the test run stopped a Neo4j it had not started"
    finally:
        subprocess.run([script, "stop"], env=env, capture_output=True)
    assert not _answers(port)


INNER_CHROMIUM_TEST = '''
import pytest

@pytest.mark.chromium
def test_needs_a_browser():
    pass
'''


def _no_browser_path(tmp_path: Path) -> str:
    """PATH with only the Python in use: no chromium on it."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "python").symlink_to(sys.executable)
    return str(bindir)


def test_a_browser_test_skips_with_its_reason_without_chromium(tmp_path: Path) -> None:
    env = dict(os.environ, PATH=_no_browser_path(tmp_path))
    env.pop("KGLINK_REQUIRE_CHROMIUM", None)
    done = _inner_run(tmp_path, env, INNER_CHROMIUM_TEST.replace("pass", "raise AssertionError"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 skipped" in done.stdout
    more = _inner_run(tmp_path, env | {"PYTEST_ADDOPTS": "-rs"}, INNER_CHROMIUM_TEST)
    assert "Chromium is not installed" in more.stdout


def test_ci_requires_chromium_so_browser_tests_cannot_skip_there(tmp_path: Path) -> None:
    env = dict(os.environ, PATH=_no_browser_path(tmp_path), KGLINK_REQUIRE_CHROMIUM="1")
    done = _inner_run(tmp_path, env, INNER_CHROMIUM_TEST)
    assert done.returncode == 1 and "1 error" in done.stdout, done.stdout
    assert "KGLINK_REQUIRE_CHROMIUM=1" in (REPO / ".ci" / "run").read_text()
