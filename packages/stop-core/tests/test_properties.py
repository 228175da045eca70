"""Property tests over random shapes, budgets and variants for every registered method."""

from __future__ import annotations

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stop_core import PruningConfig, VideoTokens, available_methods, prune

METHODS = available_methods()


def make_tokens(seed: int, t: int, h: int, w: int, d: int) -> VideoTokens:
    g = torch.Generator().manual_seed(seed)
    s = h * w
    att = torch.softmax(torch.randn(t, s, generator=g) * 2, dim=-1)
    return VideoTokens(
        features=torch.randn(t, s, d, generator=g),
        attention=att,
        keys=torch.randn(t, s, 5, generator=g),
        frame_embeddings=torch.randn(t, 7, generator=g),
        grid=(h, w),
    )


cases = st.fixed_dictionaries(
    {
        "seed": st.integers(0, 2**16),
        "t": st.integers(1, 64),
        "h": st.integers(1, 14),
        "w": st.integers(1, 14),
        "d": st.integers(1, 24),
        "ratio": st.one_of(st.floats(0.01, 1.0), st.sampled_from([0.1, 0.15, 0.2, 0.25, 1.0])),
        "variant": st.sampled_from(["reference", "fixed"]),
        "use_stop": st.booleans(),
    }
)


@pytest.mark.parametrize("method", METHODS)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases)
def test_invariants(method: str, case: dict) -> None:
    tokens = make_tokens(case["seed"], case["t"], case["h"], case["w"], case["d"])
    cfg = PruningConfig.preset(
        method,
        retention_ratio=case["ratio"],
        use_stop=case["use_stop"],
        variant=case["variant"],
    )
    out = prune(tokens, cfg, generator=torch.Generator().manual_seed(1))
    t, s, d = tokens.features.shape
    n = out.kept
    assert n >= 1
    assert out.features.shape == (n, d)
    assert out.features.dtype == tokens.features.dtype
    assert torch.isfinite(out.features).all()
    assert out.frame_index.dtype == torch.long and out.position.dtype == torch.long
    assert int(out.frame_index.min()) >= 0 and int(out.frame_index.max()) < t
    assert int(out.position.min()) >= 0 and int(out.position.max()) < s
    # the LLM sees frames in time order for every method (ALGORITHMS.md §3.5)
    assert bool((out.frame_index[1:] >= out.frame_index[:-1]).all())
    assert out.requested == max(1, int(case["ratio"] * t * s + 0.5))
    assert out.kept == out.requested or "budget_explanation" in out.info
    if cfg.variant == "fixed" or cfg.method not in ("visionzip", "flashvid"):
        gi = out.global_index
        assert gi.unique().numel() == gi.numel(), "duplicate tokens"
    again = prune(tokens, cfg, generator=torch.Generator().manual_seed(1))
    assert torch.equal(again.features, out.features)
    assert torch.equal(again.global_index, out.global_index)
    if case["ratio"] == 1.0:
        assert torch.equal(out.features, tokens.features.reshape(t * s, d))


@pytest.mark.parametrize("method", METHODS)
@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**16), ratio=st.floats(0.05, 0.5))
def test_fixed_without_stop_ignores_sink_parameters(method: str, seed: int, ratio: float) -> None:
    """With mu = 0 the fixed variant is the base method: gamma (sink shape) cannot matter."""
    tokens = make_tokens(seed, 12, 6, 6, 8)
    base = PruningConfig.preset(method, retention_ratio=ratio, use_stop=False, variant="fixed")
    a = prune(tokens, base, generator=torch.Generator().manual_seed(0))
    b = prune(tokens, base.replace(gamma=3.0), generator=torch.Generator().manual_seed(0))
    assert torch.equal(a.global_index, b.global_index)
    assert torch.equal(a.features, b.features)
