"""Tiny random Qwen2.5-VL models: the real classes and processor at sizes that run on a CPU.

``Qwen25VLSizes`` sets the vision transformer (windowed blocks, full attention at
``fullatt_block_indexes``, patch 14, 2 x 2 merge, temporal patch 2) and the Qwen2 language
model (M-RoPE split ``mrope_section``); the default is the stop-qwen tests' model, the demo
passes larger ones. ``qwen2_5_vl_processor`` feeds frames of exactly ``side x side`` pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from transformers import (
    PreTrainedTokenizerFast,
    Qwen2_5_VLConfig,
    Qwen2_5_VLForConditionalGeneration,
    Qwen2_5_VLProcessor,
    Qwen2VLImageProcessor,
    Qwen2VLVideoProcessor,
)


@dataclass(frozen=True)
class Qwen25VLSizes:
    """The sizes of a Qwen2.5-VL: vision transformer and language model."""

    vision_depth: int = 3
    vision_hidden: int = 32
    vision_intermediate: int = 64
    vision_heads: int = 2
    window_size: int = 56
    fullatt_block_indexes: tuple[int, ...] = (1,)
    text_hidden: int = 64
    text_intermediate: int = 128
    text_layers: int = 2
    text_heads: int = 4
    text_kv_heads: int = 2
    mrope_section: tuple[int, int, int] = (2, 3, 3)


def qwen2_5_vl_config(tok: PreTrainedTokenizerFast, sizes: Qwen25VLSizes) -> Qwen2_5_VLConfig:
    """A ``Qwen2_5_VLConfig`` of ``sizes`` with ``tok``'s vocabulary and special token ids."""
    return Qwen2_5_VLConfig(
        vision_config={
            "depth": sizes.vision_depth,
            "hidden_size": sizes.vision_hidden,
            "intermediate_size": sizes.vision_intermediate,
            "num_heads": sizes.vision_heads,
            "out_hidden_size": sizes.text_hidden,
            "patch_size": 14,
            "spatial_merge_size": 2,
            "temporal_patch_size": 2,
            "window_size": sizes.window_size,
            "fullatt_block_indexes": list(sizes.fullatt_block_indexes),
            "tokens_per_second": 2,
        },
        text_config={
            "vocab_size": len(tok),
            "hidden_size": sizes.text_hidden,
            "intermediate_size": sizes.text_intermediate,
            "num_hidden_layers": sizes.text_layers,
            "num_attention_heads": sizes.text_heads,
            "num_key_value_heads": sizes.text_kv_heads,
            "bos_token_id": None,
            "eos_token_id": tok.eos_token_id,
            "pad_token_id": tok.pad_token_id,
            "rope_parameters": {
                "rope_type": "default",
                "rope_theta": 1e6,
                "mrope_section": list(sizes.mrope_section),
            },
        },
        image_token_id=tok.convert_tokens_to_ids("<|image_pad|>"),
        video_token_id=tok.convert_tokens_to_ids("<|video_pad|>"),
        vision_start_token_id=tok.convert_tokens_to_ids("<|vision_start|>"),
        vision_end_token_id=tok.convert_tokens_to_ids("<|vision_end|>"),
        bos_token_id=None,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )


def tiny_qwen2_5_vl(
    tok: PreTrainedTokenizerFast,
    sizes: Qwen25VLSizes = Qwen25VLSizes(),  # noqa: B008 - a frozen dataclass
    seed: int = 0,
) -> Qwen2_5_VLForConditionalGeneration:
    """A float32 ``Qwen2_5_VLForConditionalGeneration`` with random weights (seeded, eval)."""
    torch.manual_seed(seed)
    model = Qwen2_5_VLForConditionalGeneration(qwen2_5_vl_config(tok, sizes)).eval()
    model.generation_config.pad_token_id = tok.pad_token_id
    model.generation_config.eos_token_id = tok.eos_token_id
    return model


def qwen2_5_vl_processor(tok: PreTrainedTokenizerFast, side: int) -> Qwen2_5_VLProcessor:
    """The real processor classes, every frame resized to ``side x side`` pixels."""
    pixels = side * side
    return Qwen2_5_VLProcessor(
        image_processor=Qwen2VLImageProcessor(),
        video_processor=Qwen2VLVideoProcessor(
            min_pixels=pixels, max_pixels=pixels, cap_pixels_per_frame=True
        ),
        tokenizer=tok,
    )
