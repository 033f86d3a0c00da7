"""One base for every error kglink raises on purpose.

Each error's message says what went wrong and what to do (`no workspace at X. Run kglink
load first`); it never holds a personal value. The command line turns any of them into
`Error: message.` and the error's exit code (kglink/cli.py, one handler); library users
catch `KglinkError`. The classes themselves live beside the code that raises them
(`WorkspaceError` in kglink/workspace, `ExtractError` in kglink/loaders, ...) and are
listed in `kglink.errors.__doc__` users can read: every one is a `KglinkError`.
"""
from __future__ import annotations


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
