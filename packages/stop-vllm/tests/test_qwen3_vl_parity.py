"""vLLM with the plugin vs stop-qwen's transformers adapter on one tiny Qwen3-VL checkpoint.

For every method x scorer (SToP on): the prompt length is the text (every timestamp kept) plus
the adapter's kept count; what the plugin hands the language model -- the embeddings of the
whole prompt, the kept deepstack rows of every level and the M-RoPE ids -- equals what the
adapter hands transformers' language model; and the first-token log-probabilities agree.
"""

from __future__ import annotations

import checkpoints
import pytest
import torch
from harness import transformers_run, vllm_run

from stop_core import PruningConfig

RATE = 0.75
FRAMES = checkpoints.video(1, 16, checkpoints.KINDS["qwen3_vl"].side)
METHODS = ("visionzip", "fastvid", "holitom", "flashvid")
TOLERANCE = 2e-3


def agree(vllm_lp: dict[int, float], hf_lp: dict[int, float]) -> float:
    return max(abs(value - hf_lp[token]) for token, value in vllm_lp.items())


@pytest.mark.slow
@pytest.mark.parametrize("scorer", ["attention", "norm"])
@pytest.mark.parametrize("method", METHODS)
def test_pruned_matches_transformers(qwen3_vl_checkpoint, method: str, scorer: str) -> None:
    cfg = PruningConfig.preset(
        method, backbone="qwen3_vl", retention_ratio=1 - RATE, scorer=scorer
    ).replace(exact_count=True)
    hf, inputs = transformers_run(qwen3_vl_checkpoint, FRAMES, cfg, scorer)
    served = vllm_run(
        qwen3_vl_checkpoint, FRAMES, stop={"method": method, "scorer": scorer}, rate=RATE
    )
    t, h, w = inputs["video_grid_thw"][0].tolist()
    text = len(hf.prompt_ids) - t * h * w // 4
    assert t > 1 and hf.kept is not None and hf.kept < t * h * w // 4
    assert len(served.prompt_ids) == text + hf.kept
    assert torch.equal(served.positions, hf.positions)
    torch.testing.assert_close(served.embeds, hf.embeds, rtol=1e-4, atol=1e-5)
    (span,) = served.spans
    dim = hf.embeds.shape[-1]
    is_video = span[:, -1].bool()
    assert int(is_video.sum()) == hf.kept
    levels = span[is_video, dim:-5].reshape(hf.kept, -1, dim)
    assert levels.shape[1] == len(hf.deepstack)
    for level, expected in enumerate(hf.deepstack):
        torch.testing.assert_close(levels[:, level], expected, rtol=1e-4, atol=1e-5)
    assert agree(served.logprobs, hf.logprobs) < TOLERANCE


@pytest.mark.slow
def test_without_stop_vllm_is_itself(qwen3_vl_checkpoint) -> None:
    hf, _ = transformers_run(qwen3_vl_checkpoint, FRAMES)
    served = vllm_run(qwen3_vl_checkpoint, FRAMES)
    assert served.prompt_ids == hf.prompt_ids
    assert torch.equal(served.positions, hf.positions)
    assert agree(served.logprobs, hf.logprobs) < TOLERANCE
