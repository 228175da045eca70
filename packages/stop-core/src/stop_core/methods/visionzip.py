"""``visionzip``: VisionZip (dominant + contextual tokens per frame) with SToP's STSP.

Per frame, the ``n_dom`` tokens of highest ``A - mu_s * sink`` are kept as they are; the rest
are merged into ``n_ctx`` contextual tokens around targets taken at a stride of the remaining
tokens (moved off sink positions by the "sink-avoidance walk"), each target absorbing the
mean of the remaining tokens whose keys are most cosine-similar to its key (ALGORITHMS.md §3.1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch

from stop_core.combination import TokenCombination
from stop_core.ops import finish, l2_normalize, requested_tokens
from stop_core.params import MethodParams
from stop_core.sink import check_score_dtype, sink_score_rows
from stop_core.spec import CountPlan, MethodSpec, register_method
from stop_core.tokens import PrunedVideo, VideoTokens

if TYPE_CHECKING:
    from stop_core.config import PruningConfig

RATIO_MATCH_TOL = 1e-9


@dataclass(frozen=True)
class VisionZipParams(MethodParams):
    """VisionZip knobs with the paper harness defaults (ALGORITHMS.md §0, §7).

    ``spatial_tokens_table`` maps a retention ratio to tokens per frame (other ratios keep
    ``int(S * r)``, at least 1); ``dominant_ratio`` splits them into dominant and contextual;
    ``sink_set_size`` is the number of top sink positions the walk moves targets away from.
    In the reference variant, ratios outside the table take ``int(budget_base * r)`` on the
    grids in ``budget_base_grids`` (SigLIP-so400m/384 pooled 14x14 or 13x13), as the official
    harness sizes them from 196 tokens for every SigLIP backbone (ALGORITHMS.md §8.16).
    ``score_dtype="input"`` computes the sink score and ``A - mu_s * sink`` in the attention's
    dtype (fp16/bf16 as in the paper runs) instead of float32.
    """

    spatial_tokens_table: tuple[tuple[float, int], ...] = (
        (0.10, 20),
        (0.15, 30),
        (0.20, 40),
        (0.25, 50),
    )
    dominant_ratio: float = 54 / 64
    sink_set_size: int = 20
    budget_base: int = 196
    budget_base_grids: tuple[tuple[int, int], ...] = ((14, 14), (13, 13))
    score_dtype: str = "float32"

    def __post_init__(self) -> None:
        for name in ("spatial_tokens_table", "budget_base_grids"):
            rows = getattr(self, name)
            if isinstance(rows, (list, tuple)):
                rows = tuple(tuple(r) if isinstance(r, (list, tuple)) else r for r in rows)
                object.__setattr__(self, name, rows)
        super().__post_init__()

    def validate(self) -> None:
        """Check the table entries, the dominant share and the sink-set size."""
        table = self.spatial_tokens_table
        if not isinstance(table, tuple):
            raise ValueError(
                f"VisionZipParams.spatial_tokens_table must be a tuple of (ratio, tokens) pairs, "
                f"got {table!r}"
            )
        seen: list[float] = []
        for row in table:
            if not (isinstance(row, tuple) and len(row) == 2):
                raise ValueError(
                    f"VisionZipParams.spatial_tokens_table entry {row!r} is not a (ratio, tokens) "
                    "pair"
                )
            ratio, count = row
            if isinstance(ratio, bool) or not isinstance(ratio, (int, float)):
                raise ValueError(
                    f"VisionZipParams.spatial_tokens_table ratio {ratio!r} is not a number"
                )
            if not (math.isfinite(ratio) and 0.0 < ratio <= 1.0):
                raise ValueError(
                    f"VisionZipParams.spatial_tokens_table ratio must be in (0, 1], got {ratio}"
                )
            if isinstance(count, bool) or not isinstance(count, int) or count < 1:
                raise ValueError(
                    f"VisionZipParams.spatial_tokens_table tokens per frame must be an int >= 1, "
                    f"got {count!r} (ratio {ratio})"
                )
            if any(math.isclose(ratio, r, rel_tol=0.0, abs_tol=RATIO_MATCH_TOL) for r in seen):
                raise ValueError(
                    f"VisionZipParams.spatial_tokens_table lists ratio {ratio} more than once"
                )
            seen.append(float(ratio))
        if not 0.0 <= self.dominant_ratio <= 1.0:
            raise ValueError(
                f"VisionZipParams.dominant_ratio must be in [0, 1], got {self.dominant_ratio}"
            )
        size = self.sink_set_size
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise ValueError(f"VisionZipParams.sink_set_size must be an int >= 0, got {size!r}")
        base = self.budget_base
        if isinstance(base, bool) or not isinstance(base, int) or base < 1:
            raise ValueError(f"VisionZipParams.budget_base must be an int >= 1, got {base!r}")
        grids = self.budget_base_grids
        if not isinstance(grids, tuple) or not all(
            isinstance(g, tuple)
            and len(g) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in g)
            for g in grids
        ):
            raise ValueError(
                f"VisionZipParams.budget_base_grids must be a tuple of (h, w) pairs of ints >= 1, "
                f"got {grids!r}"
            )
        check_score_dtype("VisionZipParams", self.score_dtype)

    def tokens_per_frame(self, retention_ratio: float, tokens_per_frame: int) -> int:
        """``S_tok`` before capping at ``S``: the table entry for the ratio, else ``int(S * r)``."""
        for ratio, count in self.spatial_tokens_table:
            if math.isclose(retention_ratio, ratio, rel_tol=0.0, abs_tol=RATIO_MATCH_TOL):
                return count
        return max(1, int(tokens_per_frame * retention_ratio))

    def budget_base_for(self, grid: tuple[int, int]) -> int:
        """The reference's base for ``int(base * r)``: ``budget_base`` on its grids, else ``S``."""
        return self.budget_base if tuple(grid) in self.budget_base_grids else grid[0] * grid[1]


def visionzip(tokens: VideoTokens, cfg: PruningConfig, generator: torch.Generator) -> PrunedVideo:
    """VisionZip + STSP on ``[T, S]`` frames; ``cfg.variant`` picks the reference or fixed walk."""
    params = cfg.params
    assert isinstance(params, VisionZipParams)
    assert tokens.attention is not None and tokens.keys is not None
    x = tokens.features
    t, s, d = x.shape
    device = x.device
    reference = cfg.variant == "reference"
    stop_on = cfg.mu_s > 0.0
    info: dict[str, Any] = {}

    # Budget: S_tok per frame, split into dominant and contextual (int() truncation as upstream).
    base = params.budget_base_for(tokens.hw) if reference else s  # §8.16
    s_tok_asked = params.tokens_per_frame(cfg.retention_ratio, base)
    s_tok = min(s_tok_asked, s)
    n_dom = min(int(s_tok * params.dominant_ratio), s_tok)
    n_ctx = s_tok - n_dom
    m = s - n_dom
    step = max(1, m // n_ctx) if n_ctx > 0 else 0
    info.update(tokens_per_frame=s_tok, n_dominant=n_dom, n_contextual=n_ctx, step=step)
    info["budget_base"] = base

    # Scores in float32 (or the input dtype): sink score (always in the reference, only with
    # STSP on when fixed).
    in_dtype = params.score_dtype == "input"
    attn = tokens.attention if in_dtype else tokens.attention.float()
    use_sink = reference or stop_on
    sink: torch.Tensor | None = None
    sink_set = torch.empty(0, dtype=torch.long, device=device)
    if use_sink:
        sink_rows = sink_score_rows(attn, cfg.gamma, input_dtype=in_dtype)
        sink = sink_rows[0]
        k_sink = min(params.sink_set_size, s)
        sink_set = torch.topk(sink, k_sink).indices
        info.update(sink_score=sink, sink_set=sink_set)
        score = attn - cfg.mu_s * sink_rows  # each frame its own row (ALGORITHMS.md §8.17)
    else:
        score = attn

    # Dominant tokens: top-k per frame; the remaining tokens keep ascending position order.
    dom_topk = torch.topk(score, n_dom, dim=1).indices
    is_dom = torch.zeros(t, s, dtype=torch.bool, device=device)
    is_dom.scatter_(1, dom_topk, True)
    order = torch.argsort(torch.arange(s, device=device) + is_dom.long() * s, dim=1)
    remaining = order[:, :m]
    dom_idx = order[:, m:]
    info.update(dominant_idx=dom_idx, dominant_idx_topk_order=dom_topk)

    # Contextual targets: plain stride over the remaining list, then the sink-avoidance walk.
    if n_ctx > 0:
        cand = torch.arange(0, m, step, device=device)[:n_ctx]
    else:
        cand = torch.zeros(0, dtype=torch.long, device=device)
    n_ctx = int(cand.numel())
    info["contextual_candidates"] = cand
    if n_ctx == 0:
        tgt_rem = remaining[:, :0]
        dup = torch.zeros(t, 0, dtype=torch.bool, device=device)
        info["walk"] = "off: no contextual tokens"
        info["contextual_target_idx_in_remaining"] = cand if reference else tgt_rem
    elif reference:
        walked, dup_1d = _reference_walk(cand, sink_set, s, m, info)
        info["contextual_target_idx_in_remaining"] = walked
        tgt_rem = walked.expand(t, n_ctx)
        dup = dup_1d.expand(t, n_ctx)
    else:
        if stop_on and sink_set.numel() > 0:
            tgt_rem = _fixed_walk(cand, sink_set, remaining, s, info)
        else:
            tgt_rem = cand.expand(t, n_ctx)
            info["walk"] = "off: STSP is off (mu_s = 0)" if not stop_on else "off: empty sink set"
        dup = torch.zeros(t, n_ctx, dtype=torch.bool, device=device)
        info["contextual_target_idx_in_remaining"] = tgt_rem
    tgt_pos = remaining.gather(1, tgt_rem)
    info["contextual_target_pos"] = tgt_pos

    ctx, counts, ctx_weight = _contextual_tokens(x, tokens.keys, is_dom, tgt_pos, dup)
    info["contextual_merged_count"] = counts
    dom_feat = _rows(x, dom_idx)
    per_frame = n_dom + n_ctx
    # how each output was formed: one block [per_frame, S] per frame (dominant rows one-hot)
    dom_weight = torch.zeros(t, n_dom, s, device=device).scatter_(2, dom_idx[..., None], 1.0)
    combination = TokenCombination.from_blocks(
        torch.cat([dom_weight, ctx_weight], dim=1),
        torch.arange(t * per_frame, device=device).reshape(t, per_frame),
        torch.arange(t * s, device=device).reshape(t, s),
        t * per_frame,
        t * s,
    )
    features = torch.cat([dom_feat, ctx.to(x.dtype)], dim=1).reshape(t * per_frame, d)
    position = torch.cat([dom_idx, tgt_pos], dim=1).reshape(-1)
    frame_index = torch.arange(t, device=device).repeat_interleave(per_frame)

    if cfg.mu_s == 0.0:
        info["stop"] = (
            "off; the reference still runs the sink-avoidance walk (ALGORITHMS.md §5.1)"
            if reference
            else "off: plain VisionZip"
        )
    if cfg.mu_t > 0.0:
        info["mu_t"] = "ignored: VisionZip has no temporal (STTP) term"
    requested = requested_tokens(t, s, cfg.retention_ratio)
    note = None
    if t * per_frame != requested:
        note = _budget_note(cfg, params, (s, base), s_tok_asked, n_dom, per_frame, t, requested)
    # The reference grid pairs ascending dominant tokens with top-k ordered positions (§5.3).
    layout = torch.cat([dom_topk, tgt_pos], dim=1).reshape(-1) if reference else None
    return finish(
        tokens,
        cfg,
        features,
        frame_index,
        position,
        info,
        grid_newlines="every_row" if reference else "nonempty_rows",
        layout_position=layout,
        budget_note=note,
        combination=combination,
    )


def plan_visionzip(cfg: PruningConfig, num_frames: int, grid: tuple[int, int]) -> CountPlan:
    """``T * S_tok``: every frame keeps its budget (table entry or ``int(base * r)``, <= S)."""
    params = cfg.params
    assert isinstance(params, VisionZipParams)
    s = grid[0] * grid[1]
    base = params.budget_base_for(grid) if cfg.variant == "reference" else s  # §8.16
    per_frame = min(params.tokens_per_frame(cfg.retention_ratio, base), s)
    return CountPlan(
        num_frames * per_frame,
        False,
        f"T * S_tok = {num_frames} * {per_frame} (tokens per frame from the table or "
        f"int({base} * r), at most S = {s})",
    )


def _reference_walk(
    cand: torch.Tensor, sink_set: torch.Tensor, s: int, m: int, info: dict[str, Any]
) -> tuple[torch.Tensor, torch.Tensor]:
    """The reference walk: remaining-list indices compared with full-space sink positions.

    Each candidate moves to the first index ``>= cand`` that is not a sink position or equals
    ``m``; ``m`` (out of range in the reference) is clamped to ``m - 1`` and recorded.
    Returns the targets ``[n_ctx]`` and a mask of targets repeating an earlier one.
    """
    device = cand.device
    is_sink = torch.zeros(s + 1, dtype=torch.bool, device=device)
    is_sink[sink_set] = True
    is_sink = is_sink[: m + 1].clone()
    is_sink[m] = False  # the walk stops at m (``t < M`` fails)
    idx = torch.arange(m + 1, device=device)
    next_free = torch.where(is_sink, m + 1, idx).flip(0).cummin(0).values.flip(0)
    walked = next_free[cand]
    out_of_range = walked >= m
    n_clamped = int(out_of_range.sum())
    walked = walked.clamp(max=m - 1)
    dup = torch.zeros_like(out_of_range)
    dup[1:] = walked[1:] == walked[:-1]  # the walk is monotone, so repeats are adjacent
    n_dup = int(dup.sum())
    info["walk"] = "on (reference index spaces: remaining-list targets vs full-space sinks)"
    info["walk_clamped"] = n_clamped
    if n_clamped:
        info["walk_clamped_note"] = (
            f"{n_clamped} contextual target(s) walked to index {m} = number of remaining tokens, "
            f"out of range in the reference; clamped to {m - 1}"
        )
    info["duplicate_targets"] = n_dup
    if n_dup:
        info["duplicate_targets_note"] = (
            f"{n_dup} contextual target(s) repeat an earlier target after the walk; each repeat "
            "gets no assigned tokens and is output unchanged (ALGORITHMS.md §8.8)"
        )
    return walked, dup


def _fixed_walk(
    cand: torch.Tensor,
    sink_set: torch.Tensor,
    remaining: torch.Tensor,
    s: int,
    info: dict[str, Any],
) -> torch.Tensor:
    """Per-frame walk in one index space; targets ``[T, n_ctx]`` in the remaining list.

    Each candidate takes the first non-sink remaining token at or after it, collisions move
    forward and targets past the end are packed back, so targets are distinct and in range.
    Frames with fewer non-sink remaining tokens than targets fall back to the plain stride.
    """
    t, m = remaining.shape
    n_ctx = cand.numel()
    device = remaining.device
    is_sink_full = torch.zeros(s, dtype=torch.bool, device=device)
    is_sink_full[sink_set] = True
    eligible = ~is_sink_full[remaining]  # [T, M]
    n_eligible = eligible.sum(dim=1)
    fallback = n_eligible < n_ctx
    eligible = eligible | fallback[:, None]
    n_eligible = torch.where(fallback, m, n_eligible)
    idx = torch.arange(m, device=device)
    # Eligible indices ascending first, the rest after them (all >= m): rows stay sorted.
    pool = torch.sort(torch.where(eligible, idx, idx + m), dim=1).values
    rank = torch.searchsorted(pool, cand.expand(t, n_ctx).contiguous())
    j = torch.arange(n_ctx, device=device)
    rank = torch.cummax(rank - j, dim=1).values + j  # distinct: collisions move forward
    rank = torch.minimum(rank, n_eligible[:, None] - n_ctx + j)  # and pack back at the end
    targets = pool.gather(1, rank)
    n_fallback = int(fallback.sum())
    info["walk"] = "on (one index space: remaining tokens at full-space sink positions skipped)"
    info["walk_moved"] = int((targets != cand).sum())
    info["walk_fallback_frames"] = n_fallback
    if n_fallback:
        info["walk_fallback_note"] = (
            f"{n_fallback} frame(s) have fewer non-sink remaining tokens than {n_ctx} targets; "
            "their targets are the plain stride"
        )
    return targets


def _contextual_tokens(
    x: torch.Tensor,
    keys: torch.Tensor,
    is_dom: torch.Tensor,
    tgt_pos: torch.Tensor,
    dup: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Each target plus the mean of the other remaining tokens assigned to it (float32).

    A token goes to the target of highest key cosine (first on ties); a repeated target
    (``dup``) receives nothing. Returns ``[T, n_ctx, D]``, the counts ``[T, n_ctx]`` and the
    weights ``[T, n_ctx, S]`` of that sum (1 on the target, ``1/count`` on each member).
    """
    t, s, d = x.shape
    n_ctx = tgt_pos.shape[1]
    xf = x.float()
    if n_ctx == 0:
        return xf.new_zeros(t, 0, d), tgt_pos.new_zeros(t, 0), xf.new_zeros(t, 0, s)
    kn = l2_normalize(keys.float(), dim=-1)
    tgt_key = _rows(kn, tgt_pos)
    sim = torch.bmm(kn, tgt_key.transpose(1, 2))  # [T, S, n_ctx] cosine
    sim = sim.masked_fill(dup.unsqueeze(1), float("-inf"))
    assign = sim.argmax(dim=2)  # [T, S]
    member = ~is_dom
    member = member.scatter(1, tgt_pos, False)
    slots = torch.arange(n_ctx, device=x.device)
    one_hot = (assign.unsqueeze(1) == slots[None, :, None]) & member.unsqueeze(1)
    counts = one_hot.sum(dim=2)
    merged = torch.bmm(one_hot.to(xf.dtype), xf) / counts.clamp(min=1).unsqueeze(-1).to(xf.dtype)
    tgt_feat = _rows(xf, tgt_pos)
    weight = one_hot.to(xf.dtype) / counts.clamp(min=1).unsqueeze(-1).to(xf.dtype)
    weight = weight.scatter(2, tgt_pos.unsqueeze(-1), 1.0)  # targets are never members
    return tgt_feat + merged, counts, weight


def _rows(x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """``x[t, idx[t, j]]`` as ``[T, n, C]`` from ``x [T, S, C]``, copying only those rows."""
    return x[torch.arange(x.shape[0], device=idx.device)[:, None], idx]


def _budget_note(
    cfg: PruningConfig,
    params: VisionZipParams,
    sizes: tuple[int, int],
    s_tok_asked: int,
    n_dom: int,
    per_frame: int,
    t: int,
    requested: int,
) -> str:
    """Why VisionZip's per-frame budget gives ``T * S_tok`` tokens instead of ``round(r*T*S)``.

    ``sizes`` is ``(S, base)``: the tokens per frame and the base of ``int(base * r)``.
    """
    r = cfg.retention_ratio
    s, base = sizes
    in_table = any(
        math.isclose(r, ratio, rel_tol=0.0, abs_tol=RATIO_MATCH_TOL)
        for ratio, _ in params.spatial_tokens_table
    )
    if in_table:
        source = "the spatial_tokens_table entry"
    elif base == s:
        source = f"int(S * r) = int({s} * {r})"
    else:
        source = f"int(budget_base * r) = int({base} * {r}) (the reference's base, S = {s})"
    note = f"VisionZip keeps a fixed number of tokens per frame: {s_tok_asked} from {source}"
    if s_tok_asked > s:
        note += f", capped at S = {s}"
    note += (
        f"; {n_dom} dominant + {per_frame - n_dom} contextual = {per_frame} per frame, "
        f"{t} x {per_frame} = {t * per_frame} tokens vs round(r * T * S) = {requested}"
    )
    return note


register_method(
    MethodSpec(
        name="visionzip",
        stop_terms=("STSP",),
        params_type=VisionZipParams,
        run=visionzip,
        plan=plan_visionzip,
        needs=frozenset({"attention", "keys"}),
        summary="VisionZip + STSP: top dominant tokens per frame, keys-merged contextual tokens",
    )
)
