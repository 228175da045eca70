"""Qwen3-VL: the capture hook equals an eager recomputation; side tensors follow the features."""

from __future__ import annotations

import torch
from qwen3_reference import block_reference
from qwen3_testkit import make_inputs
from qwen_reference import BlockRecorder

from stop_core import PrunedVideo, TokenCombination
from stop_qwen import QwenVisionAttentionCapture, prune_side_tensor


def test_capture_equals_eager_block_on_every_block(qwen3_model, qwen3_processor) -> None:
    inputs = make_inputs(qwen3_processor, 2)
    for block in range(len(qwen3_model.model.visual.blocks)):
        attn = qwen3_model.model.visual.blocks[block].attn
        capture = QwenVisionAttentionCapture(attn, max_chunk=7)
        rec = BlockRecorder(attn)
        try:
            with torch.no_grad():
                qwen3_model.model.get_video_features(
                    inputs["pixel_values_videos"], inputs["video_grid_thw"]
                )
        finally:
            capture.remove()
            rec.remove()
        received, keys, block_out = block_reference(attn, rec.inputs)
        torch.testing.assert_close(block_out, rec.output, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(capture.received, received, atol=1e-6, rtol=1e-5)
        torch.testing.assert_close(capture.keys, keys, atol=1e-6, rtol=1e-5)
        cu = rec.inputs["cu_seqlens"].tolist()
        # one chunk per temporal group (8 x 8 patches), each a distribution over its patches
        assert all(e - s == 64 for s, e in zip(cu[:-1], cu[1:], strict=True))
        sums = torch.stack(
            [capture.received[s:e].sum() for s, e in zip(cu[:-1], cu[1:], strict=True)]
        )
        torch.testing.assert_close(sums, torch.ones_like(sums))


def _pruned(comb: TokenCombination, features: torch.Tensor, frames: list[int]) -> PrunedVideo:
    n = comb.num_outputs
    return PrunedVideo(
        features=features,
        frame_index=torch.tensor(frames),
        position=torch.zeros(n, dtype=torch.long),
        requested=n,
        kept=n,
        grid=(1, 3),
        num_frames=2,
        method="test",
        variant="fixed",
        combination=comb,
    )


def test_side_tensor_of_a_selection_is_a_gather() -> None:
    side = torch.randn(2, 3, 5)
    index = [4, 0, 2]
    out = _pruned(TokenCombination.selection(torch.tensor(index), 6), torch.zeros(3, 1), [1, 0, 0])
    expected = torch.stack([side[i // 3, i % 3] for i in index])
    assert torch.equal(prune_side_tensor(out, side), expected)


def test_side_tensor_of_a_merge_uses_the_weights() -> None:
    side = torch.randn(2, 3, 5)
    comb = TokenCombination.from_entries(
        torch.tensor([0, 0, 1]), torch.tensor([1, 4, 5]), torch.tensor([0.25, 0.75, 1.0]), 2, 6
    )
    out = _pruned(comb, torch.zeros(2, 1), [0, 1])
    expected = torch.stack([0.25 * side[0, 1] + 0.75 * side[1, 1], side[1, 2]])
    torch.testing.assert_close(prune_side_tensor(out, side), expected)
