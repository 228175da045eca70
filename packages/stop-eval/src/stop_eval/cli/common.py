"""What every ``stop-eval`` / ``stop-bench`` command shares: exit codes, one-line errors, help.

Exit codes (README, "Exit codes"): 0 the command did what it was asked; 1 it ran but failed
(an evaluation whose samples errored, a failed check); 2 bad options or input (an unknown
flag or value, a missing video or data folder, a model id that cannot be loaded). argparse
already exits with 2 for bad flags; ``fail`` does the same for errors found later.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from typing import NoReturn

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def fail(prog: str, message: str) -> NoReturn:
    """Print ``<prog>: error: <message>`` as one line on stderr and exit with 2."""
    sys.stderr.write(f"{prog}: error: {' '.join(str(message).split())}\n")
    raise SystemExit(EXIT_USAGE)


def shows_default(action: argparse.Action) -> bool:
    """Whether ``--help`` should print this option's default (not for None or plain flags)."""
    if not action.option_strings or action.default in (None, argparse.SUPPRESS):
        return False
    return not isinstance(action, argparse._StoreTrueAction | argparse._StoreFalseAction)


class HelpWithDefaults(argparse.ArgumentDefaultsHelpFormatter):
    """``--help`` shows every option's default, also for options without a help text."""

    def _format_action(self, action: argparse.Action) -> str:
        """Give an undocumented option with a default the help text ``default: <value>``."""
        if action.help or not shows_default(action):
            return super()._format_action(action)
        action.help = "default: %(default)s"
        try:
            return super()._format_action(action)
        finally:
            action.help = None

    def _get_help_string(self, action: argparse.Action) -> str | None:
        """The help text, with ``(default: ...)`` appended where there is one to show."""
        if not shows_default(action):
            return action.help
        return super()._get_help_string(action)


def one_line_warnings(prog: str) -> None:
    """Format warnings as one line, ``<prog>: warning: <message> (<category>)``.

    Only the text changes (``warnings.formatwarning``); where warnings go, and a caller that
    records them (``warnings.catch_warnings(record=True)``, pytest), stay as they are.
    """

    def one_line(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        line: str | None = None,
    ) -> str:
        text = " ".join(str(message).split())
        return f"{prog}: warning: {text} ({category.__name__})\n"

    warnings.formatwarning = one_line
