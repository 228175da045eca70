"""Tiny random Qwen3-VL models: the real Qwen3-VL-8B-Instruct config scaled down.

The bundled config files (``stop_qwen.checkpoints``) are the checkpoint's own; ``scaled_config``
keeps their structure (deepstack mergers, interleaved M-RoPE, patch 16, merge 2, timestamps)
and shrinks only the sizes (``Qwen3VLSizes``), so tests and the offline demo exercise the same
code paths as the 8B model. The tokenizer is a trained one plus Qwen3's extra special tokens.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from transformers import PreTrainedTokenizerFast

from stop_qwen.checkpoints import QWEN3_VL_8B, checkpoint_dir
from stop_qwen.testing.tokenizer import train_tokenizer

# Qwen3's special tokens beyond the ones train_tokenizer has.
QWEN3_EXTRA_SPECIALS = (
    "<|endoftext|>",
    "<|vision_pad|>",
    "<tool_call>",
    "</tool_call>",
    "<think>",
    "</think>",
)


@dataclass(frozen=True)
class Qwen3VLSizes:
    """The sizes ``scaled_config`` sets; everything else stays as in the real config."""

    vision_depth: int = 4
    vision_hidden: int = 64
    vision_heads: int = 4
    vision_intermediate: int = 128
    deepstack_visual_indexes: tuple[int, ...] = (1, 2)
    text_layers: int = 4
    text_hidden: int = 256
    text_intermediate: int = 512
    text_heads: int = 8
    text_kv_heads: int = 4
    head_dim: int = 32


def qwen3_vl_tokenizer(base: PreTrainedTokenizerFast | None = None) -> PreTrainedTokenizerFast:
    """``base`` (default ``train_tokenizer()``) plus Qwen3's specials, pad ``<|endoftext|>``."""
    tok = base if base is not None else train_tokenizer()
    tok.add_tokens(list(QWEN3_EXTRA_SPECIALS), special_tokens=True)
    tok.pad_token = "<|endoftext|>"
    return tok


def load_json(config_dir: Path, name: str) -> dict[str, Any]:
    """One JSON file of a checkpoint config directory."""
    return json.loads((Path(config_dir) / name).read_text(encoding="utf-8"))


def scale_mrope_section(section: list[int], half_head_dim: int) -> list[int]:
    """The T/H/W split of ``half_head_dim`` rotary pairs in the real split's proportions."""
    total = sum(section)
    scaled = [x * half_head_dim // total for x in section]
    scaled[0] += half_head_dim - sum(scaled)
    if min(scaled) < 1:
        raise ValueError(f"head_dim {2 * half_head_dim} is too small to split as {section}")
    return scaled


def scaled_config(real: dict[str, Any], tok: PreTrainedTokenizerFast, sizes: Qwen3VLSizes) -> Any:  # noqa: ANN401
    """A ``Qwen3VLConfig`` with the real config's structure at ``sizes`` and ``tok``'s ids."""
    from transformers import Qwen3VLConfig

    if max(sizes.deepstack_visual_indexes) >= sizes.vision_depth:
        raise ValueError(
            f"deepstack blocks {sizes.deepstack_visual_indexes} must lie below the vision depth "
            f"{sizes.vision_depth}"
        )
    if len(sizes.deepstack_visual_indexes) > sizes.text_layers:
        raise ValueError(
            f"{len(sizes.deepstack_visual_indexes)} deepstack levels need at least as many text "
            f"layers, got {sizes.text_layers}"
        )
    cfg = copy.deepcopy(real)
    cfg.pop("dtype", None)
    cfg.pop("torch_dtype", None)
    cfg["vision_config"].update(
        depth=sizes.vision_depth,
        hidden_size=sizes.vision_hidden,
        num_heads=sizes.vision_heads,
        intermediate_size=sizes.vision_intermediate,
        out_hidden_size=sizes.text_hidden,
        deepstack_visual_indexes=list(sizes.deepstack_visual_indexes),
    )
    text = cfg["text_config"]
    text.pop("dtype", None)
    rope_key = "rope_scaling" if "rope_scaling" in text else "rope_parameters"
    rope = dict(text[rope_key])
    rope["mrope_section"] = scale_mrope_section(rope["mrope_section"], sizes.head_dim // 2)
    text[rope_key] = rope
    eos = tok.convert_tokens_to_ids("<|im_end|>")
    pad = tok.convert_tokens_to_ids("<|endoftext|>")
    text.update(
        vocab_size=len(tok),
        hidden_size=sizes.text_hidden,
        intermediate_size=sizes.text_intermediate,
        num_hidden_layers=sizes.text_layers,
        num_attention_heads=sizes.text_heads,
        num_key_value_heads=sizes.text_kv_heads,
        head_dim=sizes.head_dim,
        bos_token_id=pad,
        eos_token_id=eos,
        pad_token_id=pad,
    )
    for key, token in (
        ("image_token_id", "<|image_pad|>"),
        ("video_token_id", "<|video_pad|>"),
        ("vision_start_token_id", "<|vision_start|>"),
        ("vision_end_token_id", "<|vision_end|>"),
    ):
        cfg[key] = tok.convert_tokens_to_ids(token)
    return Qwen3VLConfig.from_dict(cfg)


def random_qwen3_vl(
    config_dir: Path, tok: PreTrainedTokenizerFast, sizes: Qwen3VLSizes, seed: int = 0
) -> torch.nn.Module:
    """A float32 ``Qwen3VLForConditionalGeneration`` with random weights (eval mode)."""
    from transformers import Qwen3VLForConditionalGeneration

    cfg = scaled_config(load_json(config_dir, "config.json"), tok, sizes)
    torch.manual_seed(seed)
    model = Qwen3VLForConditionalGeneration(cfg).to(torch.float32).eval()
    # as the checkpoint's generation config: greedy here, pad = bos = <|endoftext|>, two eos ids
    model.generation_config.do_sample = False
    model.generation_config.pad_token_id = tok.pad_token_id
    model.generation_config.bos_token_id = tok.pad_token_id
    model.generation_config.eos_token_id = [
        tok.convert_tokens_to_ids("<|im_end|>"),
        tok.convert_tokens_to_ids("<|endoftext|>"),
    ]
    return model


def qwen3_vl_processor(config_dir: Path, tok: PreTrainedTokenizerFast, frame_pixels: int) -> Any:  # noqa: ANN401
    """The real processor (image/video configs, chat template) with a ``frame_pixels`` budget.

    Images get exactly ``frame_pixels`` pixels; a video frame of ``frame_pixels`` pixels (side a
    multiple of 32) is kept as is under the per-frame cap of the reference (qwen-vl-utils).
    """
    from transformers import Qwen2VLImageProcessor, Qwen3VLProcessor, Qwen3VLVideoProcessor

    drop = ("processor_class", "image_processor_type", "video_processor_type")
    image = load_json(config_dir, "preprocessor_config.json")
    video = load_json(config_dir, "video_preprocessor_config.json")
    for key in drop:
        image.pop(key, None)
        video.pop(key, None)
    image["size"] = {"shortest_edge": frame_pixels, "longest_edge": frame_pixels}
    video["size"] = {"shortest_edge": frame_pixels, "longest_edge": frame_pixels}
    template = load_json(config_dir, "chat_template.json")["chat_template"]
    return Qwen3VLProcessor(
        image_processor=Qwen2VLImageProcessor(**image),
        video_processor=Qwen3VLVideoProcessor(**video, cap_pixels_per_frame=True),
        tokenizer=tok,
        chat_template=template,
    )


def tiny_qwen3_vl(
    tok: PreTrainedTokenizerFast,
    sizes: Qwen3VLSizes = Qwen3VLSizes(),  # noqa: B008 - a frozen dataclass
    seed: int = 0,
) -> torch.nn.Module:
    """``random_qwen3_vl`` of the bundled Qwen3-VL-8B-Instruct config at ``sizes``."""
    return random_qwen3_vl(checkpoint_dir(QWEN3_VL_8B), tok, sizes, seed)
