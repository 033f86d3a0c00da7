"""Entity ids and membership: which source records are one person, or one address.

An entity id is derived from its members, so reruns do not reshuffle ids; a record that
linkage has not (yet) joined to anything is an entity of its own.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import NamedTuple

from kglink.workspace import Workspace

PREFIX = {"person": "per_", "address": "adr_"}


class Membership(NamedTuple):
    entity_id: str
    probability: float


def source_key(agency: str, record_id: str) -> str:
    return f"{agency}:{record_id}"


def split_source_key(key: str) -> tuple[str, str]:
    agency, _, record_id = key.partition(":")
    return agency, record_id


def entity_id_for(kind: str, members: Iterable[str]) -> str:
    """The id a new entity gets: a hash of its smallest member key."""
    first = min(members)
    return PREFIX[kind] + hashlib.blake2b(first.encode(), digest_size=6).hexdigest()


def entity_map(ws: Workspace, kind: str) -> dict[str, Membership]:
    """source key -> (entity id, probability) for every active record of `kind`.

    Records that no linkage run has placed are singletons with probability 1.
    """
    # One query, in the order of Workspace.record_keys, the source key made by SQLite: a
    # million records' keys built and looked up in Python took seconds.
    out: dict[str, Membership] = {}
    for sk, eid, p in ws.conn.execute(
            "SELECT r.agency || ':' || r.key, m.entity_id, m.probability FROM records r "
            "LEFT JOIN entity_members m ON m.kind = r.kind AND m.agency = r.agency AND m.record_id = r.key "
            "WHERE r.kind = ? AND r.status = 'active' ORDER BY r.agency, r.key", (kind,)):
        out[sk] = Membership(eid, p) if eid is not None else Membership(entity_id_for(kind, [sk]), 1.0)
    return out
