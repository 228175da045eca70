"""Qwen2.5-VL: patch 14, 2 x 2 merge (factor 28), windowed vision blocks, M-RoPE with fps.

The reference rule is the official evaluation's: ``nframes`` 32 and 4 to 256 merged tokens
per frame (``min_pixels 4 * 28**2``, ``max_pixels 256 * 28**2``). ``inspect`` without
``--model`` reads Qwen2.5-VL-7B-Instruct's own configuration (bundled in ``stop_qwen.checkpoints``).
"""

from __future__ import annotations

from typing import Any

import torch

from stop_eval.backbones.qwen import inputs
from stop_eval.backbones.qwen.family import QwenBackbone
from stop_qwen.checkpoints import QWEN2_5_VL_7B


def build_demo(seed: int = 0) -> tuple[torch.nn.Module, Any]:
    """The small random Qwen2.5-VL of the offline demo."""
    from stop_eval.backbones.qwen.demo import build_demo_qwen2_5_vl

    return build_demo_qwen2_5_vl(seed)


BACKBONE = QwenBackbone(
    name="qwen2_5_vl",
    title="Qwen2.5-VL",
    model_class="Qwen2_5_VLForConditionalGeneration",
    adapter="stop_qwen",
    presets_backbone="qwen2_5_vl",
    video_kind="qwen",
    max_new_tokens=1024,
    demo_builder=build_demo,
    reader=inputs.qwen_video,
    factor=28,
    min_pixels=4 * 28 * 28,
    max_pixels=256 * 28 * 28,
    config_dir=QWEN2_5_VL_7B,
)
