"""Backbone entries: everything backbone-specific in one module per backbone.

Registration order is the order of CLI choices and support-table columns; the first entry
is the default backbone.
"""

from stop_eval.backbones import llava_ov, llava_video, qwen2_5_vl, qwen3_vl
from stop_eval.backbones.base import Backbone
from stop_eval.backbones.registry import (
    available_backbones,
    get_backbone,
    register_backbone,
    registered,
)

for _module in (llava_ov, llava_video, qwen2_5_vl, qwen3_vl):
    register_backbone(_module.BACKBONE)

DEFAULT_BACKBONE: str = available_backbones()[0]

__all__ = [
    "DEFAULT_BACKBONE",
    "Backbone",
    "available_backbones",
    "get_backbone",
    "register_backbone",
    "registered",
]
