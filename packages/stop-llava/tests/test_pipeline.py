"""Every method x SToP off/on x backbone x batch: generate runs and matches a manual forward."""

from __future__ import annotations

import pytest
import torch
from llava_reference import reference_sequences, spliced_logits
from llava_testkit import GENERATE, make_inputs

from stop_core import PruningConfig
from stop_llava import stop_pruning

METHODS = ["visionzip", "fastvid", "holitom", "flashvid", "uniform", "random"]


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("backbone", ["llava_ov", "llava_video"])
@pytest.mark.parametrize("use_stop", [False, True], ids=["base", "stop"])
@pytest.mark.parametrize("method", METHODS)
def test_generate_matches_manual_forward(model, processor, method, use_stop, backbone, batch):
    inputs = make_inputs(processor, batch)
    cfg = PruningConfig.preset(method, retention_ratio=0.3, use_stop=use_stop, backbone=backbone)
    with stop_pruning(model, cfg, backbone=backbone) as adapter:
        with torch.no_grad():
            out = model.generate(**inputs, **GENERATE)
    sequences = reference_sequences(model, inputs["pixel_values_videos"], cfg, backbone)
    video_id = model.config.video_token_id
    ref_logits, ref_ids, _ = spliced_logits(
        model, inputs, sequences, video_id, model.generation_config.pad_token_id
    )
    # the LLM saw text + laid-out video tokens, nothing else
    assert out.sequences.shape[1] == ref_ids.shape[1] + GENERATE["max_new_tokens"]
    torch.testing.assert_close(out.logits[0], ref_logits, atol=1e-5, rtol=1e-5)
    records = sorted(adapter.accounting, key=lambda r: r.video)
    assert [r.sample for r in records] == list(range(batch))
    for record, seq in zip(records, sequences, strict=True):
        assert record.sequence_tokens == seq.shape[0]
        newlines = 1 if backbone == "llava_ov" else seq.shape[0] - record.kept
        assert record.sequence_tokens == record.kept + newlines
        assert record.kept < record.tokens_before
        assert record.requested > 0 and record.prune_seconds >= 0
