"""Tiny random Qwen2.5-VL / Qwen3-VL checkpoints on disk, shaped by the real checkpoints' configs.

The config, processor and chat-template files are the real checkpoints' own (bundled once, in
``stop_qwen.checkpoints``); sizes shrink, token ids follow a small locally trained tokenizer,
and everything is written with ``save_pretrained`` so vLLM and transformers load the same
directory.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

from stop_qwen.checkpoints import load_json

SPECIALS = [
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|image_pad|>",
    "<|video_pad|>",
]


@dataclass(frozen=True)
class Kind:
    """One backbone: its real config directory, frame side in pixels and model sizes."""

    name: str
    config_dir: str
    side: int
    vision_depth: int
    head_dim: int


KINDS = {
    "qwen2_5_vl": Kind("qwen2_5_vl", "Qwen2.5-VL-7B-Instruct", 224, 3, 32),
    "qwen3_vl": Kind("qwen3_vl", "Qwen3-VL-8B-Instruct", 256, 3, 32),
}


def tokenizer() -> PreTrainedTokenizerFast:
    """A byte-level BPE with Qwen's special tokens, trained on a few sentences."""
    corpus = [
        "user what happens in the video",
        "assistant a person walks across the room",
        "describe the clip in detail system you are a helpful assistant",
        "the red ball rolls left then stops <0.5 seconds> 1.5 2.5 3.5",
    ] * 8
    tok = Tokenizer(models.BPE(unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(
        corpus,
        trainers.BpeTrainer(
            vocab_size=400,
            special_tokens=SPECIALS,
            show_progress=False,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        ),
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<|endoftext|>", eos_token="<|im_end|>"
    )
    fast.padding_side = "left"
    return fast


def _read(kind: Kind, name: str) -> dict[str, Any]:
    return load_json(kind.config_dir, name)


def _mrope(section: list[int], half: int) -> list[int]:
    total = sum(section)
    scaled = [x * half // total for x in section]
    scaled[0] += half - sum(scaled)
    return scaled


def scaled_config(kind: Kind, tok: PreTrainedTokenizerFast) -> dict[str, Any]:
    """The real config with small sizes and the tokenizer's ids (all other keys kept)."""
    cfg = copy.deepcopy(_read(kind, "config.json"))
    for key in ("torch_dtype", "dtype", "transformers_version"):
        cfg.pop(key, None)
    vision = cfg["vision_config"]
    vision.update(depth=kind.vision_depth, hidden_size=32, num_heads=2, intermediate_size=64)
    vision["out_hidden_size"] = 64
    if "fullatt_block_indexes" in vision:
        vision["fullatt_block_indexes"] = [1]
    if "deepstack_visual_indexes" in vision:
        vision["deepstack_visual_indexes"] = [0, 1]
    text = cfg.get("text_config", cfg)
    text.pop("dtype", None)
    for rope_key in ("rope_scaling", "rope_parameters"):
        if rope_key in text and "mrope_section" in text[rope_key]:
            text[rope_key] = dict(text[rope_key])
            text[rope_key]["mrope_section"] = _mrope(
                text[rope_key]["mrope_section"], kind.head_dim // 2
            )
    eos = tok.convert_tokens_to_ids("<|im_end|>")
    pad = tok.convert_tokens_to_ids("<|endoftext|>")
    text.update(
        vocab_size=len(tok),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=64 // kind.head_dim,
        num_key_value_heads=1,
        bos_token_id=pad,
        eos_token_id=eos,
    )
    if "head_dim" in text:
        text["head_dim"] = kind.head_dim
    for key, token in (
        ("image_token_id", "<|image_pad|>"),
        ("video_token_id", "<|video_pad|>"),
        ("vision_start_token_id", "<|vision_start|>"),
        ("vision_end_token_id", "<|vision_end|>"),
    ):
        cfg[key] = tok.convert_tokens_to_ids(token)
    cfg.pop("vision_token_id", None)
    cfg["bos_token_id"] = pad
    cfg["eos_token_id"] = eos
    cfg["pad_token_id"] = pad
    return cfg


def processor(kind: Kind, tok: PreTrainedTokenizerFast) -> Any:  # noqa: ANN401
    """The real processor configs and chat template, frames capped at ``side x side`` pixels."""
    from transformers import (
        Qwen2_5_VLProcessor,
        Qwen2VLImageProcessor,
        Qwen2VLVideoProcessor,
        Qwen3VLProcessor,
        Qwen3VLVideoProcessor,
    )

    drop = ("processor_class", "image_processor_type", "video_processor_type")
    image = {k: v for k, v in _read(kind, "preprocessor_config.json").items() if k not in drop}
    pixels = kind.side * kind.side
    template = _read(kind, "chat_template.json")["chat_template"]
    if kind.name == "qwen2_5_vl":
        image.update(min_pixels=pixels, max_pixels=pixels)
        video = dict(image)
        return Qwen2_5_VLProcessor(
            image_processor=Qwen2VLImageProcessor(**image),
            video_processor=Qwen2VLVideoProcessor(**video, cap_pixels_per_frame=True),
            tokenizer=tok,
            chat_template=template,
        )
    video = {
        k: v for k, v in _read(kind, "video_preprocessor_config.json").items() if k not in drop
    }
    image["size"] = {"shortest_edge": pixels, "longest_edge": pixels}
    video["size"] = {"shortest_edge": pixels, "longest_edge": pixels}
    return Qwen3VLProcessor(
        image_processor=Qwen2VLImageProcessor(**image),
        video_processor=Qwen3VLVideoProcessor(**video, cap_pixels_per_frame=True),
        tokenizer=tok,
        chat_template=template,
    )


def save_checkpoint(name: str, out: Path, seed: int = 0) -> Path:
    """Write a float32 random checkpoint of backbone ``name`` to ``out`` and return it."""
    from transformers import (
        Qwen2_5_VLConfig,
        Qwen2_5_VLForConditionalGeneration,
        Qwen3VLConfig,
        Qwen3VLForConditionalGeneration,
    )

    kind = KINDS[name]
    tok = tokenizer()
    config_class, model_class = (
        (Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration)
        if name == "qwen2_5_vl"
        else (Qwen3VLConfig, Qwen3VLForConditionalGeneration)
    )
    config = config_class.from_dict(scaled_config(kind, tok))
    torch.manual_seed(seed)
    model = model_class(config).to(torch.float32).eval()
    model.generation_config.do_sample = False
    model.save_pretrained(out)
    processor(kind, tok).save_pretrained(out)
    return out


def video(seed: int, frames: int, side: int) -> np.ndarray:
    """A moving bright square over a gradient with noise: ``[frames, side, side, 3]`` uint8."""
    rng = np.random.default_rng(seed)
    v = np.zeros((frames, side, side, 3), np.uint8)
    v[..., 0] = np.linspace(0, 255, side, dtype=np.uint8)[None, None]
    v[..., 1] = rng.integers(0, 60, size=(frames, side, side), dtype=np.uint8)
    for t in range(frames):
        x = int(t * (side - side // 4) / max(frames - 1, 1))
        v[t, side // 3 : side // 3 + side // 4, x : x + side // 4] = 255
    return v
