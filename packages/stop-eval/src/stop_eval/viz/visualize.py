"""Where the sinks of a video are and which tokens survive, SToP off/on (``stop-eval visualize``).

The video goes through the backbone adapter's own encoding path (the hooked vision tower and
pooling/merging), so the pooled ``VideoTokens`` are exactly those ``prune`` would see; ``prune``
then runs twice with the same seed, with the method's SToP strengths at zero and at their
presets. Written into ``--out``: ``visualize.png`` (sink-score heat map and a few frames with
the kept tokens), ``visualize.html`` (self-contained) and ``survival.json``.

"Sink survival" is the share of the ``top_k`` positions with the highest sink score that are
kept: in any frame, and averaged over the frames. Merged tokens (HoliTom static clusters,
FastVID contexts) count at the frame and position ``prune`` places them.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from stop_core import (
    PrunedVideo,
    PruningConfig,
    VideoTokens,
    available_methods,
    get_method,
    prune,
    sink_score,
)
from stop_eval.backbones import get_backbone
from stop_eval.media.prepared import PreparedVideo
from stop_eval.media.video import VideoMeta, load_video

DEFAULT_TOP_K = 4
DEFAULT_SHOWN_FRAMES = 4
VARIANTS = ("off", "on")


@dataclass
class Visualization:
    """Everything the report shows: sink scores, kept-token maps and the survival numbers.

    ``kept[v]`` is a ``[T, S]`` bool map of the tokens ``prune`` returned with SToP ``v``
    (``"off"``/``"on"``); ``frame_of_token[t]`` is the decoded frame shown for token frame
    ``t`` (Qwen2.5-VL merges two frames into one token frame).
    """

    backbone: str
    model: str
    method: str
    retention: float
    video: str
    frames: np.ndarray
    frame_of_token: list[int]
    grid: tuple[int, int]
    sink: torch.Tensor
    top_sinks: list[int]
    kept: dict[str, torch.Tensor]
    requested: dict[str, int]
    configs: dict[str, PruningConfig]
    survival: dict[str, dict[str, float]]
    notes: dict[str, Any] = field(default_factory=dict)
    model_label: str = ""

    @property
    def label(self) -> str:
        """What model the report shows, for titles: the demo's description or the checkpoint."""
        return self.model_label or self.model

    @property
    def num_token_frames(self) -> int:
        """Number of token frames ``T``."""
        return int(self.kept["off"].shape[0])

    def summary(self) -> dict[str, Any]:
        """The JSON-friendly numbers (written to ``survival.json``)."""
        h, w = self.grid
        return {
            "video": self.video,
            "backbone": self.backbone,
            "model": self.model,
            "model_label": self.label,
            "method": self.method,
            "variant": self.configs["on"].variant,
            "retention": self.retention,
            "decoded_frames": int(self.frames.shape[0]),
            "token_frames": self.num_token_frames,
            "grid": [h, w],
            "top_k": len(self.top_sinks),
            "top_sinks": [
                {
                    "position": p,
                    "row": p // w,
                    "col": p % w,
                    "sink_score": float(self.sink[p]),
                    "frames_kept": {v: int(self.kept[v][:, p].sum()) for v in VARIANTS},
                }
                for p in self.top_sinks
            ],
            "kept": {v: int(self.kept[v].sum()) for v in VARIANTS},
            "requested": self.requested,
            "survival": self.survival,
            "mu": {v: [self.configs[v].mu_s, self.configs[v].mu_t] for v in VARIANTS},
            "sink_score": [round(float(x), 6) for x in self.sink],
            **self.notes,
        }


def kept_map(out: PrunedVideo) -> torch.Tensor:
    """``[T, S]`` bool: which (frame, position) cells hold a returned (kept or merged) token."""
    s = out.grid[0] * out.grid[1]
    mask = torch.zeros(out.num_frames * s, dtype=torch.bool)
    mask[out.global_index.cpu()] = True
    return mask.view(out.num_frames, s)


def top_sink_positions(sink: torch.Tensor, k: int) -> list[int]:
    """The ``k`` positions with the highest sink score, highest first."""
    if k < 1:
        raise ValueError(f"--top-k must be >= 1, got {k}")
    k = min(k, int(sink.numel()))
    return [int(i) for i in torch.topk(sink.float().cpu(), k).indices]


def sink_survival(kept: torch.Tensor, positions: list[int]) -> dict[str, float]:
    """Share of ``positions`` kept in any frame, and the per-frame share averaged over frames."""
    cols = kept[:, positions].float()  # [T, k]
    return {
        "any_frame": float(cols.amax(dim=0).mean()),
        "per_frame": float(cols.mean()),
    }


def planted_sink_tokens(patches: tuple[int, ...], side: int, grid: tuple[int, int]) -> list[int]:
    """Token positions of ``patches`` (on a ``side x side`` patch grid) after 2x2 pooling.

    A patch lands in the 2 x 2 cell ``(row // 2, col // 2)`` (clipped to the grid); the demo
    plants its sinks on even rows and columns, where bilinear pooling agrees with that cell.
    """
    h, w = grid
    return sorted({min((p // side) // 2, h - 1) * w + min((p % side) // 2, w - 1) for p in patches})


DEMO_LABEL = "random-weight demo model"


def model_label(model: str | None, planted_sinks: bool) -> str:
    """What the report shows: the checkpoint's name, or the demo model (and its planted sinks)."""
    if model is not None:
        return f"checkpoint {model}"
    return f"{DEMO_LABEL} \u2014 planted sinks" if planted_sinks else DEMO_LABEL


def check_choices(backbone: str, method: str) -> None:
    """Raise ``ValueError`` for an unknown backbone or a method SToP does not change."""
    get_backbone(backbone)  # raises for an unknown name, listing the known ones
    spec = get_method(method)
    if not spec.uses_sink:
        usable = [m for m in available_methods() if get_method(m).uses_sink]
        raise ValueError(f"method {method!r} does not use SToP; choose one of {usable}")


def display_frames(frames: np.ndarray | torch.Tensor) -> np.ndarray:
    """Prepared frames (uint8 ``[T, H, W, 3]`` or float 0..255 ``[T, 3, H, W]``) as uint8 HWC."""
    if isinstance(frames, torch.Tensor):
        frames = frames.detach().cpu().numpy()
    if frames.ndim == 4 and frames.shape[1] == 3 and frames.shape[-1] != 3:
        frames = frames.transpose(0, 2, 3, 1)
    return np.clip(np.rint(frames), 0, 255).astype(np.uint8)


def encode(
    model: torch.nn.Module,
    processor: Any,  # noqa: ANN401 - a transformers processor
    backbone: str,
    frames: np.ndarray | PreparedVideo,
    meta: VideoMeta,
    cfg: PruningConfig,
) -> VideoTokens:
    """The ``VideoTokens`` the backbone's adapter would prune for this video."""
    return get_backbone(backbone).encode_tokens(model, processor, frames, meta, cfg)


def analyse(
    tokens: VideoTokens,
    frames: np.ndarray,
    *,
    backbone: str,
    method: str,
    retention: float,
    top_k: int = DEFAULT_TOP_K,
    seed: int = 0,
    variant: str = "reference",
    video: str = "",
    model_name: str = "demo-random",
) -> Visualization:
    """Prune ``tokens`` with SToP off and on (same seed) and measure sink survival."""
    configs = {
        v: PruningConfig.preset(
            method,
            backbone=get_backbone(backbone).presets_backbone,
            retention_ratio=retention,
            use_stop=v == "on",
            variant=variant,  # type: ignore[arg-type]
        )
        for v in VARIANTS
    }
    if tokens.attention is None:
        raise ValueError(f"method {method!r} captured no attention: no sink score to show")
    sink = sink_score(tokens.attention.float(), configs["on"].gamma).cpu()
    top = top_sink_positions(sink, top_k)
    kept: dict[str, torch.Tensor] = {}
    requested: dict[str, int] = {}
    budget: dict[str, str] = {}
    for v, cfg in configs.items():
        out = prune(tokens, cfg, generator=torch.Generator().manual_seed(seed))
        kept[v] = kept_map(out)
        requested[v] = out.requested
        if "budget_explanation" in out.info:
            budget[v] = str(out.info["budget_explanation"])
    per_token = -(-len(frames) // tokens.num_frames)  # decoded frames per token frame
    return Visualization(
        backbone=backbone,
        model=model_name,
        method=method,
        retention=retention,
        video=video,
        frames=frames,
        frame_of_token=[min(len(frames) - 1, t * per_token) for t in range(tokens.num_frames)],
        grid=tokens.hw,
        sink=sink,
        top_sinks=top,
        kept=kept,
        requested=requested,
        configs=configs,
        survival={v: sink_survival(kept[v], top) for v in VARIANTS},
        notes={"budget": budget} if budget else {},
    )


def visualize(args: argparse.Namespace) -> tuple[Visualization, dict[str, Path]]:
    """Decode, encode, prune off/on, and write the PNG, HTML and JSON into ``args.out``."""
    from stop_eval.eval.model import load_backbone

    check_choices(args.backbone, args.method)
    if args.frames < 1:
        raise ValueError(f"--frames must be >= 1, got {args.frames}")
    if args.top_k < 1:
        raise ValueError(f"--top-k must be >= 1, got {args.top_k}")
    if not Path(args.video).exists():
        raise FileNotFoundError(f"video not found: {args.video}")
    cfg = PruningConfig.preset(
        args.method,
        backbone=get_backbone(args.backbone).presets_backbone,
        retention_ratio=args.retention,
        variant=args.variant,
    )
    torch.manual_seed(args.seed)
    model, processor, random_weights = load_backbone(
        args.backbone, args.model, dtype=args.dtype, device_map=args.device_map, seed=args.seed
    )
    model.eval()
    entry = get_backbone(args.backbone)
    if random_weights:  # the demo's processor is fixed-size by design: decoded frames
        frames, meta = load_video(args.video, args.frames)
        tokens = encode(model, processor, args.backbone, frames, meta, cfg)
    else:  # a checkpoint sees exactly what the official evaluation feeds it
        prepared = entry.prepare(args.video, frames=args.frames, protocol=args.protocol)
        frames, meta = display_frames(prepared.frames), prepared.meta
        tokens = encode(model, processor, args.backbone, prepared, meta, cfg)
    vis = analyse(
        tokens,
        frames,
        backbone=args.backbone,
        method=args.method,
        retention=args.retention,
        top_k=args.top_k,
        seed=args.seed,
        variant=args.variant,
        video=str(args.video),
        model_name=args.model or "demo-random",
    )
    sinks = get_backbone(args.backbone).demo_sinks() if random_weights else None
    vis.model_label = model_label(args.model, sinks is not None)
    if sinks is not None:
        planted = planted_sink_tokens(*sinks, vis.grid)
        vis.notes["planted_sinks"] = planted
        vis.notes["planted_sinks_found"] = sorted(vis.top_sinks) == planted
    out = args.out or Path("stop-visualize") / (
        f"{Path(args.video).stem}_{args.backbone}_{args.method}_r{args.retention:g}"
    )
    from stop_eval.viz.report import write_report  # matplotlib: only when drawing

    files = write_report(vis, Path(out), shown_frames=args.show_frames)
    return vis, files


def format_survival(survival: dict[str, dict[str, float]], k: int) -> str:
    """One line per SToP setting, e.g. ``SToP off: any frame 1.000, per frame 0.750``."""
    return "\n".join(
        f"sink survival (top-{k}), SToP {v}: any frame {survival[v]['any_frame']:.3f}, "
        f"per frame {survival[v]['per_frame']:.3f}"
        for v in VARIANTS
    )


def format_header(vis: Visualization) -> str:
    """Which model the report shows, its grid and frames, and the budget asked vs delivered."""
    h, w = vis.grid
    kept = {v: int(vis.kept[v].sum()) for v in VARIANTS}
    lines = [
        f"model: {vis.label}",
        f"{vis.backbone}, {vis.method}: {len(vis.frames)} decoded frames -> "
        f"{vis.num_token_frames} token frames of {h} x {w}",
        f"retention {vis.retention:g}: requested {vis.requested['off']} tokens; kept "
        f"{kept['off']} (SToP off), {kept['on']} (SToP on)",
    ]
    for v, text in vis.notes.get("budget", {}).items():
        lines.append(f"budget (SToP {v}) {text}")
    return "\n".join(lines)
