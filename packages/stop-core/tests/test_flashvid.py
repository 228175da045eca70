"""FlashVID + STSP: golden intermediates, the fixed variant, edge cases and parameter errors."""

from __future__ import annotations

import pytest
import torch
from golden_support import assert_rows_match, golden_config, golden_tokens, load_golden

from stop_core import PruningConfig, VideoTokens, lay_out, prune
from stop_core.methods.flashvid import FlashVidParams, _temporal_merge

GOLDEN = [f"flashvid_{s}_r{r}_D64.pt" for s in ("base", "stop") for r in (10, 20)]
KEPT_KEYS = (
    "keep_global_idx_sorted",
    "segment_lengths",
    "token_budget",
    "num_attn_div_tokens",
    "num_sttm_tokens",
    "adts_keep_idx_per_segment",
    "sink_score_per_segment",
)
NOISE_FREE_KEYS = KEPT_KEYS[1:]  # everything but the DPC centres, which the density noise decides


def make_tokens(
    seed: int = 0,
    t: int = 6,
    h: int = 4,
    w: int = 4,
    d: int = 8,
    offset: float = 0.0,
    dtype: torch.dtype = torch.float32,
) -> VideoTokens:
    g = torch.Generator().manual_seed(seed)
    s = h * w
    feats = torch.randn(t, s, d, generator=g) + offset
    att = torch.softmax(torch.randn(t, s, generator=g) * 2, dim=-1)
    return VideoTokens(features=feats.to(dtype), attention=att.to(dtype), grid=(h, w))


def video_tokens(seed: int = 0, t: int = 12, h: int = 6, w: int = 6, d: int = 16) -> VideoTokens:
    """Frames drifting slowly around two scenes, so segments, TAM merges and chains occur."""
    g = torch.Generator().manual_seed(seed)
    s = h * w
    scenes = torch.randn(2, s, d, generator=g)
    base = scenes.repeat_interleave((t + 1) // 2, dim=0)[:t]
    feats = 1.5 + base + 0.3 * torch.randn(t, s, d, generator=g)
    att = torch.softmax(torch.randn(t, s, generator=g) * 2, dim=-1)
    att[:, 3] += 0.05  # a persistent sink
    return VideoTokens(features=feats, attention=att / att.sum(-1, keepdim=True), grid=(h, w))


def config(variant: str = "reference", mu_s: float = 0.02, ratio: float = 0.2, **params):
    return PruningConfig(
        method="flashvid",
        retention_ratio=ratio,
        mu_s=mu_s,
        variant=variant,
        params=FlashVidParams(**params),
    )


def run(tokens: VideoTokens, cfg: PruningConfig, seed: int = 0):
    return prune(tokens, cfg, generator=torch.Generator().manual_seed(seed))


def check_invariants(tokens: VideoTokens, out, cfg: PruningConfig) -> None:
    t, s, d = tokens.features.shape
    assert out.features.shape == (out.kept, d)
    assert out.features.dtype == tokens.features.dtype
    assert torch.isfinite(out.features).all()
    assert int(out.position.min()) >= 0 and int(out.position.max()) < s
    assert int(out.frame_index.min()) >= 0 and int(out.frame_index.max()) < t
    gi = out.global_index
    assert bool((gi[1:] >= gi[:-1]).all()), "output must be sorted by global index"
    assert torch.equal(gi, out.info["keep_global_idx_sorted"])
    assert out.kept == out.requested or "budget_explanation" in out.info
    assert sum(out.info["segment_lengths"].tolist()) == t
    if cfg.variant == "fixed":
        assert gi.unique().numel() == gi.numel(), "the fixed variant never duplicates tokens"
        assert out.grid_newlines == "nonempty_rows"
    else:
        assert out.grid_newlines == "none"


def assert_same_value(ours, ref, key: str) -> None:
    if isinstance(ref, torch.Tensor):
        assert ours.dtype == ref.dtype and torch.equal(ours, ref), key
    elif isinstance(ref, list):
        assert len(ours) == len(ref), key
        for i, (a, b) in enumerate(zip(ours, ref, strict=True)):
            assert a.dtype == b.dtype and torch.equal(a, b), f"{key}[{i}]"
    else:
        assert ours == ref, key


# --- golden files -------------------------------------------------------------------------


@pytest.mark.parametrize("name", GOLDEN)
def test_golden_intermediates_and_tokens(golden_dir, golden_inputs, name: str) -> None:
    """With the reference's RNG seed (meta call_seed) every kept intermediate is identical."""
    gold = load_golden(golden_dir, name)
    seed = int(gold["meta"]["call_seed"])
    out = run(golden_tokens(golden_inputs), golden_config(gold["meta"]), seed)
    for key in KEPT_KEYS:
        assert_same_value(out.info[key], gold["kept"][key], key)
    seq = lay_out(out, golden_inputs["image_newline"], mode="one_token")
    assert seq.shape[0] == gold["num_tokens"]
    keys = torch.cat([out.global_index, torch.tensor([-1])])
    assert_rows_match(seq, gold["output_tokens"], keys=keys)


@pytest.mark.parametrize("name", GOLDEN)
def test_golden_noise_free_intermediates_any_seed(golden_dir, golden_inputs, name: str) -> None:
    """Segments, budgets, ADTS and sink scores do not depend on the density noise."""
    gold = load_golden(golden_dir, name)
    out = run(golden_tokens(golden_inputs), golden_config(gold["meta"]), seed=0)
    for key in NOISE_FREE_KEYS:
        assert_same_value(out.info[key], gold["kept"][key], key)
    assert out.kept == gold["kept"]["keep_global_idx_sorted"].numel()


def test_golden_reference_duplicate_and_fixed_variant(golden_dir, golden_inputs) -> None:
    """The golden single-frame segment (frame 7) duplicates (7, 119); the fixed variant cannot."""
    gold = load_golden(golden_dir, "flashvid_base_r10_D64.pt")
    tokens = golden_tokens(golden_inputs)
    ref = run(tokens, golden_config(gold["meta"]), seed=1234)
    gi = ref.global_index.tolist()
    assert gi.count(7 * 196 + 119) == 2
    for mu_s in (0.0, 0.02):
        cfg = golden_config(gold["meta"], variant="fixed").replace(mu_s=mu_s)
        check_invariants(tokens, run(tokens, cfg), cfg)


# --- the fixed variant --------------------------------------------------------------------


def test_fixed_without_stop_is_plain_flashvid() -> None:
    """mu_s = 0: no sink score is computed or used, so gamma cannot change anything."""
    tokens = video_tokens()
    cfg = config("fixed", mu_s=0.0)
    a = run(tokens, cfg)
    b = run(tokens, cfg.replace(gamma=3.0))
    assert torch.equal(a.global_index, b.global_index)
    assert torch.equal(a.features, b.features)
    assert "sink_score_per_segment" not in a.info


def test_fixed_equals_reference_when_the_reference_has_no_quirk() -> None:
    """One multi-frame segment and no ADTS duplicates: both variants give the same tokens."""
    tokens = video_tokens(t=8)
    ref = run(tokens, config("reference", mu_s=0.0, do_segment=False))
    fixed = run(tokens, config("fixed", mu_s=0.0, do_segment=False))
    assert ref.info["num_duplicate_tokens"] == 0
    assert ref.info["segment_lengths"].tolist() == [8]
    assert torch.equal(ref.global_index, fixed.global_index)
    assert torch.equal(ref.features, fixed.features)


@pytest.mark.parametrize("ratio", [0.1, 0.2, 0.35])
def test_fixed_with_stop_has_no_duplicates(ratio: float) -> None:
    tokens = video_tokens(seed=3)
    cfg = config("fixed", mu_s=0.02, ratio=ratio)
    out = run(tokens, cfg)
    check_invariants(tokens, out, cfg)
    assert "sink_score_per_segment" in out.info


def test_constructed_adts_duplicates_reference_only() -> None:
    """§5.15: a strong sink term makes calibrated distances negative, ADTS re-picks tokens."""
    tokens = make_tokens(seed=0, t=3, offset=2.0)
    ref = run(tokens, config("reference", mu_s=1.0, ratio=0.5, do_segment=False))
    fixed = run(tokens, config("fixed", mu_s=1.0, ratio=0.5, do_segment=False))
    ref_adts = ref.info["adts_keep_idx_per_segment"][0]
    fixed_adts = fixed.info["adts_keep_idx_per_segment"][0]
    assert bool((ref_adts[:, 1:] == ref_adts[:, :-1]).any())
    assert not bool((fixed_adts[:, 1:] == fixed_adts[:, :-1]).any())
    assert ref.info["num_duplicate_tokens"] > 0
    assert fixed.info["num_duplicate_tokens"] == 0
    check_invariants(tokens, fixed, config("fixed"))


def test_constructed_single_frame_duplicates_reference_only() -> None:
    """§5.16: a one-frame segment re-clusters all S tokens, ADTS ones included.

    S = 36 and r = 0.85 give B = 39 > S: 28 ADTS tokens plus at least 11 cluster centres
    cannot all be distinct in the reference; the fixed variant clusters the other 8 only.
    """
    tokens = make_tokens(seed=1, t=1, h=6, w=6, d=8, offset=2.0)
    ref = run(tokens, config("reference", mu_s=0.0, ratio=0.85))
    fixed = run(tokens, config("fixed", mu_s=0.0, ratio=0.85))
    assert (ref.info["num_attn_div_tokens"], ref.info["num_sttm_tokens"]) == (28, 11)
    adts = ref.info["adts_keep_idx_per_segment"][0][0]
    assert adts.unique().numel() == 28  # no ADTS duplicate: the repeats come from clustering
    assert ref.info["num_duplicate_tokens"] >= 3
    assert fixed.info["num_duplicate_tokens"] == 0
    assert fixed.kept == 36


def test_temporal_merge_chain_and_fan_in() -> None:
    """§5.17 / §8.12: a merged token passes its SUM on but counts as one; fan-in adds up."""
    eye = torch.eye(4)
    x = torch.stack([eye, eye.clone(), eye.clone()])  # [3 frames, 4 tokens, 4]
    x[1, 1] = eye[0] * 2.0  # frame 1 token 1 also joins frame 0 token 0 (fan-in)
    x[2, 1] = eye[0] * 3.0  # frame 2 token 1 joins frame 1 token 0 or 1 (both along e0)
    norm = x.norm(dim=-1)
    no_adts = torch.zeros(3, 4, dtype=torch.bool)
    keep, values, changed, _ = _temporal_merge(x, norm, no_adts, 1, 0.8, [])
    assert keep[0].all() and not keep[1:].any()
    # frame 2 tokens 0 (e0) and 1 (3e0) both join frame 1 token 0 (first maximum), whose sum
    # 5e0 joins frame 0 token 0 with frame 1 token 1 (2e0): (e0 + 5e0 + 2e0) / 3, counted as
    # three tokens although five were merged (the plain mean would be 8e0 / 5)
    torch.testing.assert_close(values[0], eye[0] * 8.0 / 3.0, rtol=0, atol=0)
    # tokens 2, 3 form chains of length 3: (e + (e + e)) / 2 = 1.5 e
    torch.testing.assert_close(values[2:], eye[2:] * 1.5, rtol=0, atol=0)
    torch.testing.assert_close(values[1], eye[1], rtol=0, atol=0)  # nothing joined token 1
    assert changed.tolist() == [True, False, True, True]


def test_temporal_merge_fallback_threshold_is_strict() -> None:
    """§8.12: when too few tokens stay, th = k-th largest best and only best > th merges."""
    eye = torch.eye(4)
    x = torch.stack([eye, eye.clone()])
    no_adts = torch.zeros(2, 4, dtype=torch.bool)
    keep, _, _, _ = _temporal_merge(x, x.norm(dim=-1), no_adts, 5, 0.8, [])
    assert keep.all()  # all four best values equal th = 1, none is strictly larger


# --- general inputs and edge cases --------------------------------------------------------

EDGE_CASES = {
    "T1": dict(t=1),
    "T2": dict(t=2),
    "T5_below_min_segments": dict(t=5),
    "grid_13x13": dict(t=4, h=13, w=13),
    "grid_4x6": dict(t=4, h=4, w=6),
    "odd_D": dict(t=4, d=7),
    "one_token_per_frame": dict(t=3, h=1, w=1),
}


@pytest.mark.parametrize("case", sorted(EDGE_CASES))
@pytest.mark.parametrize("variant", ["reference", "fixed"])
@pytest.mark.parametrize("mu_s", [0.0, 0.02])
def test_edge_cases(case: str, variant: str, mu_s: float) -> None:
    tokens = make_tokens(seed=7, **EDGE_CASES[case])
    before = (tokens.features.clone(), tokens.attention.clone())
    cfg = config(variant, mu_s=mu_s, ratio=0.2)
    out = run(tokens, cfg, seed=5)
    check_invariants(tokens, out, cfg)
    again = run(tokens, cfg, seed=5)
    assert torch.equal(out.features, again.features)
    assert torch.equal(out.global_index, again.global_index)
    assert torch.equal(tokens.features, before[0]) and torch.equal(tokens.attention, before[1])


def test_one_frame_is_one_segment() -> None:
    out = run(make_tokens(t=1), config())
    assert out.info["segment_lengths"].tolist() == [1]


def test_fewer_frames_than_min_segments() -> None:
    """k is capped at T - 1: every frame becomes its own segment (duplicate cuts collapse)."""
    tokens = make_tokens(t=5)
    fixed = run(tokens, config("fixed"))
    assert fixed.info["segment_lengths"].tolist() == [1] * 5
    ref = run(tokens, config("reference"))
    lengths = ref.info["segment_lengths"].tolist()
    assert sum(lengths) == 5 and [n for n in lengths if n > 0] == [1] * 5
    assert 0 in lengths  # the reference's repeated cuts leave empty segments, which emit nothing
    n_adts = ref.info["num_attn_div_tokens"]
    assert ref.info["adts_keep_idx_per_segment"][lengths.index(0)].shape == (0, n_adts)


@pytest.mark.parametrize("variant", ["reference", "fixed"])
def test_identical_frames(variant: str) -> None:
    one = make_tokens(seed=2, t=1, h=5, w=5, d=6)
    tokens = VideoTokens(
        features=one.features.repeat(10, 1, 1), attention=one.attention.repeat(10, 1), grid=(5, 5)
    )
    cfg = config(variant)
    out = run(tokens, cfg)
    check_invariants(tokens, out, cfg)


@pytest.mark.parametrize("variant", ["reference", "fixed"])
@pytest.mark.parametrize("mu_s", [0.0, 0.02])
def test_large_retention(variant: str, mu_s: float) -> None:
    """r = 0.9 asks for more than S tokens per frame: no temporal merging, no crash."""
    tokens = video_tokens(seed=4)
    cfg = config(variant, mu_s=mu_s, ratio=0.9, do_segment=False)
    out = run(tokens, cfg)
    check_invariants(tokens, out, cfg)
    assert out.info["token_budget"] > tokens.tokens_per_frame
    assert any("no temporal merging" in n for n in out.info["notes"])
    if variant == "fixed":  # every token is kept once
        assert out.kept == tokens.num_frames * tokens.tokens_per_frame


def test_temporal_merging_happens_on_drifting_frames() -> None:
    """About B tokens per frame survive; the cluster count rounds up per frame (at most +1)."""
    tokens = video_tokens(t=12)
    out = run(tokens, config("reference", mu_s=0.0, ratio=0.3, do_segment=False))
    assert out.info["temporal_merges_per_segment"][0] > 0
    budget = out.info["token_budget"]
    assert out.info["num_attn_div_tokens"] * 12 < out.kept <= (budget + 1) * 12


def test_grid_layout_has_no_newlines_in_reference() -> None:
    tokens = video_tokens()
    newline = torch.zeros(tokens.features.shape[-1])
    ref = run(tokens, config("reference"))
    assert lay_out(ref, newline, mode="grid").shape[0] == ref.kept
    fixed = run(tokens, config("fixed"))
    rows = torch.unique(fixed.frame_index * 6 + fixed.position // 6).numel()
    assert lay_out(fixed, newline, mode="grid").shape[0] == fixed.kept + rows


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_low_precision_inputs(dtype: torch.dtype) -> None:
    tokens = make_tokens(seed=3, t=4, h=6, w=6, d=16, dtype=dtype)
    cfg = config("fixed")
    out = run(tokens, cfg)
    check_invariants(tokens, out, cfg)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu_structure() -> None:
    tokens = video_tokens()
    cuda = VideoTokens(
        features=tokens.features.cuda(), attention=tokens.attention.cuda(), grid=tokens.grid
    )
    for variant in ("reference", "fixed"):
        out = run(cuda, config(variant))
        assert out.features.is_cuda and out.position.is_cuda
        check_invariants(cuda, out, config(variant))


# --- parameters ---------------------------------------------------------------------------


def test_default_params() -> None:
    p = FlashVidParams()
    assert (p.expansion, p.alpha, p.segment_threshold, p.min_segment_num) == (1.25, 0.7, 0.9, 8)
    assert (p.do_segment, p.complementary_segment, p.temporal_threshold) == (True, True, 0.8)
    assert (p.attention_scale, p.cluster_knn) == (1e6, 7)
    assert FlashVidParams.from_dict(p.to_dict()) == p
    cfg = PruningConfig.preset("flashvid", retention_ratio=0.1)
    assert (cfg.mu_s, cfg.mu_t) == (0.02, 0.0)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("expansion", 0.0),
        ("expansion", -1.0),
        ("alpha", 1.5),
        ("do_segment", "False"),
        ("complementary_segment", 1),
        ("segment_threshold", 1.5),
        ("min_segment_num", 0),
        ("min_segment_num", 2.5),
        ("temporal_threshold", 1.0),
        ("temporal_threshold", float("nan")),
        ("attention_scale", 0.0),
        ("cluster_knn", 0),
        ("cluster_knn", True),
    ],
)
def test_bad_params_name_the_field(field: str, value) -> None:
    with pytest.raises(ValueError, match=field):
        FlashVidParams(**{field: value})
    with pytest.raises(ValueError, match=field):
        PruningConfig.preset("flashvid", **{field: value})


def test_needs_attention() -> None:
    tokens = make_tokens()
    no_att = VideoTokens(features=tokens.features, grid=tokens.grid)
    with pytest.raises(ValueError, match="attention"):
        prune(no_att, config())


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_video_frame_means_equal_each_segments_own(dtype) -> None:
    """The reference's per-segment frame means are read off the video's (same bits)."""
    g = torch.Generator().manual_seed(6)
    for t, s, d in ((12, 36, 50), (9, 196, 64), (16, 196, 3584)):
        x = torch.randn(t, s, d, generator=g).to(dtype)
        for video in (x, x.transpose(1, 2).contiguous().transpose(1, 2)):
            whole = video.mean(dim=1, dtype=torch.float32)
            for a, b in ((0, 1), (0, 5), (3, 9), (5, t)):
                assert torch.equal(whole[a:b], video[a:b].float().mean(dim=1)), (t, s, d, a, b)
