"""The vision towers ``stop-bench capture`` times, at their real sizes with random weights.

SigLIP-so400m as the LLaVA backbones run it (26 layers, no head; variants ``tower``,
``hooks`` on q/k, ``eager`` with ``output_attentions``), the Qwen2.5-VL-7B vision transformer
at 448x448 (a pre-hook on the last full-attention block) and the Qwen3-VL-8B one from its
bundled config at 512x512 (256 merged tokens per temporal group, a pre-hook on the last block).
The Qwen towers have variants ``tower`` and ``hooks`` only: their attention returns no weights.
Each tower is named after the backbone it belongs to (SigLIP serves both LLaVA backbones).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from stop_eval.backbones.qwen.qwen2_5_vl import BACKBONE as QWEN2_5_VL
from stop_eval.backbones.qwen.qwen3_vl import BACKBONE as QWEN3_VL
from stop_qwen.checkpoints import load_json

# (variant, frames, layers, device, dtype) -> one timed tower forward
CaptureRunner = Callable[[str, int, int, str, torch.dtype], Callable[[], None]]
SIGLIP = "siglip"
# SigLIP-so400m as LLaVA runs it (26 layers, no head); also ``stop-bench prefill``'s LLaVA tower
SO400M = {
    "hidden_size": 1152,
    "intermediate_size": 4304,
    "num_hidden_layers": 26,
    "num_attention_heads": 16,
    "image_size": 384,
    "patch_size": 14,
}
# the Qwen2.5-VL-7B vision transformer
QWEN2_5_VL_7B = {
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
QWEN2_5_VL_SIDE = 32  # 448 / 14 patches per side
QWEN3_VL_SIDE = 32  # 512 / 16 patches per side: 16 x 16 = 256 merged tokens, the reference cap


@dataclass(frozen=True)
class CaptureBench:
    """One ``stop-bench capture --tower``: its runner, real sizes and the variants it has."""

    name: str
    runner: CaptureRunner
    hidden: int
    layers: int
    variants: tuple[str, ...] = ("tower", "hooks")


def siglip_runner(
    variant: str, frames: int, layers: int, device: str, dtype: torch.dtype
) -> Callable[[], None]:
    """A closure running a random SigLIP-so400m tower on ``frames`` 384x384 frames."""
    from transformers import SiglipVisionConfig, SiglipVisionModel

    from stop_llava.capture import SiglipAttentionCapture

    torch.manual_seed(0)
    cfg = SiglipVisionConfig(**{**SO400M, "num_hidden_layers": layers}, vision_use_head=False)
    cfg._attn_implementation = "eager" if variant == "eager" else "sdpa"
    tower = SiglipVisionModel(cfg).to(device=device, dtype=dtype).eval()
    encoder = getattr(tower, "vision_model", tower).encoder
    side = SO400M["image_size"]
    pixels = torch.randn(frames, 3, side, side, device=device, dtype=dtype)

    @torch.no_grad()
    def once() -> None:
        if variant == "tower":
            tower(pixels, output_hidden_states=True)
        elif variant == "hooks":
            capture = SiglipAttentionCapture(encoder.layers[-1].self_attn)
            try:
                tower(pixels, output_hidden_states=True)
            finally:
                capture.remove()
        else:
            out = tower(pixels, output_hidden_states=True, output_attentions=True)
            out.attentions[-1].float().mean(dim=1).mean(dim=1)

    return once


def qwen_tower_runner(
    tower: torch.nn.Module,
    block: int,
    variant: str,
    frames: int,
    side: int,
    sizes: dict[str, Any],
    device: str,
    dtype: torch.dtype,
) -> Callable[[], None]:
    """A closure running a Qwen vision ``tower`` on random frames of ``side`` x ``side`` patches.

    ``variant == "hooks"`` attaches the attention capture to ``block`` for each run.
    """
    from stop_qwen.capture import QwenVisionAttentionCapture

    t = max(1, frames // sizes["temporal_patch_size"])
    grid = torch.tensor([[t, side, side]], device=device)
    width = sizes.get("in_channels", 3) * sizes["temporal_patch_size"] * sizes["patch_size"] ** 2
    pixels = torch.randn(t * side * side, width, device=device, dtype=dtype)
    attn = tower.blocks[block].attn

    @torch.no_grad()
    def once() -> None:
        capture = QwenVisionAttentionCapture(attn) if variant == "hooks" else None
        try:
            tower(pixels, grid_thw=grid)
        finally:
            if capture is not None:
                capture.remove()

    return once


def qwen2_5_vl_runner(
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
    full = [i for i in QWEN2_5_VL_7B["fullatt_block_indexes"] if i < layers] or [layers - 1]
    sizes = {**QWEN2_5_VL_7B, "depth": layers, "fullatt_block_indexes": full}
    cfg = Qwen2_5_VLConfig(vision_config=sizes).vision_config
    cfg._attn_implementation = "sdpa"
    tower = Qwen2_5_VisionTransformerPretrainedModel(cfg).to(device=device, dtype=dtype).eval()
    return qwen_tower_runner(
        tower, max(full), variant, frames, QWEN2_5_VL_SIDE, sizes, device, dtype
    )


def qwen3_vl_8b() -> dict[str, Any]:
    """The Qwen3-VL-8B vision tower's config, from the bundled ``config.json``."""
    return load_json(QWEN3_VL.config_dir, "config.json")["vision_config"]


def qwen3_vl_runner(
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
    sizes = {k: v for k, v in qwen3_vl_8b().items() if k != "model_type"}
    deepstack = [i for i in sizes["deepstack_visual_indexes"] if i < layers - 1] or [0]
    sizes.update(depth=layers, deepstack_visual_indexes=deepstack)
    cfg = Qwen3VLVisionConfig(**sizes)
    cfg._attn_implementation = "sdpa"
    torch.manual_seed(0)
    with torch.device(device):
        tower = Qwen3VLVisionModel._from_config(cfg, dtype=dtype).eval()
    return qwen_tower_runner(tower, -1, variant, frames, QWEN3_VL_SIDE, sizes, device, dtype)


def _towers() -> dict[str, CaptureBench]:
    """Every tower by name, SigLIP first, then in backbone registration order."""
    vision_8b = qwen3_vl_8b()
    benches = (
        CaptureBench(
            SIGLIP,
            siglip_runner,
            SO400M["hidden_size"],
            SO400M["num_hidden_layers"],
            ("tower", "hooks", "eager"),
        ),
        CaptureBench(
            QWEN2_5_VL.name,
            qwen2_5_vl_runner,
            QWEN2_5_VL_7B["hidden_size"],
            QWEN2_5_VL_7B["depth"],
        ),
        CaptureBench(QWEN3_VL.name, qwen3_vl_runner, vision_8b["hidden_size"], vision_8b["depth"]),
    )
    return {bench.name: bench for bench in benches}


TOWERS: dict[str, CaptureBench] = _towers()


def towers() -> tuple[str, ...]:
    """Names of the towers ``stop-bench capture --tower`` offers."""
    return tuple(TOWERS)


def tower_bench(tower: str) -> CaptureBench:
    """The runner and sizes of ``tower``, raising ``ValueError`` listing the known ones."""
    try:
        return TOWERS[tower]
    except KeyError:
        raise ValueError(f"unknown tower {tower!r}; known: {list(TOWERS)}") from None
