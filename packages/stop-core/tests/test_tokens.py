"""VideoTokens / prune input validation: every bad input names the problem."""

from __future__ import annotations

import math

import pytest
import torch

from stop_core import PruningConfig, VideoTokens, prune


def _tokens(t: int = 4, s: int = 16, d: int = 8, **kw: object) -> VideoTokens:
    g = torch.Generator().manual_seed(0)
    fields = {
        "features": torch.randn(t, s, d, generator=g),
        "attention": torch.rand(t, s, generator=g),
        "keys": torch.randn(t, s, 6, generator=g),
        "frame_embeddings": torch.randn(t, 5, generator=g),
    }
    fields.update(kw)
    return VideoTokens(**fields)  # type: ignore[arg-type]


def test_grid_inferred_for_square() -> None:
    assert _tokens().hw == (4, 4)
    assert VideoTokens(features=torch.zeros(2, 6, 3), grid=(2, 3)).hw == (2, 3)


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"features": torch.zeros(16, 8)}, "features must have 3 dimensions"),
        ({"features": torch.zeros(0, 16, 8)}, "zero frames"),
        ({"features": torch.zeros(4, 16, 8, dtype=torch.long)}, "floating-point"),
        ({"attention": torch.zeros(4, 15)}, r"attention shape \(4, 15\)"),
        ({"attention": torch.zeros(4, 16, 1)}, "attention must have 2 dimensions"),
        ({"keys": torch.zeros(3, 16, 6)}, r"keys shape \(3, 16, 6\)"),
        ({"frame_embeddings": torch.zeros(5, 5)}, "frame_embeddings shape"),
        ({"grid": (3, 5)}, r"grid \(3, 5\) has 15 cells but S = 16"),
        ({"features": torch.zeros(4, 15, 8), "attention": None, "keys": None}, "not a square"),
    ],
)
def test_bad_shapes(kw: dict, match: str) -> None:
    with pytest.raises((ValueError, TypeError), match=match):
        _tokens(**kw)


@pytest.mark.parametrize("field", ["features", "attention", "keys", "frame_embeddings"])
@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_non_finite_rejected(field: str, bad: float) -> None:
    good = _tokens()
    x = getattr(good, field).clone()
    x.view(-1)[3] = bad
    kind = "NaN" if math.isnan(bad) else "inf"
    with pytest.raises(ValueError, match=f"{field} contains {kind}"):
        _tokens(**{field: x})


def test_not_a_tensor() -> None:
    with pytest.raises(TypeError, match="features must be a torch.Tensor"):
        VideoTokens(features=[[1.0]])  # type: ignore[arg-type]


def test_prune_argument_types() -> None:
    with pytest.raises(TypeError, match="VideoTokens"):
        prune(torch.zeros(2, 4, 4), PruningConfig("none"))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="PruningConfig"):
        prune(_tokens(), {"method": "none"})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="generator"):
        prune(_tokens(), PruningConfig("random"), generator=0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("method", "missing"),
    [("visionzip", "keys"), ("fastvid", "frame_embeddings"), ("holitom", "attention")],
)
def test_missing_inputs_named(method: str, missing: str) -> None:
    tokens = _tokens(**{missing: None})
    with pytest.raises(ValueError, match=f"needs VideoTokens fields .*{missing}"):
        prune(tokens, PruningConfig.preset(method))


@pytest.mark.parametrize("method", ["none", "visionzip", "fastvid", "holitom", "flashvid"])
def test_full_retention_keeps_everything_in_order(method: str) -> None:
    tokens = _tokens()
    out = prune(tokens, PruningConfig.preset(method, retention_ratio=1.0))
    assert torch.equal(out.features, tokens.features.reshape(-1, 8))
    assert torch.equal(out.global_index, torch.arange(64))
    assert out.kept == out.requested == 64


def test_output_dtype_follows_input() -> None:
    tokens = _tokens(features=torch.randn(4, 16, 8).to(torch.bfloat16))
    for method in ("none", "uniform", "random"):
        out = prune(tokens, PruningConfig(method, retention_ratio=0.3))
        assert out.features.dtype == torch.bfloat16
