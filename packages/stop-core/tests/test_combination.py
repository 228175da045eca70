"""The token combination: unit checks against dense matrices written by hand, and the map
checked against the features for every registered method, variant and SToP setting."""

from __future__ import annotations

import pytest
import torch

from stop_core import PruningConfig, TokenCombination, VideoTokens, available_methods, prune


def _dense(entries: list[tuple[int, int, float]], n: int, m: int) -> torch.Tensor:
    out = torch.zeros(n, m)
    for r, c, w in entries:
        out[r, c] += w
    return out


def test_from_entries_sums_duplicates_and_sorts():
    entries = [(1, 3, 0.5), (0, 2, 1.0), (1, 3, 0.25), (1, 0, 2.0)]
    row, col, w = (torch.tensor(x) for x in zip(*entries, strict=True))
    comb = TokenCombination.from_entries(row, col, w.float(), 2, 4)
    assert torch.equal(comb.to_dense(), _dense(entries, 2, 4))
    assert comb.row.tolist() == sorted(comb.row.tolist())
    assert len(set(zip(comb.row.tolist(), comb.col.tolist(), strict=True))) == comb.row.numel()


def test_then_is_the_matrix_product():
    g = torch.Generator().manual_seed(3)
    first = [(i % 5, int(torch.randint(0, 9, (1,), generator=g)), float(i + 1)) for i in range(12)]
    later = [(0, 4, 0.5), (0, 1, 0.5), (1, 2, 1.0), (2, 0, 0.2), (2, 3, 0.8), (2, 4, 1.0)]

    def build(entries, n, m):
        row, col, w = (torch.tensor(x) for x in zip(*entries, strict=True))
        return TokenCombination.from_entries(row, col, w.float(), n, m)

    chained = build(first, 5, 9).then(build(later, 3, 5))
    assert torch.allclose(chained.to_dense(), _dense(later, 3, 5) @ _dense(first, 5, 9))


def test_then_refuses_mismatched_sizes():
    a = TokenCombination.selection(torch.tensor([0, 2]), 4)
    with pytest.raises(ValueError, match="reads 3 tokens"):
        a.then(TokenCombination.selection(torch.tensor([0]), 3))


def test_apply_maps_side_tensors_and_checks_shape():
    comb = TokenCombination.from_entries(
        torch.tensor([0, 0, 1]), torch.tensor([1, 3, 2]), torch.tensor([0.5, 0.5, 1.0]), 2, 4
    )
    side = torch.arange(12.0).reshape(4, 3)
    expected = torch.stack([(side[1] + side[3]) / 2, side[2]])
    assert torch.equal(comb.apply(side), expected)
    assert torch.equal(comb.apply(side.reshape(2, 2, 3)), expected)
    with pytest.raises(ValueError, match="does not have 4 tokens"):
        comb.apply(torch.zeros(5, 3))


def _tokens(seed: int, t: int, h: int, w: int) -> VideoTokens:
    g = torch.Generator().manual_seed(seed)
    s = h * w
    base = torch.randn(1, s, 32, generator=g)
    feats = base + 0.3 * torch.randn(t, s, 32, generator=g)  # temporally redundant video
    att = torch.softmax(torch.randn(t, s, generator=g) * 2, dim=-1)
    att[:, 3] += 0.5  # a planted sink
    return VideoTokens(
        features=feats,
        attention=att,
        keys=torch.randn(t, s, 16, generator=g),
        frame_embeddings=feats.mean(1) + 0.01 * torch.randn(t, 32, generator=g),
        grid=(h, w),
    )


@pytest.mark.parametrize("method", available_methods())
@pytest.mark.parametrize("variant", ["reference", "fixed"])
@pytest.mark.parametrize("use_stop", [False, True])
@pytest.mark.parametrize("ratio", [0.1, 0.25, 1.0])
def test_apply_reproduces_features_for_every_method(method, variant, use_stop, ratio):
    tokens = _tokens(7, 12, 14, 14)
    cfg = PruningConfig.preset(
        method, backbone="llava_ov", retention_ratio=ratio, use_stop=use_stop, variant=variant
    )
    out = prune(tokens, cfg, generator=torch.Generator().manual_seed(0))
    mapped = out.apply(tokens.features)
    assert mapped.shape == out.features.shape
    assert torch.allclose(mapped, out.features, atol=1e-5, rtol=0), (
        (mapped - out.features).abs().max()
    )
    # a side tensor of another width goes through the same map
    side = torch.randn(tokens.num_frames, tokens.tokens_per_frame, 5)
    assert out.apply(side).shape == (out.kept, 5)
