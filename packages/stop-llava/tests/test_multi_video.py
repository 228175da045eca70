"""Several videos in one prompt: each pruned with its own budget and laid out in place."""

from __future__ import annotations

import torch
from llava_testkit import GENERATE, synthetic_video

from stop_core import PruningConfig
from stop_llava import stop_pruning

PROMPT = "<|im_start|>user <video> then <video>\nwhat changed?<|im_end|><|im_start|>assistant\n"


def test_two_videos_in_one_prompt(model, processor) -> None:
    videos = [synthetic_video(0), synthetic_video(1)]
    inputs = dict(processor(text=[PROMPT], videos=videos, return_tensors="pt"))
    assert inputs["pixel_values_videos"].shape[0] == 2
    with torch.no_grad():
        ref = model.generate(**inputs, **GENERATE)
    with stop_pruning(model, PruningConfig("none")), torch.no_grad():
        same = model.generate(**inputs, **GENERATE)
    assert torch.equal(torch.stack(same.logits), torch.stack(ref.logits))
    cfg = PruningConfig.preset("visionzip", retention_ratio=0.3)
    with stop_pruning(model, cfg) as adapter, torch.no_grad():
        out = model.generate(**inputs, **GENERATE)
    records = adapter.accounting
    assert [(r.sample, r.video) for r in records] == [(0, 0), (0, 1)]
    removed = sum(r.tokens_before - r.sequence_tokens for r in records)
    assert out.sequences.shape[1] == ref.sequences.shape[1] - removed
