"""Terminal output shared by the commands: progress bars and tables (rich)."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                           TimeElapsedColumn, TimeRemainingColumn)

console = Console()
err_console = Console(stderr=True)


@contextmanager
def progress_bars(enabled: bool = True) -> Iterator[Callable[[str, int], Callable[[int], None]]]:
    """Yields a factory: make(description, total) -> advance(n)."""
    progress = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), TimeRemainingColumn(), console=err_console,
        disable=not enabled, transient=False,
    )

    def make(description: str, total: int) -> Callable[[int], None]:
        task = progress.add_task(description, total=total or None)

        def advance(n: int) -> None:
            progress.advance(task, n)
        return advance

    with progress:
        yield make
