"""``random``: a score-free baseline keeping a random subset drawn from the given generator."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from stop_core.ops import finish, gather_global, requested_tokens, selection
from stop_core.params import NoParams
from stop_core.spec import MethodSpec, plan_requested, register_method
from stop_core.tokens import PrunedVideo, VideoTokens

if TYPE_CHECKING:
    from stop_core.config import PruningConfig


def random_keep(tokens: VideoTokens, cfg: PruningConfig, generator: torch.Generator) -> PrunedVideo:
    """Keep ``round(r * T * S)`` tokens chosen uniformly at random, in original order."""
    t, s = tokens.num_frames, tokens.tokens_per_frame
    n = requested_tokens(t, s, cfg.retention_ratio)
    idx = torch.randperm(t * s, generator=generator, device=generator.device)[:n].sort().values
    info = {"stop": "ignored: random has no importance scores"} if cfg.use_stop else {}
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
        name="random",
        params_type=NoParams,
        run=random_keep,
        plan=plan_requested,
        uses_sink=False,
        summary="baseline: a random subset of tokens (seeded by the generator), same budget",
    )
)
