"""Backbone entries: everything backbone-specific, one module per backbone, loaded lazily.

``BUILTIN`` names each built-in entry by a ``"module:attr"`` reference; the module is imported
the first time its entry is asked for, so listing the names (CLI choices, ``--help``) loads no
backbone code. The family folders (``llava/``, ``qwen/``) hold what a family shares: its entry
class and its official input rules. Registration order is the order of CLI choices and
support-table columns; the first entry is the default backbone.
"""

from stop_eval.backbones.base import Backbone
from stop_eval.backbones.registry import (
    available_backbones,
    get_backbone,
    register_backbone,
    registered,
)

BUILTIN: dict[str, str] = {
    "llava_ov": "stop_eval.backbones.llava.llava_ov:BACKBONE",
    "llava_video": "stop_eval.backbones.llava.llava_video:BACKBONE",
    "qwen2_5_vl": "stop_eval.backbones.qwen.qwen2_5_vl:BACKBONE",
    "qwen3_vl": "stop_eval.backbones.qwen.qwen3_vl:BACKBONE",
}
for _name, _reference in BUILTIN.items():
    register_backbone(_reference, name=_name)

DEFAULT_BACKBONE: str = available_backbones()[0]

__all__ = [
    "BUILTIN",
    "DEFAULT_BACKBONE",
    "Backbone",
    "available_backbones",
    "get_backbone",
    "register_backbone",
    "registered",
]
