"""exact_count: prune keeps planned_tokens for any content, by the fill/trim rule of §9.

Property tests run every method on random and structured videos; the rule itself is checked
against a plain Python transcription of ALGORITHMS.md §9 (``oracle_fit``).
"""

from __future__ import annotations

import pytest
import torch
from golden_support import golden_config, golden_tokens, load_golden
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_sync_count import scene_tokens, syncs

from stop_core import PruningConfig, VideoTokens, available_methods, planned_tokens, prune
from stop_core.count_fit import fit_to_count
from stop_core.sink import sink_score
from stop_core.testing import FakeDevice, count_ops

METHODS = available_methods()
CONTENT_DEPENDENT = ("fastvid", "holitom", "flashvid")
CONTENTS = ("random", "identical", "scenes", "constant", "ties", "zero_attention")


def make_video(content: str, seed: int, t: int, h: int, w: int, d: int) -> VideoTokens:
    """A video of one kind of content (random, or built to produce ties and degenerate cases)."""
    g = torch.Generator().manual_seed(seed)
    s = h * w
    feats = torch.randn(t, s, d, generator=g)
    att = torch.softmax(2 * torch.randn(t, s, generator=g), dim=-1)
    emb = torch.randn(t, 6, generator=g)
    if content == "identical":  # every frame the same
        feats, att, emb = feats[:1].expand(t, s, d), att[:1].expand(t, s), emb[:1].expand(t, 6)
    elif content == "scenes":  # hard cuts between 3 scenes of near-identical frames
        scene = torch.arange(t) * 3 // t
        feats = 3 * feats[:3][scene % feats.shape[0]] + 0.05 * feats
        emb = emb[:3][scene % emb.shape[0]] + 0.01 * emb
    elif content == "constant":  # one feature vector everywhere
        feats = torch.full((t, s, d), 0.5)
    elif content == "ties":  # uniform attention, features on a coarse integer lattice
        feats = torch.randint(-1, 2, (t, s, d), generator=g).float()
        att = torch.full((t, s), 1.0 / s)
    elif content == "zero_attention":
        att = torch.zeros(t, s)
    return VideoTokens(
        features=feats.contiguous(),
        attention=att.contiguous(),
        keys=torch.randn(t, s, 4, generator=g),
        frame_embeddings=emb.contiguous(),
        grid=(h, w),
    )


GRIDS = [(4, 6), (8, 8), (14, 14), (1, 7), (1, 1), (6, 1), (3, 5)]
cases = st.fixed_dictionaries(
    {
        "content": st.sampled_from(CONTENTS),
        "seed": st.integers(0, 2**16),
        "t": st.integers(1, 20),
        "grid": st.one_of(st.sampled_from(GRIDS), st.tuples(st.integers(1, 8), st.integers(1, 8))),
        "d": st.integers(8, 16),
        "ratio": st.one_of(
            st.floats(0.05, 1.0), st.sampled_from([0.05, 0.1, 0.15, 0.2, 0.25, 0.5, 1.0])
        ),
        "variant": st.sampled_from(["reference", "fixed"]),
        "use_stop": st.booleans(),
    }
)


def _run(tokens: VideoTokens, cfg: PruningConfig, seed: int = 1):
    return prune(tokens, cfg, generator=torch.Generator().manual_seed(seed))


def _assert_kept_in_order(fitted, method_out, tokens: VideoTokens) -> None:
    """The fitted output is the method's output with rows removed (trim) or copies added (fill)."""
    record = fitted.info["exact_count"]
    trimmed = set(record["trimmed_rows"].tolist())
    rows = torch.tensor([r for r in range(method_out.kept) if r not in trimmed], dtype=torch.long)
    filled = record["filled_global_idx"].tolist()
    is_copy = torch.tensor([g in set(filled) for g in fitted.global_index.tolist()])
    assert int(is_copy.sum()) == len(filled) == record["filled"]
    assert record["trimmed"] == len(trimmed) and (not filled or not trimmed)
    assert torch.equal(fitted.global_index[~is_copy], method_out.global_index[rows])
    assert torch.equal(fitted.features[~is_copy], method_out.features[rows])
    assert fitted.global_index[is_copy].tolist() == sorted(filled)  # ascending global index
    assert not set(filled) & set(method_out.global_index.tolist())  # unoccupied positions only
    flat = tokens.features.reshape(-1, tokens.features.shape[-1])
    assert torch.equal(fitted.features[is_copy], flat[sorted(filled)])  # plain copies


@pytest.mark.parametrize("method", METHODS)
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases)
def test_kept_is_planned_for_any_content(method: str, case: dict) -> None:
    h, w = case["grid"]
    t = case["t"]
    tokens = make_video(case["content"], case["seed"], t, h, w, case["d"])
    cfg = PruningConfig.preset(
        method,
        retention_ratio=case["ratio"],
        use_stop=case["use_stop"],
        variant=case["variant"],
        exact_count=True,
    )
    out = _run(tokens, cfg)
    planned = planned_tokens(cfg, t, (h, w))
    assert out.kept == planned == out.features.shape[0]
    assert out.combination is not None and out.combination.num_outputs == planned
    mapped = out.apply(tokens.features)
    assert torch.allclose(mapped, out.features, atol=1e-5, rtol=0), (
        (mapped - out.features).abs().max()
    )
    assert out.features.dtype == tokens.features.dtype
    assert bool((out.frame_index[1:] >= out.frame_index[:-1]).all()), "frames out of time order"
    assert int(out.position.min()) >= 0 and int(out.position.max()) < h * w
    plain = _run(tokens, cfg.replace(exact_count=False))
    if method not in CONTENT_DEPENDENT:
        assert plain.kept == planned_tokens(cfg.replace(exact_count=False), t, (h, w))
        assert torch.equal(plain.features, out.features)
        assert torch.equal(plain.global_index, out.global_index)
    _assert_kept_in_order(out, plain, tokens)
    if case["variant"] == "fixed" or method not in ("visionzip", "flashvid"):
        assert out.global_index.unique().numel() == out.kept, "duplicate tokens"
    again = _run(tokens, cfg)
    assert torch.equal(again.features, out.features)
    assert torch.equal(again.global_index, out.global_index)
    assert torch.equal(again.combination.to_dense(), out.combination.to_dense())


# --- the rule, transcribed as a plain loop ---------------------------------------------------


def oracle_fit(method_out, tokens: VideoTokens, cfg: PruningConfig, target: int, method: str):
    """ALGORITHMS.md §9 word for word: lists of (frame, position), feature rows, dense rows.

    Priority ``A - mu_s * sink`` (sink of all frames). Trim: drop the outputs of lowest
    priority, ties dropping the higher global index, then the later row. Fill: copy the
    unoccupied inputs of highest priority (ties: lower global index); each goes before the
    first output whose key ``(frame, 0 if leading else 1 + position)`` exceeds its own.
    HoliTom's leading tokens (static clusters) are the outputs formed from several frames.
    """
    t, s = tokens.num_frames, tokens.tokens_per_frame
    att = tokens.attention.float()
    prio = (att - cfg.mu_s * sink_score(att, cfg.gamma)).flatten().tolist()
    frames = method_out.frame_index.tolist()
    positions = method_out.position.tolist()
    dense = method_out.combination.to_dense()
    n = len(frames)
    gidx = [f * s + p for f, p in zip(frames, positions, strict=True)]
    seq: list[tuple[str, int]] = [("out", r) for r in range(n)]
    if n > target:
        ranked = sorted(range(n), key=lambda r: (-prio[gidx[r]], gidx[r], r))
        keep = sorted(ranked[:target])
        seq = [("out", r) for r in keep]
    elif n < target:
        occupied = set(gidx)
        free = sorted((g for g in range(t * s) if g not in occupied), key=lambda g: (-prio[g], g))
        key = []
        for r in range(n):
            src_frames = {c // s for c in torch.nonzero(dense[r]).flatten().tolist()}
            leading = method == "holitom" and len(src_frames) > 1
            key.append((frames[r], 0 if leading else 1 + positions[r]))
        for g in sorted(free[: target - n]):
            mine = (g // s, 1 + g % s)
            at = next(
                (i for i, (kind, r) in enumerate(seq) if kind == "out" and key[r] > mine),
                len(seq),
            )
            seq.insert(at, ("copy", g))
    flat = tokens.features.reshape(t * s, -1)
    layout = method_out.layout_position
    layout = positions if layout is None else layout.tolist()
    out_frames, out_pos, out_layout, feats, rows = [], [], [], [], []
    for kind, v in seq:
        if kind == "out":
            out_frames.append(frames[v])
            out_pos.append(positions[v])
            out_layout.append(layout[v])
            feats.append(method_out.features[v])
            rows.append(dense[v])
        else:
            out_frames.append(v // s)
            out_pos.append(v % s)
            out_layout.append(v % s)
            feats.append(flat[v].to(method_out.features.dtype))
            one = torch.zeros(t * s)
            one[v] = 1.0
            rows.append(one)
    return out_frames, out_pos, out_layout, torch.stack(feats), torch.stack(rows)


ORACLE_CASES = [  # (method, content, T, h, w, ratio, knobs)
    ("holitom", "scenes", 6, 3, 4, 0.2, {}),
    ("holitom", "identical", 5, 2, 3, 0.3, {}),
    ("holitom", "ties", 4, 3, 3, 0.25, {}),
    ("holitom", "random", 4, 4, 4, 0.4, {"dominant_d": 0.5}),  # fixed: two runs per frame
    ("fastvid", "random", 5, 3, 4, 0.3, {}),
    ("fastvid", "zero_attention", 4, 2, 5, 0.4, {}),
    ("flashvid", "random", 6, 3, 3, 0.2, {}),
    ("flashvid", "scenes", 7, 2, 4, 0.3, {}),
    ("flashvid", "ties", 3, 4, 4, 0.25, {}),
    ("visionzip", "random", 3, 4, 4, 0.25, {}),
    ("uniform", "constant", 4, 3, 3, 0.3, {}),
]


@pytest.mark.parametrize("variant", ["reference", "fixed"])
@pytest.mark.parametrize(("method", "content", "t", "h", "w", "ratio", "knobs"), ORACLE_CASES)
def test_fill_and_trim_match_the_loop_oracle(
    method, content, t, h, w, ratio, knobs, variant
) -> None:
    tokens = make_video(content, 5, t, h, w, 8)
    for use_stop in (False, True):
        cfg = PruningConfig.preset(
            method, retention_ratio=ratio, use_stop=use_stop, variant=variant, **knobs
        )
        if use_stop and cfg.mu_s == 0.0:
            cfg = cfg.replace(mu_s=0.5)  # a strong STSP term that reorders the priorities
        method_out = _run(tokens, cfg)
        n, total = method_out.kept, t * h * w
        for target in sorted({1, 2, n // 2 or 1, n - 1 or 1, n, n + 1, (n + total) // 2, total}):
            if not 1 <= target <= total:
                continue
            got = fit_to_count(method_out, tokens, cfg, target)
            frames, positions, layout, feats, rows = oracle_fit(
                method_out, tokens, cfg, target, method
            )
            assert got.kept == target
            assert got.frame_index.tolist() == frames, (target, n)
            assert got.position.tolist() == positions, (target, n)
            got_layout = got.position if got.layout_position is None else got.layout_position
            assert got_layout.tolist() == layout
            assert torch.equal(got.features, feats)
            assert torch.equal(got.combination.to_dense(), rows)
            record = got.info["exact_count"]
            assert (record["filled"], record["trimmed"]) == (max(target - n, 0), max(n - target, 0))


def _hand_video() -> tuple[VideoTokens, PruningConfig]:
    """Two frames of 1 x 4; attention chosen so that the ranking is clear by eye."""
    feats = torch.arange(8 * 2, dtype=torch.float32).reshape(2, 4, 2)
    att = torch.tensor([[0.1, 0.4, 0.4, 0.1], [0.3, 0.0, 0.3, 0.3]])
    return VideoTokens(features=feats, attention=att, grid=(1, 4)), PruningConfig("uniform")


def test_fill_by_hand() -> None:
    """uniform keeps global 0, 4 at r = 0.25; filling to 5 adds 1, 2 (0.4), then 6 (0.3 tie with
    7, lower index first): copies go between the method's tokens in global-index order."""
    tokens, cfg = _hand_video()
    base = _run(tokens, cfg.replace(retention_ratio=0.25))
    assert base.global_index.tolist() == [0, 4]
    out = fit_to_count(base, tokens, cfg, 5)
    assert out.global_index.tolist() == [0, 1, 2, 4, 6]
    assert torch.equal(out.features, tokens.features.reshape(8, 2)[[0, 1, 2, 4, 6]])
    assert out.info["exact_count"]["filled_global_idx"].tolist() == [1, 2, 6]


def test_trim_by_hand() -> None:
    """From all 8 tokens down to 3: 1 and 2 (0.4), then 4 of the 0.3 ties 4, 6, 7."""
    tokens, cfg = _hand_video()
    everything = _run(tokens, cfg.replace(retention_ratio=1.0))
    out = fit_to_count(everything, tokens, cfg, 3)
    assert out.global_index.tolist() == [1, 2, 4]
    assert out.info["exact_count"]["trimmed_rows"].tolist() == [0, 3, 5, 6, 7]


def test_sink_penalty_changes_the_priority_by_hand() -> None:
    """Position 2 is the sink (mean 0.35 over frames, highest): mu_s = 1 ranks it last."""
    tokens, cfg = _hand_video()
    sink = cfg.replace(mu_s=1.0)
    base = _run(tokens, sink.replace(retention_ratio=0.25))
    out = fit_to_count(base, tokens, sink, 4)
    # priorities: pos 1 -> 0.4 - s1, frame 1 pos 0 / 3 -> 0.3 - s0 / 0.3 - s3, pos 2 -> 0.x - 1
    s = sink_score(tokens.attention, 1.1)
    assert int(s.argmax()) == 2
    prio = tokens.attention - s
    free = [1, 2, 3, 5, 6, 7]
    best = sorted(free, key=lambda g: (-float(prio.flatten()[g]), g))[:2]
    assert out.global_index.tolist() == sorted([0, 4, *best])
    assert 2 not in best and 6 not in best


# --- no-ops, records, discipline -------------------------------------------------------------


def test_noop_when_the_method_hits_the_count() -> None:
    tokens = make_video("random", 3, 6, 4, 4, 8)
    for method in METHODS:
        cfg = PruningConfig.preset(method, retention_ratio=0.25)
        plain = _run(tokens, cfg)
        out = fit_to_count(plain, tokens, cfg, plain.kept)
        assert out.features is plain.features and out.combination is plain.combination
        assert out.info["exact_count"]["filled"] == out.info["exact_count"]["trimmed"] == 0
        assert out.info.get("budget_explanation") == plain.info.get("budget_explanation")


def test_budget_explanation_follows_the_planned_count() -> None:
    tokens = make_video("scenes", 2, 16, 8, 8, 8)
    for method in CONTENT_DEPENDENT:
        cfg = PruningConfig.preset(method, backbone="qwen3_vl", exact_count=True)
        out = _run(tokens, cfg)
        plain = _run(tokens, cfg.replace(exact_count=False))
        record = out.info["exact_count"]
        if not (record["filled"] or record["trimmed"]):  # no-op: the method's own words
            assert out.info.get("budget_explanation") == plain.info.get("budget_explanation")
        elif out.kept != out.requested:
            assert "exact_count" in out.info["budget_explanation"]
        else:  # HoliTom's plan is round(r*T*S): the method's note is kept aside
            assert "budget_explanation" not in out.info
            assert out.info["method_budget_explanation"] == plain.info["budget_explanation"]


def test_fit_refuses_bad_targets_and_missing_attention() -> None:
    tokens = make_video("random", 0, 3, 2, 2, 8)
    cfg = PruningConfig.preset("holitom", retention_ratio=0.5)
    out = _run(tokens, cfg)
    for bad in (0, 13):
        with pytest.raises(
            ValueError, match=f"target count must be in \\[1, T \\* S = 12\\], got {bad}"
        ):
            fit_to_count(out, tokens, cfg, bad)
    bare = VideoTokens(features=tokens.features)
    plain = _run(bare, PruningConfig("uniform", retention_ratio=0.5))
    with pytest.raises(ValueError, match="exact_count needs VideoTokens.attention"):
        fit_to_count(plain, bare, cfg, plain.kept + 1)


@pytest.mark.parametrize("variant", ["reference", "fixed"])
@pytest.mark.parametrize("method", CONTENT_DEPENDENT)
def test_syncs_of_the_fit_do_not_grow_with_tokens_or_frames(method, variant) -> None:
    """Host syncs of ``prune`` with exact_count, and of a fill and a trim on their own."""
    cfg = PruningConfig.preset(method, retention_ratio=0.2, variant=variant, exact_count=True)
    videos = {
        "S=36": scene_tokens(16, 6),
        "S=144": scene_tokens(16, 12),
        "T=32": scene_tokens(32, 6, scenes=8),
        "T=64": scene_tokens(64, 6, scenes=8),
    }
    plain = cfg.replace(exact_count=False)
    extra = {k: syncs(v, cfg) - syncs(v, plain) for k, v in videos.items()}
    assert all(0 <= e <= 2 for e in extra.values()), extra  # fill 1 (sink check), trim 2
    for delta in (-5, 5):
        fit = {}
        for name, video in videos.items():
            out = _run(video, cfg.replace(exact_count=False), 0)
            fit[name] = count_ops(
                lambda o=out, v=video, d=delta: fit_to_count(o, v, cfg, o.kept + d)
            )
        counts = {k: c.num_syncs for k, c in fit.items()}
        assert counts["S=36"] == counts["S=144"] == counts["T=32"] == counts["T=64"], counts
        assert counts["S=36"] <= 2, (delta, {k: dict(c.syncs) for k, c in fit.items()})


@pytest.mark.parametrize("variant", ["reference", "fixed"])
@pytest.mark.parametrize("method", CONTENT_DEPENDENT)
def test_fit_creates_tensors_on_the_input_device(method, variant) -> None:
    tokens = make_video("scenes", 1, 8, 6, 6, 16)
    for target_delta in (-3, 3):
        cfg = PruningConfig.preset(method, retention_ratio=0.2, variant=variant)
        out = _run(tokens, cfg)
        with FakeDevice() as fake:
            fitted = fit_to_count(out, tokens, cfg, out.kept + target_delta)
        assert fitted.kept == out.kept + target_delta
        assert fake.off_device == [], f"tensors created off the input device: {fake.off_device}"
        assert fake.host_copies == [], f"copies to the host: {fake.host_copies}"


GOLDEN_FILES = [
    f"{m}_{kind}_r{r}_D64.pt"
    for m in ("visionzip", "fastvid", "holitom", "flashvid")
    for kind in ("base", "stop")
    for r in (10, 20)
]


@pytest.mark.parametrize("name", GOLDEN_FILES)
def test_golden_inputs_with_exact_count(golden_dir, golden_inputs, name) -> None:
    """The official settings with exact_count: the planned count, the method's rows in order."""
    meta = load_golden(golden_dir, name)["meta"]
    tokens = golden_tokens(golden_inputs)
    cfg = golden_config(meta).replace(exact_count=True)
    seed = int(meta.get("call_seed", 0))
    out = _run(tokens, cfg, seed)
    plain = _run(tokens, cfg.replace(exact_count=False), seed)
    assert out.kept == planned_tokens(cfg, tokens.num_frames, tokens.hw)
    _assert_kept_in_order(out, plain, tokens)
    mapped = out.apply(tokens.features)
    assert torch.allclose(mapped, out.features, atol=1e-4, rtol=1e-5)
