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
    linked = {
        source_key(agency, rid): Membership(eid, p)
        for agency, rid, eid, p in ws.conn.execute(
            "SELECT agency, record_id, entity_id, probability FROM entity_members WHERE kind = ?",
            (kind,))
    }
    out: dict[str, Membership] = {}
    for agency, key in ws.record_keys(kind):
        sk = source_key(agency, key)
        out[sk] = linked.get(sk) or Membership(entity_id_for(kind, [sk]), 1.0)
    return out
