"""What the model would get for one video, without running the LLM (``stop-eval inspect``).

The video is prepared as the backbone's official rule for the protocol says and only the video
processor runs; the report holds ``frame_indices``, ``frame_size``, ``visual_tokens`` (what the
LLM receives unpruned, newlines included), for Qwen also ``grid_thw`` and ``fps``, and with a
method its budget, ``requested_tokens``. Without a model the backbone's reference processor
settings are used (no weights, no download).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import torch

from stop_eval.backbones import Backbone, get_backbone

BUDGET_KEY = "requested_tokens"
DUMMY_DIM = 8  # feature width of the stand-in tokens that size the method's budget


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
    from stop_eval.eval.model import frame_size, num_frames, warn_budget

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
        from stop_eval.backbones.qwen.family import decoded_fps
        from stop_eval.media.video import load_video

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
