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
def linked(sample_dir: Path, tmp_path: Path) -> Path:
    """A workspace with the sample's police and children's social care extracts loaded and
    linked through the CLI, by the user "analyst"."""
    from typer.testing import CliRunner

    from kglink.cli import app

    ws = tmp_path / "ws"
    for args in (["load", str(sample_dir / "police"), str(sample_dir / "childrens_social_care")], ["link"]):
        res = CliRunner().invoke(app, ["--workspace", str(ws), "--quiet", "--user", "analyst", *args])
        assert res.exit_code == 0, res.output
    return ws


@pytest.fixture
def bad_dir(tmp_path: Path) -> Path:
    dst = tmp_path / "bad"
    shutil.copytree(DATA / "bad", dst)
    return dst


# ---- Chromium: the HTML pages are checked in a real headless browser -----------------
# Tests marked @pytest.mark.chromium need Debian's chromium package. Without it they skip
# with the reason, so README's test command passes on a machine without a browser;
# .ci/run installs Chromium and sets KGLINK_REQUIRE_CHROMIUM=1, so there they must run.
import shutil  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_MISSING = ("Chromium is not installed: the HTML pages are not checked in a browser "
                    "(install Debian's chromium package to run this test)")


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("chromium") and not CHROMIUM:
        if os.environ.get("KGLINK_REQUIRE_CHROMIUM") == "1":
            pytest.fail(CHROMIUM_MISSING + "; KGLINK_REQUIRE_CHROMIUM=1 says it must run")
        pytest.skip(CHROMIUM_MISSING)
    if item.get_closest_marker("spark") and not SPARK:
        if os.environ.get("KGLINK_REQUIRE_SPARK") == "1":
            pytest.fail(SPARK_MISSING + "; KGLINK_REQUIRE_SPARK=1 says it must run")
        pytest.skip(SPARK_MISSING)


# ---- Spark: the Spark engine in local mode (tests marked @pytest.mark.spark) -----------
# Without pyspark (the spark extra) they skip with the reason; .ci/run installs it and sets
# KGLINK_REQUIRE_SPARK=1, so there they must run.
from importlib.util import find_spec  # noqa: E402

SPARK = find_spec("pyspark") is not None
SPARK_MISSING = ("pyspark is not installed: the Spark engine is not tested "
                 "(pip install -e '.[dev,spark]' to run these tests; Spark needs Java 17+)")


# ---- Neo4j: a real server, never a mock (tests marked @pytest.mark.neo4j) -------------
# The server is the local one from scripts/neo4j-local (started here if nothing answers),
# or whatever NEO4J_URI / NEO4J_USER / NEO4J_PASSWORD / NEO4J_DATABASE name. A server this
# test run started is stopped when the run ends; one that was already answering is left
# running (another test run, or the developer, is using it).
import fcntl  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import hashlib  # noqa: E402
import tempfile  # noqa: E402

REPO = Path(__file__).parent.parent


def _neo4j_test_settings():  # type: ignore[no-untyped-def]
    from kglink.graph.neo4j_store import Neo4jSettings
    port = os.environ.get("KGLINK_NEO4J_PORT", "7687")
    # The password: NEO4J_PASSWORD, else KGLINK_NEO4J_PASSWORD, else the one
    # scripts/neo4j-local generated for this install (KGLINK_NEO4J_HOME/password).
    return Neo4jSettings.from_env(
        uri=os.environ.get("NEO4J_URI") or f"bolt://127.0.0.1:{port}", retry_time=5.0)


@pytest.fixture(scope="session")
def neo4j_settings():  # type: ignore[no-untyped-def]
    """Settings of a Neo4j that answers; starts scripts/neo4j-local if none does."""
    import neo4j
    from kglink.graph.neo4j_store import close_drivers
    settings = _neo4j_test_settings()
    started_here = False
    auth = (settings.user, settings.password.get_secret_value()) if settings.password else None

    def answers() -> bool:
        try:
            with neo4j.GraphDatabase.driver(settings.uri, auth=auth, connection_timeout=3) as d:
                d.verify_connectivity()
            return True
        except neo4j.exceptions.ServiceUnavailable:
            return False

    if not answers():
        if os.environ.get("NEO4J_URI"):
            pytest.fail(f"no Neo4j answers at NEO4J_URI={settings.uri}")
        done = subprocess.run([str(REPO / "scripts" / "neo4j-local"), "start"],
                              capture_output=True, text=True, timeout=600)
        settings = _neo4j_test_settings()    # a first start generates the password
        auth = (settings.user, settings.password.get_secret_value()) if settings.password else None
        started_here = True
        if done.returncode != 0 or not answers():
            _stop_local_neo4j()
            pytest.fail("scripts/neo4j-local start failed:\n" + done.stdout + done.stderr)
    try:
        yield settings
    finally:
        close_drivers()
        if started_here:
            _stop_local_neo4j()


def _stop_local_neo4j() -> None:
    """Stop the server scripts/neo4j-local started for this test run, saying so."""
    done = subprocess.run([str(REPO / "scripts" / "neo4j-local"), "stop"],
                          capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        print("\nscripts/neo4j-local stop failed:\n" + done.stdout + done.stderr)


@pytest.fixture
def neo4j_db(neo4j_settings):  # type: ignore[no-untyped-def]
    """An empty database for one test. A file lock keeps concurrent test runs on the
    same server from wiping each other's data mid-test."""
    from kglink.graph.neo4j_store import driver
    lock_path = Path(tempfile.gettempdir()) / ("kglink-neo4j-tests-"
                 + hashlib.sha1(neo4j_settings.target.encode()).hexdigest()[:12] + ".lock")
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with driver(neo4j_settings).session(database=neo4j_settings.database) as s:
            s.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS").consume()
        yield neo4j_settings


# ---- the synthetic county shared by the linkage, graph and query tests ----------------
COUNTY_HOUSEHOLDS = 2000
COUNTY_SEED = 1


@pytest.fixture(scope="session")
def county(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic county of about 2,000 households (~8,700 person records), made once."""
    from kglink.synth import generate

    out = tmp_path_factory.mktemp("county") / "county"
    generate(out, households=COUNTY_HOUSEHOLDS, seed=COUNTY_SEED)
    return out


def county_extracts(county_dir: Path) -> list[Path]:
    return sorted(p for p in county_dir.iterdir() if (p / "manifest.json").exists())


def later_extract(extract: Path, dst: Path, days: int = 1) -> Path:
    """A copy of an agency's extract in `dst`, dated `days` later (its next extract, once
    the caller has changed what it changes)."""
    import json
    from datetime import datetime, timedelta

    out = dst / extract.name
    shutil.copytree(extract, out)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    when = datetime.fromisoformat(manifest["extracted_at"].replace("Z", "+00:00")) + timedelta(days=days)
    manifest["extracted_at"] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return out


@pytest.fixture(scope="session")
def county_ws(county: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The county loaded and linked by kglink, once per test session. Read-only for tests."""
    from kglink.linkage.run import link
    from kglink.loaders.load import load_extracts
    from kglink.workspace import open_workspace

    ws = open_workspace(tmp_path_factory.mktemp("county-ws") / "ws")
    load_extracts(ws, county_extracts(county))
    link(ws)
    return ws
