"""Qwen3-VL: patch 16, 2 x 2 merge (factor 32), deepstack features, timestamps per group.

No official SToP evaluation exists for Qwen3-VL; its reference rule keeps Qwen2.5-VL's:
``nframes`` 32 and 4 to 256 merged tokens per frame, i.e. ``min_pixels 4 * 32**2`` and
``max_pixels 256 * 32**2`` (docs/spec/EVAL.md). The SToP presets are Qwen2.5-VL's, which
stop_core registers under this name. ``inspect`` without ``--model`` reads
Qwen3-VL-8B-Instruct's own configuration from the package data.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from stop_eval import official_inputs
from stop_eval.backbones.base import CaptureBench
from stop_eval.backbones.qwen_family import QwenBackbone

CONFIG_DIR = "Qwen3-VL-8B-Instruct"
CAPTURE_SIDE = 28  # 448 / 16 patches per side


def build_demo(seed: int = 0) -> tuple[torch.nn.Module, Any]:
    """The real Qwen3-VL-8B-Instruct config scaled down, random weights, its real processor."""
    from stop_eval.demo_qwen3_vl import build_demo_qwen3_vl

    return build_demo_qwen3_vl(seed)


def vision_8b() -> dict[str, Any]:
    """Qwen3-VL-8B-Instruct's ``vision_config`` from the packaged ``config.json``."""
    path = Path(__file__).resolve().parent.parent / "data" / "hf-configs" / CONFIG_DIR
    return json.loads((path / "config.json").read_text())["vision_config"]


def capture_runner(
    variant: str, frames: int, layers: int, device: str, dtype: torch.dtype
) -> Callable[[], None]:
    """A closure running a random Qwen3-VL-8B vision tower (deepstack on) on a 448x448 video.

    The capture hooks the last block (all Qwen3-VL vision blocks attend over whole frames).
    """
    from transformers import Qwen3VLConfig
    from transformers.models.qwen3_vl.modeling_qwen3_vl import Qwen3VLVisionModel

    from stop_qwen.capture import QwenVisionAttentionCapture

    if variant == "eager":
        raise ValueError("the Qwen3-VL vision attention returns no weights: no eager variant")
    torch.manual_seed(0)
    real = vision_8b()
    deepstack = [i for i in real["deepstack_visual_indexes"] if i < layers - 1] or [0]
    sizes = {**real, "depth": layers, "deepstack_visual_indexes": deepstack}
    cfg = Qwen3VLConfig(vision_config=sizes).vision_config
    cfg._attn_implementation = "sdpa"
    tower = Qwen3VLVisionModel(cfg).to(device=device, dtype=dtype).eval()
    t = max(1, frames // sizes["temporal_patch_size"])
    grid = torch.tensor([[t, CAPTURE_SIDE, CAPTURE_SIDE]], device=device)
    width = 3 * sizes["temporal_patch_size"] * sizes["patch_size"] ** 2
    pixels = torch.randn(t * CAPTURE_SIDE * CAPTURE_SIDE, width, device=device, dtype=dtype)

    @torch.no_grad()
    def once() -> None:
        capture = QwenVisionAttentionCapture(tower.blocks[-1].attn) if variant == "hooks" else None
        try:
            tower(pixels, grid_thw=grid)
        finally:
            if capture is not None:
                capture.remove()

    return once


BACKBONE = QwenBackbone(
    name="qwen3_vl",
    title="Qwen3-VL",
    model_class="Qwen3VLForConditionalGeneration",
    adapter="stop_qwen",
    presets_backbone="qwen3_vl",
    video_kind="qwen",
    max_new_tokens=1024,
    demo_builder=build_demo,
    reader=official_inputs.qwen_video,
    capture_tower="qwen3_vl",
    capture_bench=CaptureBench(
        runner=capture_runner, hidden=vision_8b()["hidden_size"], layers=vision_8b()["depth"]
    ),
    factor=32,
    min_pixels=4 * 32 * 32,
    max_pixels=256 * 32 * 32,
    config_dir=CONFIG_DIR,
)
