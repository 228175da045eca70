"""The stop-qwen tests' tiny Qwen3-VL: the real 8B config's structure (``stop_qwen.testing``).

The bundled config files are the checkpoint's own (``stop_qwen.checkpoints``); the sizes are
scaled down to 3 vision blocks with deepstack on blocks 0 and 1, 2 text layers, interleaved
M-RoPE (the offline demo uses the same builder at larger sizes).
"""

from __future__ import annotations

import numpy as np
import torch

from stop_qwen.checkpoints import QWEN3_VL_8B, checkpoint_dir
from stop_qwen.testing import (
    Qwen3VLSizes,
    qwen3_vl_processor,
    qwen3_vl_tokenizer,
    tiny_qwen3_vl,
)

CONFIGS = checkpoint_dir(QWEN3_VL_8B)
SIDE = 128  # 8 x 8 patches of 16 px -> 4 x 4 merged tokens per temporal group
SIZES = Qwen3VLSizes(
    vision_depth=3,
    vision_hidden=32,
    vision_heads=2,
    vision_intermediate=64,
    deepstack_visual_indexes=(0, 1),
    text_layers=2,
    text_hidden=64,
    text_intermediate=128,
    text_heads=2,
    text_kv_heads=1,
    head_dim=32,
)
QUESTIONS = ["what happens?", "describe the clip in detail"]
GENERATE = {
    "max_new_tokens": 4,
    "min_new_tokens": 4,
    "do_sample": False,
    "output_logits": True,
    "return_dict_in_generate": True,
}


def build_tokenizer():
    return qwen3_vl_tokenizer()


def build_model(tok, seed: int = 0):
    return tiny_qwen3_vl(tok, SIZES, seed)


def build_processor(tok):
    return qwen3_vl_processor(CONFIGS, tok, SIDE * SIDE)


def synthetic_video(seed: int, frames: int = 8) -> np.ndarray:
    """A moving bright square on a gradient with noise, ``SIDE x SIDE`` pixels."""
    rng = np.random.default_rng(seed)
    v = np.zeros((frames, SIDE, SIDE, 3), np.uint8)
    v[..., 0] = np.linspace(0, 255, SIDE, dtype=np.uint8)[None, None]
    v[..., 1] = rng.integers(0, 60, size=(frames, SIDE, SIDE), dtype=np.uint8)
    for t in range(frames):
        x = int(t * (SIDE - 32) / max(frames - 1, 1))
        v[t, 40:72, x : x + 32] = 255
    return v


def chat(processor, question: str, videos: int = 1) -> str:
    content = [{"type": "video"} for _ in range(videos)] + [{"type": "text", "text": question}]
    messages = [{"role": "user", "content": content}]
    return processor.apply_chat_template(messages, add_generation_prompt=True)


def make_inputs(processor, batch: int, frames: tuple[int, ...] = (8, 6)) -> dict:
    """``batch`` prompts (real chat template), one video each, left padded."""
    videos = [synthetic_video(i, frames[i % len(frames)]) for i in range(batch)]
    meta = [{"fps": 2.0, "total_num_frames": len(v)} for v in videos]
    return dict(
        processor(
            text=[chat(processor, QUESTIONS[i % len(QUESTIONS)]) for i in range(batch)],
            videos=videos,
            return_tensors="pt",
            padding=True,
            videos_kwargs={"video_metadata": meta},
        )
    )


def make_two_video_inputs(processor, frames: tuple[int, int] = (8, 4)) -> dict:
    """One prompt with two videos."""
    videos = [synthetic_video(0, frames[0]), synthetic_video(1, frames[1])]
    meta = [{"fps": 2.0, "total_num_frames": len(v)} for v in videos]
    return dict(
        processor(
            text=[chat(processor, "compare the clips", videos=2)],
            videos=videos,
            return_tensors="pt",
            videos_kwargs={"video_metadata": meta},
        )
    )


class LanguageModelRecorder:
    """Records what the language model receives at every call: positions and deepstack."""

    def __init__(self, model) -> None:
        self.calls: list[dict] = []
        self.handle = model.model.language_model.register_forward_pre_hook(
            self._pre, with_kwargs=True
        )

    def _pre(self, module, args, kwargs) -> None:
        def copy(x):
            if x is None:
                return None
            if isinstance(x, (list, tuple)):
                return [t.detach().clone() for t in x]
            return x.detach().clone()

        self.calls.append(
            {
                key: copy(kwargs.get(key))
                for key in ("position_ids", "visual_pos_masks", "deepstack_visual_embeds")
            }
        )

    @property
    def positions(self) -> list[torch.Tensor | None]:
        return [c["position_ids"] for c in self.calls]

    def remove(self) -> None:
        self.handle.remove()
