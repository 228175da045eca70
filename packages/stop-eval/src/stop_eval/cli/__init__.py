"""``stop-eval``: evaluate SToP-pruned video LLMs; download, check, inspect, visualize, list.

``stop-eval [run] [options]`` runs the offline demo (default) or a benchmark; the other
subcommands each have their own options (``stop-eval <command> --help``). Each command lives
in its own module of this package and is imported only when it runs, so ``list`` and
``--help`` stay fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from stop_eval.cli.common import HelpWithDefaults

DEFAULT_COMMAND = "run"
# command -> ("module:function" of its entry point taking the remaining arguments, help)
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("stop_eval.cli.run:main", "evaluate (default: the offline demo); the default command"),
    "list": ("stop_eval.cli.listing:main", "methods, backbones and benchmarks supported here"),
    "download": ("stop_eval.cli.download:main", "fetch a benchmark into the official layout"),
    "check": ("stop_eval.cli.check:main", "vet a benchmark's data root without a model"),
    "inspect": ("stop_eval.cli.inspect:main", "what the model would get for one video"),
    "visualize": ("stop_eval.cli.visualize:main", "sink heat map and kept tokens, SToP off/on"),
}


def build_parser() -> argparse.ArgumentParser:
    """The command-level parser: a subcommand and the arguments it parses itself."""
    parser = argparse.ArgumentParser(
        prog="stop-eval",
        description=__doc__,
        formatter_class=HelpWithDefaults,
        add_help=False,
    )
    parser.add_argument(
        "command",
        choices=list(COMMANDS),
        help="; ".join(f"{name}: {text}" for name, (_, text) in COMMANDS.items()),
    )
    parser.add_argument("args", nargs=argparse.REMAINDER, help="the command's own options")
    return parser


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``stop-eval``: arguments without a known command go to ``run``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in COMMANDS:
        argv = [DEFAULT_COMMAND, *argv]
    args = build_parser().parse_args(argv)
    module, _, function = COMMANDS[args.command][0].partition(":")
    getattr(importlib.import_module(module), function)(args.args)
