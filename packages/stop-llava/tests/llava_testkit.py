"""Tiny random LLaVA-OneVision models, a locally trained tokenizer and synthetic videos."""

from __future__ import annotations

import numpy as np
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import (
    LlavaOnevisionConfig,
    LlavaOnevisionForConditionalGeneration,
    LlavaOnevisionImageProcessor,
    LlavaOnevisionProcessor,
    LlavaOnevisionVideoProcessor,
    PreTrainedTokenizerFast,
    Qwen2Config,
    SiglipVisionConfig,
)

torch.set_num_threads(1)

IMAGE_SIZE = 126  # 9 x 9 patches of 14 px: bilinear pooling -> 5 x 5, average -> 4 x 4
FRAMES = 6
SPECIALS = ["<unk>", "<pad>", "<|im_start|>", "<|im_end|>", "<image>", "<video>"]


def build_tokenizer() -> PreTrainedTokenizerFast:
    corpus = [
        "user what happens in the video",
        "assistant a person walks across the room",
        "describe the clip in detail",
        "is the ball red? answer yes or no",
    ] * 8
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=320,
        special_tokens=SPECIALS,
        show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(corpus, trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>", eos_token="<|im_end|>"
    )
    fast.padding_side = "left"
    return fast


def build_model(tokenizer: PreTrainedTokenizerFast, seed: int = 0, **vision: object):
    torch.manual_seed(seed)
    vision_cfg = {
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "image_size": IMAGE_SIZE,
        "patch_size": 14,
        "vision_use_head": False,
        **vision,
    }
    cfg = LlavaOnevisionConfig(
        vision_config=SiglipVisionConfig(**vision_cfg),
        text_config=Qwen2Config(
            vocab_size=len(tokenizer),
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
        ),
        image_token_index=tokenizer.convert_tokens_to_ids("<image>"),
        video_token_index=tokenizer.convert_tokens_to_ids("<video>"),
        vision_feature_layer=-1,
        vision_feature_select_strategy="full",
        image_grid_pinpoints=[[IMAGE_SIZE, IMAGE_SIZE]],
    )
    model = LlavaOnevisionForConditionalGeneration(cfg).eval()
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    return model


def build_processor(tokenizer: PreTrainedTokenizerFast) -> LlavaOnevisionProcessor:
    size = {"height": IMAGE_SIZE, "width": IMAGE_SIZE}
    return LlavaOnevisionProcessor(
        image_processor=LlavaOnevisionImageProcessor(size=size),
        video_processor=LlavaOnevisionVideoProcessor(
            size=size, image_mean=[0.5] * 3, image_std=[0.5] * 3
        ),
        tokenizer=tokenizer,
        num_image_tokens=(IMAGE_SIZE // 14) ** 2,
        vision_feature_select_strategy="full",
    )


def synthetic_video(seed: int, frames: int = FRAMES) -> np.ndarray:
    """A bright square moving over a gradient, plus noise: [T, H, W, 3] uint8."""
    rng = np.random.default_rng(seed)
    h, w = 140, 160
    v = np.zeros((frames, h, w, 3), np.uint8)
    v[..., 0] = np.linspace(0, 255, w, dtype=np.uint8)[None, None]
    v[..., 2] = rng.integers(0, 60, size=(frames, h, w), dtype=np.uint8)
    for t in range(frames):
        x = int(t * (w - 30) / max(frames - 1, 1))
        v[t, 40 + seed % 20 : 70 + seed % 20, x : x + 30] = 255
    return v


PROMPTS = [
    "<|im_start|>user <video>\nwhat happens in the video?<|im_end|><|im_start|>assistant\n",
    "<|im_start|>user <video>\ndescribe the clip<|im_end|><|im_start|>assistant\n",
    "<|im_start|>user <video>\nis the ball red? answer yes or no<|im_end|><|im_start|>assistant\n",
]


def make_inputs(processor, batch: int, frames: int = FRAMES) -> dict[str, torch.Tensor]:
    videos = [synthetic_video(i, frames) for i in range(batch)]
    return dict(processor(text=PROMPTS[:batch], videos=videos, return_tensors="pt", padding=True))


GENERATE = {
    "max_new_tokens": 4,
    "min_new_tokens": 4,
    "do_sample": False,
    "output_logits": True,
    "return_dict_in_generate": True,
}


def hook_state(model) -> dict[str, tuple[frozenset, frozenset]]:
    """Ids of every forward hook and pre-hook (transformers installs some of its own)."""
    return {
        name: (frozenset(m._forward_hooks), frozenset(m._forward_pre_hooks))
        for name, m in model.named_modules()
    }
