"""``fastvid``: FastVID (DySeg, salient tokens, density-peak contexts) with SToP's STSP.

Frames are cut into segments by frame-embedding similarity; every frame keeps its most
attended tokens, and contextual tokens (density-peak targets merged with the tokens most
similar to them) come from single-frame segments and from the anchor frames of longer ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F  # noqa: N812

from stop_core.combination import TokenCombination
from stop_core.ops import (
    DENSITY_NOISE,
    distance_to_denser,
    finish,
    group_sum,
    requested_tokens,
    self_cdist,
)
from stop_core.params import MethodParams
from stop_core.sink import check_score_dtype, sink_score_rows
from stop_core.spec import CountPlan, MethodSpec, register_method
from stop_core.tokens import PrunedVideo, VideoTokens

if TYPE_CHECKING:
    from stop_core.config import PruningConfig


@dataclass(frozen=True)
class FastVidParams(MethodParams):
    """FastVID knobs with the defaults of the SToP evaluation harness.

    ``dyseg_c``/``dyseg_tau``: forced cut count + 1 and similarity threshold of DySeg;
    ``stprune_d``: context share of the per-frame budget; ``dtm_p``: anchor stride;
    ``dtm_alpha``: minimum weight of a context target in its merge; ``knn``: density
    neighbours; ``context_hyper``: sink weight in the context score (on only when μs > 0);
    ``score_dtype="input"``: sink score and salient scores in the attention's dtype (fp16/bf16
    as in the paper runs) instead of float32. ``max_segment_length`` (fixed variant only):
    split longer DySeg segments into consecutive pieces of at most that many frames, which
    bounds the all-pairs context merge and makes the cost linear in frames (ALGORITHMS.md §3.2).
    """

    dyseg_c: int = 8
    dyseg_tau: float = 0.9
    stprune_d: float = 0.4
    dtm_p: int = 4
    dtm_alpha: float = 0.6
    knn: int = 4
    context_hyper: float = 0.3
    score_dtype: str = "float32"
    max_segment_length: int | None = None

    def validate(self) -> None:
        """Integers must be >= 1; ``dyseg_tau``, ``stprune_d``, ``dtm_alpha`` lie in [0, 1]."""
        bound = self.max_segment_length
        if bound is not None and (
            isinstance(bound, bool) or not isinstance(bound, int) or bound < 1
        ):
            raise ValueError(
                f"FastVidParams.max_segment_length must be None or an integer >= 1, got {bound!r}"
            )
        for name in ("dyseg_c", "dtm_p", "knn"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"FastVidParams.{name} must be an integer >= 1, got {value!r}")
        for name in ("dyseg_tau", "stprune_d", "dtm_alpha", "context_hyper"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"FastVidParams.{name} must be a number, got {value!r}")
        for name in ("dyseg_tau", "stprune_d", "dtm_alpha"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"FastVidParams.{name} must be in [0, 1], got {value!r}")
        check_score_dtype("FastVidParams", self.score_dtype)


def _budgets(s: int, ratio: float, d: float) -> tuple[int, int, int, list[str]]:
    """Per-frame budget ``R = int(S r)`` split into salient and context counts (+ notes)."""
    notes = []
    r_raw = int(s * ratio)
    r = min(max(r_raw, 1), s)
    if r != r_raw:
        notes.append(f"per-frame budget int(S*r) = {r_raw} clamped to {r} (range [1, S={s}])")
    n_sal = r - int(r * d)
    return r, n_sal, r - n_sal, notes


def plan_fastvid(cfg: PruningConfig, num_frames: int, grid: tuple[int, int]) -> CountPlan:
    """``T * R`` with ``R = int(S * r)`` (clamped to [1, S]): the nominal per-frame budget.

    FastVID delivers at most that: context tokens come only from one-frame segments and
    anchor frames, whose integer quotas lose tokens depending on the segments (content).
    """
    params = cfg.params
    assert isinstance(params, FastVidParams)
    per_frame = _budgets(grid[0] * grid[1], cfg.retention_ratio, params.stprune_d)[0]
    return CountPlan(
        num_frames * per_frame,
        True,
        f"T * R = {num_frames} * {per_frame}, R = int(S * r) per frame; the segments "
        "(DySeg cuts) decide how many context tokens FastVID itself delivers",
    )


def _dyseg(emb: torch.Tensor, c: int, tau: float) -> tuple[torch.Tensor, torch.Tensor, list[int]]:
    """DySeg: cosine of consecutive frame embeddings, cut positions and segment sizes."""
    t = emb.shape[0]
    g = F.normalize(emb.float(), dim=-1)
    sim = (g[:-1] * g[1:]).sum(dim=-1)
    k = min(c - 1, t - 1)
    lowest = torch.topk(sim, k, largest=False).indices if k > 0 else sim.new_empty(0).long()
    below = torch.nonzero(sim < tau).flatten()
    cuts = torch.unique(torch.cat([lowest, below]))  # sorted
    bounds = [-1, *cuts.tolist(), t - 1]
    sizes = [b - a for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    return sim, cuts, sizes


def _split_segments(sizes: list[int], bound: int) -> list[int]:
    """Each segment longer than ``bound`` frames as consecutive pieces of ``bound`` (+ the rest)."""
    out: list[int] = []
    for length in sizes:
        out += [bound] * (length // bound) + ([length % bound] if length % bound else [])
    return out


def _plan_contexts(
    sizes: list[int], n_ctx: int, p: int
) -> tuple[list[int], list[tuple[int, int, list[int]]]]:
    """Context quota per frame and the ``(start, length, anchors)`` of every segment.

    A one-frame segment is its own anchor with quota ``n_ctx``; a longer one has anchors at
    its last frame and every ``p``-th frame before it, each asking ``(n_ctx L) // ceil(L/p)``.
    """
    quota = [0] * sum(sizes)
    groups = []
    start = 0
    for length in sizes:
        per = (n_ctx * length) // math.ceil(length / p)  # = n_ctx when length == 1
        anchors = list(range(start + length - 1, start - 1, -p))
        for a in anchors:
            quota[a] = per
        groups.append((start, length, anchors))
        start += length
    return quota, groups


def _distances(x: torch.Tensor, frames: list[int], rest: torch.Tensor) -> torch.Tensor:
    """``cdist(Y, Y) / sqrt(D)`` ``[F, m, m]`` between the non-salient tokens ``Y`` of ``frames``.

    Same metric as ``ops.pairwise_distance`` (self-distance exactly 0) from each frame's Gram
    matrix, which avoids cdist's padded copies and gathering ``Y``: about half the CPU cost.
    """
    s, m = x.shape[1], rest.shape[1]
    gram = x.new_empty((len(frames), s, s), dtype=torch.float32)
    for i, f in enumerate(frames):
        xf = x[f].float()
        torch.mm(xf, xf.T, out=gram[i])
    sq = gram.diagonal(dim1=1, dim2=2)
    idx = rest[frames]  # [F, m]
    gram = gram.gather(1, idx[:, :, None].expand(-1, m, s)).gather(
        2, idx[:, None, :].expand(-1, m, m)
    )
    sq = sq.gather(1, idx)
    d2 = (sq[:, :, None] + sq[:, None, :] - 2.0 * gram).clamp_min_(0.0)
    return d2.sqrt_() / math.sqrt(x.shape[2])


def _density_peaks(
    x: torch.Tensor,
    frames: list[int],
    rest: torch.Tensor,
    k: int,
    generator: torch.Generator,
    exact: bool = False,
) -> torch.Tensor:
    """DPC-kNN score ``delta * density`` ``[T, m]`` of the non-salient tokens of ``frames``.

    The tie-breaking noise is one draw of shape ``[T, m]`` (§8.15); rows of other frames are 0.
    ``exact`` computes the distances with ``cdist`` as the reference does (§8.18).
    """
    t, m = rest.shape
    draw = torch.rand((t, m), generator=generator, device=generator.device)
    if exact:  # one 2-D cdist per frame: the batched call's bits, several times faster on CPU
        dim = x.shape[2]
        at = torch.tensor(frames, device=x.device)[:, None]
        y = x[at, rest[frames]].float()  # [F, m, D], only those rows copied
        dist = torch.stack([self_cdist(yf) for yf in y]) / dim**0.5
    else:
        dist = _distances(x, frames, rest)
    idx = torch.tensor(frames, device=x.device)
    nearest = torch.topk(dist, k, dim=-1, largest=False).values
    density = (-(nearest**2).mean(dim=-1)).exp()
    density = density + draw.to(x.device).index_select(0, idx) * DENSITY_NOISE
    ds = torch.zeros(t, m, device=x.device)
    ds[idx] = density * distance_to_denser(dist, density)
    return ds


def _merge(
    pool: torch.Tensor,
    pool_rest: torch.Tensor,
    tgt: torch.Tensor,
    tgt_row: torch.Tensor,
    q: int,
    alpha: float,
    exact: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Context tokens ``[A*q, D]`` for ``A`` anchors with ``q`` targets ``tgt`` ``[A*q, D]`` each.

    Every non-salient pool token (``pool [P, D]``, mask ``pool_rest [P]``) joins its most
    cosine-similar target of each anchor; a target becomes ``w*target + (1-w)*mean(members)``
    with ``w = max(1/(cnt+1), alpha)``. Pool and targets are normalised before the product, as
    in the reference, so near-ties fall its way (§8.18); without ``exact`` the pool rows are
    not normalised (a positive row scale leaves each row's best target unchanged). Also returns
    those weights ``[A*q, P]``
    over the pool (targets are pool rows ``tgt_row``).
    """
    n_tgt = tgt.shape[0]
    n_anchor = n_tgt // q
    rows = F.normalize(pool, dim=-1) if exact else pool
    sim = rows @ F.normalize(tgt, dim=-1).T  # [P, A*q]
    assign = sim.view(pool.shape[0], n_anchor, q).max(dim=2).indices  # [P, A], first max
    dest = assign + torch.arange(n_anchor, device=pool.device) * q
    dest = torch.where(pool_rest[:, None], dest, n_tgt)  # salient rows go to a spare bucket
    cnt = torch.bincount(dest.flatten(), minlength=n_tgt + 1)[:n_tgt].to(pool.dtype)
    onehot = torch.zeros(pool.shape[0], n_tgt + 1, dtype=pool.dtype, device=pool.device)
    member = onehot.scatter_(1, dest, 1.0)[:, :n_tgt].T  # [A*q, P]
    # each pool row joins one target per anchor: A deterministic group sums of the pool, each
    # over that anchor's q targets (salient rows, at n_tgt, fall past q and are dropped)
    sums = torch.cat([group_sum(pool, dest[:, a] - a * q, q) for a in range(n_anchor)])
    w = torch.clamp(1.0 / (cnt + 1.0), min=alpha)[:, None]
    weight = member * ((1.0 - w) / cnt.clamp(min=1.0)[:, None])
    weight[torch.arange(n_tgt, device=pool.device), tgt_row] += w[:, 0]
    return w * tgt + (1.0 - w) * sums / cnt.clamp(min=1.0)[:, None], weight


def fastvid(tokens: VideoTokens, cfg: PruningConfig, generator: torch.Generator) -> PrunedVideo:
    """FastVID + STSP (ALGORITHMS.md §3.2); ``variant="fixed"`` penalises anchors only once."""
    p = cfg.params
    assert isinstance(p, FastVidParams)
    assert tokens.attention is not None and tokens.frame_embeddings is not None
    x = tokens.features
    t, s, dim = x.shape
    device = x.device
    reference = cfg.variant == "reference"
    mu_s = cfg.mu_s
    notes: list[str] = []

    r, n_sal, n_ctx, budget_notes = _budgets(s, cfg.retention_ratio, p.stprune_d)
    notes += budget_notes
    m = s - n_sal  # non-salient ("rest") tokens per frame

    sim, cuts, sizes = _dyseg(tokens.frame_embeddings.to(device), p.dyseg_c, p.dyseg_tau)
    if p.max_segment_length is not None:
        if reference:
            raise ValueError(
                "FastVidParams.max_segment_length applies to the fixed variant only (the "
                f"reference keeps DySeg's segments), got {p.max_segment_length}"
            )
        split = _split_segments(sizes, p.max_segment_length)
        if split != sizes:
            notes.append(
                f"segments longer than max_segment_length = {p.max_segment_length} frames "
                f"split: {len(sizes)} DySeg segments -> {len(split)}"
            )
        sizes = split
    asked, plan = _plan_contexts(sizes, n_ctx, p.dtm_p)
    quota = [min(q, m) for q in asked]
    capped = [f for f in range(t) if asked[f] > m]
    if capped:
        notes.append(
            f"context quota of frames {capped} (asked {[asked[f] for f in capped]}) capped "
            f"to the {m} non-salient tokens of a frame"
        )

    # Salient tokens: top attention minus the STSP sink penalty, per frame.
    in_dtype = p.score_dtype == "input"
    attn = tokens.attention.to(device)
    attn = attn if in_dtype else attn.float()
    sink_rows = sink_score_rows(attn, cfg.gamma, input_dtype=in_dtype)  # §2, bit-exact (§8.6)
    sink = sink_rows[0]
    score = attn - mu_s * sink_rows if (reference or mu_s > 0) else attn  # own row (§8.17)
    sal = torch.topk(score, n_sal, dim=1).indices  # [T, n_sal], score order
    is_sal = torch.zeros(t, s, dtype=torch.bool, device=device)
    is_sal.scatter_(1, sal, True)
    rest = torch.nonzero(~is_sal)[:, 1].reshape(t, m)  # ascending positions

    frame_ids = torch.arange(t, device=device)
    glob = [(frame_ids[:, None] * s + sal).flatten()]
    feats = [x[frame_ids[:, None], sal].reshape(-1, dim)]  # only the salient rows copied
    parts = [TokenCombination.selection(glob[0], t * s)]

    # Contexts: density-peak targets of single-frame segments and of anchor frames.
    context_hyper = float(p.context_hyper) if mu_s != 0 else 0.0  # §5.6: on for any μs ≠ 0
    groups = [g for g in plan if quota[g[2][0]] > 0]
    if reference:  # §8.10: anchors whose quota equals n_ctx take the single-frame path
        units = []
        for g in groups:
            single = asked[g[2][0]] == n_ctx
            units += [(a, 1, [a]) for a in sorted(g[2])] if single else [g]
        groups = units
    double_penalty = reference and context_hyper != 0.0 and any(g[1] > 1 for g in groups)
    if groups:
        # Density-peak score ds [T, m]; only frames with a context quota need distances.
        need = sorted(a for _, _, anchors in groups for a in anchors)
        k = min(p.knn, m)
        if k != p.knn:
            notes.append(f"density kNN clamped from {p.knn} to the {m} non-salient tokens")
        ds = _density_peaks(x, need, rest, k, generator, exact=reference)
        sink_rest = sink_rows.gather(1, rest)  # [T, m], each frame its own row (§8.17)
        if context_hyper != 0.0:
            ds = ds - context_hyper * sink_rest

        for start, length, anchors in groups:
            q = quota[anchors[0]]
            idx = torch.tensor(anchors, device=device)
            ds_a = ds.index_select(0, idx)
            if double_penalty and length > 1:  # reference quirk §5.5: anchors penalised twice
                ds_a = ds_a - context_hyper * sink_rest.index_select(0, idx)
            tgt = torch.topk(ds_a, q, dim=1).indices  # [A, q]
            pos = torch.gather(rest.index_select(0, idx), 1, tgt)
            tgt_glob = (idx[:, None] * s + pos).flatten()
            segment = x[start : start + length].to(torch.float32)
            pool = segment.reshape(length * s, dim)  # token-major (a copy of strided input)
            pool_rest = ~is_sal[start : start + length].flatten()
            tgt_f = x[idx[:, None], pos].reshape(-1, dim).float()
            glob.append(tgt_glob)
            merged, weight = _merge(
                pool, pool_rest, tgt_f, tgt_glob - start * s, q, p.dtm_alpha, exact=reference
            )
            feats.append(merged.to(x.dtype))
            parts.append(
                TokenCombination.from_blocks(
                    weight[None],
                    torch.arange(weight.shape[0], device=device)[None],
                    torch.arange(start * s, (start + length) * s, device=device)[None],
                    weight.shape[0],
                    t * s,
                )
            )

    all_glob = torch.cat(glob)
    order = torch.argsort(all_glob)
    keep = all_glob[order]
    features = torch.cat(feats)[order]
    combination = TokenCombination.concat(parts, t * s).reorder(order)

    delivered = int(keep.numel())
    requested = requested_tokens(t, s, cfg.retention_ratio)
    budget_note = None
    if delivered != requested:
        budget_note = (
            f"FastVID budgets R = {r} tokens per frame ({n_sal} salient in every frame, "
            f"n_ctx = {n_ctx} context): context tokens come only from one-frame segments "
            f"(n_ctx) and anchor frames ((n_ctx*L)//ceil(L/p) each), so the integer divisions "
            f"give {delivered} tokens instead of round(r*T*S) = {requested}"
        )
        if notes:
            budget_note += "; " + "; ".join(notes)

    info: dict[str, Any] = {
        "keep_global_idx_sorted": keep,
        "segment_sizes": sizes,
        "cut_indices": cuts,
        "similarity_matrix": sim,
        "salient_indexes": sal,
        "frm_context_num_list": torch.tensor(quota, dtype=torch.int32, device=device),
        "frame_retain_num": r,
        "frame_salient_num": n_sal,
        "frame_context_num": n_ctx,
        "context_hyper": context_hyper,
        "sink_score": sink,
        "anchor_frames": [
            a
            for g in plan
            if g[1] > 1
            for a in sorted(g[2])
            if not (reference and asked[a] == n_ctx)
        ],
        "single_frame_segments": [g[0] for g in plan if g[1] == 1],
        "double_sink_penalty": double_penalty,
    }
    if capped:
        info["context_quota_requested"] = torch.tensor(asked, dtype=torch.int32, device=device)
    if notes:
        info["notes"] = notes
    return finish(
        tokens,
        cfg,
        features,
        keep // s,
        keep % s,
        info,
        grid_newlines="none" if reference else "nonempty_rows",
        budget_note=budget_note,
        combination=combination,
    )


register_method(
    MethodSpec(
        name="fastvid",
        stop_terms=("STSP",),
        params_type=FastVidParams,
        run=fastvid,
        plan=plan_fastvid,
        needs=frozenset({"attention", "frame_embeddings"}),
        summary="FastVID: DySeg segments, salient tokens and density-peak context merges",
    )
)
