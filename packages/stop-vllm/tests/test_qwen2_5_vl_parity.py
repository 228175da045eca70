"""vLLM with the plugin vs stop-qwen's transformers adapter on one tiny Qwen2.5-VL checkpoint.

For every method x scorer (SToP on): vLLM's prompt holds the text plus exactly the adapter's
kept count, the language model receives the adapter's M-RoPE ids, and the first-token
log-probabilities agree within 2e-3. Without ``stop_pruning`` vLLM is itself.
"""

from __future__ import annotations

import checkpoints
import pytest
import torch
from harness import transformers_run, vllm_run

from stop_core import PruningConfig

RATE = 0.75  # keeps a quarter: 16 frames -> 8 temporal groups x 64 tokens = 512 -> ~128
FRAMES = checkpoints.video(0, 16, checkpoints.KINDS["qwen2_5_vl"].side)
METHODS = ("visionzip", "fastvid", "holitom", "flashvid")
TOLERANCE = 2e-3


def agree(vllm_lp: dict[int, float], hf_lp: dict[int, float]) -> float:
    """Largest difference over the tokens vLLM reported."""
    return max(abs(value - hf_lp[token]) for token, value in vllm_lp.items())


@pytest.mark.slow
@pytest.mark.parametrize("scorer", ["attention", "norm"])
@pytest.mark.parametrize("method", METHODS)
def test_pruned_matches_transformers(qwen2_5_vl_checkpoint, method: str, scorer: str) -> None:
    cfg = PruningConfig.preset(
        method, backbone="qwen2_5_vl", retention_ratio=1 - RATE, scorer=scorer
    ).replace(exact_count=True)
    hf, inputs = transformers_run(qwen2_5_vl_checkpoint, FRAMES, cfg, scorer)
    served = vllm_run(
        qwen2_5_vl_checkpoint, FRAMES, stop={"method": method, "scorer": scorer}, rate=RATE
    )
    t, h, w = inputs["video_grid_thw"][0].tolist()
    text = len(hf.prompt_ids) - t * h * w // 4
    assert hf.kept is not None and hf.kept < t * h * w // 4
    assert len(served.prompt_ids) == text + hf.kept
    assert served.positions is not None and hf.positions is not None
    assert torch.equal(served.positions, hf.positions)
    assert agree(served.logprobs, hf.logprobs) < TOLERANCE


@pytest.mark.slow
def test_without_stop_vllm_is_itself(qwen2_5_vl_checkpoint) -> None:
    hf, _ = transformers_run(qwen2_5_vl_checkpoint, FRAMES)
    served = vllm_run(qwen2_5_vl_checkpoint, FRAMES)
    assert served.prompt_ids == hf.prompt_ids
    assert agree(served.logprobs, hf.logprobs) < TOLERANCE


@pytest.mark.slow
def test_a_window_attention_block_is_read_alike(qwen2_5_vl_checkpoint) -> None:
    """``block``: block 0 attends within windows; VisionZip also reads its keys."""
    cfg = PruningConfig.preset("visionzip", backbone="qwen2_5_vl", retention_ratio=1 - RATE)
    cfg = cfg.replace(exact_count=True)
    hf, _ = transformers_run(qwen2_5_vl_checkpoint, FRAMES, cfg, "attention", block=0)
    served = vllm_run(
        qwen2_5_vl_checkpoint, FRAMES, stop={"method": "visionzip", "block": 0}, rate=RATE
    )
    default = vllm_run(qwen2_5_vl_checkpoint, FRAMES, stop={"method": "visionzip"}, rate=RATE)
    assert torch.equal(served.positions, hf.positions)
    assert not torch.equal(served.positions, default.positions)  # the block matters here
    assert agree(served.logprobs, hf.logprobs) < TOLERANCE
