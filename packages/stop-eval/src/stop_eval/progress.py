"""Progress bars on stderr: long steps show they are alive while stdout stays clean.

Tables, summaries and ``--json`` objects go to stdout; these bars never do, so piping a
command's output (or parsing its JSON) is unaffected. In a terminal the bar redraws in place;
elsewhere (a log file, a pipe) rich prints its final state once, unless it is transient.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import BinaryIO, TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

T = TypeVar("T")


def stderr_console() -> Console:
    """A rich console writing to ``sys.stderr`` (looked up at write time)."""
    return Console(stderr=True)


def progress_bar(console: Console | None = None, *, transient: bool = False) -> Progress:
    """A bar with the step's description, count, elapsed time and ETA, on stderr by default.

    ``transient``: the bar disappears when done (and is not shown at all outside a terminal,
    where it could not be erased), for steps whose own output follows.
    """
    console = console or stderr_console()
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=console,
        transient=transient,
        disable=transient and not console.is_terminal,
    )


def track(
    items: Sequence[T], description: str, label: Callable[[T], str] | None = None
) -> Iterator[T]:
    """Yield ``items`` while a stderr bar counts them; ``label(item)`` names the current one."""
    with progress_bar() as progress:
        task = progress.add_task(description, total=len(items))
        for item in items:
            if label is not None:
                progress.update(task, description=f"{description}: {label(item)}")
            yield item
            progress.advance(task)


def copy_stream(
    source: BinaryIO, target: BinaryIO, total: int | None, description: str, chunk: int = 1 << 20
) -> int:
    """Copy ``source`` to ``target`` with a bytes bar (size, speed, ETA) on stderr; bytes copied."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
    )
    copied = 0
    console = stderr_console()
    bar = Progress(*columns, console=console, transient=True, disable=not console.is_terminal)
    with bar as progress:
        task = progress.add_task(description, total=total)
        while block := source.read(chunk):
            target.write(block)
            copied += len(block)
            progress.advance(task, len(block))
    return copied
