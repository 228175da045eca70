"""``stop-eval visualize --video V --backbone B``: options, and the summary it prints."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from stop_eval.backbones import available_backbones
from stop_eval.cli.common import HelpWithDefaults, fail, one_line_warnings
from stop_eval.media.prepared import PROTOCOLS
from stop_eval.viz.visualize import (
    DEFAULT_SHOWN_FRAMES,
    DEFAULT_TOP_K,
    format_header,
    format_survival,
    visualize,
)

PROG = "stop-eval visualize"


def build_parser() -> argparse.ArgumentParser:
    """Options of ``stop-eval visualize``."""
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Sink-score heat map and kept tokens with SToP off vs on, for one video.",
        formatter_class=HelpWithDefaults,
    )
    p.add_argument("--video", type=Path, required=True, help="a video file or frame folder")
    p.add_argument("--backbone", required=True, choices=available_backbones())
    p.add_argument(
        "--model",
        default=None,
        help="hub id or local path (default: the embedded random-weight demo model)",
    )
    p.add_argument("--method", default="holitom")
    p.add_argument("--retention", type=float, default=0.1)
    p.add_argument(
        "--frames", type=int, default=32, help="frames to sample (the official evaluation's 32)"
    )
    p.add_argument(
        "--variant",
        default="reference",
        choices=["reference", "fixed"],
        help="reference: the official code, quirks included; fixed: its bugs corrected",
    )
    p.add_argument(
        "--protocol",
        default="reference",
        choices=list(PROTOCOLS),
        help="input rule for a checkpoint (--model): reference = the official evaluation's",
    )
    p.add_argument("--top-k", type=int, default=DEFAULT_TOP_K, help="sink positions to track")
    p.add_argument("--show-frames", type=int, default=DEFAULT_SHOWN_FRAMES)
    p.add_argument("--out", type=Path, default=None, help="output folder")
    p.add_argument("--seed", type=int, default=4)
    p.add_argument("--dtype", default="auto", choices=["auto", "float16", "bfloat16", "float32"])
    p.add_argument("--device-map", default="auto")
    return p


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``stop-eval visualize``; bad options or input exit with 2."""
    args = build_parser().parse_args(sys.argv[2:] if argv is None else argv)
    one_line_warnings(PROG)
    try:
        vis, files = visualize(args)
    except (ValueError, OSError) as exc:
        fail(PROG, str(exc))
    print(format_header(vis))
    print(format_survival(vis.survival, len(vis.top_sinks)))
    for kind, path in files.items():
        print(f"{kind}: {path}")
