"""Every method x SToP off/on x batch {1, 2} on a tiny Qwen2.5-VL, against manual forwards."""

from __future__ import annotations

import pytest
import torch
from qwen_reference import manual_first_logits
from qwen_testkit import GENERATE, PositionRecorder, make_inputs

from stop_core import PruningConfig
from stop_qwen import stop_pruning

METHODS = ["visionzip", "fastvid", "holitom", "flashvid", "uniform", "random"]


@pytest.mark.parametrize("batch", [1, 2])
@pytest.mark.parametrize("use_stop", [False, True], ids=["base", "stop"])
@pytest.mark.parametrize("method", METHODS)
def test_generate_matches_manual_forward(model, processor, method, use_stop, batch) -> None:
    inputs = make_inputs(processor, batch)
    cfg = PruningConfig.preset(
        method, backbone="qwen2_5_vl", retention_ratio=0.3, use_stop=use_stop
    )
    with torch.no_grad():
        rec = PositionRecorder(model)
        try:
            model.generate(**inputs, **GENERATE)
        finally:
            rec.remove()
    unpruned_positions = rec.seen
    rec = PositionRecorder(model)
    try:
        with stop_pruning(model, cfg) as adapter, torch.no_grad():
            out = model.generate(**inputs, **GENERATE)
    finally:
        rec.remove()
    ref_logits, ref_ids, ref_pos = manual_first_logits(
        model, inputs, cfg, adapter.block, model.generation_config.pad_token_id
    )
    assert out.sequences.shape[1] == ref_ids.shape[1] + GENERATE["max_new_tokens"]
    torch.testing.assert_close(out.logits[0], ref_logits, atol=1e-5, rtol=1e-5)
    # prefill positions: contiguous text row + original T/H/W ids of the kept tokens
    assert torch.equal(rec.seen[0], ref_pos)
    # decode steps continue exactly where the unpruned run continues (T/H/W rows)
    for pruned_step, unpruned_step in zip(rec.seen[1:], unpruned_positions[1:], strict=True):
        assert torch.equal(pruned_step[1:], unpruned_step[1:])
    records = sorted(adapter.accounting, key=lambda r: r.video)
    assert [r.sample for r in records] == list(range(batch))
    assert all(r.kept < r.tokens_before for r in records)
    assert all(r.attention_layer == adapter.block for r in records) or method in (
        "uniform",
        "random",
    )
