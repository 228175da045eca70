"""``softmax_column_sums``: equals summing an explicit softmax, stays finite, checks inputs."""

from __future__ import annotations

import pytest
import torch

from stop_core.attention import softmax_column_sums


def test_equals_explicit_softmax_sums() -> None:
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(3, 20, 7, generator=g) * 4
    expected = torch.softmax(logits.double(), dim=-1).sum(dim=1).float()
    got = softmax_column_sums(logits.clone())
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-6)
    torch.testing.assert_close(got.sum(dim=1), torch.full((3,), 20.0))


def test_huge_logits_do_not_overflow() -> None:
    logits = torch.zeros(1, 4, 5)
    logits[0, :, 2] = 1e4  # one key takes all the attention of every row
    got = softmax_column_sums(logits)
    torch.testing.assert_close(got, torch.tensor([[0.0, 0.0, 4.0, 0.0, 0.0]]))


@pytest.mark.parametrize(
    ("logits", "message"),
    [
        (torch.zeros(4, 5), r"\[B, R, K\], got shape \(4, 5\)"),
        (torch.zeros(1, 4, 5, dtype=torch.float64), "float32.*torch.float64"),
    ],
)
def test_bad_input_is_named(logits: torch.Tensor, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        softmax_column_sums(logits)
