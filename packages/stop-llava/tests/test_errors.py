"""Clear errors for unsupported models, mismatched backbones, empty videos and bad layers."""

from __future__ import annotations

import pytest
import torch
from llava_testkit import build_model, make_inputs
from transformers import Qwen2Config, Qwen2ForCausalLM

from stop_core import PruningConfig
from stop_llava import LlavaStopAdapter, apply_stop, get_adapter, stop_pruning

CFG = PruningConfig("uniform", retention_ratio=0.2)


def test_unsupported_model_class() -> None:
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
    with pytest.raises(
        TypeError, match="supports LlavaOnevisionForConditionalGeneration, got Qwen2ForCausalLM"
    ):
        apply_stop(lm, CFG)
    assert get_adapter(lm) is None


def test_unknown_or_mismatched_backbone(model) -> None:
    with pytest.raises(ValueError, match="unknown LLaVA backbone 'qwen2_5_vl'.*stop_qwen"):
        apply_stop(model, CFG, backbone="qwen2_5_vl")
    with pytest.raises(ValueError, match="unknown LLaVA backbone 'llava'"):
        apply_stop(model, CFG, backbone="llava")


def test_config_mismatch(tokenizer) -> None:
    model = build_model(tokenizer)
    model.config.vision_config.model_type = "clip_vision_model"
    with pytest.raises(ValueError, match="needs a llava_onevision config with a SigLIP tower"):
        apply_stop(model, CFG)


def test_zero_frames(model, processor) -> None:
    inputs = make_inputs(processor, 1)
    inputs["pixel_values_videos"] = inputs["pixel_values_videos"][:, :0]
    with stop_pruning(model, CFG):
        with pytest.raises(ValueError, match="zero frames"):
            model.generate(**inputs, max_new_tokens=1)
    assert get_adapter(model) is None


@pytest.mark.parametrize("layer", [2, -3, 7])
def test_layer_out_of_range(model, layer: int) -> None:
    with pytest.raises(
        ValueError, match=f"attention layer {layer} is out of range for a tower with 2 layers"
    ):
        LlavaStopAdapter(model, CFG, layer=layer)


def test_bad_layout_options(model) -> None:
    with pytest.raises(ValueError, match="unknown pool mode 'mean'"):
        LlavaStopAdapter(model, CFG, pool_mode="mean")
    with pytest.raises(ValueError, match="unknown newline layout 'rows'"):
        LlavaStopAdapter(model, CFG, newline_mode="rows")


def test_video_count_mismatch(model, processor) -> None:
    inputs = make_inputs(processor, 2)
    inputs["pixel_values_videos"] = inputs["pixel_values_videos"][:1]
    with (
        stop_pruning(model, CFG),
        pytest.raises(ValueError, match="video placeholders do not match"),
    ):
        with torch.no_grad():
            model.generate(**inputs, max_new_tokens=1)
