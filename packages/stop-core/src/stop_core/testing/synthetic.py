"""Synthetic video tokens shaped like a backbone's pooled output, for tests and benchmarks.

``synthetic_tokens`` builds a video with scenes of consecutive frames (tokens = scene content
plus a small per-frame change) and four persistent attention sinks; ``with_layout`` stores
features token-major (``contiguous``) or channel-major (``pooled``, as a pooling leaves them).
"""

from __future__ import annotations

import torch

from stop_core.tokens import VideoTokens

LAYOUTS: tuple[str, ...] = ("pooled", "contiguous")


def synthetic_tokens(
    frames: int,
    grid: tuple[int, int],
    hidden: int,
    *,
    seed: int = 0,
    scenes: int = 4,
    dtype: torch.dtype = torch.float32,
    device: str = "cpu",
    layout: str = "contiguous",
) -> VideoTokens:
    """Random pooled tokens shaped like a backbone's output, with video-like structure.

    The video has ``scenes`` scenes of consecutive frames (tokens = scene content + small
    per-frame change, frame embeddings likewise) and four persistent attention sinks;
    ``layout="pooled"`` stores the features channel-major, as a pooling's output is.
    """
    g = torch.Generator().manual_seed(seed)
    s = grid[0] * grid[1]
    scene_of = torch.arange(frames) * scenes // max(frames, 1)
    logits = torch.randn(frames, s, generator=g)
    logits[:, torch.randperm(s, generator=g)[:4]] += 4.0  # planted sinks
    content = torch.randn(scenes, s, hidden, generator=g)
    feats = content[scene_of] + 0.3 * torch.randn(frames, s, hidden, generator=g)
    scene_emb = torch.randn(scenes, 1152, generator=g)
    emb = scene_emb[scene_of] + 0.1 * torch.randn(frames, 1152, generator=g)
    return VideoTokens(
        features=with_layout(feats.to(device=device, dtype=dtype), layout),
        attention=torch.softmax(logits, dim=-1).to(device),
        keys=torch.randn(frames, s, 72, generator=g).to(device),
        frame_embeddings=emb.to(device),
        grid=grid,
    )


def with_layout(features: torch.Tensor, layout: str) -> torch.Tensor:
    """``features [T, S, D]`` token-major (``contiguous``) or channel-major (``pooled``)."""
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {list(LAYOUTS)}, got {layout!r}")
    if layout == "contiguous":
        return features.contiguous()
    return features.transpose(1, 2).contiguous().transpose(1, 2)
