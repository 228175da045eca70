"""The method registry: one unique name per pruning method, its parameters and its function."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

from stop_core.params import MethodParams
from stop_core.tokens import PrunedVideo, VideoTokens

if TYPE_CHECKING:
    from stop_core.config import PruningConfig
    from stop_core.planning import CountPlan

PruneFn = Callable[[VideoTokens, "PruningConfig", torch.Generator], PrunedVideo]
# (cfg, num_frames, (h, w)) -> how many tokens the method keeps for that shape
PlanFn = Callable[["PruningConfig", int, tuple[int, int]], "CountPlan"]
# output -> [N] bool: tokens the method places ahead of their frame's own tokens
LeadFn = Callable[[PrunedVideo], torch.Tensor]


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


_REGISTRY: dict[str, MethodSpec] = {}


def register_method(spec: MethodSpec) -> MethodSpec:
    """Add ``spec`` to the registry; a second method with the same name is an error."""
    if spec.name in _REGISTRY and _REGISTRY[spec.name] is not spec:
        raise ValueError(f"a pruning method named {spec.name!r} is already registered")
    _REGISTRY[spec.name] = spec
    return spec


def get_method(name: str) -> MethodSpec:
    """Look up a method by name, raising ``ValueError`` listing the known ones."""
    _load_builtin_methods()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(
            f"unknown pruning method {name!r}; available: {sorted(_REGISTRY)}"
        ) from None


def available_methods() -> list[str]:
    """Names of every registered method, sorted."""
    _load_builtin_methods()
    return sorted(_REGISTRY)


def _load_builtin_methods() -> None:
    import stop_core.methods  # noqa: F401  (registers the built-in methods on import)
