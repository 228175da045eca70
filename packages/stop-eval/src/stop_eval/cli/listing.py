"""``stop-eval list``: the methods x backbones support table and the benchmarks."""

from __future__ import annotations

import argparse

from stop_eval.backbones.support import support_table
from stop_eval.benchmarks import BENCHMARKS


def main(argv: list[str] | None = None) -> None:
    """Print what this installation supports (no options)."""
    argparse.ArgumentParser(prog="stop-eval list", description=__doc__).parse_args(argv)
    print(support_table())
    print("\nbenchmarks:", ", ".join(sorted(BENCHMARKS)))
