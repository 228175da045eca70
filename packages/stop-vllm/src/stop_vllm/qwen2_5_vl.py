"""SToP in vLLM's Qwen2.5-VL: placeholders sized by ``planned_tokens``, pruning after the tower.

Without ``stop_pruning`` in the config both classes behave exactly as vLLM's own (EVS
included). With it, the processor gives each video ``planned_tokens`` placeholders, the
model encodes the video once (reading one vision block's attention when the method needs
it), prunes with ``stop_core.prune`` and hands vLLM the kept embeddings with their unpruned
T/H/W ids in the 4 extra channels vLLM's pruning path carries; the last channel makes the
text after the video continue where transformers puts it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import torch
from vllm.model_executor.models.qwen2_5_vl import (
    Qwen2_5_VLDummyInputsBuilder,
    Qwen2_5_VLForConditionalGeneration,
    Qwen2_5_VLMultiModalProcessor,
    Qwen2_5_VLProcessingInfo,
)
from vllm.multimodal import MULTIMODAL_REGISTRY
from vllm.multimodal.processing import PromptUpdate

from stop_vllm.pruning import grid_positions, prune_video
from stop_vllm.settings import processor_settings
from stop_vllm.video_model import StopVideoMixin
from stop_vllm.video_runs import planned_run, with_video_replacement

BACKBONE = "qwen2_5_vl"


class StopQwen2_5_VLProcessor(Qwen2_5_VLMultiModalProcessor):
    """vLLM's Qwen2.5-VL processor; with SToP, video runs sized by ``planned_tokens``."""

    def _get_prompt_updates(
        self,
        mm_items: Any,  # noqa: ANN401
        hf_processor_mm_kwargs: Mapping[str, Any],
        out_mm_kwargs: Any,  # noqa: ANN401
    ) -> Sequence[PromptUpdate]:
        updates = super()._get_prompt_updates(mm_items, hf_processor_mm_kwargs, out_mm_kwargs)
        settings = processor_settings(self.info, BACKBONE)
        if settings is None:
            return updates
        video_id = self.info.get_hf_config().video_token_id
        merge = self.info.get_hf_config().vision_config.spatial_merge_size

        def video_run(item_idx: int) -> list[int]:
            grid = out_mm_kwargs["video"][item_idx]["video_grid_thw"].data
            return [video_id] * planned_run(settings, grid, merge)

        return with_video_replacement(updates, video_run)


@MULTIMODAL_REGISTRY.register_processor(
    StopQwen2_5_VLProcessor,
    info=Qwen2_5_VLProcessingInfo,
    dummy_inputs=Qwen2_5_VLDummyInputsBuilder,
)
class StopQwen2_5_VLForConditionalGeneration(StopVideoMixin, Qwen2_5_VLForConditionalGeneration):
    """vLLM's Qwen2.5-VL; with ``stop_pruning`` its video embeddings are pruned by SToP."""

    stop_backbone: ClassVar[str] = BACKBONE

    def capture_candidates(self) -> list[int]:
        """The config's ``fullatt_block_indexes`` (the other blocks attend within windows)."""
        return list(self.config.vision_config.fullatt_block_indexes)

    def merged_order(self, grids: list[list[int]]) -> torch.Tensor:
        """The tower's window permutation of the merged tokens (vLLM's own)."""
        return self.visual.prepare_encoder_metadata(grids)["window_index"]

    def _postprocess_video_embeds_evs(
        self,
        video_embeds_split: tuple[torch.Tensor, ...],
        video_input: Any,  # noqa: ANN401
    ) -> tuple[torch.Tensor, ...]:
        """SToP instead of EVS: kept embeddings + 4 channels (T, H, W ids, text offset)."""
        settings = self.stop_settings
        if settings is None:
            return super()._postprocess_video_embeds_evs(video_embeds_split, video_input)
        seconds = video_input.get("second_per_grid_ts")
        per_second = self.config.vision_config.tokens_per_second
        out: list[torch.Tensor] = []
        for v, grid, tokens in self.stop_videos(video_embeds_split, video_input):
            emb = video_embeds_split[v]
            pruned = prune_video(tokens, settings)
            interval = per_second * (seconds[v] if seconds is not None else 1.0)
            positions = grid_positions(grid, interval)
            ids = positions.ids.to(emb.device)[pruned.global_index]
            extent = torch.full_like(ids[:, :1], positions.extent)
            out.append(torch.cat([pruned.features, torch.cat([ids, extent], 1).to(emb.dtype)], 1))
        return tuple(out)
