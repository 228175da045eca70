"""The golden video at any width, pooled as LLaVA-OneVision pools it: ``stop-bench prune`` input.

The official pruning stage was timed on such inputs; ``--golden-inputs`` times ours on them.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch

from stop_core import VideoTokens
from stop_core.testing import with_layout
from stop_llava.pooling import pool_2d


def golden_style_tokens(
    path: Path,
    hidden: int,
    *,
    seed: int = 0,
    layout: str = "pooled",
    dtype: torch.dtype = torch.float32,
    device: str = "cpu",
) -> VideoTokens:
    """``inputs_D64.pt`` (32 frames of 27x27 patches) with its features at width ``hidden``.

    Features go through a fixed random projection ``D -> hidden`` (scaled to keep cosines),
    then features, attention and keys are pooled with LLaVA-OneVision's bilinear pooling,
    whose output is channel-major (``layout="contiguous"`` copies it token-major).
    """
    inputs = torch.load(path, weights_only=True)
    feats, attn, keys = inputs["features"], inputs["attn"], inputs["metric"].float()
    side = math.isqrt(feats.shape[1])
    g = torch.Generator().manual_seed(seed)
    proj = torch.randn(feats.shape[-1], hidden, generator=g) / feats.shape[-1] ** 0.5
    return VideoTokens(
        features=with_layout(pool_2d(feats @ proj, side, "bilinear"), layout).to(device, dtype),
        attention=pool_2d(attn[..., None], side, "bilinear")[..., 0].to(device),
        keys=pool_2d(keys, side, "bilinear").to(device),
        frame_embeddings=inputs["frame_global"].to(device),
        grid=((side + 1) // 2, (side + 1) // 2),
    )
