"""Placeholder counts from vLLM's own input processing, without running the model.

With ``stop_pruning`` every video gets text + ``planned_tokens``; without it vLLM's EVS sizes
videos by its own formula (unchanged by the plugin).
"""

from __future__ import annotations

import checkpoints
import pytest
from harness import processed_lengths, unpruned_inputs
from vllm.multimodal.video_prune.evs import compute_retained_tokens_count

from stop_core import PruningConfig, planned_tokens

RATE = 0.8
FRAMES = (4, 10, 18)


def shapes(path, videos) -> list[tuple[int, int, int, int]]:
    """Per video: unpruned prompt length, temporal groups, merged rows, merged columns."""
    out = []
    for frames in videos:
        inputs = unpruned_inputs(path, frames)
        t, h, w = inputs["video_grid_thw"][0].tolist()
        out.append((inputs["input_ids"].shape[1], t, h // 2, w // 2))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("backbone", ["qwen2_5_vl", "qwen3_vl"])
def test_stop_counts_are_planned_and_evs_counts_are_vllms(
    backbone: str, request: pytest.FixtureRequest
) -> None:
    path = request.getfixturevalue(f"{backbone}_checkpoint")
    side = checkpoints.KINDS[backbone].side
    videos = [checkpoints.video(10 + n, n, side) for n in FRAMES]
    geometry = shapes(path, videos)
    stop = {"method": "flashvid", "scorer": "norm"}
    cfg = PruningConfig.preset(
        "flashvid", backbone=backbone, retention_ratio=1 - RATE, scorer="norm"
    ).replace(exact_count=True)
    pruned = processed_lengths(path, videos, stop, RATE)
    evs = processed_lengths(path, videos, None, RATE)
    for (full, t, h, w), got_stop, got_evs in zip(geometry, pruned, evs, strict=True):
        text = full - t * h * w
        assert got_stop == text + planned_tokens(cfg, t, (h, w))
        assert got_evs == text + compute_retained_tokens_count(h * w, t, RATE)
