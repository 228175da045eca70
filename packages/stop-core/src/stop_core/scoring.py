"""Per-token scores of merged-patch backbones (Qwen-VL): per-frame normalisation, norm proxy.

Shared by every integration of these backbones (transformers adapters, the vLLM plugin), so
that the scores ``prune`` ranks are computed one way.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

SCORERS: tuple[str, ...] = ("attention", "norm")


def normalize_per_frame(attention: torch.Tensor) -> torch.Tensor:
    """Scale each frame's scores ``[T, S]`` to sum 1 (mean ``1/S``).

    SigLIP attention in LLaVA is a probability per token (mean ~1/729 before pooling); the
    merged-token attention of a Qwen-VL block lives on another scale (it depends on the chunk
    length and the 2x2 merge). Normalising per frame puts it on a probability scale so that
    the paper's mu presets (chosen against probabilities) keep their meaning.
    """
    total = attention.sum(dim=-1, keepdim=True)
    return attention / total.clamp_min(torch.finfo(attention.dtype).tiny)


def norm_importance(features: torch.Tensor) -> torch.Tensor:
    """The reference Qwen proxy ``||x|| * (1 + cos(x, frame mean))`` per token, ``[T, S]``."""
    x = features.float()
    mean = x.mean(dim=1, keepdim=True)
    return x.norm(dim=-1) * (1 + F.cosine_similarity(x, mean.expand_as(x), dim=-1))


def merge_to_tokens(
    per_patch: torch.Tensor, window_index: torch.Tensor, merge_unit: int
) -> torch.Tensor:
    """Per-patch values (window order) -> per merged token, mean of its patches, original order."""
    n = per_patch.shape[0]
    merged = per_patch.reshape(n // merge_unit, merge_unit, *per_patch.shape[1:]).mean(dim=1)
    return merged[torch.argsort(window_index.to(merged.device))]


def resolve_block(block: int | None, full_attention: list[int], depth: int) -> int:
    """The vision block to capture: the one asked for, else the last full-attention block."""
    if block is None:
        block = max(full_attention) if full_attention else depth - 1
    if isinstance(block, bool) or not isinstance(block, int):
        raise TypeError(f"block must be an int, got {type(block).__name__}")
    index = block if block >= 0 else depth + block
    if not 0 <= index < depth:
        raise ValueError(f"vision block {block} is out of range for a tower with {depth} blocks")
    return index
