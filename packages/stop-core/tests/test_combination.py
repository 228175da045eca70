"""The token combination: unit checks against dense matrices written by hand, and the map
checked against the features for every registered method, variant and SToP setting."""

from __future__ import annotations

import pytest
import torch

from stop_core import PruningConfig, TokenCombination, VideoTokens, available_methods, prune
from stop_core.ops import group_sum


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


def test_from_blocks_reorder_and_shifted_match_hand_written_matrices():
    weight = torch.tensor([[[0.5, 0.0, 0.5], [0.0, 1.0, 0.0]], [[0.0, 0.0, 2.0], [0.0, 0.0, 0.0]]])
    rows = torch.tensor([[0, 1], [2, 3]])
    cols = torch.tensor([[0, 1, 2], [3, 4, 5]])
    comb = TokenCombination.from_blocks(weight, rows, cols, 4, 6)
    entries = [(0, 0, 0.5), (0, 2, 0.5), (1, 1, 1.0), (2, 5, 2.0)]
    assert torch.equal(comb.to_dense(), _dense(entries, 4, 6))
    assert comb.row.numel() == 4  # zero weights leave no entry
    swapped = comb.reorder(torch.tensor([2, 0]))
    assert torch.equal(swapped.to_dense(), _dense([(0, 5, 2.0), (1, 0, 0.5), (1, 2, 0.5)], 2, 6))
    moved = comb.shifted(3, 9)
    assert torch.equal(moved.to_dense(), _dense([(r, c + 3, w) for r, c, w in entries], 4, 9))
    with pytest.raises(ValueError, match="cannot shift 6 inputs by 4 into 9"):
        comb.shifted(4, 9)


def test_group_sum_is_the_sum_per_group():
    values = torch.arange(12.0).reshape(6, 2)
    group = torch.tensor([2, 0, 2, 5, 0, 1])  # 5 is past num_groups: dropped
    expected = torch.stack([values[1] + values[4], values[5], values[0] + values[2]])
    assert torch.equal(group_sum(values, group, 3), expected)


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


# --- other shapes, knobs and seeds ----------------------------------------------------------

SHAPES = {  # name: (seed, T, h, w)
    "T1_14x14": (1, 1, 14, 14),
    "T2_13x13": (2, 2, 13, 13),
    "T5_13x13": (3, 5, 13, 13),
    "T6_9x16": (4, 6, 9, 16),
    "T9_9x16": (5, 9, 9, 16),
}

# knobs that open merge paths the presets leave closed
KNOBS = [
    ("holitom", {"dominant_d": 0.3}),  # fixed: DPC-kNN merge of the dynamic tokens' rest
    ("fastvid", {"dtm_p": 1}),  # every frame of a segment is an anchor
    ("fastvid", {"dtm_p": 2, "stprune_d": 0.7}),
    ("flashvid", {"do_segment": False}),  # one long segment: chains of temporal merges
    ("visionzip", {"dominant_ratio": 0.5}),
]


def _run(method, tokens, *, variant="reference", use_stop=True, ratio=0.25, seed=0, **knobs):
    cfg = PruningConfig.preset(
        method,
        backbone="llava_ov",
        retention_ratio=ratio,
        use_stop=use_stop,
        variant=variant,
        **knobs,
    )
    return prune(tokens, cfg, generator=torch.Generator().manual_seed(seed))


def _assert_reproduces(out, tokens) -> None:
    mapped = out.apply(tokens.features)
    assert mapped.shape == out.features.shape
    err = (mapped - out.features).abs().max() if out.kept else 0.0
    assert torch.allclose(mapped, out.features, atol=1e-5, rtol=0), (out.method, err)


@pytest.mark.parametrize("method", available_methods())
@pytest.mark.parametrize("variant", ["reference", "fixed"])
@pytest.mark.parametrize("use_stop", [False, True])
@pytest.mark.parametrize("ratio", [0.15, 0.5])
@pytest.mark.parametrize("shape", list(SHAPES))
def test_apply_reproduces_features_on_other_shapes(method, variant, use_stop, ratio, shape):
    seed, t, h, w = SHAPES[shape]
    tokens = _tokens(seed, t, h, w)
    out = _run(method, tokens, variant=variant, use_stop=use_stop, ratio=ratio, seed=seed)
    _assert_reproduces(out, tokens)


@pytest.mark.parametrize(("method", "knobs"), KNOBS, ids=lambda v: str(v))
@pytest.mark.parametrize("variant", ["reference", "fixed"])
@pytest.mark.parametrize("ratio", [0.1, 0.3])
def test_apply_reproduces_features_with_other_knobs(method, knobs, variant, ratio):
    for seed in (11, 12):
        tokens = _tokens(seed, 10, 14, 14)
        out = _run(method, tokens, variant=variant, ratio=ratio, seed=seed, **knobs)
        _assert_reproduces(out, tokens)


def test_holitom_dominant_share_is_merged_with_its_weights():
    """Fixed HoliTom with D > 0 emits merged dynamic tokens, and the map follows them."""
    tokens = _tokens(13, 8, 14, 14)
    out = _run("holitom", tokens, variant="fixed", ratio=0.3, dominant_d=0.5)
    rows_with_several = torch.bincount(out.combination.row, minlength=out.kept) > 1
    assert rows_with_several.sum() > 0
    _assert_reproduces(out, tokens)


@pytest.mark.parametrize("method", available_methods())
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("variant", ["reference", "fixed"])
def test_apply_in_half_precision(method, dtype, variant):
    """Half inputs: the methods merge in float32 and round once to the input dtype.

    So ``apply`` on the float32 view of the inputs differs from ``out.features`` by at most
    half a unit in the last place of that dtype (relative 2^-11 for float16, 2^-8 for
    bfloat16) plus the float32 slack 1e-5; ``apply`` in the input dtype rounds its own float32
    result, so it is within one unit in the last place (2^-10, 2^-7).
    """
    half_ulp = {torch.float16: 2.0**-11, torch.bfloat16: 2.0**-8}[dtype]
    base = _tokens(21, 6, 14, 14)
    tokens = VideoTokens(
        features=base.features.to(dtype),
        attention=base.attention.to(dtype),
        keys=base.keys.to(dtype),
        frame_embeddings=base.frame_embeddings.to(dtype),
        grid=base.grid,
    )
    out = _run(method, tokens, variant=variant, ratio=0.25)
    assert out.features.dtype == dtype
    ref = out.features.float()
    mapped = out.apply(tokens.features.float())
    assert mapped.dtype == torch.float32
    bound = half_ulp * ref.abs() + 1e-5
    assert ((mapped - ref).abs() <= bound).all(), ((mapped - ref).abs() - bound).max()
    native = out.apply(tokens.features)
    assert native.dtype == dtype
    assert ((native.float() - ref).abs() <= 2 * half_ulp * ref.abs() + 1e-5).all()


# --- the weights follow each method's rule (ALGORITHMS.md §3) -------------------------------


def _rows(out) -> list[dict[int, float]]:
    """The combination as one ``{input: weight}`` dict per output token."""
    rows: list[dict[int, float]] = [{} for _ in range(out.kept)]
    comb = out.combination
    for r, c, w in zip(comb.row.tolist(), comb.col.tolist(), comb.weight.tolist(), strict=True):
        rows[r][c] = w
    return rows


def _check_rule(method: str, out, s: int, knobs: dict) -> None:
    """The weight pattern each method's merge rule implies, token by token."""
    own = out.global_index.tolist()
    for n, row in enumerate(_rows(out)):
        assert row, f"{method}: token {n} has no source"
        assert min(row.values()) > 0, f"{method}: token {n} has a non-positive weight"
        # every token sits at one of its sources: the kept token, target or cluster centre
        assert own[n] in row, f"{method}: token {n} is not formed from its own position"
        total = sum(row.values())
        others = [w for c, w in row.items() if c != own[n]]
        if method in ("none", "uniform", "random"):
            assert row == {own[n]: 1.0}
        elif method == "visionzip":
            # contextual token = target + mean(assigned): weight 1 on the target, the others
            # equal and summing to 1 (none when nothing was assigned)
            assert row[own[n]] == pytest.approx(1.0, abs=1e-6)
            if others:
                assert sum(others) == pytest.approx(1.0, abs=1e-5)
                assert max(others) - min(others) < 1e-7
        elif method == "fastvid":
            # w * target + (1 - w) * mean(members), the target among its own members, so the
            # weights sum to 1 and the target holds at least w >= alpha
            assert total == pytest.approx(1.0, abs=1e-5)
            alpha = knobs.get("dtm_alpha", 0.6)
            assert row[own[n]] >= alpha - 1e-6
            if others:
                assert max(others) - min(others) < 1e-7
        elif method == "holitom":
            # static cluster: Beta * centre + (1 - Beta) * mean(members) of temporal means,
            # dynamic: kept as is (or the same Beta rule per frame): weights sum to 1, and a
            # static position weighs the same in every frame of its window
            assert total == pytest.approx(1.0, abs=1e-5)
            by_pos: dict[int, list[float]] = {}
            for c, w in row.items():
                by_pos.setdefault(c % s, []).append(w)
            for ws in by_pos.values():
                assert max(ws) - min(ws) < 1e-7
            centre = sum(by_pos[own[n] % s])
            if len(by_pos) > 1:
                assert centre == pytest.approx(0.6, abs=1e-5)  # Beta
            else:
                assert centre == pytest.approx(1.0, abs=1e-5)
        elif method == "flashvid":
            # temporal merging: (sum over the merge tree) / (1 + direct children) >= the mean,
            # then clusters take plain means: every token's weights sum to at least 1
            assert total >= 1.0 - 1e-5
            if out.num_frames <= 2:  # trees of depth one: the plain mean
                assert total == pytest.approx(1.0, abs=1e-5)
        else:
            raise AssertionError(f"no rule written for method {method!r}")


@pytest.mark.parametrize("method", available_methods())
@pytest.mark.parametrize("variant", ["reference", "fixed"])
@pytest.mark.parametrize("shape", ["T2_13x13", "T6_9x16"])
def test_weights_follow_each_merge_rule(method, variant, shape):
    seed, t, h, w = SHAPES[shape]
    tokens = _tokens(seed, t, h, w)
    for ratio in (0.1, 0.3):
        out = _run(method, tokens, variant=variant, ratio=ratio, seed=seed)
        _check_rule(method, out, h * w, {})


@pytest.mark.parametrize(("method", "knobs"), KNOBS, ids=lambda v: str(v))
def test_weights_follow_each_merge_rule_with_other_knobs(method, knobs):
    tokens = _tokens(31, 8, 14, 14)
    for variant in ("reference", "fixed"):
        out = _run(method, tokens, variant=variant, ratio=0.2, **knobs)
        _check_rule(method, out, 196, knobs)


def test_merged_tokens_are_really_merged():
    """The rules above are not checked on selections only: each merging method merges here."""
    tokens = _tokens(7, 12, 14, 14)
    for method in ("visionzip", "fastvid", "holitom", "flashvid"):
        out = _run(method, tokens, ratio=0.2)
        sizes = torch.bincount(out.combination.row, minlength=out.kept)
        assert int(sizes.max()) > 1, method


@pytest.mark.parametrize(
    "name",
    [
        f"{m}_{s}_r{r}_D64.pt"
        for m in ("visionzip", "fastvid", "holitom", "flashvid")
        for s in ("base", "stop")
        for r in (10, 20)
    ],
)
def test_apply_reproduces_features_on_the_golden_inputs(golden_dir, golden_inputs, name):
    """The official pooled features of the goldens, through every golden configuration."""
    from golden_support import golden_tokens, load_golden, run_golden

    out = run_golden(golden_inputs, load_golden(golden_dir, name)["meta"])
    _assert_reproduces(out, golden_tokens(golden_inputs))


def test_flashvid_temporal_merge_sources_follow_the_reference_loop():
    """§3.3 / §5.17 by hand: a merged token passes its SUM on and counts as one in its parent.

    Frame 2 tokens 0, 1 join frame 1 token 0; frame 1 tokens 0, 1 join frame 0 token 0, which
    ends as (sum of those five tokens) / (1 + 2 direct children): five sources of weight 1/3.
    Tokens 2 and 3 form chains of three: (sum of three) / 2.
    """
    from stop_core.methods.flashvid import _temporal_merge

    eye = torch.eye(4)
    x = torch.stack([eye, eye.clone(), eye.clone()])
    x[1, 1] = eye[0] * 2.0
    x[2, 1] = eye[0] * 3.0
    _, values, _, sources = _temporal_merge(  # it sums into its input: give it a copy
        x.clone(), x.norm(dim=-1), torch.zeros(3, 4, dtype=torch.bool), 1, 0.8, []
    )
    third, half = 1.0 / 3.0, 0.5
    expected = [(0, c, third) for c in (0, 4, 5, 8, 9)] + [(1, 1, 1.0)]
    expected += [(2, c, half) for c in (2, 6, 10)] + [(3, c, half) for c in (3, 7, 11)]
    assert torch.allclose(sources.to_dense(), _dense(expected, 4, 12), atol=1e-7, rtol=0)
    assert torch.allclose(sources.apply(x.reshape(12, 4)), values, atol=1e-6, rtol=0)


def test_self_cdist_is_torch_cdist_bit_for_bit():
    """Our single-norm form against torch.cdist: 2-D and batched, both layouts, both paths."""
    from stop_core.ops import self_cdist

    g = torch.Generator().manual_seed(8)
    shapes = [(7, 30), (25, 64), (26, 64), (157, 3584), (3, 178, 3584), (4, 17, 900), (1, 40, 900)]
    for shape in [*shapes, (2, 3, 30, 17)]:
        x = torch.randn(*shape, generator=g)
        channel_major = x.transpose(-1, -2).contiguous().transpose(-1, -2)
        for video in (x, channel_major):
            assert torch.equal(self_cdist(video), torch.cdist(video, video)), shape
