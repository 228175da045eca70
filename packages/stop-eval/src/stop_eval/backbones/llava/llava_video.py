"""LLaVA-Video: LLaVA-OneVision's classes, 2 x 2 average pooling, a newline after each row."""

from __future__ import annotations

from typing import Any

import torch

from stop_eval.backbones.llava import inputs
from stop_eval.backbones.llava.family import LlavaBackbone

# LLaVA-Video's own token layout: 2 x 2 average pooling, a newline after every row
DEMO_LAYOUT = ("average", "grid")


def build_demo(seed: int = 0) -> tuple[torch.nn.Module, Any]:
    """The small random LLaVA-Video of the offline demo: 27 x 27 patches -> 13 x 13 + newlines."""
    from stop_eval.backbones.llava.demo import build_demo_llava

    return build_demo_llava(seed, layout=DEMO_LAYOUT)


BACKBONE = LlavaBackbone(
    name="llava_video",
    title="LLaVA-Video",
    model_class="LlavaOnevisionForConditionalGeneration",
    adapter="stop_llava",
    presets_backbone="llava_video",
    video_kind="llava",
    max_new_tokens=4096,
    demo_builder=build_demo,
    reader=inputs.llava_video,
    demo_note="The LLaVA-Video demo is LLaVA-OneVision's small architecture (the classes "
    "LLaVA-Video checkpoints load with) with LLaVA-Video's own layout: 384 px frames, 27 x 27 "
    "patches, 2 x 2 "
    "average pooling to 13 x 13 and a newline after every row; its tower has four planted "
    "attention sinks so that SToP has sinks to find. ",
)
