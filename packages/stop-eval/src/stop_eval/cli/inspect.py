"""``stop-eval inspect``: what the model would get for one video, without running the LLM.

It prepares the video as the backbone's official rule for ``--protocol`` says and runs only the
video processor, then reports ``frame_indices`` (decoded frame numbers), ``frame_size``
([H, W] fed to the vision tower), ``visual_tokens`` (what the LLM receives unpruned, newlines
included), for Qwen also ``grid_thw`` and ``fps`` (the sample fps handed to the processor), and
with ``--method`` the budget the method asks for, ``requested_tokens``. ``--checkpoint-default``
shows instead what a run without the official pixel range feeds: the decoded frames sized by
the processor's own settings. Without ``--model`` the backbone's reference processor settings
are used (no weights, no download).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, NoReturn

from stop_eval.backbones import available_backbones
from stop_eval.cli.common import HelpWithDefaults, one_line_warnings
from stop_eval.eval.inspect import BUDGET_KEY, inspect_video, save_inputs

PROG = "stop-eval inspect"


class InspectParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr and exit code 2."""

    def error(self, message: str) -> NoReturn:
        """Print ``stop-eval inspect: error: <message>`` and exit with 2."""
        fail(message)


def fail(message: str) -> NoReturn:
    """One clear line on stderr, exit code 2."""
    sys.stderr.write(f"{PROG}: error: {' '.join(str(message).split())}\n")
    raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    """Options of ``stop-eval inspect``."""
    p = InspectParser(prog=PROG, description=__doc__, formatter_class=HelpWithDefaults)
    p.add_argument("--backbone", required=True, help=f"one of {list(available_backbones())}")
    p.add_argument("--video", type=Path, required=True, help="a video file or frame folder")
    p.add_argument("--frames", type=int, default=32, help="frames to sample (official: 32)")
    p.add_argument("--protocol", default="reference", choices=["reference", "fixed"])
    p.add_argument(
        "--model",
        default=None,
        help="hub id or folder whose processor and config to use (default: the backbone's "
        "reference checkpoint settings)",
    )
    p.add_argument(
        "--checkpoint-default",
        action="store_true",
        help="feed decoded frames through the processor's own size settings (what a run "
        "without the official pixel range would feed)",
    )
    p.add_argument("--method", default=None, help=f"report {BUDGET_KEY} for this method")
    p.add_argument("--retention", type=float, default=0.1)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--save-inputs", type=Path, default=None, help="FILE.safetensors")
    return p


def format_report(report: dict[str, Any], args: argparse.Namespace) -> str:
    """Plain text: one ``key: value`` line per field, frame indices last."""
    source = args.model or "reference processor settings"
    mode = "checkpoint default" if args.checkpoint_default else f"protocol {args.protocol}"
    lines = [f"{args.backbone} ({source}, {mode}): {args.video}"]
    for key, value in report.items():
        if key != "frame_indices":
            lines.append(f"  {key}: {value}")
    lines.append(f"  frame_indices ({len(report['frame_indices'])}): {report['frame_indices']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``stop-eval inspect``."""
    args = build_parser().parse_args(sys.argv[2:] if argv is None else argv)
    one_line_warnings(PROG)
    try:
        report, tensors = inspect_video(args)
        if args.save_inputs is not None:
            save_inputs(tensors, args.save_inputs)
    except (ValueError, OSError) as exc:
        fail(str(exc))
    print(json.dumps(report) if args.json else format_report(report, args))
    if args.save_inputs is not None and not args.json:
        print(f"saved: {args.save_inputs}")
