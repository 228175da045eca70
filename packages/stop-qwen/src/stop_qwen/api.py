"""Public verbs: ``apply_stop``, ``remove_stop`` and the ``stop_pruning`` context manager.

The adapter is chosen by the model's class (Qwen2.5-VL or Qwen3-VL); ``backbone`` may be
left out, and when given must name that class's backbone.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from torch import nn

from stop_core import PruningConfig
from stop_core.adapter import adapter_context, get_adapter, remove_adapter
from stop_qwen.adapter import QwenStopAdapter
from stop_qwen.base import QwenAdapterBase, check_backbone
from stop_qwen.qwen3_vl import Qwen3VLStopAdapter

ADAPTERS: dict[str, type[QwenAdapterBase]] = {
    QwenStopAdapter.backbone: QwenStopAdapter,
    Qwen3VLStopAdapter.backbone: Qwen3VLStopAdapter,
}


def adapter_class(model: nn.Module, backbone: str | None = None) -> type[QwenAdapterBase]:
    """The adapter class for ``model``'s class; ``backbone``, if given, must agree with it."""
    if backbone is not None:
        check_backbone(backbone)
    found = [name for name, cls in ADAPTERS.items() if isinstance(model, cls.model_class())]
    if not found:
        names = " and ".join(cls.model_class_name for cls in ADAPTERS.values())
        raise TypeError(f"stop_qwen supports {names}, got {type(model).__name__}")
    if backbone is not None and backbone != found[0]:
        raise ValueError(
            f"backbone {backbone!r} does not match the model: {type(model).__name__} is "
            f"backbone {found[0]!r}"
        )
    return ADAPTERS[found[0]]


def make_adapter(
    model: nn.Module, cfg: PruningConfig, backbone: str | None = None, **options: Any
) -> QwenAdapterBase:
    """An unattached adapter for ``model`` (``options``: ``block``, ``scorer``, ``seed``)."""
    return adapter_class(model, backbone)(model, cfg, **options)


def apply_stop(
    model: nn.Module, cfg: PruningConfig, backbone: str | None = None, **options: Any
) -> QwenAdapterBase:
    """Prune this model instance's video tokens as ``cfg`` says until ``remove_stop``.

    ``options`` go to the adapter (``block``, ``scorer``, ``seed``). Returns the adapter,
    whose ``accounting`` holds per-video token counts and timings of the last call.
    """
    return make_adapter(model, cfg, backbone, **options).attach()  # type: ignore[return-value]


def remove_stop(model: nn.Module) -> bool:
    """Undo ``apply_stop`` on ``model``; returns whether SToP was applied."""
    return remove_adapter(model)


@contextlib.contextmanager
def stop_pruning(
    model: nn.Module, cfg: PruningConfig, backbone: str | None = None, **options: Any
) -> Iterator[QwenAdapterBase]:
    """Apply SToP for the body of a ``with`` block; removed on exit, even on error."""
    with adapter_context(make_adapter(model, cfg, backbone, **options)) as adapter:
        yield adapter  # type: ignore[misc]


__all__ = [
    "ADAPTERS",
    "adapter_class",
    "apply_stop",
    "get_adapter",
    "make_adapter",
    "remove_stop",
    "stop_pruning",
]
