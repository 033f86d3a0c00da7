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


# ---- Neo4j: a real server, never a mock (tests marked @pytest.mark.neo4j) -------------
# The server is the local one from scripts/neo4j-local (started here if nothing answers),
# or whatever NEO4J_URI / NEO4J_USER / NEO4J_PASSWORD / NEO4J_DATABASE name. It is left
# running afterwards: another test run may be using it.
import fcntl  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import hashlib  # noqa: E402
import tempfile  # noqa: E402

REPO = Path(__file__).parent.parent


def _neo4j_test_settings():  # type: ignore[no-untyped-def]
    from kglink.graph.neo4j_store import Neo4jSettings
    port = os.environ.get("KGLINK_NEO4J_PORT", "7687")
    return Neo4jSettings.from_env(
        uri=os.environ.get("NEO4J_URI") or f"bolt://127.0.0.1:{port}",
        password=os.environ.get("NEO4J_PASSWORD")
        or os.environ.get("KGLINK_NEO4J_PASSWORD", "kglink-dev-password"),
        retry_time=5.0)


@pytest.fixture(scope="session")
def neo4j_settings():  # type: ignore[no-untyped-def]
    """Settings of a Neo4j that answers; starts scripts/neo4j-local if none does."""
    import neo4j
    from kglink.graph.neo4j_store import close_drivers
    settings = _neo4j_test_settings()
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
        if done.returncode != 0 or not answers():
            pytest.fail("scripts/neo4j-local start failed:\n" + done.stdout + done.stderr)
    yield settings
    close_drivers()


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
