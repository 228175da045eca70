"""Every method x SToP off/on x batch {1, 2} on a tiny Qwen3-VL, against manual prefills."""

from __future__ import annotations

import pytest
import torch
from qwen3_reference import manual_prefill
from qwen3_testkit import GENERATE, LanguageModelRecorder, make_inputs

from stop_core import PruningConfig
from stop_qwen import Qwen3VLStopAdapter, stop_pruning

METHODS = ["visionzip", "fastvid", "holitom", "flashvid", "uniform", "random"]


def _generate(model, inputs, cfg=None):
    rec = LanguageModelRecorder(model)
    try:
        if cfg is None:
            with torch.no_grad():
                return model.generate(**inputs, **GENERATE), rec, None
        with stop_pruning(model, cfg) as adapter, torch.no_grad():
            return model.generate(**inputs, **GENERATE), rec, adapter
    finally:
        rec.remove()


@pytest.mark.parametrize("batch", [1, 2])
@pytest.mark.parametrize("use_stop", [False, True], ids=["base", "stop"])
@pytest.mark.parametrize("method", METHODS)
def test_generate_matches_manual_prefill(
    qwen3_model, qwen3_processor, method, use_stop, batch
) -> None:
    model = qwen3_model
    inputs = make_inputs(qwen3_processor, batch)
    cfg = PruningConfig.preset(method, backbone="qwen3_vl", retention_ratio=0.3, use_stop=use_stop)
    _, unpruned, _ = _generate(model, inputs)
    out, rec, adapter = _generate(model, inputs, cfg)
    assert isinstance(adapter, Qwen3VLStopAdapter)
    ref_logits, ref_ids, ref_pos, _, ref_visual, ref_deep = manual_prefill(
        model, inputs, cfg, adapter.block, model.generation_config.pad_token_id
    )
    # the prompt the model saw: all text (timestamps included) and the kept placeholders
    assert torch.equal(out.sequences[:, : ref_ids.shape[1]], ref_ids)
    assert out.sequences.shape[1] == ref_ids.shape[1] + GENERATE["max_new_tokens"]
    torch.testing.assert_close(out.logits[0], ref_logits, atol=1e-5, rtol=1e-5)
    # prefill: contiguous text row + original T/H/W ids; deepstack at the kept visual slots
    prefill = rec.calls[0]
    assert torch.equal(prefill["position_ids"], ref_pos)
    assert torch.equal(prefill["visual_pos_masks"], ref_visual)
    assert len(prefill["deepstack_visual_embeds"]) == len(ref_deep) == 2
    for seen, expected in zip(prefill["deepstack_visual_embeds"], ref_deep, strict=True):
        torch.testing.assert_close(seen, expected, atol=1e-6, rtol=1e-6)
    # every decode step's T/H/W ids continue exactly as in the unpruned run
    assert len(rec.positions) == len(unpruned.positions) == GENERATE["max_new_tokens"]
    for pruned_step, unpruned_step in zip(rec.positions[1:], unpruned.positions[1:], strict=True):
        assert torch.equal(pruned_step[1:], unpruned_step[1:])
    records = sorted(adapter.accounting, key=lambda r: r.video)
    assert [r.sample for r in records] == list(range(batch))
    assert all(r.kept < r.tokens_before for r in records)
    if method not in ("uniform", "random"):
        assert all(r.attention_layer == adapter.block == 2 for r in records)
