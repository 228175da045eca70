"""``scorer="norm"`` through the Qwen2.5-VL adapter: the scores pruned on are the feature proxy.

The proxy of the reference wrapper (ALGORITHMS.md §6) is ``||x|| * (1 + cos(x, frame mean))``
per merged token, normalised to sum 1 per frame; here it is recomputed with explicit sums
from the model's own ``get_video_features``. The scores ``prune`` receives and VisionZip's
dominant tokens (top ``A - mu_s * sink`` per frame, §3.1) must follow it, not the attention.
"""

from __future__ import annotations

import math

import pytest
import torch
from qwen_testkit import make_inputs

import stop_qwen.base as qwen_adapter
from stop_core import PruningConfig
from stop_qwen import stop_pruning


def proxy_scores(x: torch.Tensor) -> list[list[float]]:
    """``[T][S]`` feature-norm proxy, each frame divided by its sum (explicit loops)."""
    t, s, _ = x.shape
    x = x.double()
    out = []
    for f in range(t):
        mean = x[f].sum(dim=0) / s
        raw = []
        for i in range(s):
            norm = math.sqrt(float((x[f, i] * x[f, i]).sum()))
            cos = float((x[f, i] * mean).sum()) / max(
                norm * math.sqrt(float((mean * mean).sum())), 1e-8
            )
            raw.append(norm * (1 + cos))
        total = sum(raw)
        out.append([r / total for r in raw])
    return out


def sink_of(a: list[list[float]], gamma: float) -> list[float]:
    t, s = len(a), len(a[0])
    p = [(sum(a[f][i] for f in range(t)) / t) ** gamma for i in range(s)]
    lo, hi = min(p), max(p)
    return [(v - lo) / (hi - lo + 1e-12) for v in p]


@pytest.fixture
def recorded(monkeypatch):
    """Every (tokens, output) pair the adapter's ``prune`` call sees, the call unchanged."""
    calls = []
    real = qwen_adapter.prune

    def spy(tokens, cfg, generator=None):
        out = real(tokens, cfg, generator=generator)
        calls.append((tokens, out))
        return out

    monkeypatch.setattr(qwen_adapter, "prune", spy)
    return calls


def test_norm_scorer_prunes_on_the_feature_proxy(model, processor, recorded) -> None:
    inputs = make_inputs(processor, 2)
    cfg = PruningConfig.preset(
        "visionzip", backbone="qwen2_5_vl", scorer="norm", retention_ratio=0.3
    )
    with torch.no_grad():
        feats = model.model.get_video_features(
            inputs["pixel_values_videos"], inputs["video_grid_thw"]
        ).pooler_output
    with stop_pruning(model, cfg, scorer="norm"), torch.no_grad():
        model(**inputs)
    assert len(recorded) == 2
    for v, (tokens, out) in enumerate(recorded):
        t, s = tokens.attention.shape
        x = feats[v].reshape(t, s, -1)
        expected = proxy_scores(x)
        torch.testing.assert_close(
            tokens.attention.double(),
            torch.tensor(expected, dtype=torch.float64),
            atol=1e-6,
            rtol=1e-5,
        )
        # VisionZip's dominant tokens: top n_dom of proxy - mu_s * sink(proxy), per frame
        sink = sink_of(expected, cfg.gamma)
        dominant = out.info["dominant_idx"]
        n_dom = dominant.shape[1]
        for f in range(t):
            score = [expected[f][i] - cfg.mu_s * sink[i] for i in range(s)]
            top = sorted(sorted(range(s), key=lambda i: -score[i])[:n_dom])
            assert sorted(dominant[f].tolist()) == top, f"video {v} frame {f}"
