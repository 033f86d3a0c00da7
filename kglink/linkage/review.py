"""Human review of uncertain pairs: the queue, and decisions that win over the model."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from kglink.errors import KglinkError
from kglink.workspace import Workspace

DECISIONS = ("same", "different", "unsure")


class ReviewError(KglinkError, ValueError):
    pass


@dataclass(frozen=True)
class QueueItem:
    kind: str
    a: str
    b: str
    probability: float
    status: str
    reason: str


def queue(ws: Workspace, kind: str | None = None, limit: int | None = None) -> list[QueueItem]:
    """Undecided pairs between the thresholds, pairs a rule or a conflict held back, then
    pairs a person marked unsure; most probable first."""
    sql = ("SELECT kind, a, b, probability, status, reason FROM links "
           "WHERE status IN ('review', 'conflict', 'unsure')")
    params: list[object] = []
    if kind:
        sql += " AND kind = ?"
        params.append(kind)
    sql += " ORDER BY status = 'unsure', probability DESC, kind, a, b"
    if limit:
        sql += " LIMIT ?"
        params.append(limit)
    return [QueueItem(*r) for r in ws.conn.execute(sql, params)]


def _kind_of(ws: Workspace, key: str) -> str | None:
    agency, _, rid = key.partition(":")
    for kind in ("person", "address"):
        if ws.conn.execute("SELECT 1 FROM records WHERE kind=? AND agency=? AND key=?",
                           (kind, agency, rid)).fetchone():
            return kind
    return None


def decide(ws: Workspace, a: str, b: str, decision: str, user: str, note: str | None = None) -> str:
    """Record a decision on a pair of source records (`agency:record_id`). Returns the kind."""
    if decision not in DECISIONS:
        raise ReviewError(f"unknown decision {decision!r}; use one of {', '.join(DECISIONS)}")
    if a == b:
        raise ReviewError("a record is always the same as itself; name two different records")
    kinds = {_kind_of(ws, a), _kind_of(ws, b)}
    if None in kinds:
        missing = a if _kind_of(ws, a) is None else b
        raise ReviewError(f"no person or address record {missing}; use AGENCY:RECORD_ID as "
                          "`kglink entity` or `kglink review` shows it")
    if len(kinds) != 1:
        raise ReviewError("one is a person and the other an address; compare like with like")
    kind = kinds.pop()
    assert kind is not None
    lo, hi = sorted((a, b))
    from kglink.audit import os_user

    with ws.transaction() as c:
        # Appended, never overwritten: the current decision is the latest (see `history`).
        c.execute("INSERT INTO decision_log (kind, a, b, decision, decided_by, os_user, decided_at, note)"
                  " VALUES (?,?,?,?,?,?,?,?)",
                  (kind, lo, hi, decision, user, os_user(),
                   datetime.now(timezone.utc).isoformat(timespec="seconds"), note))
        c.execute("UPDATE links SET status = ?, reason = 'human' WHERE kind = ? AND a = ? AND b = ?",
                  (decision, kind, lo, hi))
    return kind


@dataclass(frozen=True)
class Decision:
    kind: str
    a: str
    b: str
    decision: str
    decided_by: str
    os_user: str | None
    decided_at: str
    note: str | None


def history(ws: Workspace, a: str, b: str) -> list[Decision]:
    """Every decision on the pair, oldest first; the last is the one in force."""
    if a == b:
        raise ReviewError("a record is always the same as itself; name two different records")
    lo, hi = sorted((a, b))
    return [Decision(*r) for r in ws.conn.execute(
        "SELECT kind, a, b, decision, decided_by, os_user, decided_at, note FROM decision_log "
        "WHERE a = ? AND b = ? ORDER BY seq", (lo, hi))]


def why_waiting(ws: Workspace, items: list[QueueItem]) -> dict[tuple[str, str], str]:
    """Why each queued pair waits for a person, in words (rules.MEANING), naming for a
    pair in conflict the contradiction between the two entities it would join."""
    from kglink.linkage.contradiction import contradictions
    from kglink.linkage.rules import MEANING
    from kglink.linkage.store import saved_model

    found: dict[tuple[str, str], list] = {}  # type: ignore[type-arg]
    for kind in sorted({it.kind for it in items}):
        found |= contradictions(ws, kind, [(it.a, it.b) for it in items
                                           if it.kind == kind and it.status == "conflict"])
    out: dict[tuple[str, str], str] = {}
    for it in items:
        if it.status == "unsure":
            row = ws.conn.execute("SELECT decided_by, decided_at FROM decisions WHERE kind=? AND a=? AND b=?",
                                  (it.kind, it.a, it.b)).fetchone()
            out[(it.a, it.b)] = ("marked unsure by " + (f"{row[0]} on {row[1][:10]}" if row else "a person")
                                 + "; it waits for someone who knows")
        elif it.status == "conflict":
            c = found.get((it.a, it.b), [])
            if c:
                more = f" (and {len(c) - 1} more such pairs)" if len(c) > 1 else ""
                out[(it.a, it.b)] = (f"the score links them, but joining them would put {c[0].a} and "
                                     f"{c[0].b} in one {it.kind}: {c[0].meaning}"
                                     + (f" ({c[0].rule})" if c[0].rule != "human" else "") + more)
            else:
                out[(it.a, it.b)] = ("the score links them, but joining their entities was refused "
                                     "because records in them contradict each other")
        elif it.reason == "model":
            model = saved_model(ws, it.kind)
            th = model.settings.thresholds if model else None
            band = f" (between {th.review:.2f} and {th.link:.2f})" if th else ""
            out[(it.a, it.b)] = f"the score alone is not sure enough to link: p = {it.probability:.3f}{band}"
        else:
            out[(it.a, it.b)] = MEANING.get(it.reason, it.reason.removeprefix("rule:").replace("_", " "))
    return out
