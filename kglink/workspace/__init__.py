"""The embedded workspace: one SQLite file holding everything kglink knows between commands.

The on-disk format is documented in docs/workspace-format.md.
"""
from kglink.workspace.store import Workspace, WorkspaceError, open_workspace

__all__ = ["Workspace", "WorkspaceError", "open_workspace"]
