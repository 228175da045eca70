"""``uniform``: a score-free baseline keeping tokens at an even stride over the whole video."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from stop_core.ops import finish, gather_global, requested_tokens, selection
from stop_core.params import NoParams
from stop_core.spec import MethodSpec, plan_requested, register_method
from stop_core.tokens import PrunedVideo, VideoTokens

if TYPE_CHECKING:
    from stop_core.config import PruningConfig


def uniform(tokens: VideoTokens, cfg: PruningConfig, generator: torch.Generator) -> PrunedVideo:
    """Keep ``n = round(r * T * S)`` tokens at global indices ``floor(i * T * S / n)``."""
    t, s = tokens.num_frames, tokens.tokens_per_frame
    n = requested_tokens(t, s, cfg.retention_ratio)
    total = t * s
    steps = torch.arange(n, dtype=torch.long, device=tokens.features.device)
    idx = torch.div(steps * total, n, rounding_mode="floor")
    info = {"stop": "ignored: uniform has no importance scores"} if cfg.use_stop else {}
    return finish(
        tokens,
        cfg,
        gather_global(tokens, idx),
        idx // s,
        idx % s,
        info,
        combination=selection(tokens, idx),
    )


register_method(
    MethodSpec(
        name="uniform",
        params_type=NoParams,
        run=uniform,
        plan=plan_requested,
        uses_sink=False,
        summary="baseline: tokens at an even stride over the video, same budget",
    )
)
