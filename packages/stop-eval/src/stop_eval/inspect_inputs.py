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

import torch

from stop_eval.backbones import Backbone, available_backbones, get_backbone
from stop_eval.cli_util import HelpWithDefaults, one_line_warnings

PROG = "stop-eval inspect"
BUDGET_KEY = "requested_tokens"
DUMMY_DIM = 8  # feature width of the stand-in tokens that size the method's budget


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


def requested_tokens(
    entry: Backbone,
    method: str,
    retention: float,
    frames: int,
    grid: tuple[int, int],
) -> int:
    """The budget ``method`` at ``retention`` requests for a video of this token grid.

    The budget depends on the grid and the configuration only, so stop_core prunes stand-in
    tokens of that shape and reports its ``requested``.
    """
    from stop_core import PruningConfig, VideoTokens, prune

    if method == "none":
        cfg = PruningConfig("none", retention_ratio=1.0)
    else:
        cfg = PruningConfig.preset(
            method, backbone=entry.presets_backbone, retention_ratio=retention
        )
    g = torch.Generator().manual_seed(0)
    s = grid[0] * grid[1]
    tokens = VideoTokens(
        features=torch.randn(frames, s, DUMMY_DIM, generator=g),
        attention=torch.full((frames, s), 1.0 / s),
        keys=torch.randn(frames, s, DUMMY_DIM, generator=g),
        frame_embeddings=torch.randn(frames, DUMMY_DIM, generator=g),
        grid=grid,
    )
    return int(prune(tokens, cfg, generator=torch.Generator().manual_seed(0)).requested)


def inspect_video(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """(report, processor tensors) for the options; raises ValueError / OSError on bad input."""
    from stop_eval.models import frame_size, num_frames, warn_budget

    entry = get_backbone(args.backbone)
    if args.frames < 1:
        raise ValueError(f"--frames must be >= 1, got {args.frames}")
    if not 0.0 < args.retention <= 1.0:
        raise ValueError(f"--retention must be in (0, 1], got {args.retention}")
    if not args.video.exists():
        raise FileNotFoundError(f"video not found: {args.video}")
    if args.method is not None:
        from stop_core import get_method

        get_method(args.method)  # an unknown method fails before any decoding
    processor, config = entry.load_processor_and_config(args.model)
    if args.checkpoint_default:
        from stop_eval.backbones.qwen_family import decoded_fps
        from stop_eval.video import load_video

        frames, meta = load_video(args.video, args.frames)
        batch = entry.decoded_inputs(processor, None, [(frames, meta)])
        indices: list[int] = list(meta.indices)
        fps = decoded_fps(frames, meta) if "video_grid_thw" in batch else None
        fed_video: Any = frames
    else:
        video = entry.prepare(args.video, frames=args.frames, protocol=args.protocol)
        batch = entry.processor_inputs(processor, None, [video])
        indices, fps = list(video.frame_indices), video.fps
        fed_video = video
    report: dict[str, Any] = {"frame_indices": [int(i) for i in indices]}
    report.update(entry.inspect_fields(batch, config))
    height, width = frame_size(fed_video)
    warn_budget(
        args.backbone,
        report["visual_tokens"],
        height,
        width,
        num_frames(fed_video),
        config,
        stacklevel=2,
    )
    if fps is not None:
        report["fps"] = float(fps)
    if args.method is not None:
        frames_t, grid = entry.token_grid(batch, config)
        report[BUDGET_KEY] = requested_tokens(entry, args.method, args.retention, frames_t, grid)
    return report, entry.saved_tensors(batch)


def save_inputs(tensors: dict[str, torch.Tensor], path: Path) -> None:
    """Write the processor tensors as safetensors (contiguous CPU copies)."""
    from safetensors.torch import save_file

    if path.suffix != ".safetensors":
        raise ValueError(f"--save-inputs must name a .safetensors file, got {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.detach().cpu().contiguous() for k, v in tensors.items()}, str(path))


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


if __name__ == "__main__":
    main()
