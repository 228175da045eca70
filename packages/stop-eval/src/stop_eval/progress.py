"""Progress bars on stderr: long steps show they are alive while stdout stays clean.

Tables, summaries and ``--json`` objects go to stdout; these bars never do, so piping a
command's output (or parsing its JSON) is unaffected. In a terminal the bar redraws in place;
elsewhere (a log file, a pipe) rich prints its final state once, unless it is transient.
"""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


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
