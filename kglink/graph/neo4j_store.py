"""The Neo4j store: keep a Neo4j database in step with the workspace graph.

`sync` sends only what changed since the last sync to the same database (bookkeeping in
the workspace, see sync_state.py), in batched `UNWIND $rows` managed write transactions.
Cypher here takes values only as parameters; labels and types, which Cypher cannot take
as parameters, come only from the schema declaration and are checked against it.

A `(:KglinkSync {id: 'state'})` node says `in_progress` while a sync writes and
`complete` (with the workspace state token) once it has finished, so a reader never
takes a half-written graph for a whole one: `read_query` checks it.
"""
from __future__ import annotations

import os
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from time import perf_counter
from typing import Any

import neo4j
from neo4j import exceptions as nx_errors
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from kglink.graph import schema, sync_state
from kglink.graph.build import GraphItem, GraphNode, GraphRel, content_hash, iter_graph, validate
from kglink.graph.sync_state import Synced, TargetState
from kglink.workspace import Workspace

STATE_ID = "state"


class Neo4jStoreError(Exception):
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
    batch_size: int = Field(default=10_000, ge=1)
    connection_timeout: float = Field(default=10.0, gt=0)   # seconds
    retry_time: float = Field(default=30.0, ge=0)          # seconds of retrying transient errors

    @classmethod
    def from_env(cls, **overrides: Any) -> Neo4jSettings:
        env = {"uri": os.environ.get("NEO4J_URI"), "user": os.environ.get("NEO4J_USER"),
               "password": os.environ.get("NEO4J_PASSWORD"),
               "database": os.environ.get("NEO4J_DATABASE")}
        values: dict[str, Any] = {k: v for k, v in env.items() if v}
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.model_validate(values)

    @property
    def target(self) -> str:
        """What the bookkeeping is kept per: one database of one server."""
        return f"{self.uri}|{self.database}"


@dataclass
class SyncReport:
    target: str
    state_token: str
    full: bool                      # everything was (re)written: first sync, or unknown state
    nodes: int = 0                  # in the graph now
    relationships: int = 0
    nodes_written: int = 0          # created or changed by this sync
    relationships_written: int = 0
    nodes_deleted: int = 0
    relationships_deleted: int = 0
    seconds: float = 0.0

    @property
    def rows_sent(self) -> int:
        return (self.nodes_written + self.relationships_written
                + self.nodes_deleted + self.relationships_deleted)


# ---- connection -------------------------------------------------------------------------

_drivers: dict[Neo4jSettings, neo4j.Driver] = {}


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


def close_drivers() -> None:
    while _drivers:
        _drivers.popitem()[1].close()


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
def _session(settings: Neo4jSettings, *, read: bool = False) -> Iterator[neo4j.Session]:
    mode = neo4j.READ_ACCESS if read else neo4j.WRITE_ACCESS
    with translate_errors(settings):
        with driver(settings).session(database=settings.database, default_access_mode=mode) as s:
            yield s


def _run_write(session: neo4j.Session, query: str, **params: Any) -> int:
    """One managed write transaction (retried on transient errors); returns its count."""
    def work(tx: neo4j.ManagedTransaction) -> int:
        record = tx.run(query, params).single()
        return int(record[0]) if record else 0
    return session.execute_write(work)


# ---- Cypher, from the schema only -------------------------------------------------------

def ensure_schema(settings: Neo4jSettings) -> None:
    """Create the uid constraints and the indexes the schema declares (idempotent)."""
    with _session(settings) as session:
        for statement in schema.constraint_statements() + schema.index_statements():
            session.execute_write(_run_ddl, statement)


def _run_ddl(tx: neo4j.ManagedTransaction, statement: str) -> None:
    tx.run(statement).consume()


def _node_write(label: str, create: bool) -> str:
    label = schema.check_label(label)
    verb = f"CREATE (n:{label})" if create else f"MERGE (n:{label} {{uid: row.uid}})"
    return f"UNWIND $rows AS row {verb} SET n = row RETURN count(*)"


def _rel_write(rel_type: str, start: str, end: str, create: bool) -> str:
    rel_type = schema.check_type(rel_type, start, end)
    verb = (f"CREATE (a)-[r:{rel_type}]->(b)" if create
            else f"MERGE (a)-[r:{rel_type} {{uid: row.uid}}]->(b)")
    return (f"UNWIND $rows AS row MATCH (a:{start} {{uid: row.start}}) "
            f"MATCH (b:{end} {{uid: row.end}}) {verb} SET r = row.props RETURN count(*)")


def _node_delete(label: str) -> str:
    return (f"UNWIND $uids AS uid MATCH (n:{schema.check_label(label)} {{uid: uid}}) "
            "DETACH DELETE n RETURN count(*)")


def _rel_delete(rel_type: str) -> str:
    return (f"UNWIND $uids AS uid MATCH ()-[r:{schema.check_type(rel_type)} {{uid: uid}}]->() "
            "DELETE r RETURN count(*)")


_STATE_READ = f"OPTIONAL MATCH (s:{schema.SYNC_LABEL} {{id: $id}}) RETURN s {{.*}} AS s"
_STATE_WRITE = f"MERGE (s:{schema.SYNC_LABEL} {{id: $id}}) SET s += $props RETURN 1"


def sync_status(settings: Neo4jSettings | None = None) -> dict[str, Any] | None:
    """The database's KglinkSync state (status, state_token, sync_id, ...), or None."""
    settings = settings or Neo4jSettings.from_env()
    with _session(settings, read=True) as session:
        return session.execute_read(_read_state)


def _read_state(tx: neo4j.ManagedTransaction) -> dict[str, Any] | None:
    record = tx.run(_STATE_READ, id=STATE_ID).single()
    return record["s"] if record else None


def _set_state(session: neo4j.Session, **props: Any) -> None:
    props["updated_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    _run_write(session, _STATE_WRITE, id=STATE_ID, props=props)


def _wipe(session: neo4j.Session, batch: int) -> None:
    """Remove every kglink node (full sync into a database whose contents we do not know)."""
    for label in sorted(schema.LABELS):
        query = f"MATCH (n:{label}) WITH n LIMIT $limit DETACH DELETE n RETURN count(*)"
        while _run_write(session, query, limit=batch):
            pass


# ---- sync -------------------------------------------------------------------------------

class _Writer:
    """Buffers changed items per label / type and writes full batches."""

    def __init__(self, session: neo4j.Session, batch: int, create: bool,
                 on_first_write: Callable[[], None]) -> None:
        self.session, self.batch, self.create = session, batch, create
        self.on_first_write: Callable[[], None] | None = on_first_write
        self.nodes: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.rels: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)

    @property
    def wrote(self) -> bool:
        return self.on_first_write is None

    def start(self) -> None:
        """Mark the database in progress (once) before the first write."""
        if self.on_first_write is not None:
            self.on_first_write()
            self.on_first_write = None

    def add(self, item: GraphItem) -> None:
        if isinstance(item, GraphNode):
            rows = self.nodes[item.label]
            rows.append(item.props)
            if len(rows) >= self.batch:
                self._flush_nodes(item.label)
        else:
            assert isinstance(item, GraphRel)
            if self.nodes:                  # relationships need every node written first
                self.flush_nodes()
            key = (item.type, item.start_label, item.end_label)
            self.rels[key].append({"uid": item.uid, "start": item.start, "end": item.end,
                                   "props": item.props})
            if len(self.rels[key]) >= self.batch:
                self._flush_rels(key)

    def _flush_nodes(self, label: str) -> None:
        rows = self.nodes.pop(label)
        self.start()
        _run_write(self.session, _node_write(label, self.create), rows=rows)

    def flush_nodes(self) -> None:
        for label in list(self.nodes):
            self._flush_nodes(label)

    def _flush_rels(self, key: tuple[str, str, str]) -> None:
        rows = self.rels.pop(key)
        self.start()
        written = _run_write(self.session, _rel_write(*key, self.create), rows=rows)
        if written != len(rows):
            raise Neo4jStoreError(
                f"{len(rows) - written} {key[0]} relationships found no end node; the graph in "
                "Neo4j is incomplete. Run the sync again (it will rewrite everything)")

    def flush(self) -> None:
        self.flush_nodes()
        for key in list(self.rels):
            self._flush_rels(key)

    def delete(self, gone: dict[str, Synced]) -> tuple[int, int]:
        by_kind: dict[tuple[bool, str], list[str]] = defaultdict(list)
        for uid, s in gone.items():
            by_kind[(s.is_rel, s.kind)].append(uid)
        counts = [0, 0]
        for (is_rel, kind), uids in sorted(by_kind.items(), key=lambda kv: not kv[0][0]):
            self.start()
            query = _rel_delete(kind) if is_rel else _node_delete(kind)
            for i in range(0, len(uids), self.batch):
                _run_write(self.session, query, uids=uids[i:i + self.batch])
            counts[int(not is_rel)] += len(uids)
        return counts[1], counts[0]


def sync(ws: Workspace, settings: Neo4jSettings | None = None) -> SyncReport:
    """Make the Neo4j database hold the workspace graph, sending only what changed."""
    settings = settings or Neo4jSettings.from_env()
    t0 = perf_counter()
    ensure_schema(settings)
    target = settings.target
    with _session(settings) as session:
        remote = session.execute_read(_read_state)
        local = sync_state.target_state(ws, target)
        full = not (remote and local and remote.get("status") == "complete"
                    and remote.get("sync_id") == local.sync_id)
        previous = {} if full else sync_state.synced_items(ws, target)
        sync_id = uuid.uuid4().hex

        def begin() -> None:
            _set_state(session, status="in_progress", sync_id=sync_id)
            if full:
                _wipe(session, settings.batch_size)

        writer = _Writer(session, settings.batch_size, create=full, on_first_write=begin)
        upserts: list[tuple[str, Synced]] = []
        with _snapshot(ws):
            token = ws.state_token()
            report = SyncReport(target, token, full)
            for item in iter_graph(ws):
                validate(item)
                is_rel = isinstance(item, GraphRel)
                if is_rel:
                    report.relationships += 1
                else:
                    report.nodes += 1
                h = content_hash(item)
                old = previous.pop(item.uid, None)
                if old is not None and old.hash == h:
                    continue
                kind = item.type if isinstance(item, GraphRel) else item.label
                upserts.append((item.uid, Synced(kind, is_rel, h)))
                if is_rel:
                    report.relationships_written += 1
                else:
                    report.nodes_written += 1
                writer.add(item)
        writer.flush()
        report.nodes_deleted, report.relationships_deleted = writer.delete(previous)
        if writer.wrote or full:                       # something was written
            writer.start()
            _set_state(session, status="complete", sync_id=sync_id, state_token=token,
                       nodes=report.nodes, relationships=report.relationships)
        else:                                          # nothing changed in the graph
            sync_id = local.sync_id if local else sync_id
            if remote is None or remote.get("state_token") != token:
                _set_state(session, state_token=token)
    sync_state.record(ws, target, TargetState(sync_id, token), full=full,
                      upserts=upserts, deletes=previous)
    report.seconds = perf_counter() - t0
    return report


@contextmanager
def _snapshot(ws: Workspace) -> Iterator[None]:
    """Read the workspace as of one moment, even if a load commits meanwhile (WAL)."""
    ws.conn.execute("BEGIN")
    try:
        yield
    finally:
        ws.conn.execute("COMMIT")


# ---- reading ----------------------------------------------------------------------------

def read_query(cypher: str, params: dict[str, Any] | None = None,
               settings: Neo4jSettings | None = None, *,
               require_complete: bool = True) -> list[dict[str, Any]]:
    """Run one query in a READ transaction (the server refuses writes) and return its rows.

    Unless `require_complete` is off, refuses to read a database whose last sync did not
    finish (GraphIncomplete).
    """
    settings = settings or Neo4jSettings.from_env()

    def work(tx: neo4j.ManagedTransaction) -> list[dict[str, Any]]:
        if require_complete:
            state = _read_state(tx)
            if not state or state.get("status") != "complete":
                what = "has never been synced" if not state else "is being synced right now"
                raise GraphIncomplete(
                    f"the kglink graph in Neo4j at {settings.uri} {what}. "
                    "Run the sync and wait for it to finish")
        return tx.run(cypher, params or {}).data()

    with _session(settings, read=True) as session:
        return session.execute_read(work)
