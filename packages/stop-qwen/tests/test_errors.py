"""Clear errors: unsupported models, mismatched backbones, odd grids, short videos, bad options."""

from __future__ import annotations

import pytest
import torch
from qwen_testkit import make_inputs
from transformers import Qwen2Config, Qwen2ForCausalLM

from stop_core import PruningConfig
from stop_qwen import QwenStopAdapter, apply_stop, get_adapter, stop_pruning

CFG = PruningConfig.preset("visionzip", backbone="qwen2_5_vl", retention_ratio=0.3)


def test_unsupported_model() -> None:
    lm = Qwen2ForCausalLM(
        Qwen2Config(
            vocab_size=32,
            hidden_size=16,
            intermediate_size=32,
            num_hidden_layers=1,
            num_attention_heads=2,
            num_key_value_heads=1,
        )
    )
    with pytest.raises(TypeError, match="supports Qwen2_5_VLForConditionalGeneration"):
        apply_stop(lm, CFG)
    assert get_adapter(lm) is None


def test_backbone_mismatch(model) -> None:
    with pytest.raises(ValueError, match="unknown Qwen backbone 'llava_ov'.*stop_llava"):
        apply_stop(model, CFG, backbone="llava_ov")


@pytest.mark.parametrize("block", [3, -4])
def test_block_out_of_range(model, block) -> None:
    with pytest.raises(ValueError, match=f"vision block {block} is out of range .* 3 blocks"):
        QwenStopAdapter(model, CFG, block=block)


def test_unknown_scorer(model) -> None:
    with pytest.raises(ValueError, match="unknown scorer 'entropy'"):
        QwenStopAdapter(model, CFG, scorer="entropy")


def _run(model, inputs):
    with stop_pruning(model, CFG), torch.no_grad():
        return model.generate(**inputs, max_new_tokens=1)


def test_odd_grid(model, processor) -> None:
    inputs = make_inputs(processor, 1)
    inputs["video_grid_thw"] = inputs["video_grid_thw"].clone()
    inputs["video_grid_thw"][0, 1] += 1
    with pytest.raises(ValueError, match="not divisible by the spatial merge size 2"):
        _run(model, inputs)


def test_video_shorter_than_temporal_patch(model, processor) -> None:
    inputs = make_inputs(processor, 1)
    inputs["video_grid_thw"] = inputs["video_grid_thw"].clone()
    inputs["video_grid_thw"][0, 0] = 0
    with pytest.raises(ValueError, match="shorter than the temporal patch"):
        _run(model, inputs)


def test_missing_grid(model, processor) -> None:
    inputs = make_inputs(processor, 1)
    del inputs["video_grid_thw"]
    with pytest.raises(ValueError, match="needs video_grid_thw"):
        _run(model, inputs)
