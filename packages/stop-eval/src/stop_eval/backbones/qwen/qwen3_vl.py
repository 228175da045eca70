"""Qwen3-VL: patch 16, 2 x 2 merge (factor 32), deepstack features, timestamps per group.

No official SToP evaluation exists for Qwen3-VL; its reference rule keeps Qwen2.5-VL's:
``nframes`` 32 and 4 to 256 merged tokens per frame, i.e. ``min_pixels 4 * 32**2`` and
``max_pixels 256 * 32**2`` (docs/spec/EVAL.md). ``--protocol fixed`` is the checkpoint's own
processor rule instead (``inputs.qwen3_fixed_video``: its fps sampling and pixel
budget, patch 16, merge 2). The SToP presets are Qwen2.5-VL's, which
stop_core registers under this name. ``inspect`` without ``--model`` reads
Qwen3-VL-8B-Instruct's own configuration (bundled in ``stop_qwen.checkpoints``).
"""

from __future__ import annotations

from typing import Any

import torch

from stop_eval.backbones.qwen import inputs
from stop_eval.backbones.qwen.family import QwenBackbone
from stop_qwen.checkpoints import QWEN3_VL_8B


def build_demo(seed: int = 0) -> tuple[torch.nn.Module, Any]:
    """The real Qwen3-VL-8B-Instruct config scaled down, random weights, its real processor."""
    from stop_eval.backbones.qwen.demo import build_demo_qwen3_vl

    return build_demo_qwen3_vl(seed)


BACKBONE = QwenBackbone(
    name="qwen3_vl",
    title="Qwen3-VL",
    model_class="Qwen3VLForConditionalGeneration",
    adapter="stop_qwen",
    presets_backbone="qwen3_vl",
    video_kind="qwen",
    max_new_tokens=1024,
    demo_builder=build_demo,
    reader=inputs.qwen_video,
    fixed_reader=inputs.qwen3_fixed_video,
    factor=32,
    min_pixels=4 * 32 * 32,
    max_pixels=256 * 32 * 32,
    config_dir=QWEN3_VL_8B,
)
