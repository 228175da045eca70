"""Token scores on Qwen2.5-VL: attention normalised per frame, or the feature-norm proxy."""

from __future__ import annotations

import torch
import torch.nn.functional as F

SCORERS: tuple[str, ...] = ("attention", "norm")


def normalize_per_frame(attention: torch.Tensor) -> torch.Tensor:
    """Scale each frame's scores ``[T, S]`` to sum 1 (mean ``1/S``).

    SigLIP attention in LLaVA is a probability per token (mean ~1/729 before pooling); the
    merged-token attention of a Qwen2.5-VL block lives on another scale (it depends on the
    chunk length and the 2x2 merge). Normalising per frame puts it on a probability scale so
    that the paper's mu presets (chosen against probabilities) keep their meaning.
    """
    total = attention.sum(dim=-1, keepdim=True)
    return attention / total.clamp_min(torch.finfo(attention.dtype).tiny)


def norm_importance(features: torch.Tensor) -> torch.Tensor:
    """The reference Qwen proxy ``||x|| * (1 + cos(x, frame mean))`` per token, ``[T, S]``."""
    x = features.float()
    mean = x.mean(dim=1, keepdim=True)
    return x.norm(dim=-1) * (1 + F.cosine_similarity(x, mean.expand_as(x), dim=-1))
