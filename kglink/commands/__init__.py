"""The command line's command groups, one Typer sub-app per module; kglink/cli.py joins them.

Each command parses its arguments, calls one method of `kglink.Workspace` (which audits
and does the work) and prints; errors are turned into `Error: ...` by the one handler in
kglink/cli.py.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn, Optional

import typer

from kglink.api import Workspace
from kglink.ui import clean, err_console


@dataclass
class Context:
    """The global options, as the callback in kglink/cli.py read them."""
    workspace: Optional[Path]
    neo4j: Optional[str]
    user: str
    quiet: bool
    purpose: Optional[str] = None

    def open(self, create: bool = False) -> Workspace:
        """The workspace for this user and purpose; a command uses it in a `with` block."""
        return Workspace(self.workspace, user=self.user, purpose=self.purpose, neo4j=self.neo4j,
                         create=create)


def fail(message: str, code: int = 2) -> NoReturn:
    """Print `Error: what happened. What to do.` on one line and exit; no traceback for
    user errors. Control characters from data or arguments are shown escaped."""
    one_line = clean(" ".join(message.split()))
    err_console.print(f"Error: {one_line.rstrip('.')}.", soft_wrap=True)
    raise typer.Exit(code)
