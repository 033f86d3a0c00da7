"""Terminal output shared by the commands: progress bars and tables (rich).

Everything printed may come from the data (names, addresses, free text) or from a
user's arguments, so nothing printed is read as rich markup, and control characters
(terminal escape codes, OSC hyperlinks, bidi overrides, line separators) are shown as
visible escapes instead of reaching the terminal: `clean`, `SafeConsole` and `Table`.
"""
from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich import table as rich_table
from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                           TimeElapsedColumn, TimeRemainingColumn)
from rich.text import Text

# Format characters that reorder or hide text (Trojan Source), besides every Cc character.
_HIDDEN = {"\u061c", "\u200b", "\u200e", "\u200f", "\u2028", "\u2029", "\ufeff",
           *map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A))}


def _unsafe(ch: str, keep: str) -> bool:
    return ch not in keep and (unicodedata.category(ch) == "Cc" or ch in _HIDDEN)


def clean(text: object, keep: str = "") -> str:
    """`text` with every control or hiding character written as a visible escape (\\x1b)."""
    s = str(text)
    if not any(_unsafe(ch, keep) for ch in s):
        return s
    return "".join(ch.encode("unicode_escape").decode("ascii") if _unsafe(ch, keep) else ch
                   for ch in s)


def safe_text(value: object) -> Text:
    """A table cell or title: plain text (never markup), control characters escaped."""
    return value if isinstance(value, Text) else Text(clean(value))


def lines_cell(lines: Any) -> Text:
    """A table cell of several lines: each line cleaned, the line breaks kept."""
    return Text("\n".join(clean(line) for line in lines))


class Table(rich_table.Table):
    """rich's Table whose title, headers and cells are plain, cleaned text."""

    def __init__(self, *headers: Any, title: Any = None, **kwargs: Any) -> None:
        super().__init__(*headers, title=None if title is None else safe_text(title), **kwargs)

    def add_column(self, header: Any = "", *args: Any, **kwargs: Any) -> None:
        super().add_column(safe_text(header), *args, **kwargs)

    def add_row(self, *cells: Any, **kwargs: Any) -> None:
        super().add_row(*(None if c is None else safe_text(c) for c in cells), **kwargs)


class SafeConsole(Console):
    """A Console that reads no markup and cleans every string it prints."""

    def print(self, *objects: Any, **kwargs: Any) -> None:  # type: ignore[override]
        kwargs.setdefault("markup", False)
        kwargs.setdefault("emoji", False)
        kwargs.setdefault("highlight", False)
        super().print(*(clean(o, keep="\n") if isinstance(o, str) else o for o in objects), **kwargs)


console = SafeConsole()
err_console = SafeConsole(stderr=True)


@contextmanager
def progress_bars(enabled: bool = True) -> Iterator[Callable[[str, int], Callable[[int], None]]]:
    """Yields a factory: make(description, total) -> advance(n)."""
    progress = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), TimeRemainingColumn(), console=err_console,
        disable=not enabled, transient=False,
    )

    def make(description: str, total: int) -> Callable[[int], None]:
        from rich.markup import escape

        task = progress.add_task(escape(clean(description)), total=total or None)

        def advance(n: int) -> None:
            progress.advance(task, n)
        return advance

    with progress:
        yield make
