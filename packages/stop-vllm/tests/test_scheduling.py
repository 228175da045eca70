"""SToP under vLLM's scheduling: a prompt prefilled in chunks, several requests in one batch.

A chunked prefill must hand the language model the same positions and embeddings as one
pass; requests batched together must each get what they get alone (whose equality with the
transformers adapter the parity tests prove).
"""

from __future__ import annotations

import checkpoints
import pytest
import torch
from harness import vllm_run, vllm_runs

RATE = 0.75
STOP = {"method": "holitom", "scorer": "attention"}


# Chunk sizes: vLLM needs a whole video item in one chunk's encoder budget. Qwen3-VL's item is
# its whole span (timestamps included: 192 tokens here), so a chunk of exactly that size puts
# the span's last tokens (after 4 tokens of text) into the next chunk.
CHUNKS = {"qwen2_5_vl": 48, "qwen3_vl": 192}


@pytest.mark.slow
@pytest.mark.parametrize("backbone", ["qwen2_5_vl", "qwen3_vl"])
def test_chunked_prefill_equals_one_pass(backbone: str, request: pytest.FixtureRequest) -> None:
    path = request.getfixturevalue(f"{backbone}_checkpoint")
    frames = checkpoints.video(2, 16, checkpoints.KINDS[backbone].side)
    chunk = CHUNKS[backbone]
    whole = vllm_run(path, frames, STOP, RATE)
    chunked = vllm_run(path, frames, STOP, RATE, max_num_batched_tokens=chunk)
    assert len(whole.prompt_ids) > chunk  # the prompt really is split
    assert chunked.prompt_ids == whole.prompt_ids
    assert torch.equal(chunked.positions, whole.positions)
    torch.testing.assert_close(chunked.embeds, whole.embeds)
    assert max(abs(v - whole.logprobs[k]) for k, v in chunked.logprobs.items()) < 1e-4


@pytest.mark.slow
@pytest.mark.parametrize("backbone", ["qwen2_5_vl", "qwen3_vl"])
def test_batched_requests_each_get_their_own_pruning(
    backbone: str, request: pytest.FixtureRequest
) -> None:
    path = request.getfixturevalue(f"{backbone}_checkpoint")
    side = checkpoints.KINDS[backbone].side
    videos = [checkpoints.video(3, 16, side), checkpoints.video(4, 12, side)]
    together = vllm_runs(path, videos, STOP, RATE)
    alone = [vllm_run(path, v, STOP, RATE) for v in videos]
    assert len(together[0].spans) == 2
    for i, (batched, single) in enumerate(zip(together, alone, strict=True)):
        assert batched.prompt_ids == single.prompt_ids
        (span,) = single.spans
        torch.testing.assert_close(together[0].spans[i], span)
        assert max(abs(v - single.logprobs[k]) for k, v in batched.logprobs.items()) < 1e-4
