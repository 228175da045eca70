"""Shrinking token sequences: replace each video's placeholder run by its pruned run.

Backbone adapters use this to rebuild ``input_ids``/``attention_mask`` after pruning, and the
returned ``source`` map to carry per-token data (e.g. Qwen2.5-VL M-RoPE positions) across.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

PaddingSide = Literal["left", "right"]


@dataclass(frozen=True)
class RunReplacement:
    """One video's placeholders: ``original`` slots become ``new`` slots.

    ``new`` is either a count (fresh placeholder slots, e.g. a re-laid-out LLaVA sequence) or
    a long tensor of offsets into the original run (the kept placeholders, in order).
    """

    original: int
    new: int | torch.Tensor

    @property
    def new_count(self) -> int:
        """Number of placeholder slots after the replacement."""
        return self.new if isinstance(self.new, int) else int(self.new.numel())


@dataclass(frozen=True)
class RebuiltSequences:
    """Shrunk batch: ids, mask and, per new slot, the original column (-1: new slot/padding)."""

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    source: torch.Tensor
    lengths: list[int]


def infer_padding_side(attention_mask: torch.Tensor) -> PaddingSide:
    """``"right"`` if some row ends in padding while none starts with it, else ``"left"``."""
    if attention_mask.shape[1] == 0:
        return "left"
    starts_padded = bool((attention_mask[:, 0] == 0).any())
    ends_padded = bool((attention_mask[:, -1] == 0).any())
    return "right" if ends_padded and not starts_padded else "left"


def rebuild_sequences(
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor | None,
    placeholder_id: int,
    replacements: list[list[RunReplacement]],
    pad_id: int,
    padding_side: PaddingSide | None = None,
) -> RebuiltSequences:
    """Replace the placeholder runs of every sample and re-pad the batch.

    Placeholders of sample ``b`` (real tokens only, in order) are consumed run by run as
    ``replacements[b]`` says; text tokens are always kept. Raises ``ValueError`` when a
    sample's placeholder count does not match the runs it is given.
    """
    if input_ids.ndim != 2:
        raise ValueError(f"input_ids must be [batch, length], got shape {tuple(input_ids.shape)}")
    if attention_mask is None:
        attention_mask = torch.ones_like(input_ids)
    if attention_mask.shape != input_ids.shape:
        raise ValueError(
            f"attention_mask shape {tuple(attention_mask.shape)} != input_ids shape "
            f"{tuple(input_ids.shape)}"
        )
    if len(replacements) != input_ids.shape[0]:
        raise ValueError(
            f"got placeholder runs for {len(replacements)} samples, batch has {input_ids.shape[0]}"
        )
    side = padding_side or infer_padding_side(attention_mask)
    device = input_ids.device
    rows_ids: list[torch.Tensor] = []
    rows_src: list[torch.Tensor] = []
    for b, runs in enumerate(replacements):
        real = torch.nonzero(attention_mask[b] != 0).flatten()
        ids = input_ids[b, real]
        ph = torch.nonzero(ids == placeholder_id).flatten()
        expected = sum(r.original for r in runs)
        if ph.numel() != expected:
            raise ValueError(
                f"sample {b}: {ph.numel()} placeholder tokens (id {placeholder_id}) but the "
                f"videos need {expected} ({[r.original for r in runs]})"
            )
        keep_src: list[torch.Tensor] = []
        cursor_text = 0
        consumed = 0
        for run in runs:
            run_pos = ph[consumed : consumed + run.original]
            consumed += run.original
            if run.original == 0:
                continue
            start = int(run_pos[0])
            end = int(run_pos[-1]) + 1
            if end - start != run.original:
                raise ValueError(f"sample {b}: a video's placeholders are not contiguous")
            keep_src.append(real[cursor_text:start])
            if isinstance(run.new, int):
                keep_src.append(torch.full((run.new,), -1, dtype=torch.long, device=device))
            else:
                offsets = run.new.to(device=device, dtype=torch.long)
                if offsets.numel() and (
                    int(offsets.min()) < 0 or int(offsets.max()) >= run.original
                ):
                    raise ValueError(
                        f"sample {b}: kept offsets must lie in [0, {run.original}), got "
                        f"[{int(offsets.min())}, {int(offsets.max())}]"
                    )
                keep_src.append(real[start + offsets])
            cursor_text = end
        keep_src.append(real[cursor_text:])
        src = torch.cat(keep_src) if keep_src else real.new_empty(0)
        new_ids = torch.where(
            src >= 0, input_ids[b, src.clamp(min=0)], torch.full_like(src, placeholder_id)
        )
        rows_ids.append(new_ids)
        rows_src.append(src)
    lengths = [int(r.numel()) for r in rows_ids]
    width = max(lengths, default=0)
    out_ids = torch.full((len(rows_ids), width), pad_id, dtype=input_ids.dtype, device=device)
    out_mask = torch.zeros((len(rows_ids), width), dtype=attention_mask.dtype, device=device)
    out_src = torch.full((len(rows_ids), width), -1, dtype=torch.long, device=device)
    for b, (ids, src) in enumerate(zip(rows_ids, rows_src, strict=True)):
        n = ids.numel()
        cols = slice(width - n, width) if side == "left" else slice(0, n)
        out_ids[b, cols] = ids
        out_mask[b, cols] = 1
        out_src[b, cols] = src
    return RebuiltSequences(out_ids, out_mask, out_src, lengths)


def assign_videos(
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor | None,
    video_token_id: int,
    per_video: list[int],
) -> list[list[int]]:
    """Map videos (in order) to samples by their placeholder counts: video indices per sample.

    ``per_video[i]`` is the number of placeholders video ``i`` has in the unpruned prompt;
    a mismatch between prompts and videos raises ``ValueError`` naming the counts.
    """
    mask = torch.ones_like(input_ids) if attention_mask is None else attention_mask
    counts = ((input_ids == video_token_id) & (mask != 0)).sum(dim=1).tolist()
    runs: list[list[int]] = []
    video = 0
    for b, count in enumerate(counts):
        sample: list[int] = []
        while count > 0:
            if video >= len(per_video) or per_video[video] > count:
                raise ValueError(
                    f"sample {b}: video placeholders do not match video_grid_thw "
                    f"({count} left, next video needs "
                    f"{per_video[video] if video < len(per_video) else 'nothing'})"
                )
            count -= per_video[video]
            sample.append(video)
            video += 1
        runs.append(sample)
    if video != len(per_video):
        raise ValueError(
            f"the prompts have placeholders for {video} videos but {len(per_video)} were given"
        )
    return runs
