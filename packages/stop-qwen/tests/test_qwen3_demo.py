"""The offline Qwen3-VL demo builder: the real config's structure, scaled down, runs SToP."""

from __future__ import annotations

import json

import pytest
import torch
from qwen3_testkit import FIXTURE, synthetic_video

from stop_core import PruningConfig
from stop_eval.backbones.qwen import demo_qwen3_vl
from stop_qwen import Qwen3VLStopAdapter, stop_pruning


def test_bundled_configs_are_the_checkpoint_files() -> None:
    for name in ("config.json", "preprocessor_config.json", "video_preprocessor_config.json"):
        bundled = json.loads((demo_qwen3_vl.CONFIG_DIR / name).read_text())
        assert bundled == json.loads((FIXTURE / name).read_text())


def test_scale_mrope_section() -> None:
    assert demo_qwen3_vl.scale_mrope_section([24, 20, 20], 16) == [6, 5, 5]
    assert demo_qwen3_vl.scale_mrope_section([24, 20, 20], 64) == [24, 20, 20]
    with pytest.raises(ValueError, match="head_dim 4 is too small"):
        demo_qwen3_vl.scale_mrope_section([24, 20, 20], 2)


def test_demo_model_keeps_the_structure_and_runs_stop() -> None:
    model, processor = demo_qwen3_vl.build_demo_qwen3_vl(seed=0)
    real = json.loads((FIXTURE / "config.json").read_text())
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
