"""From a tower's merged video tokens to the kept embeddings and their M-RoPE positions.

Backbone-independent half of the plugin's models: build ``VideoTokens`` as the transformers
adapters do (scores normalised per frame, the same seed per video), run ``stop_core.prune``,
and give each kept token its unpruned T/H/W position, so vLLM places it where the transformers
path does.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from stop_core import PrunedVideo, VideoTokens, get_method, prune
from stop_core.scoring import norm_importance, normalize_per_frame
from stop_vllm.settings import StopSettings


def needs(settings: StopSettings) -> frozenset[str]:
    """The ``VideoTokens`` fields the configured method reads (none when keeping all)."""
    cfg = settings.cfg
    return get_method(cfg.method).needs if cfg.retention_ratio < 1.0 else frozenset()


def needs_capture(settings: StopSettings) -> bool:
    """Whether the vision block's attention (or keys) must be read during encoding."""
    wanted = needs(settings)
    return "keys" in wanted or ("attention" in wanted and settings.scorer == "attention")


def video_tokens(
    features: torch.Tensor,
    grid: tuple[int, int, int],
    settings: StopSettings,
    attention: torch.Tensor | None = None,
    keys: torch.Tensor | None = None,
) -> VideoTokens:
    """``VideoTokens`` of one video from its merged tokens ``[t*h*w, D]`` (raster order)."""
    t, h, w = grid
    feats = features.reshape(t, h * w, -1)
    wanted = needs(settings)
    score = None
    if "attention" in wanted:
        if settings.scorer == "norm":
            score = normalize_per_frame(norm_importance(feats))
        elif attention is None:
            raise RuntimeError("the attention scorer needs the captured vision attention")
        else:
            score = normalize_per_frame(attention.reshape(t, h * w))
    return VideoTokens(
        features=feats,
        attention=score,
        keys=None if keys is None or "keys" not in wanted else keys.reshape(t, h * w, -1),
        frame_embeddings=feats.float().mean(dim=1) if "frame_embeddings" in wanted else None,
        grid=(h, w),
    )


def prune_video(tokens: VideoTokens, settings: StopSettings) -> PrunedVideo:
    """``prune`` with a fresh seed-0 generator per video, as the transformers adapters do."""
    return prune(tokens, settings.cfg, generator=torch.Generator().manual_seed(0))


@dataclass(frozen=True)
class GridPositions:
    """Unpruned M-RoPE T/H/W ids of one video relative to its first token, and its extent."""

    ids: torch.Tensor  # [t*h*w, 3] long, raster order
    extent: int  # how far text after the video moves on: max(h, w), as transformers counts


def grid_positions(
    grid: tuple[int, int, int], time_interval: torch.Tensor | float
) -> GridPositions:
    """T ids ``floor(frame * time_interval)``, H/W ids the row/column (transformers' rule)."""
    t, h, w = grid
    temporal = (torch.arange(t) * time_interval).long()
    tt, hh, ww = torch.meshgrid(temporal, torch.arange(h), torch.arange(w), indexing="ij")
    ids = torch.stack([tt.reshape(-1), hh.reshape(-1), ww.reshape(-1)], dim=1)
    return GridPositions(ids=ids, extent=max(h, w))
