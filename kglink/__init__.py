"""kglink: link agency extracts about children and families, build a POLE graph, find risks.

    import kglink
    with kglink.Workspace("ws", user="analyst-1", purpose="strategy meeting") as w:
        w.load(["extracts/police"]); w.link(); found = w.risks()

See docs/python-api.md.
"""
__version__ = "0.1.0"

from kglink.api import Workspace  # noqa: E402
from kglink.errors import KglinkError, PurposeRequired  # noqa: E402

__all__ = ["KglinkError", "PurposeRequired", "Workspace", "__version__"]
