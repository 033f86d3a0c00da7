"""Reading and writing linkage results in the workspace (`link` saves both kinds in one
transaction: see run.link)."""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import NamedTuple

from pydantic import ValidationError

from kglink.linkage.model import Model
from kglink.linkage.settings import LinkageSettings
from kglink.workspace import Workspace


def previous_features(ws: Workspace, kind: str) -> dict[str, str]:
    return dict(ws.conn.execute("SELECT key, hash FROM link_features WHERE kind = ?", (kind,)))


def previous_entities(ws: Workspace, kind: str) -> dict[str, str]:
    return {f"{a}:{r}": e for a, r, e in ws.conn.execute(
        "SELECT agency, record_id, entity_id FROM entity_members WHERE kind = ?", (kind,))}


class ScoredLink(NamedTuple):
    """A pair the model scored and the evidence rules decided: what a run keeps of it."""
    a: str                  # "agency:record_id", a < b
    b: str
    weight: float
    probability: float
    model_status: str       # link | review
    reason: str             # model | rule:<name>
    explanation: str        # JSON: {"levels": [...]}


class LinkRow(NamedTuple):
    """A row of the `links` table (docs/workspace-format.md)."""
    kind: str
    a: str
    b: str
    match_weight: float
    probability: float
    model_status: str
    status: str             # link | review | conflict | same | different | unsure
    reason: str             # model | rule:<name> | conflict | human
    explanation: str


class MemberRow(NamedTuple):
    """A row of the `entity_members` table."""
    kind: str
    agency: str
    record_id: str
    entity_id: str
    probability: float


def previous_links(ws: Workspace, kind: str) -> list[ScoredLink]:
    """Model-scored pairs of an earlier run, as the model and rules left them."""
    return [ScoredLink(a, b, w, p, ms, r if not r.startswith(("human", "conflict")) else "model", e)
            for a, b, w, p, ms, r, e in ws.conn.execute(
                "SELECT a, b, match_weight, probability, model_status, reason, explanation FROM links "
                "WHERE kind = ? AND explanation != '{\"levels\": null}'", (kind,))]


def load_decisions(ws: Workspace, kind: str) -> dict[tuple[str, str], str]:
    """The current human decision per pair: the latest in the append-only decision_log."""
    return {(a, b): d for a, b, d in ws.conn.execute(
        "SELECT a, b, decision FROM decision_log d WHERE kind = ? AND seq = "
        "(SELECT MAX(seq) FROM decision_log l WHERE l.kind = d.kind AND l.a = d.a AND l.b = d.b)",
        (kind,))}


def load_model(ws: Workspace, settings: LinkageSettings) -> Model | None:
    row = ws.conn.execute("SELECT settings, parameters FROM models WHERE kind = ?",
                          (settings.kind,)).fetchone()
    if not row:
        return None
    try:
        saved = LinkageSettings.model_validate_json(row[0])
    except ValidationError:
        return None          # settings kglink no longer accepts (a rule renamed): retrain
    if saved != settings:
        return None          # the settings changed: the old fit does not apply
    return Model.from_json(saved, json.loads(row[1]))


def saved_model(ws: Workspace, kind: str) -> Model | None:
    row = ws.conn.execute("SELECT settings, parameters FROM models WHERE kind = ?", (kind,)).fetchone()
    if not row:
        return None
    return Model.from_json(LinkageSettings.model_validate_json(row[0]), json.loads(row[1]))


def results_token(ws: Workspace) -> str:
    """Changes whenever the saved links and entities may no longer be what a link run
    saved: another run saved (linkage_run), a person decided a pair (decision_log, which
    `decide` writes into links too), or something else wrote entities (apply_true_linkage
    counts a linkage_run)."""
    n, last = ws.conn.execute("SELECT COUNT(*), COALESCE(MAX(seq), 0) FROM decision_log").fetchone()
    return f"{ws.get_meta('linkage_run') or 0}:{n}:{last}"


def saved_as_linked(ws: Workspace) -> bool:
    """Are the saved links and entities still as the last link run left them?"""
    return ws.get_meta("linked_results") == results_token(ws)


def saved_counts(ws: Workspace, kind: str) -> tuple[dict[str, int], int, int]:
    """Rows per status in links, entities and those of more than one record, as saved."""
    statuses = dict(ws.conn.execute("SELECT status, COUNT(*) FROM links WHERE kind = ? GROUP BY status", (kind,)))
    entities, multi = ws.conn.execute(
        "SELECT COUNT(*), COALESCE(SUM(n > 1), 0) FROM (SELECT COUNT(*) AS n FROM entity_members "
        "WHERE kind = ? GROUP BY entity_id)", (kind,)).fetchone()
    return statuses, entities, multi


def mark_linked(ws: Workspace, conn: sqlite3.Connection) -> None:
    """Note which loads this linkage saw, so `risks` can tell a link older than a load."""
    from kglink.workspace.status import loads_token

    ws.set_meta(conn, "linked_loads", loads_token(conn))


def save_kind(ws: Workspace, kind: str, settings: LinkageSettings, model: Model | None,
              links: list[LinkRow], members: list[MemberRow], features: list[tuple[str, str]],
              conflicts: Sequence[tuple[str, ...]] = (), saved_features: dict[str, str] | None = None) -> None:
    """`conflicts`: `link_conflicts` rows (linkage.contradiction.kept_rows); `saved_features`:
    the kind's link_features as `previous_features` read them in this transaction, if the
    caller has them (a million rows not read twice)."""
    with ws.transaction() as c:
        _replace_rows(c, "links", LINK_COLUMNS, 3, kind, links)
        _replace_rows(c, "link_conflicts", CONFLICT_COLUMNS, 3, kind, conflicts)
        _replace_rows(c, "entity_members", MEMBER_COLUMNS, 3, kind, members)
        old: dict[tuple[object, ...], tuple[object, ...]] | None = None
        if saved_features is not None:
            old = {(kind, k): (kind, k, h) for k, h in saved_features.items()}
        _replace_rows(c, "link_features", FEATURE_COLUMNS, 2, kind, [(kind, k, h) for k, h in features], old)
        if model is not None:
            c.execute("INSERT OR REPLACE INTO models (kind, trained_at, settings, parameters) VALUES (?,?,?,?)",
                      (kind, datetime.now(timezone.utc).isoformat(timespec="seconds"),
                       settings.model_dump_json(), json.dumps(model.to_json())))
        run = int(ws.get_meta("linkage_run") or 0) + 1
        ws.set_meta(c, "linkage_run", str(run))


LINK_COLUMNS = ("kind", "a", "b", "match_weight", "probability", "model_status", "status", "reason",
                "explanation")
MEMBER_COLUMNS = ("kind", "agency", "record_id", "entity_id", "probability")
FEATURE_COLUMNS = ("kind", "key", "hash")
CONFLICT_COLUMNS = ("kind", "a", "b", "sides", "found")


def _replace_rows(c: sqlite3.Connection, table: str, columns: tuple[str, ...], key_len: int, kind: str,
                  rows: Sequence[tuple[object, ...]], old: dict[tuple[object, ...], tuple[object, ...]] | None = None
                  ) -> None:
    """Make a kind's rows of `table` exactly `rows` (whose first `key_len` columns are the
    primary key). Only the rows that differ are written: the next night's relink, which
    changes a few thousand of a million rows, no longer deletes and writes them all (and
    makes the secondary indexes again). Where most rows differ (a first link, a retrain)
    they are all written again in bulk."""
    names = ", ".join(columns)
    insert = f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(columns))})"
    if old is None:         # the kind's rows as they are (the caller's dict is used up)
        old = {r[:key_len]: r for r in c.execute(f"SELECT {names} FROM {table} WHERE kind = ?", (kind,))}
    if old:
        differ = [r for r in rows if old.pop(tuple(r[:key_len]), None) != tuple(r)]
        # What is left of `old` is gone now.
        if len(differ) + len(old) <= len(rows) // 2:
            where = " AND ".join(f"{k} = ?" for k in columns[:key_len])
            c.executemany(f"DELETE FROM {table} WHERE {where}", old.keys())
            c.executemany(insert.replace("INSERT", "INSERT OR REPLACE", 1), differ)
            return
        c.execute(f"DELETE FROM {table} WHERE kind = ?", (kind,))
    with _indexes_rebuilt(c, table, len(rows)):
        c.executemany(insert, rows)


# Rows written at once above which a table's secondary indexes are dropped and made again.
BULK_ROWS = 50_000


@contextmanager
def _indexes_rebuilt(c: sqlite3.Connection, table: str, rows: int) -> Iterator[None]:
    """Many rows into `table`: its secondary indexes (entity_members by entity id, links by
    b) dropped for the inserts and created again after, in the same transaction. The same
    tables and indexes, but an index built by one sort instead of a million inserts in
    random order (1M entity_members rows: 37 s against 11 s wall here)."""
    if rows < BULK_ROWS:
        yield
        return
    made = c.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                     "AND sql IS NOT NULL", (table,)).fetchall()
    for name, _ in made:
        c.execute(f'DROP INDEX "{name}"')
    yield
    for _, sql in made:
        c.execute(sql)
