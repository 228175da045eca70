"""Host synchronisations per ``prune`` call grow with segments, never with frames or tokens.

A CUDA stream stalls at every ``.item()``/``.tolist()``/``nonzero``/mask index: counted on the
CPU by ``stop_core.testing`` at the aten level, on a video whose scenes (and so segments) stay
the same while the tokens per frame grow 4x, or while the frames double.
"""

from __future__ import annotations

import pytest
import torch

from stop_core import PruningConfig, VideoTokens, prune
from stop_core.registry import available_methods
from stop_core.testing import count_ops


def scene_tokens(frames: int, side: int, scenes: int = 4, d: int = 16) -> VideoTokens:
    """``scenes`` clearly distinct scenes of near-identical frames (segments fixed by design)."""
    g = torch.Generator().manual_seed(0)
    s = side * side
    scene_of = torch.arange(frames) * scenes // frames
    content = 3 * torch.randn(scenes, s, d, generator=g)
    feats = content[scene_of] + 0.05 * torch.randn(frames, s, d, generator=g)
    emb = torch.randn(scenes, 64, generator=g)[scene_of]
    return VideoTokens(
        features=feats,
        attention=torch.softmax(torch.randn(frames, s, generator=g), dim=-1),
        keys=torch.randn(frames, s, 8, generator=g),
        frame_embeddings=emb + 0.01 * torch.randn(frames, 64, generator=g),
        grid=(side, side),
    )


def syncs(tokens: VideoTokens, cfg: PruningConfig) -> int:
    counts = count_ops(lambda: prune(tokens, cfg, generator=torch.Generator().manual_seed(0)))
    return counts.num_syncs


@pytest.mark.parametrize("use_stop", [False, True], ids=["base", "stop"])
@pytest.mark.parametrize("variant", ["reference", "fixed"])
@pytest.mark.parametrize("method", [m for m in available_methods() if m != "none"])
def test_syncs_do_not_grow_with_tokens_per_frame(method, variant, use_stop) -> None:
    cfg = PruningConfig.preset(method, retention_ratio=0.2, use_stop=use_stop, variant=variant)
    small = syncs(scene_tokens(16, 6), cfg)  # 576 tokens
    large = syncs(scene_tokens(16, 12), cfg)  # 2304 tokens, same 16 frames and 4 scenes
    assert large == small, f"{method}: {small} syncs at S = 36 but {large} at S = 144"
    assert small <= 16 * 16, f"{method}: {small} syncs for 16 frames"


@pytest.mark.parametrize("use_stop", [False, True], ids=["base", "stop"])
@pytest.mark.parametrize("variant", ["reference", "fixed"])
@pytest.mark.parametrize("method", [m for m in available_methods() if m != "none"])
def test_syncs_do_not_grow_with_frames(method, variant, use_stop) -> None:
    """Eight scenes of 4 then 8 frames each: the same segments, twice the frames."""
    cfg = PruningConfig.preset(method, retention_ratio=0.2, use_stop=use_stop, variant=variant)
    short, long = scene_tokens(32, 6, scenes=8), scene_tokens(64, 6, scenes=8)
    if method == "flashvid":  # the premise: one segment per scene in both videos
        for video in (short, long):
            out = prune(video, cfg, generator=torch.Generator().manual_seed(0))
            assert len(out.info["segment_lengths"]) == 8
    few, many = syncs(short, cfg), syncs(long, cfg)
    assert many == few, f"{method}: {few} syncs at T = 32 but {many} at T = 64 (8 scenes)"


def test_counter_sees_each_kind_of_sync() -> None:
    """The counter itself: item, tolist, nonzero, mask index and unique are each one sync."""
    x = torch.arange(6.0)

    def work() -> None:
        x[0].item()
        x.tolist()
        torch.nonzero(x > 2)
        x[x > 2]
        torch.unique(x)
        torch.topk(x, 2)  # no sync

    counts = count_ops(work)
    assert counts.num_syncs == 5, dict(counts.syncs)
    assert counts.num_ops >= 7
