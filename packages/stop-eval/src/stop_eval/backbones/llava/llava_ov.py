"""LLaVA-OneVision: bilinear pooling to 14 x 14 per frame, one newline after the video."""

from __future__ import annotations

from typing import Any

import torch

from stop_eval.backbones.llava import inputs
from stop_eval.backbones.llava.family import LlavaBackbone


def build_demo(seed: int = 0) -> tuple[torch.nn.Module, Any]:
    """The small random LLaVA-OneVision of the offline demo."""
    from stop_eval.backbones.llava.demo import build_demo_llava

    return build_demo_llava(seed)


BACKBONE = LlavaBackbone(
    name="llava_ov",
    title="LLaVA-OneVision",
    model_class="LlavaOnevisionForConditionalGeneration",
    adapter="stop_llava",
    presets_backbone="llava_ov",
    video_kind="llava",
    max_new_tokens=4096,
    demo_builder=build_demo,
    reader=inputs.llava_video,
    demo_note="The LLaVA-OneVision demo feeds the real model's grid (384 px frames, 27 x 27 "
    "patches, bilinear pooling to 14 x 14, one newline after the video); its tower has four "
    "planted attention sinks so that SToP has sinks to find. ",
)
