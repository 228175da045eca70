"""Public verbs: ``apply_stop``, ``remove_stop`` and the ``stop_pruning`` context manager."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from torch import nn

from stop_core import PruningConfig
from stop_core.adapter import adapter_context, get_adapter, remove_adapter
from stop_qwen.adapter import QwenStopAdapter


def apply_stop(
    model: nn.Module, cfg: PruningConfig, backbone: str = "qwen2_5_vl", **options: Any
) -> QwenStopAdapter:
    """Prune this model instance's video tokens as ``cfg`` says until ``remove_stop``.

    ``options`` go to ``QwenStopAdapter`` (``block``, ``scorer``, ``seed``). Returns the
    adapter, whose ``accounting`` holds per-video token counts and timings of the last call.
    """
    return QwenStopAdapter(model, cfg, backbone, **options).attach()  # type: ignore[return-value]


def remove_stop(model: nn.Module) -> bool:
    """Undo ``apply_stop`` on ``model``; returns whether SToP was applied."""
    return remove_adapter(model)


@contextlib.contextmanager
def stop_pruning(
    model: nn.Module, cfg: PruningConfig, backbone: str = "qwen2_5_vl", **options: Any
) -> Iterator[QwenStopAdapter]:
    """Apply SToP for the body of a ``with`` block; removed on exit, even on error."""
    with adapter_context(QwenStopAdapter(model, cfg, backbone, **options)) as adapter:
        yield adapter  # type: ignore[misc]


__all__ = ["apply_stop", "get_adapter", "remove_stop", "stop_pruning"]
