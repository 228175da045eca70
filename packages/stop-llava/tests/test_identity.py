"""Retention 1.0 / method none is bit-identical to the unpatched model; removal restores it."""

from __future__ import annotations

import pytest
import torch
from llava_testkit import GENERATE, build_model, hook_state, make_inputs

from stop_core import PruningConfig
from stop_llava import apply_stop, get_adapter, remove_stop, stop_pruning


def _generate(model, inputs):
    with torch.no_grad():
        return model.generate(**inputs, **GENERATE)


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize(
    "cfg",
    [PruningConfig("none"), PruningConfig.preset("holitom", retention_ratio=1.0)],
    ids=["none", "holitom-r1"],
)
def test_full_retention_is_bit_identical(model, processor, batch, cfg) -> None:
    inputs = make_inputs(processor, batch)
    ref = _generate(model, inputs)
    with stop_pruning(model, cfg, backbone="llava_ov") as adapter:
        out = _generate(model, inputs)
    assert torch.equal(out.sequences, ref.sequences)
    assert torch.equal(torch.stack(out.logits), torch.stack(ref.logits))
    assert [a.kept for a in adapter.accounting] == [a.tokens_before - 1 for a in adapter.accounting]


def test_llava_video_with_hf_layout_is_bit_identical(model, processor) -> None:
    inputs = make_inputs(processor, 2)
    ref = _generate(model, inputs)
    cfg = PruningConfig("none")
    with stop_pruning(model, cfg, "llava_video", pool_mode="bilinear", newline_mode="one_token"):
        out = _generate(model, inputs)
    assert torch.equal(torch.stack(out.logits), torch.stack(ref.logits))


def test_remove_restores_the_model(tokenizer, processor) -> None:
    model = build_model(tokenizer)
    before = dict(model.__dict__)
    inputs = make_inputs(processor, 1)
    ref = _generate(model, inputs)
    hooks = hook_state(model)
    adapter = apply_stop(model, PruningConfig.preset("visionzip", retention_ratio=0.3))
    assert get_adapter(model) is adapter
    pruned = _generate(model, inputs)
    assert pruned.sequences.shape[1] < ref.sequences.shape[1]
    assert remove_stop(model) is True
    assert remove_stop(model) is False
    assert model.__dict__.keys() == before.keys()
    assert "forward" not in model.__dict__ and "generate" not in model.__dict__
    again = _generate(model, inputs)
    assert torch.equal(torch.stack(again.logits), torch.stack(ref.logits))
    assert hook_state(model) == hooks


def test_context_manager_removes_on_error(tokenizer, processor) -> None:
    model = build_model(tokenizer)
    with pytest.raises(RuntimeError, match="boom"):
        with stop_pruning(model, PruningConfig.preset("fastvid")):
            raise RuntimeError("boom")
    assert get_adapter(model) is None and "forward" not in model.__dict__


def test_apply_twice_is_an_error(tokenizer) -> None:
    model = build_model(tokenizer)
    apply_stop(model, PruningConfig.preset("holitom"))
    with pytest.raises(RuntimeError, match="already has SToP applied"):
        apply_stop(model, PruningConfig.preset("fastvid"))
    remove_stop(model)


def test_two_models_are_independent(tokenizer, processor) -> None:
    patched, plain = build_model(tokenizer, seed=0), build_model(tokenizer, seed=0)
    inputs = make_inputs(processor, 1)
    ref = _generate(plain, inputs)
    with stop_pruning(patched, PruningConfig.preset("flashvid", retention_ratio=0.2)):
        pruned = _generate(patched, inputs)
        unpatched = _generate(plain, inputs)
    assert pruned.sequences.shape[1] < ref.sequences.shape[1]
    assert torch.equal(torch.stack(unpatched.logits), torch.stack(ref.logits))
    assert get_adapter(plain) is None


@pytest.mark.parametrize("backbone", ["llava_ov", "llava_video"])
@pytest.mark.parametrize("newline_mode", [None, "one_token", "no_token", "frame", "grid"])
def test_tokens_before_is_the_unpruned_sequence_length(model, processor, backbone, newline_mode):
    """``none`` keeps every token, so its laid-out sequence is the unpruned count, any layout."""
    inputs = make_inputs(processor, 2)
    options = {} if newline_mode is None else {"newline_mode": newline_mode}
    with stop_pruning(model, PruningConfig("none"), backbone, **options) as adapter:
        _generate(model, inputs)
    for record in adapter.accounting:
        assert record.tokens_before == record.sequence_tokens
        assert record.tokens_before > record.kept or newline_mode == "no_token"
