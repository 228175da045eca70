"""What a pruning method registers: its ``MethodSpec``, and the raw name -> spec table.

The methods import this module (never ``registry``), so registering a method does not reach
back into ``PruningConfig`` or the planning code that look methods up (no import cycle).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

from stop_core.ops import requested_tokens
from stop_core.params import MethodParams
from stop_core.tokens import PrunedVideo, VideoTokens

if TYPE_CHECKING:
    from stop_core.config import PruningConfig

PruneFn = Callable[[VideoTokens, "PruningConfig", torch.Generator], PrunedVideo]
# (cfg, num_frames, (h, w)) -> how many tokens the method keeps for that shape
PlanFn = Callable[["PruningConfig", int, tuple[int, int]], "CountPlan"]
# output -> [N] bool: tokens the method places ahead of their frame's own tokens
LeadFn = Callable[[PrunedVideo], torch.Tensor]


@dataclass(frozen=True)
class CountPlan:
    """The planned number of ``tokens`` for one shape, and how it comes about.

    ``content_dependent``: the method's own count can differ from ``tokens`` for some
    content (then only ``exact_count=True`` guarantees it); ``rule`` states the formula.
    """

    tokens: int
    content_dependent: bool
    rule: str


def plan_requested(cfg: PruningConfig, num_frames: int, grid: tuple[int, int]) -> CountPlan:
    """The user's budget ``round(r * T * S)`` (at least one), whatever the content."""
    n = requested_tokens(num_frames, grid[0] * grid[1], cfg.retention_ratio)
    return CountPlan(n, False, f"round(r * T * S) = {n}")


@dataclass(frozen=True)
class MethodSpec:
    """A registered method: ``run`` prunes, ``needs`` lists the ``VideoTokens`` fields it reads.

    ``uses_sink`` says whether SToP (``mu_s``/``mu_t``) changes what the method does and
    ``stop_terms`` which SToP modules it has (``"STSP"``, ``"STTP"``); ``summary`` is a one-line
    description for listings and the README support table. ``plan`` gives the number of
    tokens the method keeps for a shape (``planning.count_plan``); ``leading_tokens`` marks
    the outputs it places ahead of their frame's own tokens (HoliTom's static clusters), which
    tells the exact-count fill where a copied token goes (ALGORITHMS.md §9).
    """

    name: str
    params_type: type[MethodParams]
    run: PruneFn
    needs: frozenset[str] = frozenset()
    uses_sink: bool = True
    stop_terms: tuple[str, ...] = ()
    summary: str = ""
    plan: PlanFn | None = None
    leading_tokens: LeadFn | None = None


REGISTERED: dict[str, MethodSpec] = {}


def register_method(spec: MethodSpec) -> MethodSpec:
    """Add ``spec`` to the registry; a second method with the same name is an error."""
    if spec.name in REGISTERED and REGISTERED[spec.name] is not spec:
        raise ValueError(f"a pruning method named {spec.name!r} is already registered")
    REGISTERED[spec.name] = spec
    return spec
