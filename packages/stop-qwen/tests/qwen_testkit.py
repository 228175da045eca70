"""The stop-qwen tests' tiny Qwen2.5-VL (``stop_qwen.testing`` defaults), prompts and videos."""

from __future__ import annotations

import numpy as np
import torch
from transformers import PreTrainedTokenizerFast, Qwen2_5_VLForConditionalGeneration

from stop_qwen.testing import Qwen25VLSizes, qwen2_5_vl_processor, tiny_qwen2_5_vl, train_tokenizer

SIZE = 112  # 8 x 8 patches of 14 px -> 4 x 4 merged tokens per temporal patch
PROMPTS = [
    "<|im_start|>user\n<|vision_start|><|video_pad|><|vision_end|>what happens?<|im_end|>\n"
    "<|im_start|>assistant\n",
    "<|im_start|>user\n<|vision_start|><|video_pad|><|vision_end|>describe the clip in detail"
    "<|im_end|>\n<|im_start|>assistant\n",
]
GENERATE = {
    "max_new_tokens": 4,
    "min_new_tokens": 4,
    "do_sample": False,
    "output_logits": True,
    "return_dict_in_generate": True,
}


def build_tokenizer() -> PreTrainedTokenizerFast:
    return train_tokenizer()


def build_model(tok: PreTrainedTokenizerFast, seed: int = 0) -> Qwen2_5_VLForConditionalGeneration:
    return tiny_qwen2_5_vl(tok, Qwen25VLSizes(), seed)


def build_processor(tok: PreTrainedTokenizerFast):
    return qwen2_5_vl_processor(tok, SIZE)


def synthetic_video(seed: int, frames: int = 8) -> np.ndarray:
    rng = np.random.default_rng(seed)
    h, w = SIZE + 8, SIZE + 40
    v = np.zeros((frames, h, w, 3), np.uint8)
    v[..., 0] = np.linspace(0, 255, w, dtype=np.uint8)[None, None]
    v[..., 1] = rng.integers(0, 50, size=(frames, h, w), dtype=np.uint8)
    for t in range(frames):
        x = int(t * (w - 24) / max(frames - 1, 1))
        v[t, 40:64, x : x + 24] = 255
    return v


def make_inputs(processor, batch: int, frames: tuple[int, ...] = (8, 6)) -> dict:
    videos = [synthetic_video(i, frames[i % len(frames)]) for i in range(batch)]
    meta = [{"fps": 2.0, "total_num_frames": len(v)} for v in videos]
    return dict(
        processor(
            text=PROMPTS[:batch],
            videos=videos,
            return_tensors="pt",
            padding=True,
            videos_kwargs={"video_metadata": meta},
        )
    )


class PositionRecorder:
    """Records the ``position_ids`` the language model sees at every forward call."""

    def __init__(self, model) -> None:
        self.seen: list[torch.Tensor | None] = []
        self.handle = model.model.language_model.register_forward_pre_hook(
            self._pre, with_kwargs=True
        )

    def _pre(self, module, args, kwargs) -> None:
        p = kwargs.get("position_ids")
        self.seen.append(None if p is None else p.detach().clone())

    def remove(self) -> None:
        self.handle.remove()
