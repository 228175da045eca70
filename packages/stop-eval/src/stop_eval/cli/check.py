"""``stop-eval check --benchmark B --data-root R``: exit 0 when every item can run, 1 otherwise."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from stop_eval.benchmarks import BENCHMARKS
from stop_eval.eval.data_check import check_data_root, print_report


def main(argv: list[str] | None = None) -> None:
    """``stop-eval check --benchmark B --data-root R [--protocol P] [--json]``."""
    parser = argparse.ArgumentParser(
        prog="stop-eval check",
        description="Vet a benchmark's data root without loading a model: item counts, "
        "missing / empty / undecodable videos, duplicates, annotation warnings.",
    )
    parser.add_argument("--benchmark", required=True, choices=sorted(BENCHMARKS))
    parser.add_argument("--data-root", type=Path, required=True)
    parser.add_argument("--protocol", default="reference", choices=["reference", "fixed"])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    report = check_data_root(args.benchmark, args.data_root, args.protocol)
    if args.json:
        print(json.dumps(report.as_json(), indent=2))
    else:
        print_report(report)
    raise SystemExit(0 if report.ok else 1)
