"""The pre-hook's attention equals an eager recomputation of the block, chunk by chunk."""

from __future__ import annotations

import torch
from qwen_reference import BlockRecorder, eager_block
from qwen_testkit import make_inputs

from stop_qwen import QwenVisionAttentionCapture, merge_to_tokens


def test_capture_equals_eager_block(model, processor) -> None:
    inputs = make_inputs(processor, 2)
    for block in range(len(model.model.visual.blocks)):  # window blocks and the full one
        attn = model.model.visual.blocks[block].attn
        capture = QwenVisionAttentionCapture(attn, max_chunk=5)
        rec = BlockRecorder(attn)
        try:
            with torch.no_grad():
                model.model.get_video_features(
                    inputs["pixel_values_videos"], inputs["video_grid_thw"]
                )
        finally:
            capture.remove()
            rec.remove()
        received, keys, block_out = eager_block(attn, rec.inputs)
        # the eager recomputation really is what the block computed
        torch.testing.assert_close(block_out, rec.output, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(capture.received, received, atol=1e-6, rtol=1e-5)
        torch.testing.assert_close(capture.keys, keys, atol=1e-6, rtol=1e-5)
        cu = rec.inputs["cu_seqlens"].tolist()
        sums = torch.stack(
            [capture.received[s:e].sum() for s, e in zip(cu[:-1], cu[1:], strict=True)]
        )
        torch.testing.assert_close(sums, torch.ones_like(sums))


def test_merge_to_tokens_unpermutes_windows() -> None:
    window_index = torch.tensor([2, 0, 3, 1])
    per_patch = torch.arange(16, dtype=torch.float32)  # window order, 4 patches per token
    merged = merge_to_tokens(per_patch, window_index, 4)
    # window slot i holds merged token window_index[i]; its value is the mean of its 4 patches
    expected = torch.empty(4)
    for slot, token in enumerate(window_index.tolist()):
        expected[token] = per_patch[4 * slot : 4 * slot + 4].mean()
    torch.testing.assert_close(merged, expected)
