"""The POLE graph (persons, objects, locations, events): one schema, two stores.

`schema` declares it; `build` produces it from a workspace as a neutral stream; the
embedded store (networkx, persisted in the workspace) and the Neo4j store both take
that stream. See docs/graph.md.
"""
from kglink.graph.build import BuildStats, GraphNode, GraphRel, build_graph, iter_graph
from kglink.graph.embedded import load_graph, neighbourhood
from kglink.graph.neo4j_store import (
    GraphIncomplete, Neo4jSettings, Neo4jStoreError, Neo4jUnavailable, SyncReport, read_query,
    sync, sync_status,
)

__all__ = [
    "BuildStats", "GraphIncomplete", "GraphNode", "GraphRel", "Neo4jSettings", "Neo4jStoreError",
    "Neo4jUnavailable", "SyncReport", "build_graph", "iter_graph", "load_graph", "neighbourhood",
    "read_query", "sync", "sync_status",
]
