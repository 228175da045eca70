"""Qwen3-VL: dispatch on the model class, backbone defaults and mismatches, clear errors."""

from __future__ import annotations

import pytest
import torch
from qwen3_testkit import make_inputs

from stop_core import PrunedVideo, PruningConfig
from stop_qwen import (
    Qwen3VLStopAdapter,
    QwenStopAdapter,
    adapter_class,
    apply_stop,
    get_adapter,
    prune_side_tensor,
    remove_stop,
    stop_pruning,
)

CFG = PruningConfig.preset("uniform", backbone="qwen3_vl", retention_ratio=0.3)


def test_backbone_defaults_from_the_class(qwen3_model, model) -> None:
    assert adapter_class(qwen3_model) is Qwen3VLStopAdapter
    assert adapter_class(model) is QwenStopAdapter
    adapter = apply_stop(qwen3_model, CFG)
    try:
        assert isinstance(adapter, Qwen3VLStopAdapter) and adapter.backbone == "qwen3_vl"
        assert adapter.block == 2  # all blocks are full attention: the last one
        assert get_adapter(qwen3_model) is adapter
    finally:
        remove_stop(qwen3_model)
    with stop_pruning(qwen3_model, CFG, backbone="qwen3_vl") as explicit:
        assert isinstance(explicit, Qwen3VLStopAdapter)


def test_mismatching_backbone(qwen3_model, model) -> None:
    with pytest.raises(ValueError, match="backbone 'qwen2_5_vl' does not match.*'qwen3_vl'"):
        apply_stop(qwen3_model, CFG, backbone="qwen2_5_vl")
    with pytest.raises(ValueError, match="backbone 'qwen3_vl' does not match.*'qwen2_5_vl'"):
        apply_stop(model, CFG, backbone="qwen3_vl")
    with pytest.raises(ValueError, match="unknown Qwen backbone 'llava_video'.*stop_llava"):
        apply_stop(qwen3_model, CFG, backbone="llava_video")
    assert get_adapter(qwen3_model) is None and get_adapter(model) is None


def test_adapter_class_checks_the_model(qwen3_model, model) -> None:
    with pytest.raises(TypeError, match="needs a Qwen3VLForConditionalGeneration, got Qwen2_5"):
        Qwen3VLStopAdapter(model, CFG)
    with pytest.raises(TypeError, match="needs a Qwen2_5_VLForConditionalGeneration, got Qwen3VL"):
        QwenStopAdapter(qwen3_model, CFG)
    with pytest.raises(TypeError, match="supports .*Qwen3VLForConditionalGeneration, got Linear"):
        apply_stop(torch.nn.Linear(2, 2), CFG)


@pytest.mark.parametrize("block", [3, -4])
def test_block_out_of_range(qwen3_model, block) -> None:
    with pytest.raises(ValueError, match=f"vision block {block} is out of range .* 3 blocks"):
        Qwen3VLStopAdapter(qwen3_model, CFG, block=block)


def _run(model, inputs):
    with stop_pruning(model, CFG), torch.no_grad():
        return model.generate(**inputs, max_new_tokens=1)


def test_missing_token_types(qwen3_model, qwen3_processor) -> None:
    inputs = make_inputs(qwen3_processor, 1)
    del inputs["mm_token_type_ids"]
    with pytest.raises(ValueError, match="SToP on qwen3_vl needs mm_token_type_ids"):
        _run(qwen3_model, inputs)


def test_odd_grid(qwen3_model, qwen3_processor) -> None:
    inputs = make_inputs(qwen3_processor, 1)
    inputs["video_grid_thw"] = inputs["video_grid_thw"].clone()
    inputs["video_grid_thw"][0, 2] += 1
    with pytest.raises(ValueError, match="8x9 patch grid, not divisible by the spatial merge"):
        _run(qwen3_model, inputs)


def test_prompt_without_the_video_placeholders(qwen3_model, qwen3_processor) -> None:
    inputs = make_inputs(qwen3_processor, 1)
    video = qwen3_model.config.video_token_id
    ids = inputs["input_ids"].clone()
    ids[ids == video] = qwen3_processor.tokenizer.pad_token_id
    inputs["input_ids"] = ids
    with pytest.raises(ValueError, match="placeholders for 0 videos but 1 were given"):
        _run(qwen3_model, inputs)


def test_side_features_need_the_combination() -> None:
    out = PrunedVideo(
        features=torch.zeros(2, 4),
        frame_index=torch.tensor([0, 1]),
        position=torch.tensor([0, 0]),
        requested=2,
        kept=2,
        grid=(1, 2),
        num_frames=2,
        method="custom",
        variant="fixed",
    )
    with pytest.raises(NotImplementedError, match="'custom' does not record .* deepstack"):
        prune_side_tensor(out, torch.zeros(2, 2, 3))
