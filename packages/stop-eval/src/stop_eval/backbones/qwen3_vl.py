"""Qwen3-VL: patch 16, 2 x 2 merge (factor 32), deepstack features, timestamps per group.

No official SToP evaluation exists for Qwen3-VL; its reference rule keeps Qwen2.5-VL's:
``nframes`` 32 and 4 to 256 merged tokens per frame, i.e. ``min_pixels 4 * 32**2`` and
``max_pixels 256 * 32**2`` (docs/spec/EVAL.md). ``--protocol fixed`` is the checkpoint's own
processor rule instead (``official_inputs.qwen3_fixed_video``: its fps sampling and pixel
budget, patch 16, merge 2). The SToP presets are Qwen2.5-VL's, which
stop_core registers under this name. ``inspect`` without ``--model`` reads
Qwen3-VL-8B-Instruct's own configuration from the package data; ``stop-bench capture`` and
``prefill`` run random weights at its sizes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from stop_eval import official_inputs
from stop_eval.backbones.base import CaptureBench, PrefillBench
from stop_eval.backbones.qwen_family import QwenBackbone, tower_runner
from stop_eval.bench_prefill_qwen3_vl import SIZES as PREFILL_SIZES
from stop_eval.bench_prefill_qwen3_vl import Qwen3VLPrefillSession

CONFIG_DIR = "Qwen3-VL-8B-Instruct"
CAPTURE_SIDE = 32  # 512 / 16 patches per side: 16 x 16 = 256 merged tokens, the reference cap


def vision_8b() -> dict[str, Any]:
    """The Qwen3-VL-8B vision tower's config, from the bundled ``config.json``."""
    path = Path(__file__).resolve().parent.parent / "data" / "hf-configs" / CONFIG_DIR
    return json.loads((path / "config.json").read_text(encoding="utf-8"))["vision_config"]


def build_demo(seed: int = 0) -> tuple[torch.nn.Module, Any]:
    """The real Qwen3-VL-8B-Instruct config scaled down, random weights, its real processor."""
    from stop_eval.demo_qwen3_vl import build_demo_qwen3_vl

    return build_demo_qwen3_vl(seed)


def capture_runner(
    variant: str, frames: int, layers: int, device: str, dtype: torch.dtype
) -> Callable[[], None]:
    """A closure running a random Qwen3-VL-8B vision tower (first ``layers`` blocks) at 512x512.

    Deepstack stays on in a cut-down tower (block 0 when no real deepstack block is left);
    ``hooks`` captures the last block's attention, as the adapter does by default.
    """
    from transformers import Qwen3VLVisionConfig
    from transformers.models.qwen3_vl.modeling_qwen3_vl import Qwen3VLVisionModel

    if variant == "eager":
        raise ValueError("the Qwen3-VL vision attention returns no weights: no eager variant")
    sizes = {k: v for k, v in vision_8b().items() if k != "model_type"}
    deepstack = [i for i in sizes["deepstack_visual_indexes"] if i < layers - 1] or [0]
    sizes.update(depth=layers, deepstack_visual_indexes=deepstack)
    cfg = Qwen3VLVisionConfig(**sizes)
    cfg._attn_implementation = "sdpa"
    torch.manual_seed(0)
    with torch.device(device):
        tower = Qwen3VLVisionModel._from_config(cfg, dtype=dtype).eval()
    return tower_runner(tower, -1, variant, frames, CAPTURE_SIDE, sizes, device, dtype)


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
    fixed_reader=official_inputs.qwen3_fixed_video,
    capture_tower="qwen3_vl",
    capture_bench=CaptureBench(
        runner=capture_runner, hidden=vision_8b()["hidden_size"], layers=vision_8b()["depth"]
    ),
    prefill_bench=PrefillBench(sizes=PREFILL_SIZES, session=Qwen3VLPrefillSession),
    factor=32,
    min_pixels=4 * 32 * 32,
    max_pixels=256 * 32 * 32,
    config_dir=CONFIG_DIR,
)
