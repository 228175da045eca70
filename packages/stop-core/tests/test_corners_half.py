"""Half-precision inputs: sink and STSP scores in float32 (default) or in the input dtype.

The official runs computed the sink score and ``A - mu_s * sink`` in fp16 (ALGORITHMS.md §1,
§5.20); ``score_dtype="input"`` does the same. Each check transcribes the §2 rule with plain
torch ops in the working dtype and asks that the kept tokens are a top-k of those scores.
"""

from __future__ import annotations

import pytest
import torch

from stop_core import PruningConfig, VideoTokens, prune
from stop_core.methods.fastvid import FastVidParams
from stop_core.methods.flashvid import FlashVidParams
from stop_core.methods.holitom import HoliTomParams
from stop_core.methods.visionzip import VisionZipParams

DTYPES = [torch.float16, torch.bfloat16]
MU_S = 0.05


def half_tokens(seed: int, dtype: torch.dtype, t: int = 8, grid: tuple[int, int] = (14, 14)):
    """Seeded inputs in ``dtype``: softmax attention with persistent sinks, scene-like frames."""
    gen = torch.Generator().manual_seed(seed)
    s = grid[0] * grid[1]
    bias = torch.randn(s, generator=gen) * 2.0
    att = torch.softmax(bias + torch.randn(t, s, generator=gen), dim=-1)
    scene = torch.arange(t) * 3 // t
    emb = torch.randn(3, 32, generator=gen)[scene] + 0.1 * torch.randn(t, 32, generator=gen)
    return VideoTokens(
        features=torch.randn(t, s, 16, generator=gen).to(dtype),
        attention=att.to(dtype),
        keys=torch.randn(t, s, 8, generator=gen).to(dtype),
        frame_embeddings=emb,
        grid=grid,
    )


def rule_scores(attention: torch.Tensor, gamma: float, mu_s: float, in_dtype: bool):
    """§2 in the working dtype: ``A - mu_s * minmax(mean_t(A) repeated ** gamma)``, and the sink."""
    a = attention if in_dtype else attention.float()
    p = a.mean(dim=0).repeat(a.shape[0], 1) ** gamma
    lo, hi = p.amin(dim=1, keepdim=True), p.amax(dim=1, keepdim=True)
    sink = (p - lo) / (hi - lo + 1e-12)
    return a - mu_s * sink, sink


def assert_top_k(score: torch.Tensor, chosen: list[int]) -> None:
    """``chosen`` is a top-k of ``score``: no unchosen score beats a chosen one."""
    rest = [i for i in range(score.numel()) if i not in set(chosen)]
    if chosen and rest:
        assert min(float(score[i]) for i in chosen) >= max(float(score[i]) for i in rest)


@pytest.mark.parametrize("score_dtype", ["input", "float32"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", range(6))
def test_visionzip_dominant_tokens_rank_in_the_chosen_dtype(seed, dtype, score_dtype) -> None:
    tokens = half_tokens(seed, dtype)
    cfg = PruningConfig(
        "visionzip",
        retention_ratio=0.3,
        mu_s=MU_S,
        params=VisionZipParams(score_dtype=score_dtype),
    )
    out = prune(tokens, cfg, generator=torch.Generator())
    score, sink = rule_scores(tokens.attention, cfg.gamma, MU_S, score_dtype == "input")
    assert out.info["sink_score"].dtype == score.dtype
    assert torch.equal(out.info["sink_score"], sink[0])
    for t in range(tokens.num_frames):
        assert_top_k(score[t], out.info["dominant_idx"][t].tolist())
    assert out.features.dtype == dtype


@pytest.mark.parametrize("score_dtype", ["input", "float32"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", range(6))
def test_fastvid_salient_tokens_rank_in_the_chosen_dtype(seed, dtype, score_dtype) -> None:
    tokens = half_tokens(seed, dtype)
    cfg = PruningConfig(
        "fastvid", retention_ratio=0.3, mu_s=MU_S, params=FastVidParams(score_dtype=score_dtype)
    )
    out = prune(tokens, cfg, generator=torch.Generator().manual_seed(seed))
    score, sink = rule_scores(tokens.attention, cfg.gamma, MU_S, score_dtype == "input")
    assert torch.equal(out.info["sink_score"], sink[0])
    for t in range(tokens.num_frames):
        assert_top_k(score[t], out.info["salient_indexes"][t].tolist())
    assert out.features.dtype == dtype


@pytest.mark.parametrize("score_dtype", ["input", "float32"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", range(4))
def test_flashvid_segment_sink_in_the_chosen_dtype(seed, dtype, score_dtype) -> None:
    tokens = half_tokens(seed, dtype, t=12)
    cfg = PruningConfig(
        "flashvid", retention_ratio=0.3, mu_s=MU_S, params=FlashVidParams(score_dtype=score_dtype)
    )
    out = prune(tokens, cfg, generator=torch.Generator().manual_seed(seed))
    start = 0
    for length, got in zip(
        out.info["segment_lengths"].tolist(), out.info["sink_score_per_segment"], strict=True
    ):
        seg = tokens.attention[start : start + length]
        _, sink = rule_scores(seg, cfg.gamma, MU_S, score_dtype == "input")
        assert torch.equal(got, sink[0])
        start += length
    assert out.features.dtype == dtype


def holitom_half_tokens(seed: int, dtype: torch.dtype, t: int = 12) -> VideoTokens:
    """Scenes of static background with persistent sinks, in ``dtype`` (static windows form)."""
    gen = torch.Generator().manual_seed(seed)
    s, d = 36, 16
    scene = torch.arange(t) // 4
    x = torch.randn(3, s, d, generator=gen)[scene] + 0.5 * torch.randn(t, s, d, generator=gen)
    moving = torch.rand(s, generator=gen) < 0.3
    x[:, moving] = torch.randn(t, int(moving.sum()), d, generator=gen)
    bias = torch.randn(s, generator=gen) * 2.0
    att = torch.softmax(bias + torch.randn(t, s, generator=gen), dim=-1)
    return VideoTokens(features=x.to(dtype), attention=att.to(dtype), grid=(6, 6))


@pytest.mark.parametrize("variant", ["reference", "fixed"])
@pytest.mark.parametrize("score_dtype", ["input", "float32"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", range(4))
def test_holitom_stsp_and_sttp_in_the_chosen_dtype(seed, dtype, score_dtype, variant) -> None:
    """Dynamic tokens: a top-k of ``A[f] - mu_s*S[f]``; static split: ``cos + mu_t*S > 0.8``."""
    tokens = holitom_half_tokens(seed, dtype)
    mu_t = 0.07
    cfg = PruningConfig(
        "holitom",
        retention_ratio=0.3,
        mu_s=MU_S,
        mu_t=mu_t,
        variant=variant,
        params=HoliTomParams(score_dtype=score_dtype),
    )
    out = prune(tokens, cfg, generator=torch.Generator().manual_seed(seed))
    in_dtype = score_dtype == "input"
    score, sink = rule_scores(tokens.attention, cfg.gamma, MU_S, in_dtype)
    assert out.info["sink_score"].dtype == score.dtype
    assert torch.equal(out.info["sink_score"], sink[0])
    cos = out.info["feature_sim"]  # float32 cosine; rounded to the working dtype for STTP
    split = (cos.to(dtype) if in_dtype else cos) + mu_t * sink[:-1]
    assert split.dtype == score.dtype
    windows = out.info["selected_frames"]
    assert any(b > a for a, b in windows)
    for w, (a, b) in enumerate(windows):
        static = (split[a:b] > 0.8).all(dim=0) if b > a else torch.zeros(36, dtype=torch.bool)
        got = out.info["window_static_pos_before_merge"][w][0]
        assert got.tolist() == torch.nonzero(static).flatten().tolist()
        dyn = torch.nonzero(~static).flatten()
        for f in range(a, b + 1):
            kept = out.info["window_dynamic_kept_pos"][w][f - a].long()
            local = [int(torch.nonzero(dyn == p)) for p in kept]
            assert_top_k(score[f, dyn], local)
    assert out.features.dtype == dtype


@pytest.mark.parametrize("method", ["visionzip", "fastvid", "flashvid", "holitom"])
def test_input_dtype_scores_change_the_choice_somewhere(method: str) -> None:
    """bf16 rounding of the scores changes some selection over a few seeds (the option acts)."""
    params = {
        "visionzip": VisionZipParams,
        "fastvid": FastVidParams,
        "flashvid": FlashVidParams,
        "holitom": HoliTomParams,
    }
    changed = 0
    for seed in range(8):
        tokens = (
            holitom_half_tokens(seed, torch.bfloat16)
            if method == "holitom"
            else half_tokens(seed, torch.bfloat16, t=12)
        )
        outs = [
            prune(
                tokens,
                PruningConfig(
                    method, retention_ratio=0.3, mu_s=MU_S, params=params[method](score_dtype=sd)
                ),
                generator=torch.Generator().manual_seed(seed),
            )
            for sd in ("float32", "input")
        ]
        changed += not torch.equal(outs[0].global_index, outs[1].global_index)
    assert changed > 0


def test_fp32_inputs_are_unchanged_by_the_option() -> None:
    tokens = half_tokens(3, torch.float32)
    for method, kind in (
        ("visionzip", VisionZipParams),
        ("fastvid", FastVidParams),
        ("holitom", HoliTomParams),
    ):
        outs = [
            prune(
                tokens,
                PruningConfig(method, 0.3, mu_s=MU_S, params=kind(score_dtype=sd)),
                generator=torch.Generator().manual_seed(0),
            )
            for sd in ("float32", "input")
        ]
        assert torch.equal(outs[0].features, outs[1].features)


@pytest.mark.parametrize("kind", [VisionZipParams, FastVidParams, FlashVidParams, HoliTomParams])
def test_bad_score_dtype_names_the_value(kind) -> None:
    with pytest.raises(ValueError, match="score_dtype.*'half'"):
        kind(score_dtype="half")
