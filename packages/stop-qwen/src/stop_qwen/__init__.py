"""stop_qwen: SToP pruning for Qwen2.5-VL and Qwen3-VL through transformers' own classes."""

from stop_qwen.adapter import QwenStopAdapter
from stop_qwen.api import (
    ADAPTERS,
    adapter_class,
    apply_stop,
    get_adapter,
    make_adapter,
    remove_stop,
    stop_pruning,
)
from stop_qwen.base import BACKBONES, QwenAdapterBase
from stop_qwen.capture import QwenVisionAttentionCapture, merge_to_tokens
from stop_qwen.qwen3_vl import Qwen3VLStopAdapter, prune_side_tensor
from stop_qwen.scoring import norm_importance, normalize_per_frame

__version__ = "0.1.0"

__all__ = [
    "ADAPTERS",
    "BACKBONES",
    "Qwen3VLStopAdapter",
    "QwenAdapterBase",
    "QwenStopAdapter",
    "QwenVisionAttentionCapture",
    "adapter_class",
    "apply_stop",
    "get_adapter",
    "make_adapter",
    "merge_to_tokens",
    "norm_importance",
    "normalize_per_frame",
    "prune_side_tensor",
    "remove_stop",
    "stop_pruning",
]
