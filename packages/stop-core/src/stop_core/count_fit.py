"""The exact-count rule: fill or trim a method's output to its planned count (ALGORITHMS.md §9).

A token's priority is its STSP-adjusted importance ``A[t, i] - mu_s * sink[i]`` at its
(frame, position), the score every method's spatial selection ranks by. Trimming removes the
output tokens of lowest priority; filling adds plain copies of the unoccupied input tokens of
highest priority, each inserted where the method's own order puts a token of its frame and
position. Ties go to the lower global index (then the earlier output row).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import torch

from stop_core.combination import TokenCombination
from stop_core.config import PruningConfig
from stop_core.planning import count_plan
from stop_core.registry import get_method
from stop_core.sink import sink_score, stsp_importance
from stop_core.tokens import PrunedVideo, VideoTokens

RULE = (
    "priority A - mu_s * sink at each token's (frame, position); trim the lowest, fill plain "
    "copies of the highest unoccupied; ties to the lower global index"
)


def token_priority(tokens: VideoTokens, cfg: PruningConfig) -> torch.Tensor:
    """``[T * S]`` float32 priorities ``A - mu_s * sink`` (sink over all frames, ``cfg.gamma``)."""
    if tokens.attention is None:
        raise ValueError(
            f"exact_count needs VideoTokens.attention to rank tokens ({cfg.method!r} kept a "
            "different count than planned), but it is None"
        )
    att = tokens.attention.to(tokens.features.device).float()
    return stsp_importance(att, sink_score(att, cfg.gamma), cfg.mu_s).flatten()


def fit_to_count(
    out: PrunedVideo, tokens: VideoTokens, cfg: PruningConfig, target: int | None = None
) -> PrunedVideo:
    """``out`` filled or trimmed to ``target`` tokens (default: the planned count of ``cfg``).

    A no-op on the tokens when ``out`` already has ``target``; ``info["exact_count"]`` records
    the planned count, the method's own count, and which tokens were filled (global indices)
    or trimmed (rows of the method's output). The method's own ``info`` entries still
    describe its output before the fit.
    """
    t, s = tokens.num_frames, tokens.tokens_per_frame
    if target is None:
        target = count_plan(cfg, t, tokens.hw).tokens
    if not 1 <= target <= t * s:
        raise ValueError(f"target count must be in [1, T * S = {t * s}], got {target}")
    n = out.kept
    empty = torch.zeros(0, dtype=torch.long, device=out.features.device)
    if n == target:
        return _with_record(out, out, target, filled=empty, trimmed=empty)
    if out.combination is None:
        raise ValueError(
            f"method {out.method!r} did not record how its tokens were formed; exact_count "
            "cannot fill or trim its output"
        )
    priority = token_priority(tokens, cfg)
    if n > target:
        fitted, removed = _trim(out, priority, target)
        return _with_record(fitted, out, target, filled=empty, trimmed=removed)
    fitted, added = _fill(out, tokens, priority, target - n, _leading(out, cfg))
    return _with_record(fitted, out, target, filled=added, trimmed=empty)


def _leading(out: PrunedVideo, cfg: PruningConfig) -> torch.Tensor:
    """``[N]`` bool: outputs the method places ahead of their frame's own tokens."""
    lead_fn = get_method(cfg.method).leading_tokens
    if lead_fn is None:
        return torch.zeros(out.kept, dtype=torch.bool, device=out.features.device)
    return lead_fn(out)


def _trim(
    out: PrunedVideo, priority: torch.Tensor, target: int
) -> tuple[PrunedVideo, torch.Tensor]:
    """Keep the ``target`` outputs of highest priority (ties: lower global index, earlier row).

    Also returns the removed rows of ``out`` (ascending).
    """
    gidx = out.global_index
    by_index = torch.sort(gidx, stable=True).indices  # rows of equal index stay in row order
    ranked = by_index[torch.sort(priority[gidx[by_index]], descending=True, stable=True).indices]
    keep = torch.sort(ranked[:target]).values  # the method's own order
    assert out.combination is not None
    comb = out.combination
    new_row = torch.full((out.kept,), -1, dtype=torch.long, device=keep.device)
    new_row[keep] = torch.arange(target, device=keep.device)
    # rows keep their order, so the entries stay sorted (no coalesce); one nonzero sync
    kept = torch.nonzero(new_row[comb.row] >= 0).flatten()
    fitted = dataclasses.replace(
        out,
        features=out.features[keep],
        frame_index=out.frame_index[keep],
        position=out.position[keep],
        kept=target,
        layout_position=None if out.layout_position is None else out.layout_position[keep],
        combination=TokenCombination(
            new_row[comb.row[kept]], comb.col[kept], comb.weight[kept], target, comb.num_inputs
        ),
    )
    return fitted, torch.sort(ranked[target:]).values


def _fill(
    out: PrunedVideo,
    tokens: VideoTokens,
    priority: torch.Tensor,
    count: int,
    lead: torch.Tensor,
) -> tuple[PrunedVideo, torch.Tensor]:
    """Add ``count`` copies of the unoccupied inputs of highest priority, in the method's order.

    Order key: ``frame * (S + 1)`` for a leading output, ``frame * (S + 1) + 1 + position``
    otherwise (a copy is never leading); each copy goes just before the first output whose key
    exceeds its own (the end if none), copies at one place in ascending global index.
    Also returns the global indices of the copies (ascending).
    """
    s = tokens.tokens_per_frame
    device = out.features.device
    n = out.kept
    gidx = out.global_index
    occupied = torch.zeros(priority.shape[0], dtype=torch.bool, device=device)
    occupied[gidx] = True
    by_priority = torch.sort(priority, descending=True, stable=True).indices  # ties: lower index
    free_first = by_priority[torch.sort(occupied[by_priority].long(), stable=True).indices]
    added = torch.sort(free_first[:count]).values  # global indices, ascending
    frame, pos = added // s, added % s

    key = out.frame_index * (s + 1) + torch.where(lead, 0, out.position + 1)
    at = torch.searchsorted(torch.cummax(key, 0).values, frame * (s + 1) + pos + 1, right=True)
    slot = torch.cat([2 * torch.arange(n, device=device) + 1, 2 * at])  # copy before row ``at``
    order = torch.sort(slot, stable=True).indices  # [n + count]: source of each final row
    new_row = torch.empty_like(order).scatter_(0, order, torch.arange(n + count, device=device))

    src = tokens.features
    copies = src[frame, pos].to(out.features.dtype)
    assert out.combination is not None
    comb = out.combination
    rows = torch.cat([new_row[comb.row], new_row[n:]])
    by_row = torch.sort(rows, stable=True).indices  # canonical form kept: copies add one entry
    combination = TokenCombination(
        rows[by_row],
        torch.cat([comb.col, added])[by_row],
        torch.cat([comb.weight, torch.ones(count, dtype=torch.float32, device=device)])[by_row],
        n + count,
        comb.num_inputs,
    )
    layout = out.layout_position
    fitted = dataclasses.replace(
        out,
        features=torch.cat([out.features, copies])[order],
        frame_index=torch.cat([out.frame_index, frame])[order],
        position=torch.cat([out.position, pos])[order],
        kept=n + count,
        layout_position=None if layout is None else torch.cat([layout, pos])[order],
        combination=combination,
    )
    return fitted, added


def _with_record(
    fitted: PrunedVideo,
    method_out: PrunedVideo,
    target: int,
    *,
    filled: torch.Tensor,
    trimmed: torch.Tensor,
) -> PrunedVideo:
    """``fitted`` with ``info["exact_count"]``; a changed count gets a new budget explanation."""
    info: dict[str, Any] = dict(method_out.info)
    info["exact_count"] = {
        "planned": target,
        "method_kept": method_out.kept,
        "filled": int(filled.numel()),
        "trimmed": int(trimmed.numel()),
        "filled_global_idx": filled,
        "trimmed_rows": trimmed,
        "rule": RULE,
    }
    if fitted is method_out:
        return dataclasses.replace(fitted, info=info)
    own = info.pop("budget_explanation", None)
    if target != fitted.requested:
        note = (
            f"exact_count: {fitted.method} keeps its planned count {target} (round(r * T * S) "
            f"= {fitted.requested}); the method itself delivered {method_out.kept}"
        )
        info["budget_explanation"] = note if own is None else f"{note}. {own}"
    elif own is not None:
        info["method_budget_explanation"] = own
    return dataclasses.replace(fitted, info=info)
