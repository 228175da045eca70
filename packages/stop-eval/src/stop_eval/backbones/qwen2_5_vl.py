"""Qwen2.5-VL: patch 14, 2 x 2 merge (factor 28), windowed vision blocks, M-RoPE with fps.

The reference rule is the official evaluation's: ``nframes`` 32 and 4 to 256 merged tokens
per frame (``min_pixels 4 * 28**2``, ``max_pixels 256 * 28**2``). ``inspect`` without
``--model`` reads Qwen2.5-VL-7B-Instruct's own configuration from the package data.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from stop_eval import official_inputs
from stop_eval.backbones.base import CaptureBench
from stop_eval.backbones.qwen_family import QwenBackbone, tower_runner

# the Qwen2.5-VL-7B vision transformer, for ``stop-bench capture``
VISION_7B = {
    "depth": 32,
    "hidden_size": 1280,
    "intermediate_size": 3420,
    "num_heads": 16,
    "out_hidden_size": 3584,
    "patch_size": 14,
    "spatial_merge_size": 2,
    "temporal_patch_size": 2,
    "window_size": 112,
    "fullatt_block_indexes": [7, 15, 23, 31],
}
CAPTURE_SIDE = 32  # 448 / 14 patches per side


def build_demo(seed: int = 0) -> tuple[torch.nn.Module, Any]:
    """The small random Qwen2.5-VL of the offline demo."""
    from stop_eval.demo_model import build_demo_qwen

    return build_demo_qwen(seed)


def capture_runner(
    variant: str, frames: int, layers: int, device: str, dtype: torch.dtype
) -> Callable[[], None]:
    """A closure running a random Qwen2.5-VL-7B vision tower on a 448x448 video."""
    from transformers import Qwen2_5_VLConfig
    from transformers.models.qwen2_5_vl.modeling_qwen2_5_vl import (
        Qwen2_5_VisionTransformerPretrainedModel,
    )

    if variant == "eager":
        raise ValueError("the Qwen2.5-VL vision attention returns no weights: no eager variant")
    torch.manual_seed(0)
    full = [i for i in VISION_7B["fullatt_block_indexes"] if i < layers] or [layers - 1]
    sizes = {**VISION_7B, "depth": layers, "fullatt_block_indexes": full}
    cfg = Qwen2_5_VLConfig(vision_config=sizes).vision_config
    cfg._attn_implementation = "sdpa"
    tower = Qwen2_5_VisionTransformerPretrainedModel(cfg).to(device=device, dtype=dtype).eval()
    return tower_runner(tower, max(full), variant, frames, CAPTURE_SIDE, sizes, device, dtype)


BACKBONE = QwenBackbone(
    name="qwen2_5_vl",
    title="Qwen2.5-VL",
    model_class="Qwen2_5_VLForConditionalGeneration",
    adapter="stop_qwen",
    presets_backbone="qwen2_5_vl",
    video_kind="qwen",
    max_new_tokens=1024,
    demo_builder=build_demo,
    reader=official_inputs.qwen_video,
    capture_tower="qwen2_5_vl",
    capture_bench=CaptureBench(
        runner=capture_runner, hidden=VISION_7B["hidden_size"], layers=VISION_7B["depth"]
    ),
    factor=28,
    min_pixels=4 * 28 * 28,
    max_pixels=256 * 28 * 28,
    config_dir="Qwen2.5-VL-7B-Instruct",
)
