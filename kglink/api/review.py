"""`Workspace.review`: the queue of uncertain pairs and people's decisions on them.

Decisions win over the model on every later link; two records a person called different
are never merged again. Each read of the records is audited first, each decision lands
with its audit entry in one transaction (neither, if the entry cannot be written).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kglink import audit

if TYPE_CHECKING:
    from kglink.api.workspace import Workspace
    from kglink.linkage.cards import Card
    from kglink.linkage.explain import Explanation
    from kglink.linkage.review import Decision, QueueItem


@dataclass(frozen=True)
class Waiting:
    """A queued pair with both records side by side and why it waits, in words."""
    item: QueueItem
    a: Card
    b: Card
    why: str


@dataclass(frozen=True)
class Shown:
    """One pair as a person deciding sees it: both records and the score's waterfall."""
    explanation: Explanation
    a: Card
    b: Card


class Review:
    def __init__(self, ws: Workspace) -> None:
        self._ws = ws

    def pending(self, kind: str | None = None, limit: int | None = 20) -> list[QueueItem]:
        """The queue's pairs (record keys and probabilities, no personal values), most
        probable first: undecided pairs, those a rule or conflict held back, then unsure."""
        from kglink.linkage.review import queue

        return queue(self._ws.store, kind, limit)

    def queue(self, kind: str | None = None, limit: int | None = 20) -> list[Waiting]:
        """The queue with both records of each pair and why it waits (audited)."""
        from kglink.linkage.cards import cards
        from kglink.linkage.review import why_waiting

        items = self.pending(kind, limit)
        self._ws._record("review-list", {"kind": kind, "limit": limit},
                         {"pairs": [[it.a, it.b] for it in items]})
        found = cards(self._ws.store, [k for it in items for k in (it.a, it.b)])
        why = why_waiting(self._ws.store, items)
        return [Waiting(it, found[it.a], found[it.b], why[(it.a, it.b)]) for it in items]

    def show(self, a: str, b: str, kind: str | None = None) -> Shown:
        """One pair's records and waterfall, for a person about to decide (audited)."""
        from kglink.linkage.cards import cards
        from kglink.linkage.explain import explain

        ex = explain(self._ws.store, a, b)
        # names and dates of birth are about to be shown: logged first
        self._ws._record("review-show", {"a": a, "b": b}, {"kind": kind or ex.kind})
        found = cards(self._ws.store, [a, b])
        return Shown(ex, found[a], found[b])

    def decide(self, a: str, b: str, decision: str, *, relink: bool = True) -> str:
        """Record same, different or unsure on a pair (with its audit entry, together);
        then link again unless `relink=False` (deciding many, link once at the end).
        Returns the pair's kind."""
        from kglink.linkage import review as rv

        with self._ws.store.transaction():
            kind = rv.decide(self._ws.store, a, b, decision, self._ws.user)
            audit.record(self._ws.store, self._ws.user, "review", {"a": a, "b": b, "decision": decision},
                         {"kind": kind}, self._ws.purpose)
        if relink:
            self.relink()
        return kind

    def relink(self) -> None:
        """Link again after decisions, so that they take effect."""
        from kglink.linkage.run import link

        link(self._ws.store)

    def history(self, a: str, b: str) -> list[Decision]:
        """Every decision on a pair, oldest first; the last is in force (audited)."""
        from kglink.linkage import review as rv

        past = rv.history(self._ws.store, a, b)
        self._ws._record("review-history", {"a": a, "b": b}, {"decisions": len(past)})
        return past

    def html(self, out: str | os.PathLike[str], kind: str | None = None, *,
             workspace_hint: str | None = None) -> int:
        """Write every queued pair side by side, with its waterfall, to a page (audited);
        returns how many. `workspace_hint` is the --workspace its decide commands name."""
        from kglink.outputs import write_atomic
        from kglink.reports.review_page import review_html, review_pairs

        pairs = review_pairs(self._ws.store, kind)
        self._ws._record("review", {"html": str(out), "kind": kind}, {"pairs": len(pairs)})
        write_atomic(Path(out), review_html(pairs, len(pairs), workspace_hint))
        return len(pairs)
