"""Carrying per-token side tensors (e.g. Qwen3-VL deepstack features) through a pruning."""

from __future__ import annotations

import torch

from stop_core.tokens import PrunedVideo


def prune_side_tensor(out: PrunedVideo, side: torch.Tensor) -> torch.Tensor:
    """``side`` ``[T, S, D']`` -> ``[N, D']`` exactly as ``out``'s features were formed.

    A pure selection (one source of weight 1 per token) is an exact gather; anything else
    goes through ``PrunedVideo.apply``.
    """
    comb = out.combination
    if comb is None:
        raise NotImplementedError(
            f"method {out.method!r} does not record how its tokens were formed "
            "(PrunedVideo.combination), which Qwen3-VL's deepstack features need"
        )
    # entries are coalesced and sorted by row: one per row means row == arange(N)
    one_each = comb.row.numel() == out.kept and torch.equal(comb.row.cpu(), torch.arange(out.kept))
    if one_each and bool((comb.weight == 1).all()):
        flat = side.reshape(-1, side.shape[-1])
        return flat.index_select(0, comb.col.to(flat.device))
    return out.apply(side)
