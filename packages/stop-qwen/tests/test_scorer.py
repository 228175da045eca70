"""The feature-norm scorer of the reference and the per-frame attention normalisation."""

from __future__ import annotations

import torch
from qwen_testkit import GENERATE, make_inputs

from stop_core import PruningConfig
from stop_qwen import norm_importance, normalize_per_frame, stop_pruning


def test_norm_importance_formula() -> None:
    x = torch.tensor([[[3.0, 4.0], [0.0, 1.0]]])
    mean = x.mean(dim=1)
    cos = torch.nn.functional.cosine_similarity(x[0], mean.expand(2, 2), dim=-1)
    expected = torch.tensor([[5.0, 1.0]]) * (1 + cos)
    torch.testing.assert_close(norm_importance(x), expected)


def test_normalize_per_frame() -> None:
    a = torch.tensor([[1.0, 3.0], [2.0, 2.0]])
    torch.testing.assert_close(normalize_per_frame(a), torch.tensor([[0.25, 0.75], [0.5, 0.5]]))


def test_norm_scorer_with_reference_preset(model, processor) -> None:
    cfg = PruningConfig.preset(
        "visionzip", backbone="qwen2_5_vl", scorer="norm", retention_ratio=0.3
    )
    assert cfg.mu_s == 3.7
    inputs = make_inputs(processor, 2)
    with stop_pruning(model, cfg, scorer="norm") as adapter, torch.no_grad():
        out = model.generate(**inputs, **GENERATE)
    assert out.sequences.shape[1] < inputs["input_ids"].shape[1] + GENERATE["max_new_tokens"]
    assert all(r.notes["scorer"] == "norm" for r in adapter.accounting)
