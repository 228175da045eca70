"""VisionZip + STSP: goldens, a loop transcription of ALGORITHMS.md §3.1, variants and edges."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from golden_support import golden_config, golden_tokens, run_golden

from stop_core import PruningConfig, VideoTokens, lay_out, prune
from stop_core.layout import NEWLINE, layout_order
from stop_core.methods.visionzip import VisionZipParams

GOLDEN = [f"visionzip_{s}_r{r}_D64.pt" for s in ("base", "stop") for r in (10, 20)]
GOLDEN_INFO_KEY = {"sink_top20": "sink_set"}


def load_golden(golden_dir: Path, name: str) -> dict:
    return torch.load(golden_dir / name, weights_only=True)


# ---------------------------------------------------------------------------------------------
# A direct, per-frame loop transcription of the §3.1 pseudocode (plus the fixed-variant walk).


def naive_sink(attn: torch.Tensor, gamma: float) -> torch.Tensor:
    t, s = attn.shape
    p = attn.float().mean(0).repeat(t, 1).pow(gamma)
    lo, hi = p.amin(1, keepdim=True), p.amax(1, keepdim=True)
    return ((p - lo) / (hi - lo + 1e-12))[0]


def naive_visionzip(tokens: VideoTokens, cfg: PruningConfig) -> dict:
    params = cfg.params
    x, a, k = tokens.features.float(), tokens.attention.float(), tokens.keys.float()
    t_frames, s, _ = x.shape
    reference = cfg.variant == "reference"
    # the reference sizes ratios outside the table from 196 on the SigLIP grids (§8.16)
    base = 196 if reference and tokens.hw in ((14, 14), (13, 13)) else s
    table = [c for r, c in params.spatial_tokens_table if abs(r - cfg.retention_ratio) < 1e-9]
    s_tok = min(table[0] if table else max(1, int(base * cfg.retention_ratio)), s)
    n_dom = int(s_tok * params.dominant_ratio)
    n_ctx = s_tok - n_dom
    reference = cfg.variant == "reference"
    use_sink = reference or cfg.mu_s > 0
    sink = naive_sink(a, cfg.gamma) if use_sink else torch.zeros(s)
    sinkset = set(torch.topk(sink, min(params.sink_set_size, s)).indices.tolist())
    if not use_sink:
        sinkset = set()
    feats, pos, layout, targets_all = [], [], [], []
    clamped = dups = 0
    for t in range(t_frames):
        score = a[t] - cfg.mu_s * sink if use_sink else a[t]
        dom_topk = torch.topk(score, n_dom).indices.tolist()
        dom = sorted(dom_topk)
        rem = [i for i in range(s) if i not in set(dom)]
        m = len(rem)
        cand = list(range(0, m, max(1, m // n_ctx)))[:n_ctx] if n_ctx > 0 else []
        targets = []
        if reference:
            for c in cand:
                i = c
                while i in sinkset and i < m:
                    i += 1
                if i >= m:
                    clamped += 1
                    i = m - 1
                targets.append(i)
        elif sinkset and cand:
            elig = [i for i in range(m) if rem[i] not in sinkset]
            if len(elig) < len(cand):
                elig = list(range(m))
            ranks, prev = [], -1
            for c in cand:
                r = next((j for j, e in enumerate(elig) if e >= c), len(elig))
                prev = max(r, prev + 1)
                ranks.append(prev)
            bound = len(elig)
            for j in range(len(ranks) - 1, -1, -1):
                ranks[j] = min(ranks[j], bound - 1)
                bound = ranks[j]
            targets = [elig[r] for r in ranks]
        else:
            targets = list(cand)
        first = [j for j, tg in enumerate(targets) if tg not in targets[:j]]
        dups += len(targets) - len(first)
        others = [i for i in range(m) if i not in set(targets)]
        xr, kr = x[t, rem], torch.nn.functional.normalize(k[t, rem], dim=-1)
        ctx = xr[targets].clone()
        if others and targets:
            sim = kr[others] @ kr[[targets[j] for j in first]].T
            best = [first[j] for j in sim.argmax(1).tolist()]
            for j in range(len(targets)):
                members = [o for o, b in zip(others, best, strict=True) if b == j]
                if members:
                    ctx[j] += xr[members].mean(0)
        feats += [x[t, dom], ctx]
        pos += dom + [rem[i] for i in targets]
        layout += dom_topk + [rem[i] for i in targets]
        targets_all.append(targets)
    return {
        "features": torch.cat(feats),
        "position": torch.tensor(pos),
        "layout": torch.tensor(layout),
        "targets": torch.tensor(targets_all),
        "clamped": clamped,
        "dups": dups // max(1, t_frames),
    }


def make_tokens(
    seed: int,
    t: int,
    h: int,
    w: int,
    d: int,
    dk: int = 7,
    sharp: float = 2.0,
    dtype: torch.dtype = torch.float32,
) -> VideoTokens:
    g = torch.Generator().manual_seed(seed)
    s = h * w
    bias = torch.randn(s, generator=g) * sharp  # persistent per-position bias: sinks
    att = torch.softmax(bias + torch.randn(t, s, generator=g), dim=-1)
    return VideoTokens(
        features=torch.randn(t, s, d, generator=g).to(dtype),
        attention=att,
        keys=torch.randn(t, s, dk, generator=g),
        grid=(h, w),
    )


def run(tokens: VideoTokens, **kw: object) -> tuple[PruningConfig, object]:
    params = kw.pop("params", None)
    cfg = PruningConfig(method="visionzip", params=params, **kw)
    return cfg, prune(tokens, cfg, generator=torch.Generator().manual_seed(0))


def check_against_naive(tokens: VideoTokens, cfg: PruningConfig, out: object) -> dict:
    ref = naive_visionzip(tokens, cfg)
    assert torch.equal(out.position, ref["position"])
    torch.testing.assert_close(out.features.float(), ref["features"], atol=1e-5, rtol=1e-5)
    t = tokens.num_frames
    s_tok = out.kept // t
    assert torch.equal(out.frame_index, torch.arange(t).repeat_interleave(s_tok))
    got = out.info["contextual_target_idx_in_remaining"]
    want = ref["targets"]
    if cfg.variant == "reference" and want.numel():
        want = want[0]
    assert torch.equal(got, want.reshape(got.shape))
    if cfg.variant == "reference":
        assert torch.equal(out.layout_position, ref["layout"])
        if "walk_clamped" in out.info:
            assert out.info["walk_clamped"] == ref["clamped"] // t
            assert out.info["duplicate_targets"] == ref["dups"]
    return ref


# ---------------------------------------------------------------------------------------------
# Goldens


@pytest.mark.parametrize("name", GOLDEN)
def test_golden_intermediates(golden_dir, golden_inputs, name: str) -> None:
    gold = load_golden(golden_dir, name)
    out = run_golden(golden_inputs, gold["meta"])
    for key, value in gold["kept"].items():
        got = out.info[GOLDEN_INFO_KEY.get(key, key)]
        assert got.dtype == value.dtype, key
        assert torch.equal(got, value), key
    assert out.info["walk_clamped"] == 0 and out.info["duplicate_targets"] == 0
    assert out.kept == gold["num_tokens"] - 1
    assert out.kept != out.requested and "budget_explanation" in out.info


@pytest.mark.parametrize("name", GOLDEN)
def test_golden_inputs_match_loop_transcription(golden_dir, golden_inputs, name: str) -> None:
    meta = load_golden(golden_dir, name)["meta"]
    tokens = golden_tokens(golden_inputs)
    for variant in ("reference", "fixed"):
        cfg = golden_config(meta, variant)
        out = prune(tokens, cfg, generator=torch.Generator().manual_seed(0))
        check_against_naive(tokens, cfg, out)


def test_golden_reference_grid_layout_is_scrambled(golden_dir, golden_inputs) -> None:
    meta = load_golden(golden_dir, GOLDEN[2])["meta"]
    out = run_golden(golden_inputs, meta)
    newline = golden_inputs["image_newline"]
    seq = lay_out(out, newline, mode="grid")
    assert seq.shape[0] == out.kept + 32 * 14
    order = layout_order(out, "grid")
    rows = order[order != NEWLINE]
    # tokens are placed by the scrambled layout position, not by their true position
    key = out.frame_index * 196 + out.layout_position
    assert torch.equal(rows, torch.sort(key, stable=True).indices)
    assert bool((out.layout_position != out.position).any())
    dom = out.info["dominant_idx"].shape[1]
    per_frame = out.kept // 32
    first = out.layout_position[:per_frame]
    assert torch.equal(first[:dom], out.info["dominant_idx_topk_order"][0])
    assert torch.equal(out.position[:dom], out.info["dominant_idx"][0])


# ---------------------------------------------------------------------------------------------
# Reference variant against the loop transcription on random and sink-heavy inputs

SHAPES = [
    (1, 14, 14, 64),  # T = 1
    (3, 13, 13, 33),  # LLaVA-Video average pooling, odd D
    (5, 4, 6, 9),  # 4 x 6 grid
    (2, 2, 2, 5),  # S_tok capped at S
    (4, 1, 1, 3),  # one token per frame
    (6, 7, 9, 11),
]


@pytest.mark.parametrize("variant", ["reference", "fixed"])
@pytest.mark.parametrize("mu_s", [0.0, 0.03, 0.5])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("ratio", [0.1, 0.2, 0.33, 0.6])
def test_matches_loop_transcription(variant: str, mu_s: float, shape: tuple, ratio: float) -> None:
    t, h, w, d = shape
    tokens = make_tokens(hash((shape, ratio)) % 1000, t, h, w, d)
    cfg, out = run(tokens, retention_ratio=ratio, mu_s=mu_s, variant=variant)
    check_against_naive(tokens, cfg, out)
    assert out.kept == t * out.info["tokens_per_frame"]
    assert out.kept == out.requested or "budget_explanation" in out.info


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("variant", ["reference", "fixed"])
def test_sink_heavy_random_inputs(seed: int, variant: str) -> None:
    """Large sink sets make the walk move, collide and run off the end of the remaining list."""
    g = torch.Generator().manual_seed(seed)
    h, w = [(4, 6), (5, 5), (3, 7), (14, 14)][seed % 4]
    s = h * w
    tokens = make_tokens(seed, 3, h, w, 6, sharp=3.0)
    params = VisionZipParams(
        spatial_tokens_table=((0.3, int(torch.randint(2, s // 2 + 2, (1,), generator=g))),),
        dominant_ratio=float(torch.rand(1, generator=g)),
        sink_set_size=int(torch.randint(0, s + 1, (1,), generator=g)),
    )
    cfg, out = run(tokens, retention_ratio=0.3, mu_s=0.05, variant=variant, params=params)
    check_against_naive(tokens, cfg, out)
    assert int(out.position.min()) >= 0 and int(out.position.max()) < s
    if variant == "fixed":
        assert out.global_index.unique().numel() == out.kept


# ---------------------------------------------------------------------------------------------
# Hand-made walk collision and out-of-range corner case


def corner_case_tokens() -> tuple[VideoTokens, VisionZipParams]:
    """S = 24, n_dom = n_ctx = 4, M = 20, candidates [0, 5, 10, 15], sinks at 5..10, 15..19."""
    g = torch.Generator().manual_seed(3)
    t, h, w = 3, 4, 6
    sinks = [5, 6, 7, 8, 9, 10, 15, 16, 17, 18, 19]
    logits = torch.rand(t, h * w, generator=g)
    logits[:, sinks] += 5.0 + torch.arange(len(sinks)) * 0.1
    tokens = VideoTokens(
        features=torch.randn(t, h * w, 8, generator=g),
        attention=torch.softmax(logits, dim=-1),
        keys=torch.randn(t, h * w, 4, generator=g),
        grid=(h, w),
    )
    params = VisionZipParams(
        spatial_tokens_table=((0.5, 8),), dominant_ratio=0.5, sink_set_size=len(sinks)
    )
    return tokens, params


@pytest.mark.parametrize("mu_s", [0.0, 0.03])
def test_reference_walk_collision_and_clamp(mu_s: float) -> None:
    tokens, params = corner_case_tokens()
    cfg, out = run(tokens, retention_ratio=0.5, mu_s=mu_s, params=params)
    assert sorted(out.info["sink_set"].tolist()) == [5, 6, 7, 8, 9, 10, 15, 16, 17, 18, 19]
    assert out.info["contextual_candidates"].tolist() == [0, 5, 10, 15]
    # 5 walks to 11, 10 also to 11 (collision), 15 walks to M = 20 and is clamped to 19
    assert out.info["contextual_target_idx_in_remaining"].tolist() == [0, 11, 11, 19]
    assert out.info["walk_clamped"] == 1 and "clamped to 19" in out.info["walk_clamped_note"]
    assert out.info["duplicate_targets"] == 1
    counts = out.info["contextual_merged_count"]
    assert bool((counts[:, 2] == 0).all())  # the repeat gets nothing
    rem_pos = out.info["contextual_target_pos"]
    x = tokens.features
    ctx = out.features.reshape(3, 8, 8)[:, 4:]
    for t in range(3):
        assert torch.equal(ctx[t, 2], x[t, rem_pos[t, 2]])  # output unchanged
    assert int(counts.sum()) == 3 * (20 - 3)  # every other remaining token merged once
    check_against_naive(tokens, cfg, out)


def test_fixed_walk_on_corner_case_has_no_duplicates() -> None:
    tokens, params = corner_case_tokens()
    cfg, out = run(tokens, retention_ratio=0.5, mu_s=0.03, variant="fixed", params=params)
    assert out.global_index.unique().numel() == out.kept
    sinks = set(out.info["sink_set"].tolist())
    assert not sinks & set(out.info["contextual_target_pos"].flatten().tolist())
    assert out.info["walk_fallback_frames"] == 0 and out.info["walk_moved"] > 0
    assert int(out.position.max()) < 24
    check_against_naive(tokens, cfg, out)


def test_fixed_walk_falls_back_when_everything_is_a_sink() -> None:
    tokens, params = corner_case_tokens()
    params = VisionZipParams(spatial_tokens_table=((0.5, 8),), dominant_ratio=0.5, sink_set_size=24)
    cfg, out = run(tokens, retention_ratio=0.5, mu_s=0.03, variant="fixed", params=params)
    assert out.info["walk_fallback_frames"] == 3
    assert out.info["contextual_target_idx_in_remaining"].tolist() == [[0, 5, 10, 15]] * 3
    assert out.global_index.unique().numel() == out.kept
    check_against_naive(tokens, cfg, out)


def test_fixed_walk_packs_targets_back_at_the_end() -> None:
    """Candidates walking past the last non-sink token move back, never out of range."""
    tokens, _ = corner_case_tokens()
    params = VisionZipParams(spatial_tokens_table=((0.5, 8),), dominant_ratio=0.5, sink_set_size=11)
    logits = torch.zeros(3, 24)
    logits[:, [0, 1, 2, 3]] = 9.0  # dominant
    logits[:, 16:] = 5.0 + torch.arange(8) * 0.1  # sink set: the dominant 0..3 and 17..23
    tokens = VideoTokens(
        features=tokens.features,
        attention=torch.softmax(logits, dim=-1),
        keys=tokens.keys,
        grid=(4, 6),
    )
    cfg, out = run(tokens, retention_ratio=0.5, mu_s=0.01, variant="fixed", params=params)
    targets = out.info["contextual_target_idx_in_remaining"]
    assert bool((targets[:, 1:] > targets[:, :-1]).all())
    assert int(targets.max()) < 20
    assert out.global_index.unique().numel() == out.kept
    check_against_naive(tokens, cfg, out)


# ---------------------------------------------------------------------------------------------
# Fixed variant: mu_s = 0 is plain VisionZip, SToP on gives valid, distinct tokens


def test_fixed_without_stop_is_plain_visionzip() -> None:
    tokens = make_tokens(7, 6, 14, 14, 16, sharp=3.0)
    cfg, a = run(tokens, retention_ratio=0.1, mu_s=0.0, variant="fixed")
    _, b = run(tokens, retention_ratio=0.1, mu_s=0.0, variant="fixed", gamma=4.0)
    assert torch.equal(a.features, b.features) and torch.equal(a.position, b.position)
    assert "sink_score" not in a.info and a.info["walk"].startswith("off")
    step = a.info["step"]
    plain = torch.arange(0, 180, step)[:4]
    assert torch.equal(a.info["contextual_target_idx_in_remaining"], plain.expand(6, 4))
    # the reference with the same mu = 0 walks (sink set of the same tokens)
    _, r = run(tokens, retention_ratio=0.1, mu_s=0.0, variant="reference", params=None)
    assert r.info["walk"].startswith("on")
    check_against_naive(tokens, cfg, a)


@pytest.mark.parametrize("ratio", [0.1, 0.15, 0.2, 0.25, 0.37])
def test_fixed_with_stop_is_valid(ratio: float) -> None:
    tokens = make_tokens(11, 8, 14, 14, 12, sharp=3.0)
    cfg, out = run(tokens, retention_ratio=ratio, mu_s=0.03, gamma=1.1, variant="fixed")
    gi = out.global_index
    assert gi.unique().numel() == gi.numel()
    assert int(out.position.min()) >= 0 and int(out.position.max()) < 196
    assert out.kept == out.requested or "budget_explanation" in out.info
    assert out.layout_position is None and out.grid_newlines == "nonempty_rows"


# ---------------------------------------------------------------------------------------------
# Budgets, shapes, layouts


@pytest.mark.parametrize(
    ("ratio", "per_frame", "split"),
    [
        (0.1, 20, (16, 4)),
        (0.15, 30, (25, 5)),
        (0.2, 40, (33, 7)),
        (0.25, 50, (42, 8)),
        (0.3, 58, None),
    ],
)
def test_budget_table(ratio: float, per_frame: int, split: tuple | None) -> None:
    tokens = make_tokens(0, 2, 14, 14, 4)
    _, out = run(tokens, retention_ratio=ratio, mu_s=0.03)
    assert out.info["tokens_per_frame"] == per_frame and out.kept == 2 * per_frame
    if split is not None:
        assert (out.info["n_dominant"], out.info["n_contextual"]) == split
    assert ("spatial_tokens_table" in out.info["budget_explanation"]) == (split is not None)


@pytest.mark.parametrize("variant", ["reference", "fixed"])
@pytest.mark.parametrize(
    ("dominant_ratio", "table", "shape"),
    [
        (1.0, ((0.1, 20),), (3, 14, 14)),  # n_ctx = 0
        (0.0, ((0.1, 20),), (3, 14, 14)),  # n_dom = 0: the reference walk may reach M = S
        (54 / 64, ((0.1, 20),), (3, 3, 3)),  # S_tok > S: every token kept
        (0.5, ((0.1, 1),), (2, 4, 6)),  # S_tok = 1, n_dom = 0
        (0.0, ((0.1, 24),), (2, 4, 6)),  # every token a target, nothing to merge
    ],
)
def test_edge_budgets(variant: str, dominant_ratio: float, table: tuple, shape: tuple) -> None:
    t, h, w = shape
    tokens = make_tokens(5, t, h, w, 6, sharp=4.0)
    params = VisionZipParams(spatial_tokens_table=table, dominant_ratio=dominant_ratio)
    cfg, out = run(tokens, retention_ratio=0.1, mu_s=0.03, variant=variant, params=params)
    s = h * w
    s_tok = min(table[0][1], s)
    assert out.kept == t * s_tok
    assert int(out.position.max()) < s
    if s_tok == s:
        assert "capped" in out.info["budget_explanation"] or table[0][1] == s
        if variant == "fixed":
            assert out.global_index.unique().numel() == t * s
    check_against_naive(tokens, cfg, out)


@pytest.mark.parametrize("shape", [(1, 14, 14), (2, 13, 13), (3, 4, 6)])
def test_grid_layouts(shape: tuple) -> None:
    t, h, w = shape
    s = h * w
    tokens = make_tokens(2, t, h, w, 5)
    newline = torch.full((5,), -7.0)
    _, ref = run(tokens, retention_ratio=0.25, mu_s=0.03, variant="reference")
    seq = lay_out(ref, newline, mode="grid")
    assert ref.grid_newlines == "every_row"
    assert int((seq == -7.0).all(dim=1).sum()) == t * h  # a newline after every row
    assert seq.shape[0] == ref.kept + t * h
    order = layout_order(ref, "grid")
    key = ref.frame_index * s + ref.layout_position
    assert torch.equal(order[order != NEWLINE], torch.sort(key, stable=True).indices)

    _, fix = run(tokens, retention_ratio=0.25, mu_s=0.03, variant="fixed")
    assert fix.layout_position is None and fix.grid_newlines == "nonempty_rows"
    seq = lay_out(fix, newline, mode="grid")
    rows = (fix.frame_index * h + fix.position // w).unique().numel()
    assert seq.shape[0] == fix.kept + rows
    order = layout_order(fix, "grid")
    tokens_order = order[order != NEWLINE]
    assert torch.equal(tokens_order, torch.sort(fix.global_index).indices)
    # one newline right after the last token of each non-empty row
    row_of = torch.full_like(order, -1)
    row_of[order != NEWLINE] = (fix.frame_index * h + fix.position // w)[tokens_order]
    nl = torch.nonzero(order == NEWLINE).flatten()
    assert bool((row_of[nl - 1] >= 0).all())
    assert nl[-1] == order.numel() - 1


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_inputs(dtype: torch.dtype) -> None:
    base = make_tokens(9, 4, 14, 14, 31)
    half = VideoTokens(
        features=base.features.to(dtype),
        attention=base.attention.to(dtype).float(),
        keys=base.keys.to(dtype),
        grid=(14, 14),
    )
    cfg, out = run(half, retention_ratio=0.2, mu_s=0.03, variant="fixed")
    assert out.features.dtype == dtype
    ref = naive_visionzip(half, cfg)
    assert torch.equal(out.position, ref["position"])
    torch.testing.assert_close(out.features, ref["features"].to(dtype))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("variant", ["reference", "fixed"])
def test_cuda_matches_cpu(variant: str) -> None:
    tokens = make_tokens(4, 6, 14, 14, 16, sharp=3.0)
    cuda = VideoTokens(
        features=tokens.features.cuda(),
        attention=tokens.attention.cuda(),
        keys=tokens.keys.cuda(),
        grid=(14, 14),
    )
    _, a = run(tokens, retention_ratio=0.1, mu_s=0.03, variant=variant)
    _, b = run(cuda, retention_ratio=0.1, mu_s=0.03, variant=variant)
    assert b.features.is_cuda and b.position.is_cuda
    assert torch.equal(a.position, b.position.cpu())
    torch.testing.assert_close(a.features, b.features.cpu(), atol=1e-5, rtol=1e-5)


# ---------------------------------------------------------------------------------------------
# Errors and parameters


def test_missing_inputs_are_named() -> None:
    tokens = make_tokens(0, 2, 14, 14, 4)
    cfg = PruningConfig(method="visionzip", retention_ratio=0.1)
    no_keys = VideoTokens(features=tokens.features, attention=tokens.attention)
    with pytest.raises(ValueError, match="keys"):
        prune(no_keys, cfg)
    with pytest.raises(ValueError, match="attention.*keys"):
        prune(VideoTokens(features=tokens.features), cfg)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"dominant_ratio": 1.5}, "1.5"),
        ({"dominant_ratio": -0.1}, "-0.1"),
        ({"sink_set_size": -2}, "-2"),
        ({"sink_set_size": 2.5}, "2.5"),
        ({"spatial_tokens_table": ((0.0, 5),)}, "0.0"),
        ({"spatial_tokens_table": ((1.2, 5),)}, "1.2"),
        ({"spatial_tokens_table": ((0.1, 0),)}, "0"),
        ({"spatial_tokens_table": ((0.1, 2.5),)}, "2.5"),
        ({"spatial_tokens_table": ((0.1, 5), (0.1, 6))}, "0.1"),
        ({"spatial_tokens_table": ((0.1,),)}, r"\(0.1,\)"),
    ],
)
def test_bad_params(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        VisionZipParams(**kwargs)
    with pytest.raises(ValueError, match=match):
        PruningConfig.preset("visionzip", **kwargs)


def test_params_round_trip() -> None:
    p = VisionZipParams(spatial_tokens_table=((0.3, 11),), dominant_ratio=0.5, sink_set_size=3)
    assert VisionZipParams.from_dict(p.to_dict()) == p
    cfg = PruningConfig.preset("visionzip", retention_ratio=0.3, variant="fixed")
    assert PruningConfig.from_dict(cfg.to_dict()) == cfg
    assert VisionZipParams(spatial_tokens_table=[[0.3, 11]]) == VisionZipParams(
        spatial_tokens_table=((0.3, 11),)
    )
    assert VisionZipParams().tokens_per_frame(0.1, 196) == 20
    assert VisionZipParams().tokens_per_frame(0.3, 196) == 58
    assert VisionZipParams().tokens_per_frame(0.001, 196) == 1
