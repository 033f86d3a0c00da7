"""The Neo4j store: keep a Neo4j database in step with the workspace graph.

`sync` sends only what changed since the last sync to the same database (bookkeeping in
the workspace, see sync_state.py), in batched `UNWIND $rows` managed write transactions.
Cypher here takes values only as parameters; labels and types, which Cypher cannot take
as parameters, come only from the schema declaration and are checked against it.
Connecting, errors, routing on a cluster and reading are in neo4j_conn.py.
"""
from __future__ import annotations

import queue
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from time import perf_counter
from typing import Any

import neo4j

from kglink.graph import schema, sync_state
from kglink.graph.build import GraphItem, GraphNode, GraphRel, content_hash, iter_graph, validate
from kglink.memory import gc_paused
from kglink.graph.neo4j_conn import (
    STATE_ID, STATE_WRITE, GraphIncomplete, Neo4jSettings, Neo4jStoreError, Neo4jUnavailable,
    close_drivers, driver, read_query, read_state, session, sync_status, translate_errors,
)
from kglink.graph.neo4j_conn import run_write as _run_write
from kglink.graph.sync_state import Synced, TargetState
from kglink.workspace import Workspace

__all__ = [
    "GraphIncomplete", "Neo4jSettings", "Neo4jStoreError", "Neo4jUnavailable", "SyncReport",
    "close_drivers", "driver", "ensure_schema", "read_query", "session", "sync", "sync_status",
    "translate_errors",
]


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
    # Where the time went (for benchmarks): Neo4j writing in the background, the caller
    # waiting for it (building was faster), and recording what was sent in the workspace.
    # Building the graph is roughly seconds - waited_seconds - record_seconds.
    write_seconds: float = 0.0
    waited_seconds: float = 0.0
    record_seconds: float = 0.0
    index_seconds: float = 0.0   # a full sync building its secondary indexes afterwards

    @property
    def rows_sent(self) -> int:
        return (self.nodes_written + self.relationships_written
                + self.nodes_deleted + self.relationships_deleted)


# ---- Cypher, from the schema only -------------------------------------------------------

def ensure_schema(settings: Neo4jSettings) -> None:
    """Create the constraints and indexes the schema declares, and drop kglink's own that
    it no longer declares."""
    constraints, indexes = schema.constraint_statements(), schema.index_statements()
    with session(settings) as s:
        have_constraints, have_indexes = _on_leader(s, _schema_names)
        for name in sorted(have_constraints - set(constraints)):
            if schema.is_own_schema_name(name):
                s.execute_write(_run_ddl, f"DROP CONSTRAINT {name} IF EXISTS")
        for name in sorted(have_indexes - have_constraints - set(indexes)):
            if schema.is_own_schema_name(name):
                s.execute_write(_run_ddl, f"DROP INDEX {name} IF EXISTS")
        for name, statement in (constraints | indexes).items():
            if name not in have_constraints | have_indexes:
                s.execute_write(_run_ddl, statement)


# A full sync writes millions of nodes and relationships into an emptied graph. The
# secondary indexes (every declared node index and the relationship uid indexes, not the
# uid constraints, which relationships find their ends through) are dropped before it
# and built again after it: Neo4j populates an index over existing data in one sorted
# pass, much cheaper than updating it on every one of the writes. Until the sync marks
# the graph complete it is incomplete anyway, and any sync starts by creating whatever
# declared index is missing, so a failed full sync leaves nothing behind that lasts.
INDEX_TIMEOUT = 1800    # seconds a full sync waits for its indexes to come online


def _drop_secondary_indexes(s: neo4j.Session) -> None:
    have = _on_leader(s, _schema_names)
    for name in sorted(set(schema.index_statements()) & (have[1] - have[0])):
        s.execute_write(_run_ddl, f"DROP INDEX {name} IF EXISTS")


def _build_secondary_indexes(settings: Neo4jSettings, s: neo4j.Session) -> None:
    ensure_schema(settings)
    s.run("CALL db.awaitIndexes($timeout)", timeout=INDEX_TIMEOUT).consume()


def _on_leader(s: neo4j.Session, work: Callable[[neo4j.ManagedTransaction], Any]) -> Any:
    """A read that a sync decides its writes on, run where the writes go: on a cluster the
    leader, which has every write (a follower knows only those this process's bookmarks
    name, and may lag behind another process's sync)."""
    return s.execute_write(work)


def _schema_names(tx: neo4j.ManagedTransaction) -> tuple[set[str], set[str]]:
    constraints = {r["name"] for r in tx.run("SHOW CONSTRAINTS YIELD name")}
    indexes = {r["name"] for r in tx.run("SHOW INDEXES YIELD name")}
    return constraints, indexes


def _run_ddl(tx: neo4j.ManagedTransaction, statement: str) -> None:
    tx.run(statement).consume()


def _node_merge(label: str) -> str:
    return (f"UNWIND $rows AS row MERGE (n:{schema.check_label(label)} {{uid: row.uid}}) "
            "SET n = row RETURN count(*)")


def _rel_merge(rel_type: str, start: str, end: str) -> str:
    rel_type = schema.check_type(rel_type, start, end)
    return (f"UNWIND $rows AS row MATCH (a:{start} {{uid: row.start}}) "
            f"MATCH (b:{end} {{uid: row.end}}) MERGE (a)-[r:{rel_type} {{uid: row.uid}}]->(b) "
            "SET r = row.props RETURN count(*)")


# A full sync writes into a database emptied of kglink nodes, so the first attempt of
# each batch CREATEs. The driver calls a transaction function again when an attempt
# fails with an error it deems retryable, and documents that the function must therefore
# be idempotent: the batch may already be in the database. (A 1M sync once failed with
# ConstraintError on a duplicate AddressRecord uid, put down to a retried CREATE.) So a
# retry MERGEs on uid instead. MERGE is not used every time because it costs: a
# relationship MERGE between dense nodes scans their relationships (at 100k, MERGE took
# about 1.6 times the server CPU of CREATE for relationships), and only retries, which
# are rare, should pay for it.
#
# Relationships find their ends through the uid uniqueness constraints. Returning
# element ids from the node writes and matching on those instead costs Neo4j about the
# same, and the client twice as much plus a dict of every node (measured at 100k).
def _node_create(label: str) -> str:
    return f"UNWIND $rows AS row CREATE (n:{schema.check_label(label)}) SET n = row RETURN count(*)"


def _rel_create(rel_type: str, start: str, end: str) -> str:
    rel_type = schema.check_type(rel_type, start, end)
    return (f"UNWIND $rows AS row MATCH (a:{start} {{uid: row.start}}) "
            f"MATCH (b:{end} {{uid: row.end}}) CREATE (a)-[r:{rel_type}]->(b) "
            "SET r = row.props RETURN count(*)")


class _Rows(list[Any]):
    """A batch of rows with a short repr. The driver formats every query's parameters
    for its debug log even when debug logging is off (neo4j 6.4, `Bolt5x5.run`), which
    for a batch of thousands of rows costs about as much as packing them."""
    __slots__ = ()

    def __repr__(self) -> str:
        return f"<{len(self)} rows>"


class _Batch:
    """The transaction function of one batch, passed as `$rows` (or another name): the
    query `first` on the first call, `retry` on any later call for the same batch (the
    driver retrying). Returns the query's count."""

    def __init__(self, first: str, retry: str, rows: list[Any], name: str = "rows") -> None:
        self.first, self.retry, self.calls = first, retry, 0
        self.rows = _Rows(rows)
        self.params = {name: self.rows}

    def __call__(self, tx: neo4j.ManagedTransaction) -> int:
        self.calls += 1
        query = self.first if self.calls == 1 else self.retry
        return int(tx.run(query, self.params).single(strict=True)[0])

    def release(self) -> None:
        """Let go of the rows once the batch is done. The driver keeps each query's
        parameters in reference cycles (result, summary), which only Python's garbage
        collector frees, and a sync pauses it: without this, a sync held every row it
        sent until it ended (about 400 MB more at 100k persons)."""
        self.rows.clear()


def _write(s: neo4j.Session, batch: _Batch) -> int:
    """Every batch of a sync is written here: one managed transaction, which the driver
    retries on transient errors."""
    try:
        return s.execute_write(batch)
    finally:
        batch.release()


def node_batch(label: str, rows: list[dict[str, Any]], *, create: bool) -> _Batch:
    """Writes one batch of nodes: CREATE first when `create` (full sync), else MERGE."""
    merge = _node_merge(label)
    return _Batch(_node_create(label) if create else merge, merge, rows)


def rel_row(rel: GraphRel) -> dict[str, Any]:
    """The row rel_batch takes for a relationship."""
    return {"uid": rel.uid, "start": rel.start, "end": rel.end, "props": rel.props}


def rel_batch(key: tuple[str, str, str], rows: list[dict[str, Any]], *, create: bool) -> _Batch:
    """Writes one batch of relationships (rows of uid, start and end uid, props): CREATE
    first when `create` (full sync), else MERGE. Returns how many found both ends."""
    merge = _rel_merge(*key)
    return _Batch(_rel_create(*key) if create else merge, merge, rows)


def _node_delete(label: str) -> str:
    return (f"UNWIND $uids AS uid MATCH (n:{schema.check_label(label)} {{uid: uid}}) "
            "DETACH DELETE n RETURN count(*)")


def _rel_delete(rel_type: str) -> str:
    return (f"UNWIND $uids AS uid MATCH ()-[r:{schema.check_type(rel_type)} {{uid: uid}}]->() "
            "DELETE r RETURN count(*)")


def _set_state(s: neo4j.Session, **props: Any) -> None:
    props["updated_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    _run_write(s, STATE_WRITE, id=STATE_ID, props=props)


def _wipe(s: neo4j.Session, batch: int) -> None:
    """Remove every kglink node (full sync into a database whose contents we do not know)."""
    for label in sorted(schema.LABELS):
        query = f"MATCH (n:{label}) WITH n LIMIT $limit DETACH DELETE n RETURN count(*)"
        while _run_write(s, query, limit=batch):
            pass


# ---- writing ----------------------------------------------------------------------------

Job = Callable[[neo4j.Session], object]


class _Pipeline:
    """Runs write jobs on background threads, one session each, so that Python building the
    next batch overlaps with Neo4j writing, and several transactions are in flight at
    once. Jobs run in the order submitted but may overlap; `barrier()` waits for every job
    submitted so far (what comes next depends on it). The first error stops the pipeline
    and is raised in the caller at its next submit, barrier or close."""

    def __init__(self, sessions: list[neo4j.Session], depth: int = 2) -> None:
        self.jobs: queue.Queue[Job | None] = queue.Queue(maxsize=depth * len(sessions))
        self.error: BaseException | None = None
        self.busy = 0.0        # seconds the threads spent writing (summed over them)
        self.waited = 0.0      # seconds the caller spent waiting for them
        self._lock = threading.Lock()
        self.threads = [threading.Thread(target=self._work, args=(s,), daemon=True,
                                         name=f"kglink-neo4j-writer-{i}")
                        for i, s in enumerate(sessions)]
        for t in self.threads:
            t.start()

    def _work(self, session: neo4j.Session) -> None:
        while True:
            job = self.jobs.get()
            try:
                if job is None:
                    return
                if self.error is None:
                    t0 = perf_counter()
                    try:
                        job(session)
                    except BaseException as e:   # handed to the caller, which re-raises it
                        with self._lock:
                            self.error = self.error or e
                    with self._lock:
                        self.busy += perf_counter() - t0
            finally:
                self.jobs.task_done()

    def _raise(self) -> None:
        if self.error is not None:
            raise self.error

    def submit(self, job: Job) -> None:
        self._raise()
        t0 = perf_counter()
        self.jobs.put(job)
        self.waited += perf_counter() - t0

    def barrier(self) -> None:
        """Wait until every job submitted so far has finished."""
        t0 = perf_counter()
        self.jobs.join()
        self.waited += perf_counter() - t0
        self._raise()

    def close(self, *, cancel: bool = False) -> None:
        """Wait for the queued writes (or with `cancel`, drop them) and stop the threads."""
        if cancel and self.error is None:
            self.error = _Cancelled()
        t0 = perf_counter()
        for _ in self.threads:
            self.jobs.put(None)
        for t in self.threads:
            t.join()
        self.waited += perf_counter() - t0
        if not cancel:
            self._raise()


class _Cancelled(Exception):
    """The caller failed; queued writes are dropped."""


def _job(batch: _Batch) -> Job:
    return lambda s: _write(s, batch)


class _Writer:
    """Buffers changed items per label / type and hands full batches to the pipeline."""

    def __init__(self, pipe: _Pipeline, batch: int, create: bool, begin: Job) -> None:
        self.pipe, self.batch, self.create = pipe, batch, create
        self.begin: Job | None = begin
        self.writing_rels = False
        self.nodes: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.rels: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)

    @property
    def wrote(self) -> bool:
        return self.begin is None

    def start(self) -> None:
        """Mark the database in progress (once) before the first write."""
        if self.begin is not None:
            self.pipe.submit(self.begin)
            self.begin = None
            self.pipe.barrier()              # nothing is written before the state says so

    def add(self, item: GraphItem) -> None:
        if isinstance(item, GraphNode):
            rows = self.nodes[item.label]
            rows.append(item.props)
            if len(rows) >= self.batch:
                self._flush_nodes(item.label)
        else:
            assert isinstance(item, GraphRel)
            self.nodes_done()
            key = (item.type, item.start_label, item.end_label)
            self.rels[key].append(rel_row(item))
            if len(self.rels[key]) >= self.batch:
                self._flush_rels(key)

    def _flush_nodes(self, label: str) -> None:
        batch = node_batch(label, self.nodes.pop(label), create=self.create)
        self.start()
        self.pipe.submit(_job(batch))

    def flush_nodes(self) -> None:
        for label in list(self.nodes):
            self._flush_nodes(label)

    def nodes_done(self) -> None:
        """Relationships need both ends: every node write finishes before the first of them."""
        if not self.writing_rels:
            self.flush_nodes()
            if not self.wrote:
                return
            self.pipe.barrier()
            self.writing_rels = True

    def _flush_rels(self, key: tuple[str, str, str]) -> None:
        batch = rel_batch(key, self.rels.pop(key), create=self.create)
        size = len(batch.rows)

        def job(s: neo4j.Session) -> None:
            written = _write(s, batch)
            if written != size:
                raise Neo4jStoreError(
                    f"{size - written} {key[0]} relationships found no end node; the graph "
                    "in Neo4j is incomplete. Run the sync again (it will rewrite everything)")
        self.start()
        self.pipe.submit(job)

    def flush(self) -> None:
        self.nodes_done()
        for key in list(self.rels):
            self._flush_rels(key)

    def delete(self, gone: dict[str, Synced]) -> tuple[int, int]:
        """Relationships first, then nodes. Returns (nodes, relationships) deleted."""
        by_kind: dict[tuple[bool, str], list[str]] = defaultdict(list)
        for uid, synced in gone.items():
            by_kind[(synced.is_rel, synced.kind)].append(uid)
        counts = {True: 0, False: 0}
        if gone and self.wrote:
            self.pipe.barrier()                # what is deleted goes after what is written
        nodes_wait = True
        for (is_rel, kind), uids in sorted(by_kind.items(), key=lambda kv: not kv[0][0]):
            self.start()
            if not is_rel and counts[True] and nodes_wait:
                self.pipe.barrier()            # relationships first, then their nodes
                nodes_wait = False
            query = _rel_delete(kind) if is_rel else _node_delete(kind)
            for i in range(0, len(uids), self.batch):
                chunk = uids[i:i + self.batch]
                self.pipe.submit(_job(_Batch(query, query, chunk, name="uids")))   # idempotent
            counts[is_rel] += len(uids)
        return counts[False], counts[True]


# ---- sync -------------------------------------------------------------------------------

def sync(ws: Workspace, settings: Neo4jSettings | None = None, *,
         verify: bool = False) -> SyncReport:
    """Make the Neo4j database hold the workspace graph, sending only what changed.

    When the database is complete and was last synced from this workspace in its present
    state, nothing can differ and nothing is built; `verify` builds and compares anyway.
    """
    with gc_paused():
        return _sync(ws, settings or Neo4jSettings.from_env(), verify)


def _sync(ws: Workspace, settings: Neo4jSettings, verify: bool) -> SyncReport:
    t0 = perf_counter()
    ensure_schema(settings)
    target = settings.target
    with session(settings) as s:
        remote = _on_leader(s, read_state)
        local = sync_state.target_state(ws, target)
        full = not (remote and local and remote.get("status") == "complete"
                    and remote.get("sync_id") == local.sync_id)
        token = ws.state_token()
        if (not full and not verify and remote is not None and local is not None
                and local.state_token == token == remote.get("state_token")
                and remote.get("graph_version") == schema.VERSION):
            return SyncReport(target, token, False, nodes=remote.get("nodes", 0),
                              relationships=remote.get("relationships", 0),
                              seconds=perf_counter() - t0)
        previous = {} if full else sync_state.synced_items(ws, target)
        sync_id = uuid.uuid4().hex

        def begin(s: neo4j.Session) -> None:
            _set_state(s, status="in_progress", sync_id=sync_id)
            if full:
                _drop_secondary_indexes(s)
                _wipe(s, settings.batch_size)

        with ExitStack() as more:
            sessions = [s] + [more.enter_context(session(settings)) for _ in range(settings.writers - 1)]
            pipe = _Pipeline(sessions)
            try:
                writer = _Writer(pipe, settings.batch_size, create=full, begin=begin)
                report, upserts = _send_changes(ws, writer, previous, target, full)
                writer.flush()
                report.nodes_deleted, report.relationships_deleted = writer.delete(previous)
                if full:
                    writer.start()             # even an empty graph replaces what was there
            except BaseException:
                pipe.close(cancel=True)        # the state node still says in_progress
                raise
            pipe.close()
        report.write_seconds, report.waited_seconds = pipe.busy, pipe.waited
        if full:
            t1 = perf_counter()
            _build_secondary_indexes(settings, s)
            report.index_seconds = perf_counter() - t1
        token = report.state_token
        done = {"state_token": token, "graph_version": schema.VERSION,
                "nodes": report.nodes, "relationships": report.relationships}
        if writer.wrote:
            _set_state(s, status="complete", sync_id=sync_id, **done)
        else:                                  # nothing changed in the graph
            assert local is not None
            sync_id = local.sync_id
            if any(remote is None or remote.get(k) != v for k, v in done.items()):
                _set_state(s, **done)
    t1 = perf_counter()
    sync_state.record(ws, target, TargetState(sync_id, token), full=full,
                      upserts=upserts, deletes=previous)
    report.record_seconds = perf_counter() - t1
    report.seconds = perf_counter() - t0
    return report


def _send_changes(ws: Workspace, writer: _Writer, previous: dict[str, Synced], target: str,
                  full: bool) -> tuple[SyncReport, list[tuple[str, Synced]]]:
    """Stream the graph, hand new and changed items to the writer, and leave in `previous`
    only what is gone."""
    upserts: list[tuple[str, Synced]] = []
    checked: set[str] = set()
    with _snapshot(ws):
        report = SyncReport(target, ws.state_token(), full)
        for item in iter_graph(ws):
            is_rel = isinstance(item, GraphRel)
            kind = item.type if isinstance(item, GraphRel) else item.label
            if kind not in checked:         # the builder's tests check every item
                validate(item)
                checked.add(kind)
            if is_rel:
                report.relationships += 1
            else:
                report.nodes += 1
            h = content_hash(item)
            old = previous.pop(item.uid, None)
            if old is not None and old.hash == h:
                continue
            upserts.append((item.uid, Synced(kind, is_rel, h)))
            if is_rel:
                report.relationships_written += 1
            else:
                report.nodes_written += 1
            writer.add(item)
    return report, upserts


@contextmanager
def _snapshot(ws: Workspace) -> Iterator[None]:
    """Read the workspace as of one moment, even if a load commits meanwhile (WAL)."""
    ws.conn.execute("BEGIN")
    try:
        yield
    finally:
        ws.conn.execute("COMMIT")
