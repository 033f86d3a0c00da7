"""`kglink.Workspace`: everything a user can do with kglink, from Python.

The command line is a thin layer over this class; a notebook uses it the same way:

    with kglink.Workspace("ws", user="analyst-1", purpose="strategy meeting 28/11") as w:
        w.load(["extracts/police", "extracts/health"])
        w.link()
        found = w.risks()

Every read of personal data writes an audit entry (who: `user`, why: `purpose`) BEFORE it
returns anything; when the entry cannot be written, AuditError is raised and nothing is
returned. A research pack needs a purpose (PurposeRequired without one). Reads through
`.store`, the embedded store underneath, are not audited: they are for kglink's own code.
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kglink import audit
from kglink.api.review import Review
from kglink.errors import CypherFailed, NeedsNeo4j, NotFound, NotLinked, OutputError, PurposeRequired, writing
from kglink.workspace import open_workspace
from kglink.workspace import Workspace as Store

if TYPE_CHECKING:
    from kglink.graph.neo4j_conn import Neo4jSettings
    from kglink.graph.neo4j_store import SyncReport
    from kglink.linkage.explain import Explanation
    from kglink.linkage.run import LinkReport, Progress
    from kglink.loaders.load import ExtractReport, ProgressFactory
    from kglink.loaders.unload import UnloadReport
    from kglink.queries.findings import Finding
    from kglink.reports.nightly import NightlyResult
    from kglink.reports.profile import Profile
    from kglink.search import Terms
    from kglink.workspace.status import RejectRow


@dataclass(frozen=True)
class Status:
    path: Path
    counts: list[tuple[str, str, int, int]]     # agency, kind, active, withdrawn
    history: list[dict[str, Any]]               # the loads in force, oldest first
    unloaded: int                               # loads withdrawn with unload

    @property
    def rejected(self) -> int:
        return sum(h["rejected"] for h in self.history)


@dataclass(frozen=True)
class EntityRecords:
    kind: str                                   # person or address
    entity_id: str
    records: list[tuple[str, float, str]]       # key, confidence, summary (personal)


class Workspace:
    """A kglink workspace opened for one user, optionally with a purpose and a Neo4j server.

    `path`: the workspace folder (default: $KGLINK_WORKSPACE, else ./kglink-workspace).
    `user`: who is asking, for the audit log (default: the OS user). `purpose`: why, for
    the audit log; a research pack needs one. `neo4j`: a bolt:// URI or Neo4jSettings to
    run the queries on Neo4j instead of the embedded store. `create=False` refuses a folder
    that holds no workspace yet.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *, user: str | None = None,
                 purpose: str | None = None, neo4j: str | Neo4jSettings | None = None,
                 create: bool = True) -> None:
        self.user = user or audit.os_user()
        self.purpose = (purpose or "").strip() or None
        self._neo4j = neo4j
        self.store: Store = open_workspace(path, create=create)
        self.review = Review(self)

    # --- opening and closing ------------------------------------------------------------

    @property
    def path(self) -> Path:
        return self.store.path

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @cached_property
    def neo4j(self) -> Neo4jSettings | None:
        """The Neo4j server's settings, or None for the embedded store."""
        if self._neo4j is None or not isinstance(self._neo4j, str):
            return self._neo4j
        from kglink.graph.neo4j_store import Neo4jSettings

        return Neo4jSettings.from_env(uri=self._neo4j)

    def _record(self, command: str, request: dict[str, Any], result: dict[str, Any],
                purpose: str | None = None) -> None:
        """The audit entry, written before what it records is returned (AuditError else)."""
        audit.record(self.store, self.user, command, request, result, purpose or self.purpose)

    def _purpose(self, given: str | None, what: str) -> str:
        why = (given or "").strip() or self.purpose
        if not why:
            raise PurposeRequired(what)
        return why

    def _linked(self) -> None:
        """Findings from a workspace never linked, or linked before its last load, are wrong."""
        from kglink.workspace.status import link_problem

        problem = link_problem(self.store)
        if problem:
            raise NotLinked(problem)

    # --- loading ------------------------------------------------------------------------

    def load(self, extracts: Sequence[str | os.PathLike[str]], *,
             progress: ProgressFactory | None = None) -> list[ExtractReport]:
        """Validate and load extract folders (or a folder of them), all or nothing."""
        from kglink.loaders.extract import ExtractError
        from kglink.loaders.load import load_extracts
        from kglink.workspace import WorkspaceError

        try:
            return load_extracts(self.store, [Path(e) for e in extracts], progress=progress)
        except (ExtractError, WorkspaceError) as e:
            raise e.add("Nothing was loaded") from None

    def unload(self, agency: str, load_id: int, *, reason: str | None = None) -> UnloadReport:
        """Withdraw an agency's latest load as if it had not been made (audited with it)."""
        from kglink.loaders.unload import UnloadError, unload
        from kglink.workspace import WorkspaceError

        try:
            return unload(self.store, agency, load_id, user=self.user, reason=reason or self.purpose)
        except (UnloadError, WorkspaceError) as e:
            raise e.add("Nothing was changed") from None

    def status(self) -> Status:
        """Records per agency and kind, the loads in force and how many were withdrawn."""
        from kglink.workspace.status import load_history, record_counts, unloaded_count

        return Status(self.path, record_counts(self.store), load_history(self.store),
                      unloaded_count(self.store))

    def rejects(self, *, agency: str | None = None, load_id: int | None = None,
                latest_only: bool = True) -> list[RejectRow]:
        """Rows set aside (file, row, column, reason; never the value); each agency's latest
        load only, unless `latest_only=False` or a `load_id` is named."""
        from kglink.workspace.status import rejects

        return rejects(self.store, agency=agency, load_id=load_id,
                       latest_only=latest_only and load_id is None)

    def reference_day(self) -> date | None:
        """The day queries count back from (the newest extract's date); None when empty."""
        from kglink.queries.runner import reference_date

        if not self.store.conn.execute("SELECT 1 FROM loads LIMIT 1").fetchone():
            return None
        return reference_date(self.store)

    # --- linking ------------------------------------------------------------------------

    def link(self, *, full: bool = False, retrain: bool = False, progress: Progress | None = None,
             engine: str = "local", spark_master: str = "local[2]",
             spark_memory: str | None = None) -> LinkReport:
        """Link addresses, then people; only what changed unless `full` (or `retrain`).
        `engine="spark"` blocks, compares and scores the pairs on Spark (kglink[spark])."""
        from kglink.engines import scorer_for
        from kglink.linkage.run import link

        self._record("link", {"full": full, "retrain": retrain, "engine": engine}, {})
        with scorer_for(engine, spark_master=spark_master, spark_memory=spark_memory) as scorer:
            return link(self.store, full=full or retrain, retrain=retrain, progress=progress, scorer=scorer)

    def explain(self, a: str, b: str) -> Explanation:
        """Why two records are, or are not, linked: each comparison's level and weight."""
        from kglink.linkage.explain import explain

        ex = explain(self.store, a, b)
        self._record("explain", {"a": a, "b": b}, {"probability": round(ex.probability, 4)})
        return ex

    def contradictions(self, kind: str, a: str, b: str) -> list[Any]:
        """What keeps a linked pair's entities apart (record keys and the rule's meaning)."""
        from kglink.linkage.contradiction import contradictions

        return contradictions(self.store, kind, [(a, b)]).get((a, b), [])

    def entity(self, record: str) -> EntityRecords:
        """Every record in the person or address entity that `record` (AGENCY:ID) is in."""
        from kglink.linkage.members import entity_records

        found = entity_records(self.store, record)
        if found is None:
            raise NotFound(f"no person or address record {record}. Use AGENCY:RECORD_ID, e.g. police:P1")
        kind, eid, rows = found
        self._record("entity", {"record": record}, {"entity_id": eid, "records": [k for k, _, _ in rows]})
        return EntityRecords(kind, eid, rows)

    def export_entities(self, out: str | os.PathLike[str] | None = None) -> list[tuple[str, str, str, str]]:
        """(entity_id, kind, agency, record_id) for every loaded person and address record;
        with `out`, also written there as CSV (atomically, owner-only)."""
        from kglink.linkage.members import all_memberships
        from kglink.outputs import csv_text, write_atomic

        rows = all_memberships(self.store)
        self._record("export", {"what": "entities", "out": None if out is None else str(out)},
                     {"records": len(rows)})
        if out is not None:
            with writing(out, "Choose another --out"):
                write_atomic(Path(out), csv_text(["entity_id", "kind", "agency", "record_id"], rows))
        return rows

    # --- the graph and its queries ------------------------------------------------------

    def risks(self, queries: Sequence[str] | None = None,
              params: dict[str, dict[str, Any]] | None = None, *,
              confirmed_only: bool = False) -> list[Finding]:
        """Run the risk queries (all, or those named) on the embedded store or Neo4j."""
        from pydantic import ValidationError

        from kglink.queries.registry import BadParam, UnknownQuery, check_params
        from kglink.queries.service import findings_for

        params = params or {}
        try:
            check_params(params)
        except UnknownQuery as e:
            raise BadParam(f"--param names {e}") from None
        self._linked()
        try:
            found = findings_for(self.store, neo4j=self.neo4j, names=list(queries) if queries else None,
                                 params=params, unconfirmed=not confirmed_only)
        except ValidationError as e:     # a parameter value the query itself refused
            raise BadParam(str(e).splitlines()[0]) from None
        self._record("risks", {"queries": list(queries) if queries else "all", "params": params,
                               "store": "neo4j" if self._neo4j else "embedded"},
                     {"findings": [f.id for f in found]})
        return found

    def sync(self) -> SyncReport:
        """Write the graph to Neo4j: constraints, then only what changed (a disclosure)."""
        from kglink.graph.neo4j_store import sync

        settings = self._needs_neo4j("no Neo4j named. Pass --neo4j bolt://HOST:PORT or set NEO4J_URI "
                                     "(scripts/neo4j-local start runs one on 127.0.0.1:7687)")
        self._record("sync", {"target": self._target(settings)}, {})
        return sync(self.store, settings)

    def cypher(self, statement: str, params: dict[str, Any] | None = None) -> tuple[list[dict[str, Any]], list[Any]]:
        """Read-only Cypher on Neo4j: (rows, the server's notifications). Anything but
        reading is refused before it is sent (CypherRefused), and the refusal audited."""
        from kglink.graph import notifications
        from kglink.graph.cypher_guard import CypherRefused, check_read_only
        from kglink.graph.neo4j_store import read_query

        settings = self._needs_neo4j("kglink cypher needs Neo4j. Pass --neo4j bolt://HOST:PORT or set NEO4J_URI")
        params = params or {}
        request = {"statement": statement, "params": sorted(params)}
        try:
            check_read_only(statement)
        except CypherRefused as e:
            self._record("cypher", request, {"refused": str(e)})
            raise CypherRefused(f"refused, nothing was sent: {e}") from None
        try:
            with notifications.collected() as notes:
                rows = read_query(statement, params, settings, require_complete=False)
        except Exception as e:
            import neo4j.exceptions as nxe

            if isinstance(e, nxe.Neo4jError):
                raise CypherFailed(f"Neo4j refused the query: {e.message}. Check the Cypher") from None
            raise
        self._record("cypher", request, {"rows": len(rows)})
        return rows, list(notes)

    def _target(self, settings: Neo4jSettings) -> str:
        """The server as the audit log names it: the URI given, else the settings' target."""
        return self._neo4j if isinstance(self._neo4j, str) else settings.target

    def _needs_neo4j(self, message: str) -> Neo4jSettings:
        settings = self.neo4j
        if settings is None:
            raise NeedsNeo4j(message)
        return settings

    # --- research packs and the nightly batch ------------------------------------------

    def profile(self, record: str | None = None, *, terms: Terms | None = None,
                purpose: str | None = None) -> Profile:
        """The MASH research pack on a child and family, by a record of the child
        (AGENCY:RECORD_ID), the child's entity id (as findings name people), or a
        search (`terms`). Needs a purpose; several matches raise Ambiguous (audited, with
        the candidates' entity ids)."""
        from kglink.queries.service import all_findings
        from kglink.reports.profile import Ambiguous, build_profile, find_subject
        from kglink.search import Terms

        why = self._purpose(purpose, "a research pack needs --reason (it is recorded in the audit log), "
                                     "e.g. --reason \"strategy meeting 28/11\"")
        terms = terms or Terms()
        try:
            uid = find_subject(self.store, record, terms=terms)
        except Ambiguous as e:
            self._record("profile", {"search": terms.given()},
                         {"candidates": [h.entity_id for h in e.candidates]}, why)
            raise
        neo = self.neo4j
        pack = build_profile(self.store, uid, why, all_findings(self.store, neo), neo)
        self._record("profile", {"subject": uid, "record": record, "search": terms.given()},
                     {"subject": uid, "records": [f"{r.agency}:{r.record_id}" for r in pack.records],
                      "household": [m.entity_id for m in pack.household],
                      "findings": [f.id for f in pack.findings]}, why)
        return pack

    def nightly(self, extracts: Sequence[str | os.PathLike[str]], out: str | os.PathLike[str], *,
                today: date | None = None, progress: ProgressFactory | None = None) -> NightlyResult:
        """Load, link, sync (with Neo4j), run every query, and write OUT/DAY/: the report,
        findings, what changed since the last run, the review page and the packs."""
        from kglink.loaders.extract import ExtractError
        from kglink.reports.nightly import compute_nightly, pack_subjects, write_nightly

        neo, out = self.neo4j, Path(out)
        if neo is not None:      # the graph is copied to Neo4j before the report exists
            self._record("sync", {"target": self._target(neo), "by": "nightly"}, {})
        try:
            res = compute_nightly(self.store, [Path(e) for e in extracts], out, neo4j=neo, today=today,
                                  progress=progress)
        except ExtractError as e:
            raise e.add("Nothing was loaded; tonight's report was not written") from None
        self._linked()
        self._record("nightly", {"extracts": [str(e) for e in extracts], "out": str(out)},
                     {"findings": [f.id for f in res.findings], "new": res.new, "gone": res.gone,
                      "packs": sorted({u for u in pack_subjects(self.store, res.findings).values() if u})})
        try:
            write_nightly(self.store, res, out)
        except OSError as e:
            raise OutputError(
                f"cannot write tonight's report in {res.folder} ({e.strerror}); the files there "
                "are the previous versions or none. Free space or choose another --out") from None
        return res

    # --- the audit log ------------------------------------------------------------------

    def audit_log(self, *, user: str | None = None, command: str | None = None,
                  limit: int | None = 50) -> list[audit.AuditEntry]:
        """The newest entries of the audit log, oldest first (ids and counts, never values)."""
        return audit.entries(self.store, user=user, command=command, limit=limit)

    def verify_audit(self) -> audit.Verification:
        """Check every link of the audit log's hash chain; `.ok`, else where it broke."""
        return audit.verify(self.store)

