"""FlashVID ``fixed`` with SToP against a loop transcription of ALGORITHMS.md §3.3.

The oracle follows the spec's pseudo-code with Python loops (segments, ADTS greedy, the TAM
loop run in place from the last frame, per-frame DPC-kNN), plus the fixed variant's rules:
unique cuts, ADTS never re-selects a token, a one-frame segment clusters only its non-ADTS
tokens, and the sink term is on only when ``mu_s > 0``.
"""

from __future__ import annotations

import math

import pytest
import torch

from stop_core import PruningConfig, VideoTokens, prune
from stop_core.methods.flashvid import FlashVidParams


def video(seed: int, t: int = 12, h: int = 6, w: int = 6, d: int = 16) -> VideoTokens:
    """Two drifting scenes (segments, TAM merges) with positive features and one sink."""
    g = torch.Generator().manual_seed(seed)
    s = h * w
    scenes = torch.randn(3, s, d, generator=g)
    base = scenes[torch.arange(t) * 3 // t]
    feats = 2.0 + base + 0.35 * torch.randn(t, s, d, generator=g)
    att = torch.softmax(torch.randn(t, s, generator=g) * 1.5, dim=-1)
    att[:, 5] += 0.04  # a persistent sink
    return VideoTokens(features=feats, attention=att / att.sum(-1, keepdim=True), grid=(h, w))


def sink_of(att: torch.Tensor, gamma: float) -> list[float]:
    """§2 over the frames given: temporal mean, power, min-max over positions."""
    f, s = att.shape
    p = [float(sum(float(att[t, i]) for t in range(f)) / f) ** gamma for i in range(s)]
    lo, hi = min(p), max(p)
    return [(v - lo) / (hi - lo + 1e-12) for v in p]


def segments(x: torch.Tensor, p: FlashVidParams) -> list[int]:
    t = x.shape[0]
    f = [x[i].double().mean(dim=0) for i in range(t)]
    c = [float(torch.dot(f[i], f[i + 1]) / (f[i].norm() * f[i + 1].norm())) for i in range(t - 1)]
    cuts = [i for i in range(t - 1) if c[i] < p.segment_threshold]
    need = p.min_segment_num - len(cuts) - 1
    if need > 0:
        c2 = [1.0 if i in cuts else c[i] for i in range(t - 1)]
        cuts += sorted(range(t - 1), key=lambda i: c2[i])[: min(need, t - 1)]
    bounds = [-1, *sorted(set(cuts)), t - 1]  # fixed: duplicate cuts removed
    return [b - a for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def adts(xs: torch.Tensor, imp: list[list[float]], n_adts: int) -> list[list[int]]:
    """Greedy max-min over (1 - cos) * A' * <x, segment mean>, without re-selection."""
    f, s, _ = xs.shape
    mu = xs.double().mean(dim=(0, 1))
    chosen_all = []
    for b in range(f):
        xb = xs[b].double()
        rel = [float(xb[n] @ mu) for n in range(s)]
        cos = [
            [float(xb[i] @ xb[n] / (xb[i].norm() * xb[n].norm())) for n in range(s)]
            for i in range(s)
        ]
        dist = [[(1 - cos[i][n]) * imp[b][n] * 1e6 * rel[n] for n in range(s)] for i in range(s)]
        second = [sorted(dist[i][n] for i in range(s))[1] for n in range(s)]
        chosen = [max(range(s), key=lambda n: (second[n], -n))]
        while len(chosen) < min(n_adts, s):
            free = [n for n in range(s) if n not in chosen]
            chosen.append(max(free, key=lambda n: (min(dist[k][n] for k in chosen), -n)))
        chosen_all.append(sorted(chosen))
    return chosen_all


def tam(xs: torch.Tensor, adts_pos: list[list[int]], lower: int, th0: float):
    """Temporal average merging, the spec's in-place loop from the last frame down."""
    f, s, _ = xs.shape
    x = xs.double().clone()
    best = [[-1.0] * s]
    arg = [[0] * s]
    for t in range(1, f):
        bt, at = [], []
        for n in range(s):
            vals = []
            for m in range(s):
                if n in adts_pos[t] or m in adts_pos[t - 1]:
                    vals.append(-1.0)
                else:
                    vals.append(
                        float(x[t, n] @ x[t - 1, m] / (x[t, n].norm() * x[t - 1, m].norm()))
                    )
            j = max(range(s), key=lambda m: (vals[m], -m))
            bt.append(vals[j])
            at.append(j)
        best.append(bt)
        arg.append(at)
    merge = [[best[t][n] > th0 for n in range(s)] for t in range(f)]
    if sum(not v for row in merge for v in row) < lower:
        k = f * s - lower
        th = max(sorted((v for row in best for v in row), reverse=True)[k - 1], -1 + 1e-6)
        merge = [[best[t][n] > th for n in range(s)] for t in range(f)]
    cnt = [[1] * s for _ in range(f)]
    for t in range(f - 1, -1, -1):
        for n in range(s):
            if not merge[t][n]:
                x[t, n] /= cnt[t][n]
                cnt[t][n] = 1
        for n in range(s):
            if merge[t][n]:
                x[t - 1, arg[t][n]] += x[t, n]
                cnt[t - 1][arg[t][n]] += 1
                cnt[t][n] = 0
    kept = [[n for n in range(s) if not merge[t][n] and n not in adts_pos[t]] for t in range(f)]
    return x, kept


def dpc(z: torch.Tensor, nc: int, gen: torch.Generator) -> tuple[list[int], list[int]]:
    """DPC-kNN in fp32 as the spec says: centres in score order, each token's centre.

    Densities near 1 tie in fp32 more often than the 1e-6 noise separates them; fp32
    arithmetic keeps those ties where the reference has them.
    """
    n, d = z.shape
    z = z.float()
    noise = torch.rand((1, n), generator=gen)[0]
    dist = [[float((z[i] - z[j]).norm()) / math.sqrt(d) for j in range(n)] for i in range(n)]
    k = min(nc, 7)
    dens = []
    for i in range(n):
        nearest = torch.tensor(sorted(dist[i])[:k], dtype=torch.float32)
        dens.append(float(torch.exp(-(nearest**2).mean()) + noise[i] * 1e-6))
    dmax = max(max(row) for row in dist)
    score = []
    for i in range(n):
        denser = [dist[i][j] for j in range(n) if dens[j] > dens[i]]
        score.append((min(denser) if denser else dmax) * dens[i])
    centres = sorted(range(n), key=lambda i: (-score[i], i))[:nc]
    assign = [min(range(nc), key=lambda c: (dist[j][centres[c]], c)) for j in range(n)]
    for c, i in enumerate(centres):
        assign[i] = c
    return centres, assign


def oracle(tokens: VideoTokens, cfg: PruningConfig, gen: torch.Generator):
    """Global indices (sorted) and features of FlashVID fixed, per the spec."""
    p = cfg.params
    x, att = tokens.features.float(), tokens.attention.float()
    t, s, d = x.shape
    budget = math.ceil(s * cfg.retention_ratio * p.expansion)
    n_adts = math.ceil(budget * p.alpha)
    n_sttm = budget - n_adts
    out: list[tuple[int, torch.Tensor]] = []
    start = 0
    for length in segments(x, p):
        xs, a = x[start : start + length], att[start : start + length]
        sink = sink_of(a, cfg.gamma) if cfg.mu_s > 0 else [0.0] * s
        imp = [[float(a[b, n]) - cfg.mu_s * sink[n] for n in range(s)] for b in range(length)]
        chosen = adts(xs, imp, n_adts)
        for b in range(length):
            out += [((start + b) * s + n, xs[b, n].double()) for n in chosen[b]]
        if n_sttm > 0:
            if length > 1:
                values, kept = tam(xs, chosen, budget * length, p.temporal_threshold)
            else:
                values, kept = xs.double(), [[n for n in range(s) if n not in chosen[0]]]
            total = sum(len(k) for k in kept)
            ratio = n_sttm * length / total if total else 1.0
            for b in range(length):
                rows = values[b, kept[b]]
                if ratio >= 1.0:
                    out += [((start + b) * s + n, values[b, n]) for n in kept[b]]
                    continue
                nc = math.ceil(len(kept[b]) * ratio)
                if nc == 0:
                    continue
                centres, assign = dpc(rows, nc, gen)
                for c, i in enumerate(centres):
                    members = [j for j in range(len(kept[b])) if assign[j] == c]
                    out.append(((start + b) * s + kept[b][i], rows[members].mean(dim=0)))
        start += length
    out.sort(key=lambda item: item[0])
    return torch.tensor([g for g, _ in out]), torch.stack([f for _, f in out])


def fixed_cfg(mu_s: float, ratio: float) -> PruningConfig:
    return PruningConfig(
        method="flashvid",
        retention_ratio=ratio,
        mu_s=mu_s,
        variant="fixed",
        params=FlashVidParams(),
    )


@pytest.mark.parametrize(
    ("seed", "t", "h", "w", "ratio"),
    [(0, 12, 6, 6, 0.2), (1, 10, 5, 7, 0.3), (2, 6, 6, 6, 0.15), (3, 9, 4, 4, 0.4)],
)
def test_fixed_with_stop_matches_the_loop_oracle(seed, t, h, w, ratio) -> None:
    tokens = video(seed, t, h, w)
    cfg = fixed_cfg(0.02, ratio)
    out = prune(tokens, cfg, generator=torch.Generator().manual_seed(7))
    gidx, feats = oracle(tokens, cfg, torch.Generator().manual_seed(7))
    assert torch.equal(out.global_index, gidx)
    torch.testing.assert_close(out.features.double(), feats, atol=1e-5, rtol=1e-5)


def test_the_sink_term_changes_the_oracle() -> None:
    """On these inputs STSP moves ADTS choices, so a wrong sign cannot pass unnoticed."""
    tokens = video(0)
    with_sink = oracle(tokens, fixed_cfg(0.02, 0.2), torch.Generator().manual_seed(7))[0]
    without = oracle(tokens, fixed_cfg(0.0, 0.2), torch.Generator().manual_seed(7))[0]
    assert with_sink.shape != without.shape or not torch.equal(with_sink, without)
