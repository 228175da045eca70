"""``stop-eval download --benchmark NAME --data-root DIR``: options and messages."""

from __future__ import annotations

import argparse
from pathlib import Path

from stop_eval.cli.common import HelpWithDefaults
from stop_eval.media import download as download_doc
from stop_eval.media.download import DOWNLOADERS, DownloadError, download


def main(argv: list[str] | None = None) -> None:
    """``stop-eval download --benchmark NAME --data-root DIR``."""
    parser = argparse.ArgumentParser(
        prog="stop-eval download",
        description=download_doc.__doc__,
        formatter_class=HelpWithDefaults,
    )
    parser.add_argument("--benchmark", required=True, choices=sorted(DOWNLOADERS))
    parser.add_argument("--data-root", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        base, notes = download(args.benchmark, args.data_root)
    except DownloadError as exc:
        raise SystemExit(f"stop-eval download: {exc}") from None
    print(f"{args.benchmark}: files in {base}")
    for note in notes:
        print(f"note: {note}")
