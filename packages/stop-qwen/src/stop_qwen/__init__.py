"""stop_qwen: SToP pruning for Qwen2.5-VL through transformers' own classes."""

from stop_qwen.adapter import BACKBONES, QwenStopAdapter
from stop_qwen.api import apply_stop, get_adapter, remove_stop, stop_pruning
from stop_qwen.capture import QwenVisionAttentionCapture, merge_to_tokens
from stop_qwen.scoring import norm_importance, normalize_per_frame

__version__ = "0.1.0"

__all__ = [
    "BACKBONES",
    "QwenStopAdapter",
    "QwenVisionAttentionCapture",
    "apply_stop",
    "get_adapter",
    "merge_to_tokens",
    "norm_importance",
    "normalize_per_frame",
    "remove_stop",
    "stop_pruning",
]
