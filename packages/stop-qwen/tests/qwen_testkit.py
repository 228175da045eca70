"""Tiny random Qwen2.5-VL models, the real processor with a locally trained tokenizer, videos."""

from __future__ import annotations

import numpy as np
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import (
    PreTrainedTokenizerFast,
    Qwen2_5_VLConfig,
    Qwen2_5_VLForConditionalGeneration,
    Qwen2_5_VLProcessor,
    Qwen2VLImageProcessor,
    Qwen2VLVideoProcessor,
)

SIZE = 112  # 8 x 8 patches of 14 px -> 4 x 4 merged tokens per temporal patch
SPECIALS = [
    "<unk>",
    "<pad>",
    "<|im_start|>",
    "<|im_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|image_pad|>",
    "<|video_pad|>",
]
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
    corpus = [
        "user what happens in the video",
        "assistant a person walks across the room",
        "describe the clip in detail",
        "the red ball rolls left then stops",
    ] * 8
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(
        corpus,
        trainers.BpeTrainer(
            vocab_size=360,
            special_tokens=SPECIALS,
            show_progress=False,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        ),
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>", eos_token="<|im_end|>"
    )
    fast.padding_side = "left"
    return fast


def build_model(tok: PreTrainedTokenizerFast, seed: int = 0) -> Qwen2_5_VLForConditionalGeneration:
    torch.manual_seed(seed)
    cfg = Qwen2_5_VLConfig(
        vision_config={
            "depth": 3,
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_heads": 2,
            "out_hidden_size": 64,
            "patch_size": 14,
            "spatial_merge_size": 2,
            "temporal_patch_size": 2,
            "window_size": 56,
            "fullatt_block_indexes": [1],
            "tokens_per_second": 2,
        },
        text_config={
            "vocab_size": len(tok),
            "hidden_size": 64,
            "intermediate_size": 128,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "num_key_value_heads": 2,
            "bos_token_id": None,
            "eos_token_id": tok.eos_token_id,
            "pad_token_id": tok.pad_token_id,
            "rope_parameters": {
                "rope_type": "default",
                "rope_theta": 1e6,
                "mrope_section": [2, 3, 3],
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
    model = Qwen2_5_VLForConditionalGeneration(cfg).eval()
    model.generation_config.pad_token_id = tok.pad_token_id
    model.generation_config.eos_token_id = tok.eos_token_id
    return model


def build_processor(tok: PreTrainedTokenizerFast) -> Qwen2_5_VLProcessor:
    return Qwen2_5_VLProcessor(
        image_processor=Qwen2VLImageProcessor(),
        video_processor=Qwen2VLVideoProcessor(
            min_pixels=SIZE * SIZE, max_pixels=SIZE * SIZE, cap_pixels_per_frame=True
        ),
        tokenizer=tok,
    )


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
