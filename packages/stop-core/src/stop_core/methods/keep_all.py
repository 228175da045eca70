"""``none``: keep every token in its original order (the unpruned model's input)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from stop_core.ops import finish, selection
from stop_core.params import NoParams
from stop_core.spec import CountPlan, MethodSpec, register_method
from stop_core.tokens import PrunedVideo, VideoTokens

if TYPE_CHECKING:
    from stop_core.config import PruningConfig


def keep_all(
    tokens: VideoTokens, cfg: PruningConfig, generator: torch.Generator | None = None
) -> PrunedVideo:
    """All ``T * S`` tokens, frame-major then raster, whatever the retention ratio says."""
    t, s, d = tokens.features.shape
    device = tokens.features.device
    frame_index = torch.arange(t, device=device).repeat_interleave(s)
    position = torch.arange(s, device=device).repeat(t)
    note = "method 'none' and retention 1.0 keep every token"
    return finish(
        tokens,
        cfg,
        tokens.features.reshape(t * s, d),
        frame_index,
        position,
        {},
        grid_newlines="every_row",
        budget_note=note,
        combination=selection(tokens, torch.arange(t * s, device=device)),
    )


def plan_keep_all(cfg: PruningConfig, num_frames: int, grid: tuple[int, int]) -> CountPlan:
    """Every token: ``T * S``."""
    total = num_frames * grid[0] * grid[1]
    return CountPlan(total, False, f"every token: T * S = {total}")


register_method(
    MethodSpec(
        name="none",
        params_type=NoParams,
        run=keep_all,
        plan=plan_keep_all,
        uses_sink=False,
        summary="no pruning: every visual token, in the original order",
    )
)
