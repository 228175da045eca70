"""Qwen3-VL: two videos in one prompt, each pruned with its own budget, against a manual prefill."""

from __future__ import annotations

import torch
from qwen3_reference import manual_prefill
from qwen3_testkit import GENERATE, make_two_video_inputs

from stop_core import PruningConfig
from stop_qwen import stop_pruning


def test_two_videos_in_one_prompt(qwen3_model, qwen3_processor) -> None:
    model = qwen3_model
    inputs = make_two_video_inputs(qwen3_processor)
    assert inputs["video_grid_thw"][:, 0].tolist() == [4, 2]
    with torch.no_grad():
        ref = model.generate(**inputs, **GENERATE)
    with stop_pruning(model, PruningConfig("none")), torch.no_grad():
        same = model.generate(**inputs, **GENERATE)
    assert torch.equal(torch.stack(same.logits), torch.stack(ref.logits))
    cfg = PruningConfig.preset("holitom", backbone="qwen3_vl", retention_ratio=0.3)
    with stop_pruning(model, cfg) as adapter, torch.no_grad():
        out = model.generate(**inputs, **GENERATE)
    records = adapter.accounting
    assert [(r.sample, r.video) for r in records] == [(0, 0), (0, 1)]
    removed = sum(r.tokens_before - r.kept for r in records)
    assert out.sequences.shape[1] == ref.sequences.shape[1] - removed
    logits, ids, *_ = manual_prefill(
        model, inputs, cfg, adapter.block, model.generation_config.pad_token_id
    )
    assert torch.equal(out.sequences[:, : ids.shape[1]], ids)
    torch.testing.assert_close(out.logits[0], logits, atol=1e-5, rtol=1e-5)
