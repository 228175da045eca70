"""Hook-based SigLIP attention capture == eager attention, and == the reference tower."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from llava_reference import eager_vision
from llava_testkit import hook_state, make_inputs
from transformers import SiglipVisionConfig, SiglipVisionModel

from stop_llava import SiglipAttentionCapture, attention_received

GOLDEN = Path(__file__).resolve().parent / "fixtures" / "siglip_tower_tiny.pt"


def test_capture_equals_eager_output_attentions(model, processor) -> None:
    pv = make_inputs(processor, 2)["pixel_values_videos"]
    with torch.no_grad():
        model.model.get_video_features(pv, return_dict=True)
    hooks = hook_state(model)
    layer = model.model.vision_tower.encoder.layers[-1]
    capture = SiglipAttentionCapture(layer.self_attn, chunk_frames=3)
    try:
        with torch.no_grad():
            model.model.get_video_features(pv, return_dict=True)
    finally:
        capture.remove()
    eager = eager_vision(model, pv)
    torch.testing.assert_close(capture.received, eager["received"], atol=1e-6, rtol=0)
    torch.testing.assert_close(capture.keys, eager["keys"], atol=1e-6, rtol=0)
    torch.testing.assert_close(capture.received.sum(dim=1), torch.ones(pv.shape[0] * pv.shape[1]))
    assert hook_state(model) == hooks


def test_chunking_does_not_change_the_result() -> None:
    g = torch.Generator().manual_seed(0)
    q, k = torch.randn(7, 50, 16, generator=g), torch.randn(7, 50, 16, generator=g)
    full = attention_received(q, k, num_heads=4, scale=0.5, chunk_frames=7)
    torch.testing.assert_close(attention_received(q, k, 4, 0.5, chunk_frames=2), full)
    probs = torch.softmax(
        q.view(7, 50, 4, 4).transpose(1, 2)
        @ k.view(7, 50, 4, 4).transpose(1, 2).transpose(-1, -2)
        * 0.5,
        dim=-1,
    )
    torch.testing.assert_close(full, probs.mean(1).mean(1))


def _direct(q, k, heads, scale, dtype=torch.float32):
    f, n, c = q.shape
    qh = q.view(f, n, heads, c // heads).transpose(1, 2).double()
    kh = k.view(f, n, heads, c // heads).transpose(1, 2).double()
    probs = torch.softmax(qh @ kh.transpose(-1, -2) * scale, dim=-1).to(dtype)
    return probs.double().mean(1).mean(1).float()


def test_float32_route_is_exact_with_huge_logits() -> None:
    """Sinks give some keys huge logits: the max-shifted route must neither overflow nor drift."""
    g = torch.Generator().manual_seed(1)
    q, k = torch.randn(3, 40, 32, generator=g), torch.randn(3, 40, 32, generator=g)
    k[:, 5] *= 60.0  # one key dominating every row, logits in the hundreds
    got = attention_received(q, k, num_heads=4, scale=8**-0.5)
    assert torch.isfinite(got).all()
    torch.testing.assert_close(got, _direct(q, k, 4, 8**-0.5), atol=1e-6, rtol=0)
    torch.testing.assert_close(got.sum(dim=1), torch.ones(3))


def test_half_precision_rounds_probabilities_like_the_tower() -> None:
    g = torch.Generator().manual_seed(2)
    q, k = torch.randn(2, 30, 16, generator=g), torch.randn(2, 30, 16, generator=g)
    got = attention_received(q.bfloat16(), k.bfloat16(), num_heads=2, scale=0.3)
    expected = _direct(q.bfloat16().float(), k.bfloat16().float(), 2, 0.3, torch.bfloat16)
    torch.testing.assert_close(got, expected, atol=2e-3, rtol=0)


def test_float32_reduction_of_half_precision_q_k() -> None:
    g = torch.Generator().manual_seed(3)
    q, k = torch.randn(2, 30, 16, generator=g).bfloat16(), torch.randn(2, 30, 16, generator=g)
    k = k.bfloat16()
    got = attention_received(q, k, num_heads=2, scale=0.3, dtype=torch.float32)
    torch.testing.assert_close(got, _direct(q.float(), k.float(), 2, 0.3), atol=1e-6, rtol=0)
    tower_like = attention_received(q, k, num_heads=2, scale=0.3)
    assert not torch.equal(got, tower_like)  # the default keeps the tower's rounding


def test_capture_dtype_is_checked(model) -> None:
    from stop_core import PruningConfig
    from stop_llava import LlavaStopAdapter

    with pytest.raises(ValueError, match="capture_dtype must be None or torch.float32"):
        LlavaStopAdapter(model, PruningConfig.preset("visionzip"), capture_dtype=torch.float16)
    attn = model.model.vision_tower.encoder.layers[0].self_attn
    with pytest.raises(ValueError, match="reduce_dtype must be None or torch.float32"):
        SiglipAttentionCapture(attn, reduce_dtype=torch.bfloat16)


def _reference_tower():
    data = torch.load(GOLDEN, weights_only=True)
    raw = data["config"]
    cfg = SiglipVisionConfig(
        hidden_size=raw["hidden_size"],
        intermediate_size=raw["intermediate_size"],
        num_hidden_layers=raw["num_hidden_layers"] - 1,  # LLaVA drops the last layer
        num_attention_heads=raw["num_attention_heads"],
        num_channels=raw["num_channels"],
        patch_size=raw["patch_size"],
        image_size=raw["image_size"],
        layer_norm_eps=raw["layer_norm_eps"],
        hidden_act=raw["hidden_act"],
        vision_use_head=False,
    )
    tower = SiglipVisionModel(cfg).eval()
    state = {
        k.removeprefix("vision_model."): v for k, v in data["state_dict_full_3_layers"].items()
    }
    kept = {k: v for k, v in state.items() if not k.startswith(("encoder.layers.2.", "head."))}
    target = tower.state_dict()
    kept = {k: v for k, v in kept.items() if k in target or f"vision_model.{k}" in target}
    kept = {(k if k in target else f"vision_model.{k}"): v for k, v in kept.items()}
    missing = set(target) - set(kept)
    assert not missing, missing
    tower.load_state_dict(kept)
    return tower, data


def test_capture_matches_reference_tower_outputs() -> None:
    if not GOLDEN.is_file():
        pytest.fail(f"golden tower file missing: {GOLDEN}")
    tower, data = _reference_tower()
    layers = getattr(tower, "vision_model", tower).encoder.layers
    capture = SiglipAttentionCapture(layers[-1].self_attn)
    try:
        with torch.no_grad():
            out = tower(data["pixel_values"], output_hidden_states=True)
    finally:
        capture.remove()
    ref = data["visionzip"]
    torch.testing.assert_close(out.hidden_states[-1], ref["hidden_states"], atol=1e-5, rtol=0)
    torch.testing.assert_close(capture.received, ref["attn_reduced"], atol=1e-6, rtol=0)
    torch.testing.assert_close(capture.keys, ref["metric"].float(), atol=1e-5, rtol=0)
    torch.testing.assert_close(capture.received, data["holitom"]["attn_reduced"], atol=1e-6, rtol=0)


def test_capture_rejects_non_siglip_module() -> None:
    with pytest.raises(TypeError, match="not a SigLIP attention"):
        SiglipAttentionCapture(torch.nn.Linear(2, 2))
