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
from typing import Any

import torch
from vllm.model_executor.models.qwen2_5_vl import (
    Qwen2_5_VLDummyInputsBuilder,
    Qwen2_5_VLForConditionalGeneration,
    Qwen2_5_VLMultiModalProcessor,
    Qwen2_5_VLProcessingInfo,
)
from vllm.multimodal import MULTIMODAL_REGISTRY
from vllm.multimodal.processing import PromptReplacement, PromptUpdate

from stop_core.scoring import merge_to_tokens, resolve_block
from stop_vllm.capture import VisionAttentionCapture
from stop_vllm.pruning import grid_positions, needs, needs_capture, prune_video, video_tokens
from stop_vllm.settings import StopSettings, read_settings
from stop_vllm.video_runs import planned_run

BACKBONE = "qwen2_5_vl"


def settings_for(info: Any) -> StopSettings | None:  # noqa: ANN401 - vLLM processing info
    """The ``stop_pruning`` settings of the model a processor serves, if any."""
    return read_settings(
        info.get_hf_config(), info.ctx.get_mm_config().video_pruning_rate, BACKBONE
    )


class StopQwen2_5_VLProcessor(Qwen2_5_VLMultiModalProcessor):
    """vLLM's Qwen2.5-VL processor; with SToP, video runs sized by ``planned_tokens``."""

    def _get_prompt_updates(
        self,
        mm_items: Any,  # noqa: ANN401
        hf_processor_mm_kwargs: Mapping[str, Any],
        out_mm_kwargs: Any,  # noqa: ANN401
    ) -> Sequence[PromptUpdate]:
        updates = super()._get_prompt_updates(mm_items, hf_processor_mm_kwargs, out_mm_kwargs)
        settings = settings_for(self.info)
        if settings is None:
            return updates
        video_id = self.info.get_hf_config().video_token_id
        merge = self.info.get_hf_config().vision_config.spatial_merge_size

        def video_run(item_idx: int) -> list[int]:
            grid = out_mm_kwargs["video"][item_idx]["video_grid_thw"].data
            return [video_id] * planned_run(settings, grid, merge)

        return [
            PromptReplacement(modality="video", target=update.target, replacement=video_run)
            if update.modality == "video"
            else update
            for update in updates
        ]


@MULTIMODAL_REGISTRY.register_processor(
    StopQwen2_5_VLProcessor,
    info=Qwen2_5_VLProcessingInfo,
    dummy_inputs=Qwen2_5_VLDummyInputsBuilder,
)
class StopQwen2_5_VLForConditionalGeneration(Qwen2_5_VLForConditionalGeneration):
    """vLLM's Qwen2.5-VL; with ``stop_pruning`` its video embeddings are pruned by SToP."""

    def __init__(self, *, vllm_config: Any, prefix: str = "") -> None:  # noqa: ANN401
        super().__init__(vllm_config=vllm_config, prefix=prefix)
        rate = vllm_config.model_config.get_multimodal_config().video_pruning_rate
        self.stop_settings = read_settings(self.config, rate, BACKBONE)
        self._stop_captured: tuple[torch.Tensor | None, torch.Tensor | None] = (None, None)
        if self.stop_settings is not None:
            vision = self.config.vision_config
            self.stop_block = resolve_block(
                self.stop_settings.block, list(vision.fullatt_block_indexes), vision.depth
            )
            if needs_capture(self.stop_settings) and self.use_data_parallel:
                raise NotImplementedError(
                    "stop_pruning with the attention scorer reads one vision block, which the "
                    "data-parallel encoder shards over ranks; use scorer='norm'"
                )

    def _process_video_input(self, video_input: Any) -> tuple[torch.Tensor, ...]:  # noqa: ANN401
        """The tower's per-video embeddings; with SToP, the capture block's attention too."""
        settings = self.stop_settings
        if settings is None or not needs_capture(settings):
            return super()._process_video_input(video_input)
        if video_input["type"] == "video_embeds":
            raise ValueError(
                "stop_pruning with the attention scorer needs pixels (the vision attention); "
                "precomputed video_embeds carry none: use scorer='norm'"
            )
        capture = VisionAttentionCapture(
            self.visual.blocks[self.stop_block].attn, keep_keys="keys" in needs(settings)
        )
        try:
            embeds = super()._process_video_input(video_input)
        finally:
            capture.remove()
        grid = video_input["video_grid_thw"].tolist()
        order = self.visual.prepare_encoder_metadata(grid)["window_index"].cpu()
        unit = self.visual.spatial_merge_size**2
        received = merge_to_tokens(capture.received[-1], order, unit)
        keys = merge_to_tokens(capture.keys[-1], order, unit) if capture.keys else None
        self._stop_captured = (received, keys)
        return embeds

    def _postprocess_video_embeds_evs(
        self,
        video_embeds_split: tuple[torch.Tensor, ...],
        video_input: Any,  # noqa: ANN401
    ) -> tuple[torch.Tensor, ...]:
        """SToP instead of EVS: kept embeddings + 4 channels (T, H, W ids, text offset)."""
        settings = self.stop_settings
        if settings is None:
            return super()._postprocess_video_embeds_evs(video_embeds_split, video_input)
        received, keys = self._stop_captured
        self._stop_captured = (None, None)
        merge = self.visual.spatial_merge_size
        seconds = video_input.get("second_per_grid_ts")
        per_second = self.config.vision_config.tokens_per_second
        out: list[torch.Tensor] = []
        offset = 0
        for v, (emb, (t, h, w)) in enumerate(
            zip(video_embeds_split, video_input["video_grid_thw"].tolist(), strict=True)
        ):
            grid = (t, h // merge, w // merge)
            n = emb.shape[0]
            tokens = video_tokens(
                emb,
                grid,
                settings,
                attention=None if received is None else received[offset : offset + n],
                keys=None if keys is None else keys[offset : offset + n],
            )
            offset += n
            pruned = prune_video(tokens, settings)
            interval = per_second * (seconds[v] if seconds is not None else 1.0)
            positions = grid_positions(grid, interval)
            ids = positions.ids.to(emb.device)[pruned.global_index]
            extent = torch.full_like(ids[:, :1], positions.extent)
            out.append(torch.cat([pruned.features, torch.cat([ids, extent], 1).to(emb.dtype)], 1))
        return tuple(out)
