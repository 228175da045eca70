"""Attention statistics the backbone adapters share: column sums of a row softmax."""

from __future__ import annotations

import torch


def softmax_column_sums(logits: torch.Tensor) -> torch.Tensor:
    """``[B, R, K]`` float32 logits -> ``[B, K]``: sum over the R rows of ``softmax(row)``.

    This is the attention each key receives, summed over queries (and heads, when they are
    folded into R). Overwrites ``logits``: ``E = exp(logits - rowmax)`` is formed in place and
    the column sums of ``E / z`` (``z`` = row sums) are the product ``(1/z) E``, so no
    normalised copy of the matrix is made.
    """
    if logits.dim() != 3:
        raise ValueError(f"logits must be [B, R, K], got shape {tuple(logits.shape)}")
    if logits.dtype != torch.float32:
        raise ValueError(f"logits must be float32 (they are overwritten), got {logits.dtype}")
    logits.sub_(logits.amax(dim=-1, keepdim=True)).exp_()
    inverse = logits.sum(dim=-1).reciprocal_().unsqueeze(1)  # [B, 1, R]
    return torch.bmm(inverse, logits).squeeze(1)
