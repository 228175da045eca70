"""LLaVA-Video: LLaVA-OneVision's classes, 2 x 2 average pooling, a newline after each row."""

from __future__ import annotations

from stop_eval import official_inputs
from stop_eval.backbones.llava_family import LlavaBackbone
from stop_eval.backbones.llava_ov import build_demo

BACKBONE = LlavaBackbone(
    name="llava_video",
    title="LLaVA-Video",
    model_class="LlavaOnevisionForConditionalGeneration",
    adapter="stop_llava",
    presets_backbone="llava_video",
    video_kind="llava",
    max_new_tokens=4096,
    demo_builder=build_demo,  # the demo shares LLaVA-OneVision's small model
    reader=official_inputs.llava_video,
    capture_tower="siglip",
    demo_note="The LLaVA demo tower has four planted attention sinks so that SToP has sinks "
    "to find. ",
)
