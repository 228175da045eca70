"""SToP on ``Qwen3VLForConditionalGeneration`` (backbone ``qwen3_vl``): deepstack, timestamps.

What differs from Qwen2.5-VL (the rest is ``stop_qwen.base``):

- Every vision block attends over a whole temporal slice; the capture defaults to the last
  block. The tower keeps the merged tokens in raster order (no windows).
- Deepstack: the tower also emits features of blocks ``deepstack_visual_indexes`` that the LLM
  adds at the visual positions of its first layers. Each level is pruned exactly like the
  main features (``PrunedVideo.combination``: copied for a selected token, combined with the
  same sources and weights for a merged one), so kept main and deepstack tokens correspond
  one to one.
- Timestamps: the prompt holds, per temporal group ``g``, the text ``<t seconds>`` and
  ``<|vision_start|>``, ``S`` placeholders, ``<|vision_end|>``. Group ``g``'s run shrinks to
  the kept tokens whose ``frame_index`` is ``g`` (in the order ``prune`` returns them; the
  methods return frames in time order, a stable sort by frame guarantees it). All text stays,
  timestamps included, and every kept token keeps its original interleaved-M-RoPE T/H/W ids.
- A group with zero kept tokens keeps its text: ``<t seconds><|vision_start|><|vision_end|>``
  with nothing in between (text tokens are never dropped), at the original positions, so
  the model still sees when that group was and that nothing of it was kept.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch

from stop_core import PrunedVideo, VideoTokens
from stop_core.sequence import RunReplacement
from stop_core.side import prune_side_tensor
from stop_qwen.base import QwenAdapterBase

__all__ = ["Qwen3VLStopAdapter", "prune_side_tensor"]


class Qwen3VLStopAdapter(QwenAdapterBase):
    """Prunes the video tokens (and their deepstack features) of one Qwen3-VL instance."""

    backbone: ClassVar[str] = "qwen3_vl"
    model_class_name: ClassVar[str] = "Qwen3VLForConditionalGeneration"

    def full_attention_blocks(self) -> list[int]:
        """All blocks: Qwen3-VL's tower has no window attention."""
        return list(range(len(self.visual.blocks)))

    def patch_order(self, grid: torch.Tensor) -> torch.Tensor:
        """Merged tokens stay in order inside the tower (patches are grouped 2x2 already)."""
        total = int((grid.prod(dim=-1) // (self.merge * self.merge)).sum())
        return torch.arange(total)

    def token_order(self, out: PrunedVideo) -> torch.Tensor:
        """Frames in time order, each frame's tokens in the order ``prune`` gave them."""
        return torch.sort(out.frame_index, stable=True).indices

    def replacements(self, tokens: VideoTokens, out: PrunedVideo) -> list[RunReplacement]:
        """One run of ``S`` placeholders per temporal group; kept offsets are positions."""
        order = self.token_order(out)
        frame, position = out.frame_index[order], out.position[order]
        return [
            RunReplacement(tokens.tokens_per_frame, position[frame == g])
            for g in range(tokens.num_frames)
        ]

    def video_notes(self, tokens: VideoTokens, out: PrunedVideo) -> dict[str, Any]:
        """How many temporal groups kept no token (their timestamp text stays)."""
        per_group = torch.bincount(out.frame_index.cpu(), minlength=tokens.num_frames)
        return {"empty_groups": int((per_group == 0).sum())}

    def prune_side(self, out: PrunedVideo, side: list[torch.Tensor]) -> list[torch.Tensor]:
        """Each deepstack level ``[T, S, D']`` pruned as the main features were.

        The levels are pruned in one pass (concatenated along the feature axis; the map is
        linear per feature, so this equals pruning each level on its own).
        """
        if not side:
            return []
        widths = [level.shape[-1] for level in side]
        return list(prune_side_tensor(out, torch.cat(side, dim=-1)).split(widths, dim=-1))

    def encoder_output(self, features: list[torch.Tensor], side: list[list[torch.Tensor]]) -> Any:  # noqa: ANN401 - transformers' BaseModelOutputWithDeepstackFeatures
        """Kept main features per video and, per deepstack level, the kept side features."""
        from transformers.models.qwen3_vl.modeling_qwen3_vl import (
            BaseModelOutputWithDeepstackFeatures,
        )

        levels = len(side[0]) if side else 0
        return BaseModelOutputWithDeepstackFeatures(
            pooler_output=tuple(features),
            deepstack_features=[tuple(video[level] for video in side) for level in range(levels)],
        )
