"""``stop_qwen.testing``'s Qwen3-VL: the real 8B config's structure at small sizes, runs SToP."""

from __future__ import annotations

import json

import pytest
import torch
from qwen3_testkit import CONFIGS, synthetic_video
from transformers import AutoConfig

from stop_core import PruningConfig
from stop_qwen import Qwen3VLStopAdapter, stop_pruning
from stop_qwen.testing import (
    Qwen3VLSizes,
    qwen3_vl_processor,
    qwen3_vl_tokenizer,
    scale_mrope_section,
    tiny_qwen3_vl,
)


def test_bundled_config_is_a_qwen3_vl_checkpoint_config() -> None:
    config = AutoConfig.from_pretrained(CONFIGS)
    assert type(config).__name__ == "Qwen3VLConfig"
    assert list(config.vision_config.deepstack_visual_indexes) == [8, 16, 24]
    assert (config.vision_config.patch_size, config.vision_config.spatial_merge_size) == (16, 2)


def test_scale_mrope_section() -> None:
    assert scale_mrope_section([24, 20, 20], 16) == [6, 5, 5]
    assert scale_mrope_section([24, 20, 20], 64) == [24, 20, 20]
    with pytest.raises(ValueError, match="head_dim 4 is too small"):
        scale_mrope_section([24, 20, 20], 2)


def test_scaled_model_keeps_the_structure_and_runs_stop() -> None:
    tok = qwen3_vl_tokenizer()
    model = tiny_qwen3_vl(tok, Qwen3VLSizes(), seed=0)  # 4 vision blocks, deepstack on 1 and 2
    processor = qwen3_vl_processor(CONFIGS, tok, 224 * 224)
    real = json.loads((CONFIGS / "config.json").read_text())
    vision, text = model.config.vision_config, model.config.text_config
    assert type(model).__name__ == "Qwen3VLForConditionalGeneration"
    assert list(vision.deepstack_visual_indexes) == [1, 2]
    assert len(model.model.visual.deepstack_merger_list) == 2
    for key in ("patch_size", "spatial_merge_size", "temporal_patch_size", "hidden_act"):
        assert getattr(vision, key) == real["vision_config"][key]
    assert text.rope_parameters["mrope_interleaved"] is True
    assert sum(text.rope_parameters["mrope_section"]) == text.head_dim // 2
    assert text.rope_parameters["rope_theta"] == real["text_config"]["rope_theta"]
    tok = processor.tokenizer
    assert model.config.video_token_id == tok.convert_tokens_to_ids("<|video_pad|>")
    assert tok.pad_token == "<|endoftext|>"
    video = synthetic_video(3, 8)
    messages = [{"role": "user", "content": [{"type": "video"}, {"type": "text", "text": "hi"}]}]
    inputs = processor(
        text=[processor.apply_chat_template(messages, add_generation_prompt=True)],
        videos=[video],
        return_tensors="pt",
        videos_kwargs={"video_metadata": [{"fps": 2.0, "total_num_frames": 8}]},
    )
    assert inputs["video_grid_thw"].tolist() == [[4, 8, 8]]  # 128 px frames are not upscaled
    cfg = PruningConfig.preset("fastvid", backbone="qwen3_vl", retention_ratio=0.25)
    with stop_pruning(model, cfg) as adapter, torch.no_grad():
        out = model.generate(**inputs, max_new_tokens=2, do_sample=False)
    assert isinstance(adapter, Qwen3VLStopAdapter)
    (record,) = adapter.accounting
    assert (record.tokens_before, record.kept) == (64, 16)
    assert out.shape[1] == inputs["input_ids"].shape[1] - 48 + 2
