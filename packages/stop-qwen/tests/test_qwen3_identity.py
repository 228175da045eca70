"""Qwen3-VL: retention 1.0 / method none is bit-identical to the unpatched model; removal."""

from __future__ import annotations

import pytest
import torch
from qwen3_testkit import GENERATE, build_model, make_inputs

from stop_core import PruningConfig
from stop_qwen import apply_stop, get_adapter, remove_stop, stop_pruning


def _generate(model, inputs):
    with torch.no_grad():
        return model.generate(**inputs, **GENERATE)


@pytest.mark.parametrize("batch", [1, 2])
@pytest.mark.parametrize(
    "cfg",
    [
        PruningConfig("none"),
        PruningConfig.preset("visionzip", backbone="qwen3_vl", retention_ratio=1.0),
    ],
    ids=["none", "visionzip-r1"],
)
def test_full_retention_is_bit_identical(qwen3_model, qwen3_processor, cfg, batch) -> None:
    inputs = make_inputs(qwen3_processor, batch)
    ref = _generate(qwen3_model, inputs)
    with stop_pruning(qwen3_model, cfg) as adapter:
        out = _generate(qwen3_model, inputs)
    assert torch.equal(out.sequences, ref.sequences)
    assert torch.equal(torch.stack(out.logits), torch.stack(ref.logits))
    assert all(r.kept == r.tokens_before for r in adapter.accounting)


def test_remove_restores_and_models_are_independent(qwen3_tokenizer, qwen3_processor) -> None:
    patched, plain = build_model(qwen3_tokenizer, seed=1), build_model(qwen3_tokenizer, seed=1)
    inputs = make_inputs(qwen3_processor, 1)
    ref = _generate(plain, inputs)
    cfg = PruningConfig.preset("holitom", backbone="qwen3_vl", retention_ratio=0.25)
    apply_stop(patched, cfg)
    pruned = _generate(patched, inputs)
    again_plain = _generate(plain, inputs)
    assert pruned.sequences.shape[1] < ref.sequences.shape[1]
    assert torch.equal(torch.stack(again_plain.logits), torch.stack(ref.logits))
    assert get_adapter(plain) is None
    assert remove_stop(patched) is True
    assert "forward" not in patched.__dict__ and "generate" not in patched.__dict__
    restored = _generate(patched, inputs)
    assert torch.equal(torch.stack(restored.logits), torch.stack(ref.logits))
