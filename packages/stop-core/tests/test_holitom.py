"""HoliTom (+ STSP/STTP): golden intermediates, a loop-based oracle, edge cases and errors."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from golden_support import golden_config, golden_tokens, load_golden, run_golden

from stop_core import PruningConfig, VideoTokens, lay_out, layout_order, prune
from stop_core.layout import NEWLINE
from stop_core.methods.holitom import (
    HoliTomParams,
    feature_similarity,
    select_windows,
)

GOLDEN = [f"holitom_{s}_r{r}_D64.pt" for s in ("base", "stop") for r in (10, 20)]


# ----------------------------------------------------------------------------- helpers


def make_video(
    t: int = 12,
    h: int = 6,
    w: int = 6,
    d: int = 16,
    *,
    scene_len: int = 4,
    dynamic_share: float = 0.3,
    noise: float = 0.25,
    seed: int = 0,
) -> VideoTokens:
    """Scenes of static background (cos ~0.9 frame to frame) plus always-changing positions."""
    g = torch.Generator().manual_seed(seed)
    s = h * w
    scene = torch.arange(t) // scene_len
    background = torch.randn(int(scene.max()) + 1, s, d, generator=g)[scene]
    x = background + noise * torch.randn(t, s, d, generator=g)
    dynamic = torch.rand(s, generator=g) < dynamic_share
    x[:, dynamic] = torch.randn(t, int(dynamic.sum()), d, generator=g)
    att = torch.softmax(2 * torch.randn(t, s, generator=g), dim=-1)
    return VideoTokens(features=x, attention=att, grid=(h, w))


def config(
    variant: str = "reference", use_stop: bool = True, ratio: float = 0.2, **params: float
) -> PruningConfig:
    return PruningConfig.preset(
        "holitom", retention_ratio=ratio, use_stop=use_stop, variant=variant, **params
    )


def run(tokens: VideoTokens, cfg: PruningConfig, seed: int = 0):
    return prune(tokens, cfg, generator=torch.Generator().manual_seed(seed))


def naive_dpc(z: torch.Tensor, nc: int, k: int, noise: torch.Tensor, penalty: list[float]):
    """Loop-based DPC-kNN over ``z [N, D]``: sorted centre indices and merged tokens."""
    n = z.shape[0]
    dist = torch.cdist(z[None], z[None])[0] / math.sqrt(z.shape[1])
    dens = [
        float(torch.exp(-(dist[i].sort().values[:k] ** 2).mean()) + noise[i] * 1e-6)
        for i in range(n)
    ]
    dmax = float(dist.max())
    score = []
    for i in range(n):
        denser = [float(dist[i, j]) for j in range(n) if dens[j] > dens[i]]
        score.append((min(denser) if denser else dmax) * dens[i] - penalty[i])
    centres = sorted(sorted(range(n), key=lambda i: -score[i])[:nc])
    members: dict[int, list[int]] = {c: [] for c in centres}
    for j in range(n):
        if j not in members:
            members[min(centres, key=lambda c: (float(dist[j, c]), centres.index(c)))].append(j)
    merged = [0.6 * z[c] + 0.4 * z[members[c]].mean(0) if members[c] else z[c] for c in centres]
    return centres, merged


def sink_rows_rule(att: torch.Tensor, gamma: float) -> torch.Tensor:
    """§2 as the reference writes it: the temporal mean repeated per frame, power, min-max."""
    p = att.mean(dim=0).repeat(att.shape[0], 1) ** gamma
    lo, hi = p.amin(dim=1, keepdim=True), p.amax(dim=1, keepdim=True)
    return (p - lo) / (hi - lo + 1e-12)


def naive_holitom(
    tokens: VideoTokens,
    ratio: float,
    gen: torch.Generator,
    *,
    static_penalty: float = 0.0,
    dominant_d: float = 0.0,
    contextual: bool = True,
    tau: float = 0.8,
    max_window_size: int = 1024,
    mu_s: float = 0.0,
    mu_t: float = 0.0,
):
    """HoliTom with Python loops over tokens (upstream structure, ALGORITHMS.md §3.4).

    SToP: STSP ranks the dynamic tokens of frame f by ``A[f] - mu_s * sink[f]``; STTP splits
    static positions on ``cos[k] + mu_t * sink[k] > 0.8`` (the window DP keeps the plain
    cosine). ``sink[f]`` is row f of the repeated sink matrix (§2, §8.17); the static
    penalty reads row 0.
    """
    x, att = tokens.features.float(), tokens.attention.float()
    t, s, d = x.shape
    xn = F.normalize(x, p=2, dim=-1)
    cos = F.cosine_similarity(xn[:-1], xn[1:], dim=-1)
    cs = cos.tolist()
    rows = sink_rows_rule(att, 1.1)
    sink = rows[0].tolist()
    sttp = [[float(cos[k, i] + mu_t * rows[k, i]) for i in range(s)] for k in range(t - 1)]
    stsp = [[float(att[f, i] - mu_s * rows[f, i]) for i in range(s)] for f in range(t)]

    def n_static(a: int, b: int, th: float, score: list[list[float]] = cs) -> list[int]:
        return [i for i in range(s) if all(score[k][i] > th for k in range(a, b))]

    dp, prev = [0] * t, [0] * t
    for i in range(t):
        best, st = (dp[i - 1] if i > 0 else 0), i
        for w in range(2, min(i + 1, max_window_size) + 1):
            j = i - w
            v = (dp[j] if j >= 0 else 0) + len(n_static(j + 1, i, tau)) * (w - 1)
            if v > best:
                best, st = v, j + 1
        dp[i], prev[i] = best, st
    windows, e = [], t - 1
    while e >= 0:
        windows.append((prev[e], e))
        e = prev[e] - 1
    windows.reverse()
    rp = min(ratio / ((t * s - dp[-1]) / (t * s)), 1)

    feats, frames, pos = [], [], []
    for a, b in windows:
        spos = n_static(a, b, 0.8, sttp) if a != b else []
        dpos = [i for i in range(s) if i not in spos]
        n_total = math.ceil(len(dpos) * rp)
        n_dom = round(n_total * (1 - dominant_d))
        n_ctx = n_total - n_dom
        dyn = []
        noise_ctx = None
        if contextual and n_ctx > 0:
            noise_ctx = torch.rand((b - a + 1, len(dpos) - n_dom), generator=gen)
        for f in range(a, b + 1):
            order = sorted(range(len(dpos)), key=lambda i: -stsp[f][dpos[i]])
            dom = sorted(dpos[i] for i in order[:n_dom])
            toks = [(x[f, p], p) for p in dom]
            if noise_ctx is not None:
                rest = [p for p in dpos if p not in dom]
                centres, merged = naive_dpc(
                    x[f, rest], n_ctx, min(7, n_ctx), noise_ctx[f - a], [0.0] * len(rest)
                )
                toks += [(m, rest[c]) for c, m in zip(centres, merged, strict=True)]
            dyn.append((f, toks))
        nc = round(len(spos) * rp)
        if nc > 0:
            z = x[a : b + 1][:, spos].mean(0)
            noise = torch.rand((1, len(spos)), generator=gen)[0]
            pen = [static_penalty * sink[p] for p in spos]
            centres, merged = naive_dpc(z, nc, min(7, nc), noise, pen)
            for c, m in zip(centres, merged, strict=True):
                feats.append(m)
                frames.append(a)
                pos.append(spos[c])
        for f, toks in dyn:
            for m, p in toks:
                feats.append(m)
                frames.append(f)
                pos.append(p)
    return torch.stack(feats), torch.tensor(frames), torch.tensor(pos), windows


def assert_same_output(out, ref) -> None:
    feats, frames, pos, windows = ref
    assert out.info["selected_frames"] == windows
    assert torch.equal(out.frame_index, frames)
    assert torch.equal(out.position, pos)
    torch.testing.assert_close(out.features.float(), feats, atol=1e-5, rtol=0)


def assert_valid(out, tokens: VideoTokens) -> None:
    s = tokens.tokens_per_frame
    assert out.features.shape == (out.kept, tokens.features.shape[2])
    assert out.features.dtype == tokens.features.dtype
    assert bool((out.position >= 0).all()) and bool((out.position < s).all())
    assert bool((out.frame_index >= 0).all())
    assert bool((out.frame_index < tokens.num_frames).all())
    gidx = out.frame_index * s + out.position
    assert gidx.unique().numel() == gidx.numel(), "duplicate (frame, position)"
    assert out.kept == out.requested or "budget_explanation" in out.info


# ----------------------------------------------------------------------------- goldens


@pytest.mark.parametrize("name", GOLDEN)
def test_golden_intermediates(golden_dir, golden_inputs, name: str) -> None:
    gold = load_golden(golden_dir, name)
    out = run_golden(golden_inputs, gold["meta"])
    for key, want in gold["kept"].items():
        got = out.info[key]
        if isinstance(want, torch.Tensor):
            assert got.dtype == want.dtype and torch.equal(got, want), key
        elif isinstance(want, list) and want and isinstance(want[0], torch.Tensor):
            assert len(got) == len(want), key
            for g, w in zip(got, want, strict=True):
                assert g.dtype == w.dtype and torch.equal(g, w), key
        else:
            assert type(got) is type(want) and got == want, key
    assert out.requested != out.kept and "budget_explanation" in out.info


@pytest.mark.parametrize("name", GOLDEN)
def test_golden_fixed_equals_reference_up_to_the_static_penalty(
    golden_dir, golden_inputs, name: str
) -> None:
    meta = load_golden(golden_dir, name)["meta"]
    tokens = golden_tokens(golden_inputs)
    fixed = prune(tokens, golden_config(meta, "fixed"), torch.Generator().manual_seed(0))
    ref_cfg = golden_config(meta)
    if meta["mu_s"] == 0:  # base: the reference's always-on penalty is the only difference
        ref_cfg = ref_cfg.replace(params=HoliTomParams(static_sink_weight=0.0))
    ref = prune(tokens, ref_cfg, torch.Generator().manual_seed(0))
    assert torch.equal(fixed.position, ref.position)
    assert torch.equal(fixed.frame_index, ref.frame_index)
    assert torch.equal(fixed.features, ref.features)


# ----------------------------------------------------------------------------- oracle


@pytest.mark.parametrize(
    ("t", "h", "w", "d", "ratio", "seed"),
    [(12, 6, 6, 16, 0.2, 0), (9, 13, 13, 8, 0.1, 1), (10, 4, 6, 37, 0.25, 2), (2, 5, 5, 7, 0.3, 3)],
)
def test_fixed_without_stop_is_plain_holitom(t, h, w, d, ratio, seed) -> None:
    tokens = make_video(t, h, w, d, seed=seed)
    out = run(tokens, config("fixed", use_stop=False, ratio=ratio))
    assert out.info["static_sink_weight_applied"] == 0.0
    assert_same_output(out, naive_holitom(tokens, ratio, torch.Generator().manual_seed(0)))
    other = run(tokens, config("fixed", use_stop=False, ratio=ratio).replace(gamma=3.0))
    assert torch.equal(other.features, out.features) and torch.equal(other.position, out.position)


def test_reference_base_keeps_the_static_sink_penalty() -> None:
    tokens = make_video(12, 6, 6, 16, seed=4)
    out = run(tokens, config("reference", use_stop=False))
    naive = naive_holitom(tokens, 0.2, torch.Generator().manual_seed(0), static_penalty=0.3)
    assert_same_output(out, naive)
    assert out.info["static_sink_weight_applied"] == 0.3


@pytest.mark.parametrize("variant", ["reference", "fixed"])
@pytest.mark.parametrize(
    ("t", "h", "w", "d", "ratio", "seed"),
    [(12, 6, 6, 16, 0.2, 4), (9, 7, 7, 8, 0.15, 5), (10, 4, 6, 12, 0.25, 6)],
)
def test_stop_matches_the_loop_oracle_with_mu_s_and_mu_t(variant, t, h, w, d, ratio, seed):
    """STSP (mu_s) and STTP (mu_t) at 10x the paper's strengths, so both change decisions."""
    tokens = make_video(t, h, w, d, seed=seed, noise=0.45)
    cfg = config(variant, ratio=ratio).replace(mu_s=0.4, mu_t=0.7)
    out = run(tokens, cfg)
    gen = torch.Generator().manual_seed(0)
    naive = naive_holitom(tokens, ratio, gen, static_penalty=0.3, mu_s=0.4, mu_t=0.7)
    assert_same_output(out, naive)
    plain = naive_holitom(tokens, ratio, torch.Generator().manual_seed(0), static_penalty=0.3)
    for mu in ({"mu_s": 0.4}, {"mu_t": 0.7}):  # each term alone changes the oracle's output
        alone = naive_holitom(
            tokens, ratio, torch.Generator().manual_seed(0), static_penalty=0.3, **mu
        )
        same = alone[1].shape == plain[1].shape and torch.equal(alone[2], plain[2])
        assert not (same and torch.equal(alone[1], plain[1])), f"{mu} changes nothing here"


def test_fixed_dominant_d_merges_contextual_tokens_like_upstream() -> None:
    tokens = make_video(10, 6, 6, 12, seed=5)
    cfg = config("fixed", use_stop=False, ratio=0.3, dominant_d=0.5)
    out = run(tokens, cfg)
    naive = naive_holitom(tokens, 0.3, torch.Generator().manual_seed(0), dominant_d=0.5)
    assert_same_output(out, naive)
    assert "upstream" in out.info["dominant_d_note"]
    assert_valid(out, tokens)


def test_reference_dominant_d_drops_the_contextual_share() -> None:
    tokens = make_video(10, 6, 6, 12, seed=5)
    out = run(tokens, config("reference", use_stop=False, ratio=0.3, dominant_d=0.5))
    naive = naive_holitom(
        tokens,
        0.3,
        torch.Generator().manual_seed(0),
        static_penalty=0.3,
        dominant_d=0.5,
        contextual=False,
    )
    assert_same_output(out, naive)
    assert "dropped" in out.info["dominant_d_note"]
    assert "contextual" in out.info["budget_explanation"]
    rp = out.info["retain_ratio"]
    for kept, before in zip(
        out.info["window_dynamic_kept_pos"],
        out.info["window_dynamic_pos_before_merge"],
        strict=True,
    ):
        assert kept.shape[1] == round(math.ceil(before.shape[1] * rp) * 0.5)


def test_feature_similarity_is_bit_equal_to_the_batched_reference() -> None:
    g = torch.Generator().manual_seed(0)
    for shape in [(5, 24, 37), (3, 196, 64), (1, 9, 3), (4, 169, 3584)]:
        x = torch.randn(*shape, generator=g) + torch.randn(1, *shape[1:], generator=g)
        xn = F.normalize(x, p=2, dim=-1)
        want = F.cosine_similarity(xn[:-1], xn[1:], dim=-1)
        assert torch.equal(feature_similarity(x), want)


@pytest.mark.parametrize("max_window_size", [1, 2, 3, 1024])
def test_window_dp_matches_loops(max_window_size: int) -> None:
    g = torch.Generator().manual_seed(max_window_size)
    for t in (1, 2, 5, 17):
        cos = 0.7 + 0.2 * torch.rand(t - 1, 11, generator=g)
        windows, reduced = select_windows(cos, 0.8, max_window_size)
        c = cos.tolist()
        dp, prev = [0] * t, [0] * t
        for i in range(t):
            best, st = (dp[i - 1] if i > 0 else 0), i
            for w in range(2, min(i + 1, max_window_size) + 1):
                j = i - w
                n = sum(all(c[k][p] > 0.8 for k in range(j + 1, i)) for p in range(11))
                v = (dp[j] if j >= 0 else 0) + n * (w - 1)
                if v > best:
                    best, st = v, j + 1
            dp[i], prev[i] = best, st
        want, e = [], t - 1
        while e >= 0:
            want.append((prev[e], e))
            e = prev[e] - 1
        assert windows == want[::-1] and reduced == dp[-1]
        assert all(b - a + 1 <= max_window_size for a, b in windows)


# ----------------------------------------------------------------------------- SToP on


@pytest.mark.parametrize("dominant_d", [0.0, 0.4])
@pytest.mark.parametrize(("t", "h", "w", "d"), [(12, 6, 6, 16), (9, 13, 13, 8), (7, 4, 6, 37)])
def test_fixed_with_stop_is_valid(t, h, w, d, dominant_d) -> None:
    tokens = make_video(t, h, w, d, seed=t)
    for ratio in (0.05, 0.1, 0.2, 0.5, 0.9):
        out = run(tokens, config("fixed", use_stop=True, ratio=ratio, dominant_d=dominant_d))
        assert_valid(out, tokens)
        assert out.info["static_sink_weight_applied"] == 0.3


def test_stop_changes_decisions_in_both_variants() -> None:
    tokens = make_video(12, 6, 6, 16, seed=6)
    for variant in ("reference", "fixed"):
        on = run(tokens, config(variant, use_stop=True))
        base = run(tokens, config(variant, use_stop=False))
        assert on.kept != base.kept or not torch.equal(on.global_index, base.global_index)


def test_budget_note_mentions_sttp_when_mu_t_is_on() -> None:
    tokens = make_video(12, 6, 6, 16, seed=7)
    out = run(tokens, config("reference", use_stop=True))
    if out.kept != out.requested:
        assert "STTP" in out.info["budget_explanation"]


# ----------------------------------------------------------------------------- edge cases


@pytest.mark.parametrize("variant", ["reference", "fixed"])
def test_single_frame(variant: str) -> None:
    tokens = make_video(1, 4, 6, 5)
    out = run(tokens, config(variant, ratio=0.25))
    assert out.info["selected_frames"] == [(0, 0)]
    assert out.info["feature_sim"].shape == (0, 24)
    assert out.info["total_reduced"] == 0.0 and out.info["retain_ratio"] == 0.25
    assert out.kept == math.ceil(24 * 0.25) and bool((out.frame_index == 0).all())
    assert out.info["window_static_pos_before_merge"][0].shape == (1, 0)
    assert out.info["window_dynamic_pos_before_merge"][0].shape == (1, 24)
    kept = out.info["window_dynamic_kept_pos"][0]
    assert kept.dtype == torch.float32 and kept.shape == (1, 6)
    assert torch.equal(out.position, kept[0].long())
    assert torch.equal(out.position, out.position.sort().values)
    assert_valid(out, tokens)


@pytest.mark.parametrize("variant", ["reference", "fixed"])
def test_two_frames(variant: str) -> None:
    for seed in range(3):
        tokens = make_video(2, 5, 5, 9, seed=seed)
        out = run(tokens, config(variant))
        assert out.info["feature_sim"].shape == (1, 25)
        assert out.info["selected_frames"] in ([(0, 1)], [(0, 0), (1, 1)])
        assert_valid(out, tokens)


def test_identical_frames_make_one_static_window() -> None:
    x = torch.randn(1, 36, 8).expand(6, 36, 8).contiguous()
    tokens = VideoTokens(features=x, attention=torch.rand(6, 36), grid=(6, 6))
    out = run(tokens, config("reference", ratio=0.1))
    assert out.info["selected_frames"] == [(0, 5)]
    assert out.info["total_reduced"] == 36 * 5
    assert out.info["retain_ratio"] == pytest.approx(0.6)
    assert out.info["window_dynamic_pos_before_merge"][0].shape == (6, 0)
    assert out.info["window_dynamic_kept_pos"][0].shape == (6, 0)
    assert out.kept == round(36 * out.info["retain_ratio"])
    assert bool((out.frame_index == 0).all())
    assert torch.equal(out.position, out.info["window_static_center_pos"][0][0])


def test_all_frames_different_make_single_frame_windows() -> None:
    g = torch.Generator().manual_seed(0)
    tokens = VideoTokens(
        features=torch.randn(5, 24, 16, generator=g), attention=torch.rand(5, 24), grid=(4, 6)
    )
    out = run(tokens, config("reference", ratio=0.2))
    assert out.info["selected_frames"] == [(i, i) for i in range(5)]
    assert out.info["retain_ratio"] == 0.2
    assert torch.equal(torch.bincount(out.frame_index), torch.full((5,), math.ceil(24 * 0.2)))
    assert_valid(out, tokens)


def test_window_without_static_tokens_emits_none() -> None:
    g = torch.Generator().manual_seed(1)
    x0 = torch.randn(24, 16, generator=g)
    x = torch.stack([x0, x0 + 0.3 * torch.randn(24, 16, generator=g)])  # cos ~0.95
    tokens = VideoTokens(features=x, attention=torch.rand(2, 24), grid=(4, 6))
    cos = feature_similarity(x)
    assert bool((cos > 0.8).any()) and bool((cos < 0.999).all())
    out = run(tokens, config("reference", use_stop=False, static_threshold=0.999))
    assert out.info["selected_frames"] == [(0, 1)]
    assert out.info["window_static_pos_before_merge"][0].shape == (1, 0)
    assert out.info["window_static_center_pos"][0].shape == (1, 0)
    n = math.ceil(24 * out.info["retain_ratio"])
    assert torch.equal(torch.bincount(out.frame_index), torch.tensor([n, n]))
    assert_valid(out, tokens)


def test_cluster_count_zero_emits_no_static_token() -> None:
    g = torch.Generator().manual_seed(2)
    x0 = torch.randn(24, 16, generator=g)
    x1 = torch.randn(24, 16, generator=g)
    x1[5] = x0[5]  # the only static position
    tokens = VideoTokens(features=torch.stack([x0, x1]), attention=torch.rand(2, 24), grid=(4, 6))
    out = run(tokens, config("reference", ratio=0.1))
    assert out.info["selected_frames"] == [(0, 1)]
    assert out.info["window_static_pos_before_merge"][0].tolist() == [[5]]
    assert round(1 * out.info["retain_ratio"]) == 0
    assert out.info["window_static_center_pos"][0].shape == (1, 0)
    assert 5 not in out.position.tolist()
    assert out.kept == 2 * math.ceil(23 * out.info["retain_ratio"])
    assert_valid(out, tokens)


@pytest.mark.parametrize("variant", ["reference", "fixed"])
def test_one_token_kept_when_every_count_rounds_to_zero(variant: str) -> None:
    x = torch.randn(1, 2, 4).expand(2, 2, 4).contiguous()
    tokens = VideoTokens(features=x, attention=torch.rand(2, 2), grid=(1, 2))
    out = run(tokens, config(variant, ratio=0.1))  # r' = 0.2, round(2 * 0.2) = 0
    assert out.info["selected_frames"] == [(0, 1)]
    assert out.kept == 1 and out.requested == 1
    assert "empty_output_clamped" in out.info
    assert out.frame_index.tolist() == [0]
    assert out.info["window_static_center_pos"][0].shape == (1, 1)


@pytest.mark.parametrize("variant", ["reference", "fixed"])
@pytest.mark.parametrize(("h", "w", "d"), [(13, 13, 64), (4, 6, 37), (14, 14, 5)])
def test_grids_and_odd_widths(variant, h, w, d) -> None:
    tokens = make_video(8, h, w, d, seed=h * w)
    out = run(tokens, config(variant, ratio=0.15))
    assert_valid(out, tokens)
    assert out.grid == (h, w)
    assert len(out.info["window_sizes"]) == len(out.info["selected_frames"])
    assert any(p.numel() > 0 for p in out.info["window_static_center_pos"])


def test_deterministic_under_a_fixed_generator() -> None:
    tokens = make_video(12, 6, 6, 16, seed=8)
    for cfg in (config("reference"), config("fixed", dominant_d=0.5)):
        a, b = run(tokens, cfg, seed=3), run(tokens, cfg, seed=3)
        assert torch.equal(a.features, b.features) and torch.equal(a.global_index, b.global_index)


def test_output_order_static_then_dynamic_per_window() -> None:
    tokens = make_video(12, 6, 6, 16, seed=9)
    out = run(tokens, config("reference"))
    i = 0
    for (a, b), centres, kept in zip(
        out.info["selected_frames"],
        out.info["window_static_center_pos"],
        out.info["window_dynamic_kept_pos"],
        strict=True,
    ):
        n = centres.shape[1]
        assert torch.equal(out.position[i : i + n], centres[0])
        assert bool((out.frame_index[i : i + n] == a).all())
        i += n
        for f in range(a, b + 1):
            m = kept.shape[1]
            assert torch.equal(out.position[i : i + m], kept[f - a].long())
            assert bool((out.frame_index[i : i + m] == f).all())
            i += m
    assert i == out.kept


def test_grid_layout_puts_static_tokens_in_the_first_frame() -> None:
    tokens = make_video(12, 6, 6, 16, seed=10)
    out = run(tokens, config("reference", ratio=0.1))
    h, w = out.grid
    expected: list[int] = []
    for f in range(out.num_frames):
        for row in range(h):
            mask = (out.frame_index == f) & (out.position // w == row)
            rows = mask.nonzero().flatten()
            rows = rows[out.position[rows].argsort()]
            if rows.numel():
                expected += rows.tolist() + [NEWLINE]
    assert layout_order(out, "grid").tolist() == expected
    newline = torch.full((16,), 7.0)
    seq = lay_out(out, newline, mode="grid")
    assert seq.shape[0] == out.kept + expected.count(NEWLINE)
    with_static = 0
    for centres, (a, b) in zip(
        out.info["window_static_center_pos"], out.info["selected_frames"], strict=True
    ):
        if centres.numel():
            with_static += 1
            assert b > a
            sel = (out.frame_index == a) & torch.isin(out.position, centres[0])
            assert int(sel.sum()) == centres.shape[1]
            later = (out.frame_index > a) & (out.frame_index <= b)
            assert not bool(torch.isin(out.position[later], centres[0]).any())
    assert with_static >= 2


def test_half_precision_input_keeps_its_dtype() -> None:
    tokens = make_video(8, 6, 6, 16, seed=11)
    half = VideoTokens(
        features=tokens.features.half(), attention=tokens.attention.half(), grid=(6, 6)
    )
    out = run(half, config("fixed"))
    assert out.features.dtype == torch.float16
    assert out.info["feature_sim"].dtype == torch.float32
    assert_valid(out, half)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu_indices() -> None:
    tokens = make_video(12, 6, 6, 16, seed=12)
    gpu = VideoTokens(
        features=tokens.features.cuda(), attention=tokens.attention.cuda(), grid=(6, 6)
    )
    a, b = run(tokens, config("reference")), run(gpu, config("reference"))
    assert b.features.device.type == "cuda"
    assert a.info["selected_frames"] == b.info["selected_frames"]
    torch.testing.assert_close(b.features.cpu(), a.features, atol=1e-4, rtol=0)


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("tau", 1.5),
        ("static_threshold", -0.1),
        ("beta", 2.0),
        ("dominant_d", 1.01),
        ("knn", 0),
        ("knn", 2.5),
        ("max_window_size", 0),
        ("static_sink_weight", float("inf")),
        ("static_sink_weight", -1.0),
        ("tau", "0.8"),
    ],
)
def test_bad_params_raise(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        config(**{field: value})


def test_needs_attention() -> None:
    tokens = VideoTokens(features=torch.randn(2, 4, 3), grid=(2, 2))
    with pytest.raises(ValueError, match="attention"):
        run(tokens, config())


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_static_mean_is_bit_equal_to_the_window_mean_then_selected(dtype) -> None:
    """The reference's ``mean(dim=0)[static]``, bit for bit, for odd widths and both layouts."""
    from stop_core.methods.holitom import _static_mean

    g = torch.Generator().manual_seed(2)
    for width in (1, 3, 7, 12, 19):
        for s, d in ((36, 50), (196, 64), (169, 896), (196, 3584), (144, 3584)):
            x = torch.randn(width, s, d, generator=g).to(dtype)
            pooled = x.transpose(1, 2).contiguous().transpose(1, 2)  # channel-major
            static = torch.randperm(s, generator=g)[: s // 2].sort().values
            for video in (x, pooled):
                want = video.mean(dim=0, dtype=torch.float32)[static]
                assert torch.equal(_static_mean(video, static), want), (width, s, d)
