"""kglink's public Python API: `kglink.Workspace` (see docs/python-api.md)."""
from kglink.api.workspace import EntityRecords, Status, Workspace
from kglink.errors import KglinkError, PurposeRequired

__all__ = ["EntityRecords", "KglinkError", "PurposeRequired", "Status", "Workspace"]
