"""stop_qwen: SToP pruning for Qwen2.5-VL and Qwen3-VL through transformers' own classes.

Names are imported on first use (PEP 562), so ``import stop_qwen`` and ``BACKBONES`` cost no
``transformers`` import; command-line listings stay fast.
"""

from __future__ import annotations

import importlib
from typing import Any

BACKBONES: tuple[str, ...] = ("qwen2_5_vl", "qwen3_vl")

__version__ = "0.1.0"

# public name -> the submodule defining it
_LAZY: dict[str, str] = {
    "ADAPTERS": "api",
    "Qwen3VLStopAdapter": "qwen3_vl",
    "QwenAdapterBase": "base",
    "QwenStopAdapter": "adapter",
    "QwenVisionAttentionCapture": "capture",
    "adapter_class": "api",
    "apply_stop": "api",
    "get_adapter": "api",
    "make_adapter": "api",
    "merge_to_tokens": "capture",
    "norm_importance": "scoring",
    "normalize_per_frame": "scoring",
    "prune_side_tensor": "qwen3_vl",
    "remove_stop": "api",
    "stop_pruning": "api",
}

__all__ = ["BACKBONES", *sorted(_LAZY)]


def __getattr__(name: str) -> Any:  # noqa: ANN401 - any public object
    """Import the submodule that defines ``name`` on first access."""
    if name in _LAZY:
        value = getattr(importlib.import_module(f"stop_qwen.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'stop_qwen' has no attribute {name!r}")
