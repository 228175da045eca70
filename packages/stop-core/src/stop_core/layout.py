"""Newline layouts of LLaVA video sequences: where each kept token and each newline goes.

``layout_order`` is the single implementation of the four LLaVA modes; ``lay_out`` gathers
the features. Modes: ``one_token`` (method order, one newline at the end), ``no_token``,
``frame`` (a newline after each frame) and ``grid`` (tokens re-sorted by frame and raster
position, newlines after rows as the method's ``grid_newlines`` says).
"""

from __future__ import annotations

from typing import Literal

import torch

from stop_core.tokens import PrunedVideo

LayoutMode = Literal["one_token", "no_token", "frame", "grid"]
LAYOUT_MODES: tuple[str, ...] = ("one_token", "no_token", "frame", "grid")
NEWLINE = -1


def layout_order(out: PrunedVideo, mode: LayoutMode = "one_token") -> torch.Tensor:
    """``[L]`` long: for each slot of the LLM sequence, a row of ``out.features`` or -1."""
    n = out.kept
    device = out.features.device
    rows = torch.arange(n, device=device)
    newline = torch.full((1,), NEWLINE, dtype=torch.long, device=device)
    if mode == "one_token":
        return torch.cat([rows, newline])
    if mode == "no_token":
        return rows
    if mode == "frame":
        order = torch.sort(out.frame_index, stable=True).indices
        counts = torch.bincount(out.frame_index, minlength=out.num_frames)
        return _interleave(order, out.frame_index[order], counts, torch.ones_like(counts))
    if mode == "grid":
        h, w = out.grid
        pos = out.position if out.layout_position is None else out.layout_position
        order = torch.sort(out.frame_index * (h * w) + pos, stable=True).indices
        group = out.frame_index[order] * h + pos[order] // w
        counts = torch.bincount(group, minlength=out.num_frames * h)
        if out.grid_newlines == "every_row":
            has_newline = torch.ones_like(counts)
        elif out.grid_newlines == "nonempty_rows":
            has_newline = (counts > 0).long()
        else:
            has_newline = torch.zeros_like(counts)
        return _interleave(order, group, counts, has_newline)
    raise ValueError(f"unknown layout mode {mode!r}; known: {list(LAYOUT_MODES)}")


def _interleave(
    order: torch.Tensor, group: torch.Tensor, counts: torch.Tensor, has_newline: torch.Tensor
) -> torch.Tensor:
    """Place tokens (sorted by ``group``) and one newline after each group that has one."""
    newlines_before = torch.cumsum(has_newline, 0) - has_newline  # exclusive prefix sum
    total = order.numel() + int(has_newline.sum())
    seq = torch.full((total,), NEWLINE, dtype=torch.long, device=order.device)
    slots = torch.arange(order.numel(), device=order.device) + newlines_before[group]
    seq[slots] = order
    return seq


def lay_out(
    out: PrunedVideo, newline: torch.Tensor | None, mode: LayoutMode = "one_token"
) -> torch.Tensor:
    """``[L, D]``: the video segment exactly as the LLM sees it (newline rows from ``newline``)."""
    order = layout_order(out, mode)
    is_newline = order == NEWLINE
    if bool(is_newline.any()):
        if newline is None:
            raise ValueError(
                f"layout mode {mode!r} inserts newline tokens; pass newline=[D] tensor"
            )
        if newline.shape != (out.features.shape[1],):
            raise ValueError(
                f"newline must have shape [{out.features.shape[1]}], got {tuple(newline.shape)}"
            )
    seq = out.features.new_empty((order.numel(), out.features.shape[1]))
    seq[~is_newline] = out.features[order[~is_newline]]
    if bool(is_newline.any()):
        seq[is_newline] = newline.to(dtype=seq.dtype, device=seq.device)
    return seq
