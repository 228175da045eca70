"""``prune``: the single entry point from pooled video tokens to the tokens the LLM sees."""

from __future__ import annotations

import torch

from stop_core.config import PruningConfig
from stop_core.count_fit import fit_to_count
from stop_core.methods.keep_all import keep_all
from stop_core.registry import get_method
from stop_core.tokens import PrunedVideo, VideoTokens


def prune(
    tokens: VideoTokens, cfg: PruningConfig, generator: torch.Generator | None = None
) -> PrunedVideo:
    """Prune ``tokens`` as ``cfg`` says; deterministic given ``generator`` (default seed 0).

    ``retention_ratio == 1.0`` and ``method="none"`` return every token in its original order.
    ``cfg.exact_count`` fills or trims the method's output to ``planned_tokens(cfg, T, grid)``.
    """
    if not isinstance(tokens, VideoTokens):
        raise TypeError(f"tokens must be a VideoTokens, got {type(tokens).__name__}")
    if not isinstance(cfg, PruningConfig):
        raise TypeError(f"cfg must be a PruningConfig, got {type(cfg).__name__}")
    if generator is None:
        generator = torch.Generator().manual_seed(0)
    elif not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
    spec = get_method(cfg.method)
    if cfg.method == "none" or cfg.retention_ratio >= 1.0:
        out = keep_all(tokens, cfg)
    else:
        missing = sorted(name for name in spec.needs if getattr(tokens, name) is None)
        if missing:
            raise ValueError(
                f"method {cfg.method!r} needs VideoTokens fields {missing}, which are None"
            )
        out = spec.run(tokens, cfg, generator)
    return fit_to_count(out, tokens, cfg) if cfg.exact_count else out
