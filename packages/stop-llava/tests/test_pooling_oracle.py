"""``pool_2d`` against loop transcriptions of its formulas and the official pooled goldens.

Bilinear (``align_corners=False``): output cell ``i`` of ``n_out`` samples the input at
``max((i + 0.5) * n_in / n_out - 0.5, 0)`` and mixes its two neighbours linearly. Average:
the mean of each 2x2 block (a trailing odd row/column dropped). ``fixtures/
pooled_golden_frames.pt`` holds two frames of the official 27x27 inputs and their pooled
14x14 outputs (``pooled_D64.pt`` of the reference goldens).
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from stop_llava.pooling import pool_2d, pooled_grid

FIXTURE = Path(__file__).parent / "fixtures" / "pooled_golden_frames.pt"


def bilinear_weights(n_in: int, n_out: int) -> torch.Tensor:
    """``[n_out, n_in]`` weights of 1-D linear interpolation, half-pixel centres, edge clamp."""
    w = torch.zeros(n_out, n_in, dtype=torch.float64)
    scale = n_in / n_out
    for i in range(n_out):
        src = max((i + 0.5) * scale - 0.5, 0.0)
        lo = min(math.floor(src), n_in - 1)
        hi = min(lo + 1, n_in - 1)
        frac = src - lo
        w[i, lo] += 1.0 - frac
        w[i, hi] += frac
    return w


def bilinear_loop(x: torch.Tensor, side: int) -> torch.Tensor:
    """``[F, side*side, C]`` -> ``[F, n*n, C]`` by separable loops over output cells."""
    f, _, c = x.shape
    n = math.ceil(side / 2)
    w = bilinear_weights(side, n)
    grid = x.double().view(f, side, side, c)
    out = torch.zeros(f, n, n, c, dtype=torch.float64)
    for i in range(n):
        for j in range(n):
            for a in range(side):
                if w[i, a] == 0:
                    continue
                for b in range(side):
                    if w[j, b] != 0:
                        out[:, i, j] += w[i, a] * w[j, b] * grid[:, a, b]
    return out.view(f, n * n, c)


def average_loop(x: torch.Tensor, side: int) -> torch.Tensor:
    """Mean of each 2x2 block of the ``side x side`` grid, floor of odd sides."""
    f, _, c = x.shape
    n = side // 2
    grid = x.double().view(f, side, side, c)
    out = torch.zeros(f, n, n, c, dtype=torch.float64)
    for i in range(n):
        for j in range(n):
            block = grid[:, 2 * i : 2 * i + 2, 2 * j : 2 * j + 2]
            out[:, i, j] = (block[:, 0, 0] + block[:, 0, 1] + block[:, 1, 0] + block[:, 1, 1]) / 4
    return out.view(f, n * n, c)


@pytest.mark.parametrize("side", [5, 8, 9, 27])
def test_bilinear_matches_the_loop_formula(side: int) -> None:
    x = torch.randn(2, side * side, 3, generator=torch.Generator().manual_seed(side))
    got = pool_2d(x, side, "bilinear")
    assert pooled_grid(side, "bilinear") == (math.ceil(side / 2),) * 2
    torch.testing.assert_close(got.double(), bilinear_loop(x, side), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("side", [4, 9, 13, 27])
def test_average_matches_the_loop_formula(side: int) -> None:
    x = torch.randn(2, side * side, 3, generator=torch.Generator().manual_seed(side))
    got = pool_2d(x, side, "average")
    assert pooled_grid(side, "average") == (side // 2,) * 2
    torch.testing.assert_close(got.double(), average_loop(x, side), atol=1e-6, rtol=1e-6)


def test_average_is_not_max_on_a_known_block() -> None:
    """One 2x2 block with values 1..4: the average is 2.5 (max would be 4)."""
    x = torch.tensor([1.0, 2.0, 3.0, 4.0]).view(1, 4, 1)
    assert pool_2d(x, 2, "average").item() == 2.5
    assert pool_2d(x, 2, "max").item() == 4.0


def test_bilinear_reproduces_the_official_pooled_goldens() -> None:
    gold = torch.load(FIXTURE, weights_only=True)
    features = gold["Zq"].float() * gold["scale"]
    torch.testing.assert_close(
        pool_2d(features, 27, "bilinear"), gold["pooled_features"], atol=1e-6, rtol=1e-6
    )
    attention = pool_2d(gold["attn"][..., None], 27, "bilinear")[..., 0]
    torch.testing.assert_close(attention, gold["pooled_attention"], atol=1e-9, rtol=1e-6)
    metric = pool_2d(gold["metric"].float(), 27, "bilinear")
    torch.testing.assert_close(metric, gold["pooled_metric"], atol=1e-6, rtol=1e-6)
    # and the independent loop agrees with the official outputs too
    torch.testing.assert_close(
        bilinear_loop(features, 27).float(), gold["pooled_features"], atol=1e-5, rtol=1e-5
    )
