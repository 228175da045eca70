"""Planned counts: how many tokens ``prune`` keeps, known from the shapes alone.

A serving engine sizes each video's placeholder run before the video is encoded, so it needs
the count from ``(cfg, T, grid)``. Methods whose count is fixed by the shapes report it as it
is; for the others (FastVID, HoliTom, FlashVID) the count is the method's nominal budget and
only ``exact_count=True`` makes ``prune`` keep it (ALGORITHMS.md §9).
"""

from __future__ import annotations

from stop_core.config import PruningConfig
from stop_core.registry import get_method
from stop_core.spec import CountPlan, plan_requested

__all__ = ["CountPlan", "check_shape", "count_plan", "plan_requested", "planned_tokens"]


def check_shape(num_frames: object, grid: object) -> tuple[int, tuple[int, int]]:
    """``(T, (h, w))`` as ints, or ``ValueError``/``TypeError`` naming the bad value."""
    if isinstance(num_frames, bool) or not isinstance(num_frames, int):
        kind = type(num_frames).__name__
        raise TypeError(f"num_frames must be an int, got {kind} ({num_frames!r})")
    if num_frames < 1:
        raise ValueError(f"num_frames must be >= 1, got {num_frames}")
    if not isinstance(grid, (tuple, list)) or len(grid) != 2:
        raise ValueError(f"grid must be an (h, w) pair of ints, got {grid!r}")
    for side in grid:
        if isinstance(side, bool) or not isinstance(side, int):
            raise TypeError(f"grid sides must be ints, got {grid!r}")
        if side < 1:
            raise ValueError(f"grid sides must be >= 1, got {grid!r}")
    return num_frames, (int(grid[0]), int(grid[1]))


def count_plan(cfg: PruningConfig, num_frames: int, grid: tuple[int, int]) -> CountPlan:
    """The method's planned count for ``num_frames`` frames of ``grid`` tokens (any content).

    ``method="none"`` and ``retention_ratio == 1.0`` keep all ``T * S`` tokens (``prune`` runs
    no method then, so the count is fixed whatever the method).
    """
    if not isinstance(cfg, PruningConfig):
        raise TypeError(f"cfg must be a PruningConfig, got {type(cfg).__name__}")
    t, hw = check_shape(num_frames, grid)
    total = t * hw[0] * hw[1]
    if cfg.method == "none" or cfg.retention_ratio >= 1.0:
        return CountPlan(total, False, f"every token: T * S = {total}")
    spec = get_method(cfg.method)
    if spec.plan is None:
        raise ValueError(
            f"method {cfg.method!r} has no planned count (its MethodSpec sets no plan), so "
            "the number of tokens it keeps cannot be known from the shapes"
        )
    plan = spec.plan(cfg, t, hw)
    if not 1 <= plan.tokens <= total:
        raise RuntimeError(
            f"{cfg.method}: planned count {plan.tokens} outside [1, T * S = {total}] ({plan.rule})"
        )
    return plan


def planned_tokens(cfg: PruningConfig, num_frames: int, grid: tuple[int, int]) -> int:
    """The exact number of tokens ``prune(tokens, cfg)`` keeps for any ``[T, h*w]`` tokens.

    Raises ``ValueError`` for a method whose count depends on the content unless
    ``cfg.exact_count`` is set (then ``prune`` fills or trims to this count).
    """
    plan = count_plan(cfg, num_frames, grid)
    if plan.content_dependent and not cfg.exact_count:
        raise ValueError(
            f"the number of tokens {cfg.method!r} keeps depends on the video's content, not "
            f"only on its shape (T = {num_frames}, grid = {tuple(grid)}); set exact_count=True "
            f"in the PruningConfig to make prune keep exactly {plan.tokens} ({plan.rule})"
        )
    return plan.tokens
