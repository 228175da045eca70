"""The Qwen demo models: a small Qwen2.5-VL, and the real Qwen3-VL-8B config scaled down."""

from __future__ import annotations

from typing import Any

import torch
from transformers import PreTrainedTokenizerFast

from stop_eval.backbones.demo import DEMO_TOKENIZER
from stop_qwen.checkpoints import QWEN3_VL_8B, checkpoint_dir
from stop_qwen.testing import (
    Qwen3VLSizes,
    Qwen25VLSizes,
    qwen2_5_vl_processor,
    qwen3_vl_processor,
    qwen3_vl_tokenizer,
    tiny_qwen2_5_vl,
    tiny_qwen3_vl,
    train_tokenizer,
)

QWEN_DEMO_SIZE = 224  # Qwen2.5-VL demo frames: 16 x 16 patches, 8 x 8 merged tokens
QWEN2_5_VL_DEMO = Qwen25VLSizes(
    vision_depth=4,
    vision_hidden=64,
    vision_intermediate=128,
    vision_heads=4,
    window_size=112,
    fullatt_block_indexes=(1, 3),
    text_hidden=256,
    text_intermediate=512,
    text_layers=4,
    text_heads=8,
    text_kv_heads=4,
    mrope_section=(4, 6, 6),
)
QWEN3_VL_FRAME_SIDE = 224  # 14 x 14 patches of 16 px -> 7 x 7 merged tokens per temporal group


def build_demo_qwen2_5_vl(seed: int = 0) -> tuple[torch.nn.Module, Any]:
    """A small Qwen2.5-VL (vision 4 blocks + text 4 layers) and its real processor."""
    tok = train_tokenizer(**DEMO_TOKENIZER)
    return tiny_qwen2_5_vl(tok, QWEN2_5_VL_DEMO, seed), qwen2_5_vl_processor(tok, QWEN_DEMO_SIZE)


def qwen3_vl_demo_tokenizer() -> PreTrainedTokenizerFast:
    """The demo's tokenizer with Qwen3's extra special tokens (pad ``<|endoftext|>``)."""
    return qwen3_vl_tokenizer(train_tokenizer(**DEMO_TOKENIZER))


def build_demo_qwen3_vl(seed: int = 0) -> tuple[torch.nn.Module, Any]:
    """A small random Qwen3-VL (vision 4 blocks, deepstack on 2, text 4 layers), processor."""
    tok = qwen3_vl_demo_tokenizer()
    model = tiny_qwen3_vl(tok, Qwen3VLSizes(), seed)
    pixels = QWEN3_VL_FRAME_SIDE * QWEN3_VL_FRAME_SIDE
    return model, qwen3_vl_processor(checkpoint_dir(QWEN3_VL_8B), tok, pixels)
