"""``holitom``: HoliTom (temporal windows, static clustering, dynamic top-k) with STSP and STTP.

Frames are grouped into windows by a DP over per-position cosine similarity; in each window
the positions that stay similar ("static") are averaged over time and clustered by DPC-kNN,
the other ("dynamic") tokens keep their top attention per frame (ALGORITHMS.md §3.4).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from stop_core.combination import TokenCombination
from stop_core.ops import (
    density_peak_score,
    finish,
    group_sum,
    pairwise_distance,
    requested_tokens,
)
from stop_core.params import MethodParams
from stop_core.sink import check_score_dtype, sink_score_rows
from stop_core.spec import CountPlan, MethodSpec, register_method
from stop_core.tokens import PrunedVideo, VideoTokens

if TYPE_CHECKING:
    from stop_core.config import PruningConfig

COSINE_EPS = 1e-8  # torch.nn.functional.cosine_similarity's default eps
NORMALIZE_EPS = 1e-12  # torch.nn.functional.normalize's default eps
GATHERED_MEAN_MIN = 1 << 16  # frame size from which window means read only the static rows


@dataclass(frozen=True)
class HoliTomParams(MethodParams):
    """HoliTom's knobs with the paper code's defaults (env ``T``, ``BETA``, ``D``, ``K``, ...).

    ``tau``: window DP threshold; ``dominant_d``: contextual share of the dynamic tokens.
    ``score_dtype="input"``: the sink score, ``A - mu_s * sink`` and ``cos + mu_t * sink`` in
    the attention's dtype (fp16/bf16 as in the official runs); distances stay float32.
    """

    tau: float = 0.8
    static_threshold: float = 0.8
    beta: float = 0.6
    dominant_d: float = 0.0
    knn: int = 7
    max_window_size: int = 1024
    static_sink_weight: float = 0.3
    score_dtype: str = "float32"

    def validate(self) -> None:
        """Check ranges: thresholds, ``beta`` and ``dominant_d`` in [0, 1], integers >= 1."""
        for name in ("tau", "static_threshold", "beta", "dominant_d", "static_sink_weight"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"HoliTomParams.{name} must be a number, got {value!r}")
        for name in ("tau", "static_threshold", "beta", "dominant_d"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"HoliTomParams.{name} must be in [0, 1], got {value}")
        for name in ("knn", "max_window_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"HoliTomParams.{name} must be an integer, got {value!r}")
            if value < 1:
                raise ValueError(f"HoliTomParams.{name} must be >= 1, got {value}")
        check_score_dtype("HoliTomParams", self.score_dtype)


def feature_similarity(features: torch.Tensor) -> torch.Tensor:
    """``[T-1, S]`` cosine per position between consecutive frames, as the reference computes it.

    Bit-equal to ``cosine_similarity(normalize(X)[:-1], normalize(X)[1:])`` (§8.6), no big copy:
    frame by frame into buffers laid out like the input (reductions round by layout), reused.
    """
    t, s, _ = features.shape
    out = torch.empty(max(t - 1, 0), s, dtype=torch.float32, device=features.device)
    if t < 2:
        return out
    cur, prev, product = (torch.empty_like(features[0], dtype=torch.float32) for _ in range(3))
    norm = features.new_empty((s, 1), dtype=torch.float32)
    for i in range(t):
        frame = features[i] if features.dtype == torch.float32 else features[i].float()
        torch.linalg.vector_norm(frame, dim=-1, keepdim=True, out=norm)
        torch.div(frame, norm.clamp_min_(NORMALIZE_EPS), out=cur)  # F.normalize
        torch.linalg.vector_norm(cur, dim=-1, keepdim=True, out=norm)
        cur.div_(norm.clamp_min_(COSINE_EPS))  # cosine_similarity's own normalisation
        if i > 0:
            torch.sum(torch.mul(prev, cur, out=product), dim=-1, out=out[i - 1])
        prev, cur = cur, prev
    return out


def static_counts(similar: torch.Tensor) -> np.ndarray:
    """``cnt[s, d]``: positions with ``similar[k]`` for all k in ``s..s+d-1``, ``[T-1, T]``.

    Read off the forward run length of every (frame, position): no loop over start frames.
    """
    n, s = similar.shape
    if n == 0:
        return np.zeros((0, 1), dtype=np.int64)
    idx = torch.arange(n, device=similar.device)[:, None].expand(n, s)
    first_false = torch.where(similar, torch.full_like(idx, n), idx)
    next_false = first_false.flip(0).cummin(dim=0).values.flip(0)
    run = next_false - idx  # [n, s] in 0..n
    hist = torch.bincount((idx * (n + 2) + run).flatten(), minlength=n * (n + 2)).view(n, n + 2)
    at_least = hist.flip(1).cumsum(1).flip(1)[:, : n + 1]
    return at_least.cpu().numpy()


def select_windows(
    similarity: torch.Tensor, tau: float, max_window_size: int
) -> tuple[list[tuple[int, int]], int]:
    """HoliTom's window DP: windows ``(start, end)`` in time order and the tokens they save.

    ``[s, e]`` saves ``(e - s) * #always-similar positions``; strict gains only (§8.4).
    """
    t = similarity.shape[0] + 1
    cnt = static_counts(similarity > tau)
    dp = np.zeros(t + 1, dtype=np.int64)  # dp[i + 1] = best saving for frames 0..i
    prev = np.zeros(t, dtype=np.int64)
    for i in range(t):
        best, start = int(dp[i]), i
        widths = np.arange(2, min(i + 1, max_window_size) + 1)
        if widths.size:
            starts = i - widths + 1
            values = dp[starts] + (widths - 1) * cnt[starts, widths - 1]
            j = int(np.argmax(values))  # first maximum = smallest width, as strict updates
            if int(values[j]) > best:
                best, start = int(values[j]), int(starts[j])
        dp[i + 1], prev[i] = best, start
    windows: list[tuple[int, int]] = []
    e = t - 1
    while e >= 0:
        windows.append((int(prev[e]), e))
        e = int(prev[e]) - 1
    return windows[::-1], int(dp[t])


def dpc_cluster_merge(
    z: torch.Tensor,
    num_clusters: int,
    knn: int,
    beta: float,
    generator: torch.Generator,
    penalty: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """DPC-kNN centres (sorted) of ``z [B, N, D]``, their cluster tokens ``[B, c, D]`` and weights.

    A token is the centre alone or ``beta * centre + (1 - beta) * mean(its members)`` (§8.3);
    the weights ``[B, c, N]`` say exactly that over the ``N`` inputs.
    """
    b, n, d = z.shape
    dist = pairwise_distance(z)
    score = density_peak_score(dist, min(knn, num_clusters), generator)
    if penalty is not None:
        score = score - penalty
    centres = score.topk(num_clusters, dim=-1).indices.sort(dim=-1).values  # [B, c]
    to_centre = dist.gather(2, centres[:, None, :].expand(b, n, num_clusters))
    assign = to_centre.argmin(dim=-1)  # [B, N], ties -> first centre
    member = torch.ones(b, n, dtype=torch.bool, device=z.device)
    member.scatter_(1, centres, False)
    onehot = torch.nn.functional.one_hot(assign, num_clusters).to(z.dtype)
    onehot = onehot * member[..., None].to(z.dtype)  # [B, N, c], centres excluded
    batch = torch.arange(b, device=z.device)[:, None] * num_clusters
    group = torch.where(member, batch + assign, b * num_clusters).flatten()  # centres dropped
    sums = group_sum(z.reshape(b * n, d), group, b * num_clusters).view(b, num_clusters, d)
    counts = onehot.sum(dim=1)  # [B, c]
    centre_feat = z.gather(1, centres[..., None].expand(b, num_clusters, d))
    mean = sums / counts.clamp(min=1)[..., None]
    merged = beta * centre_feat + (1 - beta) * mean
    merged = torch.where(counts[..., None] > 0, merged, centre_feat)
    has_members = counts > 0
    weight = (
        onehot.transpose(1, 2)
        * torch.where(has_members, (1 - beta) / counts.clamp(min=1), 0)[..., None]
    )
    centre_weight = torch.where(has_members, beta, 1.0).to(weight.dtype)
    weight = weight.scatter(2, centres[..., None], centre_weight[..., None])
    return centres, merged, weight


def _static_mean(x: torch.Tensor, static_pos: torch.Tensor) -> torch.Tensor:
    """``x.mean(dim=0)[static_pos]`` (float32), the reference's window mean, bit for bit.

    A channel-major window (as pooled) of frames of at least ``GATHERED_MEAN_MIN`` values is
    averaged over its gathered static rows instead: that rounds as the whole window's mean does
    (``test_holitom`` checks the backbone shapes) and skips a slow strided reduction. A
    token-major window, or smaller frames (where torch's reduction takes another path), take
    the reference's own op.
    """
    if x.is_contiguous() or x[0].numel() < GATHERED_MEAN_MIN:
        return x.mean(dim=0, dtype=torch.float32)[static_pos]
    return x[:, static_pos].mean(dim=0, dtype=torch.float32)


def _topk_ascending(score: torch.Tensor, k: int) -> torch.Tensor:
    """Indices of the ``k`` largest entries per row, in ascending index order."""
    return score.topk(k, dim=-1).indices.sort(dim=-1).values


@dataclass
class _Plan:
    """One window ``[start, end]``: its static/dynamic positions and how many tokens each keeps."""

    start: int
    end: int
    static_pos: torch.Tensor
    dyn_pos: torch.Tensor
    num_clusters: int  # round(n_s * r')
    n_dom: int  # attention top-k per frame
    n_ctx: int  # contextual share of ceil(n_d * r') (merged in the fixed variant only)

    def emitted(self, contextual: bool) -> int:
        """Tokens this window outputs."""
        per_frame = self.n_dom + (self.n_ctx if contextual else 0)
        return self.num_clusters + (self.end - self.start + 1) * per_frame


def _plan_windows(
    windows: list[tuple[int, int]],
    static_score: torch.Tensor,
    r_prime: float,
    p: HoliTomParams,
) -> list[_Plan]:
    """Static split (all frame pairs above ``static_threshold``) and the §8.5 counts per window."""
    s = static_score.shape[1]
    all_pos = torch.arange(s, device=static_score.device)
    plans = []
    for start, end in windows:
        if start == end:
            static = torch.zeros(s, dtype=torch.bool, device=static_score.device)
        else:
            static = (static_score[start:end] > p.static_threshold).all(dim=0)
        static_pos, dyn_pos = all_pos[static], all_pos[~static]
        n_total = math.ceil(int(dyn_pos.numel()) * r_prime)
        n_dom = round(n_total * (1 - p.dominant_d)) if p.dominant_d > 0 else n_total
        num_clusters = round(int(static_pos.numel()) * r_prime)
        plans.append(_Plan(start, end, static_pos, dyn_pos, num_clusters, n_dom, n_total - n_dom))
    return plans


def _prune_window(
    x: torch.Tensor,
    plan: _Plan,
    importance: torch.Tensor,
    sink_penalty: torch.Tensor | None,
    p: HoliTomParams,
    contextual: bool,
    generator: torch.Generator,
) -> tuple[
    list[torch.Tensor],
    list[torch.Tensor],
    list[torch.Tensor],
    torch.Tensor,
    torch.Tensor,
    TokenCombination,
]:
    """Features (float32), frames, positions, kept pos and combination of a window ``x [W, S, D]``.

    The combination says how each token was formed from the window's ``W * S`` tokens.
    Dynamic tokens are chosen before the static clusters, upstream's order of noise draws.
    """
    width, s, d = x.shape
    static_pos, dyn_pos, n_dom, n_ctx = plan.static_pos, plan.dyn_pos, plan.n_dom, plan.n_ctx
    n_d = int(dyn_pos.numel())
    frame_ids = torch.arange(plan.start, plan.end + 1, device=x.device)
    at = torch.arange(width, device=x.device)[:, None]  # rows are gathered as x[at, pos]
    local = at * s

    keep = _topk_ascending(importance[:, dyn_pos], n_dom)  # [W, n_dom]
    keep_pos = dyn_pos[keep]
    dyn_feat = x[at, keep_pos].float()  # [W, n_dom, D]
    dyn_weight = torch.zeros(width, n_dom, s, device=x.device).scatter_(2, keep_pos[..., None], 1.0)
    if contextual and n_ctx > 0:
        rest_mask = torch.ones(width, n_d, dtype=torch.bool, device=x.device)
        rest_mask.scatter_(1, keep, False)
        rest_pos = dyn_pos[rest_mask.nonzero()[:, 1].reshape(width, n_d - n_dom)]
        centres, merged, weight = dpc_cluster_merge(
            x[at, rest_pos].float(), n_ctx, p.knn, p.beta, generator
        )
        ctx_weight = torch.zeros(width, n_ctx, s, device=x.device).scatter_(
            2, rest_pos[:, None, :].expand(width, n_ctx, n_d - n_dom), weight
        )
        dyn_weight = torch.cat([dyn_weight, ctx_weight], dim=1)
        dyn_feat = torch.cat([dyn_feat, merged], dim=1)
        keep_pos = torch.cat([keep_pos, rest_pos.gather(1, centres)], dim=1)

    feats: list[torch.Tensor] = []
    frames: list[torch.Tensor] = []
    positions: list[torch.Tensor] = []
    centre_pos = static_pos[:0]
    parts: list[TokenCombination] = []
    if plan.num_clusters > 0:
        z = _static_mean(x, static_pos)[None]  # [1, n_s, D]
        centres, merged, weight = dpc_cluster_merge(
            z, plan.num_clusters, p.knn, p.beta, generator, sink_penalty
        )
        # each static input is itself the mean over the window's frames: weight / W per frame
        n_s = int(static_pos.numel())
        parts.append(
            TokenCombination.from_blocks(
                (weight[:, :, None, :] / width)
                .expand(1, plan.num_clusters, width, n_s)
                .reshape(1, plan.num_clusters, width * n_s),
                torch.arange(plan.num_clusters, device=x.device)[None],
                (local + static_pos).reshape(1, width * n_s),
                plan.num_clusters,
                width * s,
            )
        )
        centre_pos = static_pos[centres[0]]
        feats.append(merged[0])
        frames.append(frame_ids[:1].expand(plan.num_clusters))
        positions.append(centre_pos)

    n_keep = keep_pos.shape[1]
    feats.append(dyn_feat.reshape(width * n_keep, d))
    frames.append(frame_ids[:, None].expand(width, n_keep).reshape(-1))
    positions.append(keep_pos.reshape(-1))
    parts.append(
        TokenCombination.from_blocks(
            dyn_weight,
            torch.arange(width * n_keep, device=x.device).reshape(width, n_keep),
            torch.arange(width * s, device=x.device).reshape(width, s),
            width * n_keep,
            width * s,
        )
    )
    combination = TokenCombination.concat(parts, width * s)
    return feats, frames, positions, centre_pos, keep_pos, combination


def holitom(tokens: VideoTokens, cfg: PruningConfig, generator: torch.Generator) -> PrunedVideo:
    """HoliTom + STSP (dynamic top-k on ``A - mu_s*s``) + STTP (static on ``cos + mu_t*s``)."""
    p = cfg.params
    assert isinstance(p, HoliTomParams) and tokens.attention is not None
    fixed = cfg.variant == "fixed"
    x = tokens.features
    t, s, d = x.shape
    in_dtype = p.score_dtype == "input"
    att = tokens.attention.to(device=x.device)
    att = att if in_dtype else att.float()
    # [T, S], bit-exact with the reference (§8.6); frame t ranks with its own row (§8.17)
    sink_rows = sink_score_rows(att, cfg.gamma, input_dtype=in_dtype)
    sink = sink_rows[0]
    cos = feature_similarity(x)  # [T-1, S], float32
    windows, reduced = select_windows(cos, p.tau, p.max_window_size)
    total = t * s
    r_prime = float(min(cfg.retention_ratio / ((total - float(reduced)) / total), 1))

    # reference: every sink term is applied (with mu = 0 they vanish except the static
    # penalty, §5.9); fixed: a term only when its SToP strength is on
    importance = att - cfg.mu_s * sink_rows if (not fixed or cfg.mu_s > 0) else att
    split = cos.to(att.dtype) if in_dtype else cos  # STTP score in the chosen dtype
    static_score = split + cfg.mu_t * sink_rows[:-1] if (not fixed or cfg.mu_t > 0) else split
    sink_weight = p.static_sink_weight if (not fixed or cfg.mu_s > 0) else 0.0
    contextual = fixed and p.dominant_d > 0

    plans = _plan_windows(windows, static_score, r_prime, p)
    clamped = sum(plan.emitted(contextual) for plan in plans) == 0
    if clamped:  # every count rounded to 0: keep one token rather than an empty video
        with_static = [plan for plan in plans if plan.static_pos.numel() > 0]
        if with_static:
            with_static[0].num_clusters = 1
        else:
            plans[0].n_dom = 1

    feats: list[torch.Tensor] = []
    frames: list[torch.Tensor] = []
    positions: list[torch.Tensor] = []
    static_centres: list[torch.Tensor] = []
    dynamic_kept: list[torch.Tensor] = []
    window_parts: list[TokenCombination] = []
    for plan in plans:
        penalty = sink_weight * sink[plan.static_pos][None] if sink_weight > 0 else None
        f, fr, pos, centre_pos, keep_pos, comb = _prune_window(
            x[plan.start : plan.end + 1],
            plan,
            importance[plan.start : plan.end + 1],
            penalty,
            p,
            contextual,
            generator,
        )
        feats += f
        frames += fr
        positions += pos
        static_centres.append(centre_pos[None])
        dynamic_kept.append(keep_pos.to(torch.float32))
        window_parts.append(comb.shifted(plan.start * s, t * s))

    features = torch.cat(feats)
    info: dict[str, Any] = {
        "selected_frames": windows,
        "window_sizes": [e - b + 1 for b, e in windows],
        "total_reduced": float(reduced),
        "retain_ratio": r_prime,
        "tau": float(p.tau),
        "Beta": float(p.beta),
        "D": float(p.dominant_d),
        "K": int(p.knn),
        "sink_score": sink,
        "feature_sim": cos,
        "window_static_pos_before_merge": [plan.static_pos[None] for plan in plans],
        "window_dynamic_pos_before_merge": [
            plan.dyn_pos[None].expand(plan.end - plan.start + 1, -1).clone() for plan in plans
        ],
        "window_static_center_pos": static_centres,
        "window_dynamic_kept_pos": dynamic_kept,
        "static_sink_weight_applied": float(sink_weight),
    }
    if clamped:
        info["empty_output_clamped"] = (
            "every window's count rounded to 0 (the reference would emit no visual token); "
            "one token is kept instead"
        )
    if p.dominant_d > 0:
        dropped = 0 if fixed else sum((pl.end - pl.start + 1) * pl.n_ctx for pl in plans)
        info["dominant_d_note"] = (
            "contextual share of the dynamic tokens merged per frame by DPC-kNN clustering, "
            "as upstream HoliTom intends"
            if fixed
            else f"reference quirk: the contextual share ({dropped} tokens) is dropped, only "
            "round(ceil(n_d*r')*(1-D)) dominant tokens per frame are kept"
        )
    requested = requested_tokens(t, s, cfg.retention_ratio)
    return finish(
        tokens,
        cfg,
        features,
        torch.cat(frames),
        torch.cat(positions),
        info,
        grid_newlines="nonempty_rows",
        budget_note=_budget_note(cfg, features.shape[0], requested, reduced, r_prime, info),
        combination=TokenCombination.concat(window_parts, t * s),
    )


def plan_holitom(cfg: PruningConfig, num_frames: int, grid: tuple[int, int]) -> CountPlan:
    """``round(r * T * S)`` (``ops.requested_tokens``): the budget HoliTom's r' aims at.

    Its own count depends on the windows and static splits (rounding, STTP), i.e. on content.
    """
    n = requested_tokens(num_frames, grid[0] * grid[1], cfg.retention_ratio)
    return CountPlan(
        n,
        True,
        f"round(r * T * S) = {n}; the temporal windows and static splits decide how many "
        "tokens HoliTom itself keeps",
    )


def static_tokens(out: PrunedVideo) -> torch.Tensor:
    """``[N]`` bool: the static cluster tokens, ahead of their window's dynamic tokens.

    Read from the per-window counts that ``holitom`` records in ``info`` (none in an output
    that kept every token without running HoliTom).
    """
    lead = torch.zeros(out.kept, dtype=torch.bool, device=out.features.device)
    if "window_static_center_pos" not in out.info:
        return lead
    at = 0
    for centres, dynamic in zip(
        out.info["window_static_center_pos"], out.info["window_dynamic_kept_pos"], strict=True
    ):
        n_static = int(centres.shape[-1])
        lead[at : at + n_static] = True
        at += n_static + int(dynamic.numel())
    if at != out.kept:
        raise RuntimeError(f"holitom info describes {at} tokens but the output has {out.kept}")
    return lead


def _budget_note(
    cfg: PruningConfig,
    kept: int,
    requested: int,
    reduced: int,
    r_prime: float,
    info: dict[str, Any],
) -> str:
    """Why HoliTom's delivered count differs from ``round(r * T * S)``."""
    causes = ["rounding of these counts"]
    if cfg.mu_t > 0:
        causes.append("the STTP static split (cos + mu_t*sink) while r' uses the plain-cosine DP")
    if "dominant_d_note" in info and cfg.variant == "reference":
        causes.append("the dropped contextual share of the dynamic tokens (D > 0)")
    if "empty_output_clamped" in info:
        causes.append("one token kept because every count rounded to 0")
    return (
        f"HoliTom sets its own count: the window DP saves {reduced} tokens, so r' = "
        f"{r_prime:.6g}; each window keeps round(n_static*r') static clusters and "
        "ceil(n_dynamic*r') dynamic tokens per frame (ceil(S*r') for a single frame); "
        f"{' and '.join(causes)} give {kept} tokens instead of {requested}"
    )


register_method(
    MethodSpec(
        name="holitom",
        stop_terms=("STSP", "STTP"),
        params_type=HoliTomParams,
        run=holitom,
        plan=plan_holitom,
        leading_tokens=static_tokens,
        needs=frozenset({"attention"}),
        summary="HoliTom: window DP, static DPC-kNN clusters, dynamic attention top-k (+STSP/STTP)",
    )
)
