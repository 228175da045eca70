"""stop_llava: SToP pruning for LLaVA-OneVision and LLaVA-Video through transformers' classes."""

from stop_llava.adapter import BACKBONES, LlavaStopAdapter
from stop_llava.api import apply_stop, get_adapter, remove_stop, stop_pruning
from stop_llava.capture import SiglipAttentionCapture, attention_received
from stop_llava.frame_head import FrameHead, head_from_vision_model, load_frame_head
from stop_llava.pooling import pool_2d, pooled_grid

__version__ = "0.1.0"

__all__ = [
    "BACKBONES",
    "FrameHead",
    "LlavaStopAdapter",
    "SiglipAttentionCapture",
    "apply_stop",
    "attention_received",
    "get_adapter",
    "head_from_vision_model",
    "load_frame_head",
    "pool_2d",
    "pooled_grid",
    "remove_stop",
    "stop_pruning",
]
