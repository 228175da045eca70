"""LLaVA's 2-D pooling of per-patch tensors (features, attention, keys) to the token grid."""

from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn.functional as F

PoolMode = Literal["bilinear", "average", "max"]
POOL_MODES: tuple[str, ...] = ("bilinear", "average", "max")


def pooled_grid(side: int, mode: PoolMode, stride: int = 2) -> tuple[int, int]:
    """Grid after pooling a ``side x side`` patch grid: ceil for bilinear, floor otherwise."""
    if mode == "bilinear":
        n = math.ceil(side / stride)
    elif mode in ("average", "max"):
        n = side // stride
    else:
        raise ValueError(f"unknown pool mode {mode!r}; known: {list(POOL_MODES)}")
    return n, n


def pool_2d(x: torch.Tensor, side: int, mode: PoolMode, stride: int = 2) -> torch.Tensor:
    """Pool ``[F, side*side, C]`` (row-major patches) to ``[F, h*w, C]`` as LLaVA does.

    ``bilinear`` is ``F.interpolate`` to ``ceil(side/stride)`` (align_corners=False, no
    antialias, as LLaVA-OneVision); ``average``/``max`` use ``stride``-sized windows (floor).
    """
    f, n, c = x.shape
    if n != side * side:
        raise ValueError(f"expected {side}x{side} = {side * side} patches, got {n}")
    grid = x.view(f, side, side, c).permute(0, 3, 1, 2).contiguous()
    if mode == "bilinear":
        pooled = F.interpolate(grid, size=list(pooled_grid(side, mode, stride)), mode="bilinear")
    elif mode == "average":
        pooled = F.avg_pool2d(grid, stride)
    elif mode == "max":
        pooled = F.max_pool2d(grid, stride)
    else:
        raise ValueError(f"unknown pool mode {mode!r}; known: {list(POOL_MODES)}")
    return pooled.permute(0, 2, 3, 1).reshape(f, -1, c)
