"""SToP on ``Qwen2_5_VLForConditionalGeneration``: real vision attention, every method.

A pre-hook on one vision block captures its attention (default: the last full-attention
block); the tower runs in window order, which ``patch_order`` undoes. A video is one
contiguous placeholder run in the prompt: it shrinks to the kept tokens, in the order
``prune`` returns them. The shared machinery is ``stop_qwen.base.QwenAdapterBase``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from transformers.vision_utils import get_vision_window_index

from stop_core import PrunedVideo, VideoTokens
from stop_core.sequence import RunReplacement
from stop_qwen.base import BACKBONES, QwenAdapterBase, check_grid, resolve_block

__all__ = ["BACKBONES", "QwenStopAdapter", "check_grid", "resolve_block"]


class QwenStopAdapter(QwenAdapterBase):
    """Prunes the video tokens of one Qwen2.5-VL model instance."""

    backbone: ClassVar[str] = "qwen2_5_vl"
    model_class_name: ClassVar[str] = "Qwen2_5_VLForConditionalGeneration"

    def full_attention_blocks(self) -> list[int]:
        """The config's ``fullatt_block_indexes`` (the other blocks attend within windows)."""
        return list(self.model.config.vision_config.fullatt_block_indexes)

    def patch_order(self, grid: torch.Tensor) -> torch.Tensor:
        """The tower's window permutation of the merged tokens."""
        vision = self.model.config.vision_config
        window_index, _ = get_vision_window_index(
            grid, self.merge, vision.window_size, vision.patch_size
        )
        return window_index

    def pop_rope_extras(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        """``second_per_grid_ts`` scales the temporal M-RoPE ids of Qwen2.5-VL."""
        return {"second_per_grid_ts": kwargs.pop("second_per_grid_ts", None)}

    def replacements(self, tokens: VideoTokens, out: PrunedVideo) -> list[RunReplacement]:
        """One run of ``T * S`` placeholders; the kept ones at their global indices."""
        return [RunReplacement(tokens.num_frames * tokens.tokens_per_frame, out.global_index)]
