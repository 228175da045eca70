"""``flashvid``: FlashVID (segments, ADTS, temporal average merging, DPC-kNN) with STSP.

Implements ALGORITHMS.md §3.3. Per-frame budget ``B = ceil(S * r * expansion)`` split into
``ceil(alpha * B)`` ADTS tokens and the rest for spatio-temporal merging (STTM). The reference
variant keeps the quirks of §5.13-5.17; the fixed variant drops duplicate tokens and applies the
sink term only when ``mu_s > 0``.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch

from stop_core.combination import TokenCombination
from stop_core.ops import (
    CDIST_DIRECT_MAX,
    DENSITY_NOISE,
    add_rows_,
    distance_to_denser,
    finish,
    group_sum,
    pairwise_distance,
)
from stop_core.params import MethodParams
from stop_core.sink import check_score_dtype, sink_score_rows
from stop_core.spec import CountPlan, MethodSpec, register_method
from stop_core.tokens import PrunedVideo, VideoTokens

if TYPE_CHECKING:
    from stop_core.config import PruningConfig

NORM_EPS = 1e-12  # floor of feature norms, as torch.nn.functional.normalize
FLUSH_ELEMENTS = 1 << 26  # cluster queued segments once they hold this many values (256 MB)


@dataclass(frozen=True)
class FlashVidParams(MethodParams):
    """FlashVID knobs with the defaults in force in the SToP harness (ALGORITHMS.md §0, §7).

    The in-LLM FastV stage (``pruning_layer`` 20, ``llm_retention_ratio`` 0.3) is inactive in
    the reference and not part of this release, hence ``expansion`` keeps ≈1.25x the budget.
    """

    expansion: float = 1.25  # per-frame budget B = ceil(S * r * expansion)
    alpha: float = 0.7  # share of B chosen by ADTS (ceil); the rest is merged (STTM)
    do_segment: bool = True  # split the video into segments (else one segment)
    segment_threshold: float = 0.9  # cut where consecutive frame means have cosine below
    min_segment_num: int = 8  # complementary cuts at the lowest cosines up to this many
    complementary_segment: bool = True  # whether to add those complementary cuts
    temporal_threshold: float = 0.8  # TAM merges a token whose best previous-frame cosine exceeds
    attention_scale: float = 1e6  # attention scaling inside the ADTS distances
    cluster_knn: int = 7  # DPC-kNN neighbours: min(cluster count, cluster_knn)
    score_dtype: str = "float32"  # "input": sink score and A - mu_s * sink in the input dtype

    def validate(self) -> None:
        """Reject values outside each knob's domain, naming the knob and the value."""
        name = type(self).__name__
        for flag in ("do_segment", "complementary_segment"):
            if not isinstance(getattr(self, flag), bool):
                raise ValueError(f"{name}.{flag} must be a bool, got {getattr(self, flag)!r}")
        for field in ("min_segment_num", "cluster_knn"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}.{field} must be an integer >= 1, got {value!r}")
        for field in ("expansion", "alpha", "segment_threshold"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"{name}.{field} must be a number, got {value!r}")
        if not self.expansion > 0:
            raise ValueError(f"{name}.expansion must be > 0, got {self.expansion}")
        if not 0.0 <= self.alpha <= 1.0:
            raise ValueError(f"{name}.alpha must be in [0, 1], got {self.alpha}")
        if not 0.0 <= self.segment_threshold <= 1.0:
            raise ValueError(
                f"{name}.segment_threshold must be in [0, 1], got {self.segment_threshold}"
            )
        if not 0.0 <= self.temporal_threshold < 1.0:
            raise ValueError(
                f"{name}.temporal_threshold must be in [0, 1) (1 would disable merging and "
                f"divide by zero in the reference), got {self.temporal_threshold}"
            )
        if not self.attention_scale > 0:
            raise ValueError(f"{name}.attention_scale must be > 0, got {self.attention_scale}")
        check_score_dtype(name, self.score_dtype)


@dataclass(frozen=True)
class _ClusterJob:
    """One segment's tokens left for DPC-kNN after TAM, clustered later with other segments."""

    values: torch.Tensor  # [K, D] kept tokens, frame-major
    changed: torch.Tensor  # [K] received temporal merges
    kept_pos: torch.Tensor  # [K] positions
    counts: list[int]  # tokens per frame of the segment
    clusters: list[int]  # clusters per frame
    gram: torch.Tensor | None  # [F, S, S] (fixed variant)
    sources: TokenCombination  # video tokens -> rows of ``values``
    offset: int  # first frame of the segment


@dataclass
class _Pieces:
    """Tokens emitted so far, in the reference's build order (§8.9), and TAM merge counts.

    Blocks known at once (ADTS, unclustered values) are stored; clustering is deferred and
    run over several segments at a time (``flush``), whose outputs follow in segment order.
    ``layout`` says, in build order, which blocks are stored (``-1``) and which are
    clustering outputs (their job number); ``sources`` say how each block was formed.
    """

    features: list[torch.Tensor]
    frame: list[torch.Tensor]
    position: list[torch.Tensor]
    merged: list[int]
    sources: list[TokenCombination]
    num_inputs: int
    layout: list[tuple[int, int]] = dataclasses.field(default_factory=list)  # (job or -1, rows)
    jobs: list[_ClusterJob] = dataclasses.field(default_factory=list)
    clustered: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor, TokenCombination]] = (
        dataclasses.field(default_factory=list)
    )
    pending: int = 0  # first job not clustered yet

    def add(
        self,
        feats: torch.Tensor,
        frame: torch.Tensor,
        position: torch.Tensor,
        sources: TokenCombination,
    ) -> None:
        """Append one block of tokens with their frame, position and combination."""
        self.features.append(feats)
        self.frame.append(frame.reshape(-1))
        self.position.append(position.reshape(-1))
        self.sources.append(sources)
        self.layout.append((-1, int(feats.shape[0])))

    def defer(self, job: _ClusterJob, knn: int, generator: torch.Generator) -> None:
        """Queue a segment's clustering; run the queue once it holds ``FLUSH_ELEMENTS`` values."""
        self.layout.append((len(self.jobs), sum(job.clusters)))
        self.jobs.append(job)
        if sum(j.values.numel() for j in self.jobs[self.pending :]) >= FLUSH_ELEMENTS:
            self.flush(knn, generator)

    def flush(self, knn: int, generator: torch.Generator) -> None:
        """Cluster the queued segments in one batch (density draws in segment, frame order)."""
        jobs = self.jobs[self.pending :]
        self.pending = len(self.jobs)
        if not jobs:
            return
        device = jobs[0].values.device
        frame_of = torch.cat([j.offset + torch.arange(len(j.counts), device=device) for j in jobs])
        gram = None if jobs[0].gram is None else torch.cat([j.gram for j in jobs])
        feats, frame, pos, cluster_sources = _cluster(
            torch.cat([j.values for j in jobs]),
            torch.cat([j.changed for j in jobs]),
            torch.cat([j.kept_pos for j in jobs]),
            [c for j in jobs for c in j.counts],
            [c for j in jobs for c in j.clusters],
            gram,
            knn,
            generator,
        )
        tam = TokenCombination.concat([j.sources for j in jobs], self.num_inputs)
        self.clustered.append((feats, frame_of[frame], pos, tam.then(cluster_sources)))

    def assemble(
        self,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, TokenCombination, torch.Tensor]:
        """Features, frames, positions and combination in phase order, and the build order.

        Phase order is every stored block, then every clustering output (segment order);
        indexing it with the returned order gives the reference's build order.
        """
        columns = [list(c) for c in zip(*self.clustered, strict=True)] or [[], [], [], []]
        out_feats, out_frame, out_pos, out_comb = columns
        feats = torch.cat(self.features + out_feats)
        frame = torch.cat(self.frame + out_frame)
        position = torch.cat(self.position + out_pos)
        combination = TokenCombination.concat(self.sources + out_comb, self.num_inputs)
        stored = sum(rows for job, rows in self.layout if job < 0)
        ranges, stored_at, clustered_at = [], 0, stored
        for job, rows in self.layout:
            at = stored_at if job < 0 else clustered_at
            ranges.append(torch.arange(at, at + rows, device=feats.device))
            if job < 0:
                stored_at += rows
            else:
                clustered_at += rows
        return feats, frame, position, combination, torch.cat(ranges)


def flashvid(tokens: VideoTokens, cfg: PruningConfig, generator: torch.Generator) -> PrunedVideo:
    """FlashVID + STSP on pooled tokens; output sorted by global index ``t * S + pos``."""
    params = cfg.params
    assert isinstance(params, FlashVidParams)
    x = tokens.features
    assert tokens.attention is not None
    s = x.shape[1]
    fixed = cfg.variant == "fixed"
    budget = math.ceil(s * cfg.retention_ratio * params.expansion)
    n_adts = math.ceil(budget * params.alpha)
    n_sttm = budget - n_adts
    notes: list[str] = []
    if fixed and n_adts > s:
        notes.append(f"ADTS count {n_adts} capped at the {s} tokens of a frame")

    frame_mean = x.mean(dim=1, dtype=torch.float32)  # [T, D]: segmentation and ADTS relevance
    lengths = _segment_lengths(frame_mean, params, fixed)
    use_sink = not fixed or cfg.mu_s > 0
    pieces = _Pieces([], [], [], [], [], x.shape[0] * s)
    adts_per_segment: list[torch.Tensor] = []
    sink_per_segment: list[torch.Tensor] = []
    in_dtype = params.score_dtype == "input"  # sink and STSP scores in the input dtype
    offset = 0
    for length in lengths:
        xs = x[offset : offset + length]
        att = tokens.attention[offset : offset + length]
        att = att if in_dtype else att.float()
        sink = (
            sink_score_rows(att, cfg.gamma, input_dtype=in_dtype)
            if use_sink and length > 0
            else None
        )
        if use_sink:
            sink_per_segment.append(
                sink[0] if sink is not None else att.new_full((s,), float("nan"))
            )
        if length == 0:  # duplicate complementary cuts (reference only): nothing to emit
            adts_per_segment.append(torch.empty(0, n_adts, dtype=torch.long, device=x.device))
            pieces.merged.append(0)
            continue
        importance = att - cfg.mu_s * sink if sink is not None else att
        adts = _compress_segment(
            xs,
            frame_mean[offset : offset + length],
            importance,
            offset,
            (n_adts, n_sttm),
            params,
            fixed,
            generator,
            pieces,
            notes,
        )
        adts_per_segment.append(adts)
        offset += length

    pieces.flush(params.cluster_knn, generator)
    feats, frame, position, combination, build = pieces.assemble()
    global_idx = frame * s + position
    # The reference sorts with torch's default (unstable) argsort: the order of rows sharing a
    # global index (§5.16) is whatever that sort gives on the same build order (§8.9).
    order = build[torch.sort(global_idx[build], stable=fixed).indices]
    kept = int(order.numel())
    duplicates = kept - int(torch.unique(global_idx).numel())
    combination = combination.reorder(order)
    info: dict[str, Any] = {
        "keep_global_idx_sorted": global_idx[order],
        "segment_lengths": torch.tensor(lengths, dtype=torch.long, device=x.device),
        "token_budget": budget,
        "num_attn_div_tokens": n_adts,
        "num_sttm_tokens": n_sttm,
        "adts_keep_idx_per_segment": adts_per_segment,
        "num_duplicate_tokens": duplicates,
        "temporal_merges_per_segment": pieces.merged,
    }
    if use_sink:
        info["sink_score_per_segment"] = sink_per_segment
    if notes:
        info["notes"] = list(dict.fromkeys(notes))
    note = (
        f"FlashVID budget: ceil(S*r*expansion) = {budget} tokens per frame ({n_adts} ADTS + "
        f"{n_sttm} merged; expansion {params.expansion} because the in-LLM stage is inactive); "
        f"per-frame ceil of cluster counts, temporal merges and segment sizes move the total "
        f"({kept} delivered, {duplicates} duplicate global indices)"
    )
    return finish(
        tokens,
        cfg,
        feats[order],
        frame[order],
        position[order],
        info,
        grid_newlines="nonempty_rows" if fixed else "none",
        budget_note=note,
        combination=combination,
    )


def plan_flashvid(cfg: PruningConfig, num_frames: int, grid: tuple[int, int]) -> CountPlan:
    """``T * B`` with ``B = ceil(S * r * expansion)`` (at most S): the per-frame budget.

    FlashVID's own count moves with the content: per-frame ceilings of the cluster counts,
    temporal merges, and one-frame segments that keep all their tokens.
    """
    params = cfg.params
    assert isinstance(params, FlashVidParams)
    s = grid[0] * grid[1]
    budget = math.ceil(s * cfg.retention_ratio * params.expansion)  # as flashvid() sizes it
    per_frame = min(max(budget, 1), s)
    return CountPlan(
        num_frames * per_frame,
        True,
        f"T * B = {num_frames} * {per_frame}, B = ceil(S * r * expansion) per frame (at most "
        "S); segments, temporal merges and cluster ceilings move FlashVID's own count",
    )


def _segment_lengths(frame_mean: torch.Tensor, params: FlashVidParams, fixed: bool) -> list[int]:
    """Cut where consecutive mean-pooled frames have cosine < threshold, plus complementary cuts."""
    t = frame_mean.shape[0]
    if not params.do_segment:
        return [t]
    pooled = torch.nn.functional.normalize(frame_mean, dim=-1, eps=NORM_EPS)
    sim = (pooled[:-1] * pooled[1:]).sum(dim=-1)
    cuts = torch.nonzero(sim < params.segment_threshold).flatten()
    need = params.min_segment_num - (cuts.numel() + 1)
    if need > 0 and params.complementary_segment:
        sim = sim.clone()
        sim[sim < params.segment_threshold] = 1.0
        extra = torch.topk(sim, k=min(need, t - 1), largest=False).indices
        cuts = torch.cat([cuts, extra]).sort().values
    if fixed:
        cuts = torch.unique(cuts)
    bounds = [-1, *cuts.tolist(), t - 1]
    return [b - a for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def _compress_segment(
    xs: torch.Tensor,
    frame_mean: torch.Tensor,
    importance: torch.Tensor,
    offset: int,
    counts_per_frame: tuple[int, int],
    params: FlashVidParams,
    fixed: bool,
    generator: torch.Generator,
    pieces: _Pieces,
    notes: list[str],
) -> torch.Tensor:
    """ADTS, TAM and spatial clustering of one segment; appends its tokens, returns ADTS idx."""
    f, s, d = xs.shape
    n_adts, n_sttm = counts_per_frame
    src = xs.float()
    # the segment's own token-major float32 copy: fast rows, and TAM sums into it in place
    x32 = src.to(memory_format=torch.contiguous_format, copy=True)
    frames = torch.arange(f, device=xs.device)
    if fixed:  # [F, S, S], reused by ADTS and clustering
        gram = torch.bmm(x32, x32.transpose(1, 2))
        norm = x32.norm(dim=-1).clamp_min(NORM_EPS)  # [F, S]
        cosine = gram / (norm[:, :, None] * norm[:, None, :])
        relevance = x32 @ frame_mean.mean(dim=0)  # event relevance <x, segment mean>, [F, S]
        unit = None
    else:  # the reference's arithmetic (ALGORITHMS.md §8.18): norms and means reduce in the
        # input's own layout, as the official code's do; unit vectors, then products; it
        # averages the relevances to each frame's mean (einsum's own product, bit for bit)
        gram = None
        norm = src.norm(dim=-1).clamp_min(NORM_EPS)
        unit = x32 / norm[:, :, None]
        cosine = torch.bmm(unit, unit.transpose(1, 2))
        means = frame_mean  # [F, D]: the same reduction, once for the video
        relevance = (x32.view(f * s, d) @ means.T).view(f, s, f).permute(0, 2, 1).mean(dim=1)
    adts = _adts(
        cosine, importance.float() * params.attention_scale, relevance, n_adts, fixed, notes
    )
    adts_mask = torch.zeros(f, s, dtype=torch.bool, device=xs.device)
    adts_mask[frames[:, None], adts] = True
    pieces.add(
        x32[frames[:, None], adts].reshape(-1, d),
        (offset + frames)[:, None].expand_as(adts),
        adts,
        TokenCombination.selection(
            ((offset + frames)[:, None] * s + adts).reshape(-1), pieces.num_inputs
        ),
    )
    if n_sttm == 0 or f == 1:
        pieces.merged.append(0)
    if n_sttm == 0:
        return adts

    if f > 1:
        keep_mask, values, changed, sources = _temporal_merge(
            x32, norm, adts_mask, (n_adts + n_sttm) * f, params.temporal_threshold, notes, unit
        )
        pieces.merged.append(int((~(keep_mask | adts_mask)).sum()))
    else:
        keep_mask = ~adts_mask if fixed else torch.ones_like(adts_mask)
        values = x32[0][keep_mask[0]] if fixed else x32[0]  # the reference re-clusters all S
        changed = torch.zeros(values.shape[0], dtype=torch.bool, device=xs.device)
        sources = TokenCombination.selection(torch.nonzero(keep_mask[0]).flatten(), s)
    sources = sources.shifted(offset * s, pieces.num_inputs)  # values from the video's tokens
    counts = keep_mask.sum(dim=1).tolist()
    total = sum(counts)
    if total == 0:
        notes.append("a segment had no tokens left for merging (the reference divides by 0)")
        return adts
    ratio = (n_sttm * f) / total  # float64, as the reference (§8.14)
    kept_frame, kept_pos = torch.nonzero(keep_mask, as_tuple=True)
    if ratio >= 1.0:
        pieces.add(values, offset + kept_frame, kept_pos, sources)
        return adts
    clusters = [math.ceil(c * ratio) for c in counts]
    job = _ClusterJob(values, changed, kept_pos, counts, clusters, gram, sources, offset)
    pieces.defer(job, params.cluster_knn, generator)
    return adts


def _adts(
    cosine: torch.Tensor,
    attention: torch.Tensor,
    relevance: torch.Tensor,
    n_adts: int,
    fixed: bool,
    notes: list[str],
) -> torch.Tensor:
    """ADTS v2: greedy max-min over attention- and relevance-calibrated cosine distances."""
    f, s = cosine.shape[:2]
    device = cosine.device
    count = min(n_adts, s) if fixed else n_adts
    if count == 0:
        return torch.empty(f, 0, dtype=torch.long, device=device)
    dist = 1.0 - cosine
    dist = dist * attention[:, None, :] * relevance[:, None, :]  # [F, i, n]
    k = min(2, s)
    if k < 2:
        notes.append("one token per frame: ADTS starts from the only token")
    first = torch.topk(dist, k, dim=1, largest=False).values[:, k - 1, :].argmax(dim=-1)
    frames = torch.arange(f, device=device)
    chosen = [first]
    running = dist[frames, first]  # [F, S]: min distance to the chosen tokens
    taken = torch.zeros(f, s, dtype=torch.bool, device=device) if fixed else None
    for _ in range(1, count):
        if taken is not None:
            taken[frames, chosen[-1]] = True
            nxt = running.masked_fill(taken, -math.inf).argmax(dim=-1)
        else:
            nxt = running.argmax(dim=-1)
        chosen.append(nxt)
        running = torch.minimum(running, dist[frames, nxt])
    return torch.stack(chosen, dim=1).sort(dim=1).values


def _temporal_merge(
    x32: torch.Tensor,
    norm: torch.Tensor,
    adts_mask: torch.Tensor,
    lower_bound: int,
    threshold: float,
    notes: list[str],
    unit: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, TokenCombination]:
    """TAM: fold each token into its most similar token of the previous frame (chains included).

    Returns the kept mask ``[F, S]``, the kept tokens ``[K, D]`` (frame-major, ascending
    position), which of them changed (received merges) and how each was formed from the
    ``F * S`` tokens. ``x32`` (the caller's own copy) receives the merge-tree sums in place.
    """
    f, s, d = x32.shape
    device = x32.device
    if unit is None:
        cos = torch.bmm(x32[1:], x32[:-1].transpose(1, 2))
        cos = cos / (norm[1:, :, None] * norm[:-1, None, :])
    else:  # the reference's arithmetic: cosine of unit vectors (§8.18)
        cos = torch.bmm(unit[1:], unit[:-1].transpose(1, 2))
    cos.masked_fill_(adts_mask[1:, :, None], -1.0)
    cos.masked_fill_(adts_mask[:-1, None, :], -1.0)
    best, arg = cos.max(dim=-1)
    best = torch.cat([best.new_full((1, s), -1.0), best])
    arg = torch.cat([arg.new_zeros((1, s)), arg])
    merge = best > threshold
    if int((~merge).sum()) < lower_bound:
        k = f * s - lower_bound
        if k > 0:
            th = torch.topk(best.flatten(), k).values[-1].clamp_min(-1.0 + 1e-6)
            merge = best > th
        else:
            notes.append(
                "budget >= tokens per frame: no temporal merging (the reference would fail)"
            )
            merge = torch.zeros_like(merge)

    # Reference loop (last frame first, in place): a merged token adds its running SUM to its
    # parent and counts as one there. Unrolled, a kept token ends as (sum of X over its merge
    # tree) / (1 + number of direct children). The tree sums are carried frame by frame, last
    # first, each step a deterministic group sum (children -> parents).
    flat_idx = torch.arange(f * s, device=device).view(f, s)
    parent = flat_idx[:-1].gather(1, arg[1:])  # [F-1, S]: flat index of the best match
    root = flat_idx.clone()
    for t in range(1, f):
        root[t] = torch.where(merge[t], root[t - 1][arg[t]], flat_idx[t])
    children = torch.bincount(parent[merge[1:]], minlength=f * s)
    keep_mask = ~merge & ~adts_mask
    flat = torch.nonzero(keep_mask.flatten()).flatten()
    slot = torch.full((f * s,), flat.numel(), dtype=torch.long, device=device)
    slot[flat] = torch.arange(flat.numel(), device=device)
    tree = x32
    for t in range(f - 1, 0, -1):  # merged children (others add exact zeros) into parents
        add_rows_(tree[t - 1], arg[t], tree[t] * merge[t, :, None].to(tree.dtype))
    count = children[flat] + 1
    values = tree.reshape(f * s, d)[flat] / count[:, None].to(x32.dtype)
    # every non-ADTS token reaches a kept root and enters it with weight 1 / count
    row = slot[root.flatten()]
    col = torch.nonzero(row < flat.numel()).flatten()
    row = row[col]
    sources = TokenCombination.from_entries(
        row, col, 1.0 / count[row].to(torch.float32), int(flat.numel()), f * s
    )
    return keep_mask, values, count > 1, sources


def _cluster(
    values: torch.Tensor,
    changed: torch.Tensor,
    kept_pos: torch.Tensor,
    counts: list[int],
    clusters: list[int],
    gram: torch.Tensor | None,
    knn: int,
    generator: torch.Generator,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, TokenCombination]:
    """DPC-kNN per frame as the reference, batched over frames: cluster means, frame-major.

    Frames are batched by size class (at most ``CDIST_DIRECT_MAX`` tokens or more, so little
    padding and each class keeps the ``cdist`` algorithm its size selects), padded within a
    class (``_FrameBatch``); every step keeps the arithmetic of one call per frame, and the
    density noise is one draw of all the tokens in frame order, the numbers the reference's
    per-frame draws give. Also returns the combination of the cluster tokens from the rows of
    ``values`` (every row belongs to a frame with at least one cluster).
    """
    device = values.device
    draw = torch.rand(
        (values.shape[0],), generator=generator, dtype=values.dtype, device=generator.device
    ).to(device)
    total = sum(clusters)
    feats = values.new_empty(total, values.shape[1])
    frames = torch.empty(total, dtype=torch.long, device=device)
    positions = torch.empty(total, dtype=torch.long, device=device)
    entries: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []
    for small in (True, False):
        only = [
            t
            for t, (k, nc) in enumerate(zip(counts, clusters, strict=True))
            if nc > 0 and (k <= CDIST_DIRECT_MAX) == small
        ]
        if not only:
            continue
        batch = _FrameBatch.of(counts, clusters, device, only)
        out, *cluster_of, entry = _cluster_batch(values, changed, kept_pos, batch, gram, knn, draw)
        feats[out], frames[out], positions[out] = cluster_of
        entries.append(entry)
    row, col, weight = (torch.cat(parts) for parts in zip(*entries, strict=True))
    sources = TokenCombination.from_entries(row, col, weight, total, values.shape[0])
    return feats, frames, positions, sources


def _cluster_batch(
    values: torch.Tensor,
    changed: torch.Tensor,
    kept_pos: torch.Tensor,
    batch: _FrameBatch,
    gram: torch.Tensor | None,
    knn: int,
    draw: torch.Tensor,
) -> tuple[
    torch.Tensor,
    torch.Tensor,
    torch.Tensor,
    torch.Tensor,
    tuple[torch.Tensor, torch.Tensor, torch.Tensor],
]:
    """One size class: output rows, cluster means, frames, positions, combination entries."""
    device = values.device
    moved = changed[batch.row_index] & batch.row_valid
    pos = kept_pos[batch.row_index]  # [F, N]
    dist = _batch_distances(values, moved, pos, batch, gram)  # [F, N, N], 0 outside a frame
    pair = batch.row_valid[:, :, None] & batch.row_valid[:, None, :]
    score = _density_peak_scores(dist, pair, batch, knn, draw)  # -inf on padding
    f, n = batch.row_valid.shape
    c = max(batch.clusters)
    centres = _centres(score, batch)
    centre_valid = torch.arange(c, device=device)[None, :] < batch.cluster_count[:, None]
    to_centre = torch.gather(dist, 2, centres[:, None, :].expand(f, n, c))
    assign = to_centre.masked_fill(~centre_valid[:, None, :], math.inf).argmin(dim=2)
    is_centre = (torch.arange(n, device=device)[None, :, None] == centres[:, None, :]) & (
        centre_valid[:, None, :]
    )  # [F, N, C]
    assign = torch.where(is_centre.any(dim=2), is_centre.int().argmax(dim=2), assign)
    group = (torch.arange(f, device=device)[:, None] * c + assign).flatten()[batch.token_index]
    sums = group_sum(values.index_select(0, batch.token_col), group, f * c).view(f, c, -1)
    members = torch.bincount(group, minlength=f * c).view(f, c).to(values.dtype)
    feats = (sums / members[:, :, None]).flatten(0, 1)[batch.cluster_index]
    frames = batch.frame[:, None].expand(f, c).flatten()[batch.cluster_index]
    positions = torch.gather(pos, 1, centres).flatten()[batch.cluster_index]
    slots = batch.cluster_start[:, None] + torch.arange(c, device=device)[None, :]
    out = slots.flatten()[batch.cluster_index]  # the clusters' rows among all frames'
    # each cluster token is the plain mean of its members
    out_row = (batch.cluster_start[:, None] + assign).flatten()[batch.token_index]
    weight = (1.0 / members.to(torch.float32)).gather(1, assign).flatten()[batch.token_index]
    return out, feats, frames, positions, (out_row, batch.token_col, weight)


def _centres(score: torch.Tensor, batch: _FrameBatch) -> torch.Tensor:
    """Each frame's ``top-k(score, clusters)`` indices, ``[F, C]`` (0 past a frame's count).

    Score descending in the reference's tie order: ``topk`` breaks exact ties (frequent, as
    the density noise is below float32 resolution at 1) differently for other row lengths or
    ``k``, so it runs on exactly each frame's tokens, batched over frames of the same sizes.
    """
    centres = torch.zeros(
        score.shape[0], max(batch.clusters), dtype=torch.long, device=score.device
    )
    shapes: dict[tuple[int, int], list[int]] = {}
    for i, shape in enumerate(zip(batch.counts, batch.clusters, strict=True)):
        shapes.setdefault(shape, []).append(i)
    for (n, nc), group in shapes.items():
        idx = torch.tensor(group, dtype=torch.long, device=score.device)
        centres[idx, :nc] = torch.topk(score[idx, :n], nc, dim=1).indices
    return centres


@dataclass(frozen=True)
class _FrameBatch:
    """Frames clustered together (one size class), padded to ``[F, N]`` tokens, ``[F, C]``.

    Built from the host lists of token and cluster counts, so no device value is read back.
    """

    counts: list[int]  # tokens per clustered frame
    clusters: list[int]  # clusters per clustered frame
    frame: torch.Tensor  # [F] frame among those whose counts were given
    row_index: torch.Tensor  # [F, N] row of ``values`` (clamped on padding)
    row_valid: torch.Tensor  # [F, N]
    cluster_count: torch.Tensor  # [F]
    cluster_start: torch.Tensor  # [F] first output row of each frame's clusters
    cluster_index: torch.Tensor  # flat [F * C] indices of the real clusters, frame-major
    token_index: torch.Tensor  # flat [F * N] indices of the real tokens, frame-major
    token_col: torch.Tensor  # row of ``values`` of each real token, in that order

    @classmethod
    def of(
        cls,
        counts: list[int],
        clusters: list[int],
        device: torch.device,
        only: list[int] | None = None,
    ) -> _FrameBatch:
        """The frames ``only`` (default all) that have clusters; rows and outputs stay global.

        Every frame's rows advance the row offset and its clusters the output offset, so
        ``token_col`` and ``cluster_start`` index all frames' values and clusters.
        """
        starts = list(itertools.accumulate(counts[:-1], initial=0))
        firsts = list(itertools.accumulate(clusters[:-1], initial=0))
        frames = range(len(counts)) if only is None else only
        active = [t for t in frames if clusters[t] > 0]
        n = max(counts[t] for t in active)
        c = max(clusters[t] for t in active)
        kept = [counts[t] for t in active]
        made = [clusters[t] for t in active]
        token_index = [i * n + j for i, k in enumerate(kept) for j in range(k)]
        token_col = [starts[t] + j for t in active for j in range(counts[t])]
        cluster_index = [i * c + j for i, k in enumerate(made) for j in range(k)]
        as_long = {"dtype": torch.long, "device": device}
        begin = torch.tensor([starts[t] for t in active], **as_long)
        size = torch.tensor(kept, **as_long)
        offsets = torch.arange(n, device=device)[None, :]
        return cls(
            counts=kept,
            clusters=made,
            frame=torch.tensor(active, **as_long),
            row_index=begin[:, None] + offsets.minimum(size[:, None] - 1),
            row_valid=offsets < size[:, None],
            cluster_count=torch.tensor(made, **as_long),
            cluster_start=torch.tensor([firsts[t] for t in active], **as_long),
            cluster_index=torch.tensor(cluster_index, **as_long),
            token_index=torch.tensor(token_index, **as_long),
            token_col=torch.tensor(token_col, **as_long),
        )


def _batch_distances(
    values: torch.Tensor,
    moved: torch.Tensor,
    pos: torch.Tensor,
    batch: _FrameBatch,
    gram: torch.Tensor | None,
) -> torch.Tensor:
    """Scaled distances ``[F, N, N]`` between each frame's kept tokens (0 on padding).

    A batch holds one size class (``_cluster``). Frames of at most ``CDIST_DIRECT_MAX`` tokens,
    and all frames in the reference (``gram`` None), use ``cdist`` as the reference does, so
    each keeps the algorithm its size selects (padding repeats a row and is masked at the end;
    it changes no other entry). Larger frames of the fixed variant reuse the segment Gram
    (``|a|^2 + |b|^2 - 2ab``) and recompute only the entries of the tokens changed by
    temporal merging.
    """
    rows = values[batch.row_index]  # [F, N, D]
    if gram is None or max(batch.counts) <= CDIST_DIRECT_MAX:
        dist = pairwise_distance(rows)
    else:
        g = gram[batch.frame[:, None, None], pos[:, :, None], pos[:, None, :]]
        fresh = torch.bmm(rows, rows.transpose(1, 2))  # row i . row j
        g = torch.where(
            moved[:, :, None], fresh, torch.where(moved[:, None, :], fresh.transpose(1, 2), g)
        )
        sq = torch.diagonal(g, dim1=1, dim2=2)
        d2 = (sq[:, :, None] + sq[:, None, :] - 2.0 * g).clamp_min(0.0)
        dist = d2.sqrt() / math.sqrt(values.shape[1])
    pair = batch.row_valid[:, :, None] & batch.row_valid[:, None, :]
    return dist.masked_fill(~pair, 0.0)


def _density_peak_scores(
    dist: torch.Tensor,
    pair: torch.Tensor,
    batch: _FrameBatch,
    knn: int,
    draw: torch.Tensor,
) -> torch.Tensor:
    """``density_peak_score`` of each frame with its own ``k = min(clusters, knn)``, ``[F, N]``.

    The mean over the ``k`` nearest is taken per distinct ``k`` on exactly ``k`` values, as a
    one-frame call does; padded tokens score ``-inf``. ``draw`` holds every row's noise.
    """
    device = dist.device
    ks = [min(nc, knn) for nc in batch.clusters]
    nearest = torch.topk(dist.masked_fill(~pair, math.inf), max(ks), dim=2, largest=False).values
    density = dist.new_zeros(dist.shape[:2])
    for k in sorted(set(ks)):
        idx = torch.tensor([i for i, v in enumerate(ks) if v == k], dtype=torch.long, device=device)
        density[idx] = (-(nearest[idx, :, :k].contiguous() ** 2).mean(dim=-1)).exp()
    noise = density.new_zeros(density.numel())
    noise[batch.token_index] = draw[batch.token_col]  # the reference's draws, in frame order
    density = density + noise.view_as(density) * DENSITY_NOISE
    valid = batch.row_valid
    score = density * distance_to_denser(dist, density.masked_fill(~valid, -math.inf))
    return score.masked_fill(~valid, -math.inf)


register_method(
    MethodSpec(
        name="flashvid",
        stop_terms=("STSP",),
        params_type=FlashVidParams,
        run=flashvid,
        plan=plan_flashvid,
        needs=frozenset({"attention"}),
        summary="FlashVID: segments, attention-diversity selection, temporal merging, DPC-kNN",
    )
)
