"""The sink score of ALGORITHMS.md §2 and the STSP adjustment."""

from __future__ import annotations

import math

import pytest
import torch

from stop_core import sink_score, stsp_importance


def test_sink_score_formula_by_hand() -> None:
    att = torch.tensor([[0.1, 0.2, 0.7], [0.3, 0.2, 0.5]])
    mean = [0.2, 0.2, 0.6]
    powered = [m**1.1 for m in mean]
    lo, hi = min(powered), max(powered)
    expected = torch.tensor([(p - lo) / (hi - lo + 1e-12) for p in powered])
    torch.testing.assert_close(sink_score(att, 1.1), expected)


def test_persistent_position_is_the_sink() -> None:
    g = torch.Generator().manual_seed(1)
    att = torch.rand(16, 49, generator=g) * 0.01
    att[:, 7] += 0.2  # high in every frame: a sink
    att[3, 30] += 1.0  # high in one frame only: an event, not a sink
    s = sink_score(att)
    assert int(s.argmax()) == 7 and float(s[7]) == 1.0
    assert float(s[30]) < 0.5
    assert float(s.min()) == 0.0


def test_gamma_only_reshapes() -> None:
    att = torch.rand(4, 10)
    assert torch.equal(sink_score(att, 1.0).argsort(), sink_score(att, 2.0).argsort())


def test_stsp_lowers_sinks() -> None:
    att = torch.tensor([[0.5, 0.4]])
    assert stsp_importance(att, torch.tensor([1.0, 0.0]), 0.2).argmax() == 1


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="attention must have 2 dimensions"):
        sink_score(torch.rand(10))
    with pytest.raises(ValueError, match="NaN"):
        sink_score(torch.tensor([[0.1, math.nan]]))
    with pytest.raises(ValueError, match="gamma"):
        sink_score(torch.rand(2, 3), gamma=-1.0)
