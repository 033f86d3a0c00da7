"""One base for every error kglink raises on purpose.

Each error's message says what went wrong and what to do (`no workspace at X. Run kglink
load first`); it never holds a personal value. The command line turns any of them into
`Error: message.` and the error's exit code (kglink/cli.py, one handler); library users
catch `KglinkError`. The classes themselves live beside the code that raises them
(`WorkspaceError` in kglink/workspace, `ExtractError` in kglink/loaders, ...) and are
listed in `kglink.errors.__doc__` users can read: every one is a `KglinkError`.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class KglinkError(Exception):
    """An error kglink raised on purpose; str(e) says what happened and what to do."""

    exit_code = 2       # the command line's exit status for it

    def add(self, consequence: str) -> KglinkError:
        """The same error saying what it left undone (`... Nothing was loaded`), to re-raise."""
        self.args = (f"{str(self).rstrip().rstrip('.')}. {consequence}", *self.args[1:])
        return self


class PurposeRequired(KglinkError, ValueError):
    """A read of personal data that needs a purpose (`reason`) for the audit log was asked
    for without one."""


class NotFound(KglinkError, LookupError):
    """A record key that names no loaded person or address record."""


class NotLinked(KglinkError):
    """Findings asked of a workspace never linked, or loaded since its last link."""


class NeedsNeo4j(KglinkError):
    """A command that works on Neo4j only, asked without a Neo4j server named."""


class CypherFailed(KglinkError):
    """Neo4j refused a read-only query (a syntax error, an unknown function)."""


class OutputError(KglinkError):
    """A file kglink was asked to write could not be written."""


@contextmanager
def writing(path: object, advice: str) -> Iterator[None]:
    """Turn a failure to write `path` into OutputError: `cannot write PATH (reason). advice`."""
    try:
        yield
    except OSError as e:
        raise OutputError(f"cannot write {path} ({e.strerror}). {advice}") from None
