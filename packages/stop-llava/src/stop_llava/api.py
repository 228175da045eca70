"""Public verbs: ``apply_stop``, ``remove_stop`` and the ``stop_pruning`` context manager."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from torch import nn

from stop_core import PruningConfig
from stop_core.adapter import adapter_context, get_adapter, remove_adapter
from stop_llava.adapter import LlavaStopAdapter


def apply_stop(
    model: nn.Module, cfg: PruningConfig, backbone: str = "llava_ov", **options: Any
) -> LlavaStopAdapter:
    """Prune this model instance's video tokens as ``cfg`` says until ``remove_stop``.

    ``options`` go to ``LlavaStopAdapter`` (``layer``, ``pool_mode``, ``newline_mode``,
    ``frame_head``, ``chunk_frames``, ``capture_dtype``, ``seed``). Returns the adapter, whose
    ``accounting`` holds per-video token counts and timings of the last call.
    """
    return LlavaStopAdapter(model, cfg, backbone, **options).attach()  # type: ignore[return-value]


def remove_stop(model: nn.Module) -> bool:
    """Undo ``apply_stop`` on ``model``; returns whether SToP was applied."""
    return remove_adapter(model)


@contextlib.contextmanager
def stop_pruning(
    model: nn.Module, cfg: PruningConfig, backbone: str = "llava_ov", **options: Any
) -> Iterator[LlavaStopAdapter]:
    """Apply SToP for the body of a ``with`` block; removed on exit, even on error."""
    with adapter_context(LlavaStopAdapter(model, cfg, backbone, **options)) as adapter:
        yield adapter  # type: ignore[misc]


__all__ = ["apply_stop", "get_adapter", "remove_stop", "stop_pruning"]
