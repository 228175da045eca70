"""The stop-llava tests' tiny LLaVA-OneVision (``stop_llava.testing`` defaults) and videos."""

from __future__ import annotations

import numpy as np
import torch
from transformers import LlavaOnevisionForConditionalGeneration, PreTrainedTokenizerFast

from stop_llava.testing import LlavaSizes, llava_processor, tiny_llava, train_tokenizer

torch.set_num_threads(1)

SIZES = LlavaSizes()
IMAGE_SIZE = SIZES.image_size  # 9 x 9 patches of 14 px: bilinear pooling -> 5 x 5, average -> 4 x 4
FRAMES = 6


def build_tokenizer() -> PreTrainedTokenizerFast:
    return train_tokenizer()


def build_model(
    tokenizer: PreTrainedTokenizerFast, seed: int = 0, **vision: object
) -> LlavaOnevisionForConditionalGeneration:
    return tiny_llava(tokenizer, SIZES, seed=seed, **vision)


def build_processor(tokenizer: PreTrainedTokenizerFast):
    return llava_processor(tokenizer, IMAGE_SIZE)


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
