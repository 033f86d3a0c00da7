"""Connecting to Neo4j: settings, one driver per settings, errors a person can act on,
and reading in READ transactions.

A cluster is reached through a `neo4j://` routing URI (a single server through
`bolt://` or `neo4j://` alike): the driver asks the cluster for its routing table and
sends each write transaction to the leader and each read transaction to a follower (or
read replica). Every session of one settings shares one bookmark manager, so a read
transaction waits until the member serving it has applied every write this process made
before (a query right after a sync sees the graph the sync wrote, on any member).

A `(:KglinkSync {id: 'state'})` node says `in_progress` while a sync writes and
`complete` (with the workspace state token) once it has finished; `read_query` refuses a
database that holds no complete graph.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse

import neo4j
from neo4j import exceptions as nx_errors
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from kglink.errors import KglinkError
from kglink.graph import schema

STATE_ID = "state"
T = TypeVar("T")


class Neo4jStoreError(KglinkError):
    """Neo4j could not be used; the message says what to do."""


class Neo4jUnavailable(Neo4jStoreError):
    """The server did not answer."""


class GraphIncomplete(Neo4jStoreError):
    """The database holds no complete kglink graph (never synced, or a sync is under way)."""


class Neo4jSettings(BaseModel):
    """Where the graph goes. Built from arguments, else NEO4J_* environment variables."""
    model_config = ConfigDict(frozen=True)

    uri: str = "bolt://127.0.0.1:7687"
    user: str = "neo4j"
    password: SecretStr | None = None
    database: str = "neo4j"
    # Rows per write transaction. A full sync at 100k took about a fifth less Neo4j CPU
    # with 2,000-5,000 than with 10,000 (less garbage and sorting per transaction);
    # 1,000 was slower again (more round trips).
    batch_size: int = Field(default=5_000, ge=1)
    connection_timeout: float = Field(default=10.0, gt=0)   # seconds
    retry_time: float = Field(default=30.0, ge=0)          # seconds of retrying transient errors
    # Write transactions in flight at once, each in its own session. Neo4j applies one
    # transaction on one core, so a second writer lets a server with more cores work
    # while the first commits (env KGLINK_NEO4J_WRITERS; 1: one after another).
    writers: int = Field(default=2, ge=1, le=16)

    @classmethod
    def from_env(cls, **overrides: Any) -> Neo4jSettings:
        env = {"uri": os.environ.get("NEO4J_URI"), "user": os.environ.get("NEO4J_USER"),
               "password": os.environ.get("NEO4J_PASSWORD"),
               "database": os.environ.get("NEO4J_DATABASE"),
               "writers": os.environ.get("KGLINK_NEO4J_WRITERS")}
        values: dict[str, Any] = {k: v for k, v in env.items() if v}
        values.update({k: v for k, v in overrides.items() if v is not None})
        if not values.get("password"):
            values["password"] = (os.environ.get("KGLINK_NEO4J_PASSWORD")
                                  or local_password(values.get("uri") or cls.model_fields["uri"].default))
        return cls.model_validate(values)

    @property
    def target(self) -> str:
        """What the bookkeeping is kept per: one database of one server."""
        return f"{self.uri}|{self.database}"


def local_password_file() -> Path:
    """Where scripts/neo4j-local keeps the password it generated (owner-only)."""
    home = os.environ.get("KGLINK_NEO4J_HOME")
    root = Path(home) if home else Path(__file__).resolve().parents[2] / ".neo4j-local"
    return root / "password"


def local_password(uri: str) -> str | None:
    """The local development server's password, for a URI on this machine only."""
    if urlparse(uri).hostname not in ("127.0.0.1", "localhost", "::1"):
        return None
    try:
        return local_password_file().read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


# ---- connection -------------------------------------------------------------------------

_drivers: dict[Neo4jSettings, neo4j.Driver] = {}
_bookmarks: dict[Neo4jSettings, neo4j.BookmarkManager] = {}


def driver(settings: Neo4jSettings) -> neo4j.Driver:
    """One driver (connection pool) per settings, for the life of the process."""
    if settings not in _drivers:
        auth = (settings.user, settings.password.get_secret_value()) if settings.password else None
        with translate_errors(settings):
            new = neo4j.GraphDatabase.driver(
                settings.uri, auth=auth, connection_timeout=settings.connection_timeout,
                max_transaction_retry_time=settings.retry_time)
            try:
                # Fail now with a clear message, not after the retries of a first transaction.
                new.verify_connectivity()
            except BaseException:
                new.close()
                raise
        _drivers[settings] = new
    return _drivers[settings]


def bookmarks(settings: Neo4jSettings) -> neo4j.BookmarkManager:
    """The bookmark manager every session of these settings shares (causal consistency
    across sessions: a write's bookmark travels to the reads after it)."""
    if settings not in _bookmarks:
        _bookmarks[settings] = neo4j.GraphDatabase.bookmark_manager()
    return _bookmarks[settings]


def close_drivers() -> None:
    while _drivers:
        _drivers.popitem()[1].close()
    _bookmarks.clear()


@contextmanager
def translate_errors(settings: Neo4jSettings) -> Iterator[None]:
    """Driver errors a person can act on become Neo4jStoreError with what to do."""
    try:
        yield
    except (nx_errors.ServiceUnavailable, nx_errors.SessionExpired) as e:
        raise Neo4jUnavailable(
            f"cannot reach Neo4j at {settings.uri} ({type(e).__name__}). "
            "Start it (scripts/neo4j-local start) or check NEO4J_URI") from None
    except nx_errors.AuthError:
        raise Neo4jStoreError(
            f"Neo4j at {settings.uri} refused the login of user {settings.user}. "
            "Check NEO4J_USER and NEO4J_PASSWORD") from None
    except nx_errors.ConfigurationError as e:
        raise Neo4jStoreError(f"cannot use the Neo4j address {settings.uri} ({e}). "
                              "Check NEO4J_URI, e.g. bolt://127.0.0.1:7687") from None
    except ValueError as e:
        if "uri" not in str(e).lower() and "scheme" not in str(e).lower():
            raise
        raise Neo4jStoreError(f"cannot use the Neo4j address {settings.uri} ({e}). "
                              "Check NEO4J_URI, e.g. bolt://127.0.0.1:7687") from None
    except nx_errors.ClientError as e:
        if e.code and e.code.endswith("AccessMode"):
            raise Neo4jStoreError("the query tries to write, and kglink reads Neo4j in read "
                                  "transactions only. Ask with MATCH ... RETURN") from None
        if e.code and "DatabaseNotFound" in e.code:
            raise Neo4jStoreError(f"Neo4j at {settings.uri} has no database "
                                  f"{settings.database}. Check NEO4J_DATABASE") from None
        raise


@contextmanager
def session(settings: Neo4jSettings, *, read: bool = False) -> Iterator[neo4j.Session]:
    """A session whose transactions the driver routes: `execute_write` to the leader,
    `execute_read` to a follower; `read` sets where auto-commit queries go."""
    mode = neo4j.READ_ACCESS if read else neo4j.WRITE_ACCESS
    with translate_errors(settings):
        with driver(settings).session(database=settings.database, default_access_mode=mode,
                                      bookmark_manager=bookmarks(settings)) as s:
            yield s


def run_write(session: neo4j.Session, query: str, **params: Any) -> int:
    """One managed write transaction (retried on transient errors); returns its count."""
    def work(tx: neo4j.ManagedTransaction) -> int:
        record = tx.run(query, params).single()
        return int(record[0]) if record else 0
    return session.execute_write(work)


STATE_READ = f"OPTIONAL MATCH (s:{schema.SYNC_LABEL} {{id: $id}}) RETURN s {{.*}} AS s"
STATE_WRITE = f"MERGE (s:{schema.SYNC_LABEL} {{id: $id}}) SET s += $props RETURN 1"


def sync_status(settings: Neo4jSettings | None = None) -> dict[str, Any] | None:
    """The database's KglinkSync state (status, state_token, sync_id, ...), or None
    (read on a follower: as fresh as this process's own writes at least)."""
    settings = settings or Neo4jSettings.from_env()
    with session(settings, read=True) as s:
        return s.execute_read(read_state)


def read_state(tx: neo4j.ManagedTransaction) -> dict[str, Any] | None:
    record = tx.run(STATE_READ, id=STATE_ID).single()
    return record["s"] if record else None


def read_query(cypher: str, params: dict[str, Any] | None = None,
               settings: Neo4jSettings | None = None, *,
               require_complete: bool = True, plain: bool = False) -> list[dict[str, Any]]:
    """Run one query in a READ transaction (the server refuses writes) and return its rows.

    Unless `require_complete` is off, refuses to read a database whose last sync did not
    finish (GraphIncomplete). `plain`: the query returns only maps, lists and scalars
    (`properties(n)`, not `n`), so rows are taken as the driver decoded them instead of
    being walked to turn nodes into dicts (that walk was two thirds of a research pack's
    time at 1M persons).
    """
    def work(tx: neo4j.ManagedTransaction) -> list[dict[str, Any]]:
        return rows(tx, cypher, params, plain=plain)
    return read_transaction(work, settings, require_complete=require_complete)


def rows(tx: neo4j.ManagedTransaction, cypher: str, params: dict[str, Any] | None = None, *,
         plain: bool = False) -> list[dict[str, Any]]:
    """One query's rows inside a transaction (`plain` as in read_query)."""
    result = tx.run(cypher, params or {})
    if plain:
        keys = result.keys()
        return [dict(zip(keys, values)) for values in result.values()]
    return result.data()


def read_transaction(work: Callable[[neo4j.ManagedTransaction], T],
                     settings: Neo4jSettings | None = None, *, require_complete: bool = True) -> T:
    """`work(tx)` in one READ transaction, after checking that the last sync finished
    (unless `require_complete` is off): several queries see one state of the graph."""
    settings = settings or Neo4jSettings.from_env()

    def checked(tx: neo4j.ManagedTransaction) -> T:
        if require_complete:
            state = read_state(tx)
            if not state or state.get("status") != "complete":
                what = "has never been synced" if not state else "is being synced right now"
                raise GraphIncomplete(
                    f"the kglink graph in Neo4j at {settings.uri} {what}. "
                    "Run the sync and wait for it to finish")
        return work(tx)

    with session(settings, read=True) as s:
        return s.execute_read(checked)
