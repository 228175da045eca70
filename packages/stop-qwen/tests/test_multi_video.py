"""Several videos in one prompt: each pruned with its own budget, positions stay consistent."""

from __future__ import annotations

import torch
from qwen_testkit import GENERATE, synthetic_video

from stop_core import PruningConfig
from stop_qwen import stop_pruning

PROMPT = (
    "<|im_start|>user\n<|vision_start|><|video_pad|><|vision_end|> and "
    "<|vision_start|><|video_pad|><|vision_end|>what happens?<|im_end|>\n<|im_start|>assistant\n"
)


def _inputs(processor) -> dict:
    videos = [synthetic_video(0, 8), synthetic_video(1, 4)]
    meta = [{"fps": 2.0, "total_num_frames": len(v)} for v in videos]
    return dict(
        processor(
            text=[PROMPT],
            videos=videos,
            return_tensors="pt",
            videos_kwargs={"video_metadata": meta},
        )
    )


def test_two_videos_in_one_prompt(model, processor) -> None:
    inputs = _inputs(processor)
    assert inputs["video_grid_thw"].shape[0] == 2
    with torch.no_grad():
        ref = model.generate(**inputs, **GENERATE)
    with stop_pruning(model, PruningConfig("none")), torch.no_grad():
        same = model.generate(**inputs, **GENERATE)
    assert torch.equal(torch.stack(same.logits), torch.stack(ref.logits))
    cfg = PruningConfig.preset("holitom", backbone="qwen2_5_vl", retention_ratio=0.3)
    with stop_pruning(model, cfg) as adapter, torch.no_grad():
        out = model.generate(**inputs, **GENERATE)
    records = adapter.accounting
    assert [(r.sample, r.video) for r in records] == [(0, 0), (0, 1)]
    removed = sum(r.tokens_before - r.kept for r in records)
    assert out.sequences.shape[1] == ref.sequences.shape[1] - removed
