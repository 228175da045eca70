"""stop_llava: SToP pruning for LLaVA-OneVision and LLaVA-Video through transformers' classes.

Names are imported on first use (PEP 562), so ``import stop_llava`` and ``BACKBONES`` cost no
``transformers`` import; command-line listings stay fast.
"""

from __future__ import annotations

import importlib
from typing import Any

BACKBONES: tuple[str, ...] = ("llava_ov", "llava_video")

__version__ = "0.1.0"

# public name -> the submodule defining it
_LAZY: dict[str, str] = {
    "FrameHead": "frame_head",
    "LlavaStopAdapter": "adapter",
    "SiglipAttentionCapture": "capture",
    "apply_stop": "api",
    "attention_received": "capture",
    "get_adapter": "api",
    "head_from_vision_model": "frame_head",
    "load_frame_head": "frame_head",
    "pool_2d": "pooling",
    "pooled_grid": "pooling",
    "remove_stop": "api",
    "stop_pruning": "api",
}

__all__ = ["BACKBONES", *sorted(_LAZY)]


def __getattr__(name: str) -> Any:  # noqa: ANN401 - any public object
    """Import the submodule that defines ``name`` on first access."""
    if name in _LAZY:
        value = getattr(importlib.import_module(f"stop_llava.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'stop_llava' has no attribute {name!r}")
