"""SToP in vLLM's Qwen3-VL: deepstack rows pruned alike, every temporal group's text kept.

vLLM's own pruning path for this model lays a pruned video out as one placeholder run (in the
first temporal group) and, after encoding, hands the language model embeddings for the whole
video span -- timestamps, vision start/end tokens and kept tokens -- with their M-RoPE ids.
The plugin uses that path with ``planned_tokens`` placeholders and SToP's kept tokens laid out
as stop-qwen lays them out: group ``g``'s text, then the kept tokens of group ``g`` (frames in
time order, within a frame the order ``prune`` returns), each at its unpruned T/H/W ids.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import torch
from vllm.model_executor.models.qwen3_vl import (
    Qwen3VLDummyInputsBuilder,
    Qwen3VLForConditionalGeneration,
    Qwen3VLMultiModalProcessor,
    Qwen3VLProcessingInfo,
)
from vllm.multimodal import MULTIMODAL_REGISTRY
from vllm.multimodal.processing import PromptUpdate

from stop_core.side import prune_side_tensor
from stop_vllm.pruning import prune_video
from stop_vllm.settings import processor_settings
from stop_vllm.video_model import StopVideoMixin
from stop_vllm.video_runs import planned_run, resize_runs, with_video_replacement

BACKBONE = "qwen3_vl"


class StopQwen3VLProcessor(Qwen3VLMultiModalProcessor):
    """vLLM's Qwen3-VL processor; with SToP, a video's run holds ``planned_tokens`` slots."""

    def _call_hf_processor(self, *args: Any, **kwargs: Any) -> Any:  # noqa: ANN401
        """The parent's expansion, each video's (single) placeholder run resized to the plan."""
        processed = super()._call_hf_processor(*args, **kwargs)
        settings = processor_settings(self.info, BACKBONE)
        grids = processed.get("video_grid_thw") if settings is not None else None
        if grids is None or "input_ids" not in processed:
            return processed
        config = self.info.get_hf_config()
        merge = config.vision_config.spatial_merge_size
        counts = [planned_run(settings, grid, merge) for grid in grids]
        ids = processed["input_ids"]
        rows = ids.tolist() if isinstance(ids, torch.Tensor) else ids
        resized = [resize_runs(row, config.video_token_id, counts) for row in rows]
        processed["input_ids"] = torch.tensor(resized) if isinstance(ids, torch.Tensor) else resized
        return processed

    def _get_prompt_updates(
        self,
        mm_items: Any,  # noqa: ANN401
        hf_processor_mm_kwargs: Mapping[str, Any],
        out_mm_kwargs: Any,  # noqa: ANN401
    ) -> Sequence[PromptUpdate]:
        """The parent's updates; with SToP the video replacement uses the planned count."""
        updates = super()._get_prompt_updates(mm_items, hf_processor_mm_kwargs, out_mm_kwargs)
        settings = processor_settings(self.info, BACKBONE)
        if settings is None:
            return updates
        config = self.info.get_hf_config()
        tokenizer = self.info.get_tokenizer()
        merge = config.vision_config.spatial_merge_size

        def video_run(item_idx: int) -> Any:  # noqa: ANN401 - vLLM's PromptUpdateDetails
            item = out_mm_kwargs["video"][item_idx]
            grid = item["video_grid_thw"].data
            frames = int(grid[0])
            return Qwen3VLMultiModalProcessor.get_video_repl(
                tokens_per_frame=[planned_run(settings, grid, merge)] + [0] * (frames - 1),
                timestamps=item["timestamps"].data,
                tokenizer=tokenizer,
                vision_start_token_id=config.vision_start_token_id,
                vision_end_token_id=config.vision_end_token_id,
                video_token_id=config.video_token_id,
                select_token_id=False,
            )

        return with_video_replacement(updates, video_run)


@MULTIMODAL_REGISTRY.register_processor(
    StopQwen3VLProcessor,
    info=Qwen3VLProcessingInfo,
    dummy_inputs=Qwen3VLDummyInputsBuilder,
)
class StopQwen3VLForConditionalGeneration(StopVideoMixin, Qwen3VLForConditionalGeneration):
    """vLLM's Qwen3-VL; with ``stop_pruning`` its video embeddings are pruned by SToP."""

    stop_backbone: ClassVar[str] = BACKBONE

    def capture_candidates(self) -> list[int]:
        """All blocks: Qwen3-VL's tower has no window attention."""
        return list(range(self.config.vision_config.depth))

    def merged_order(self, grids: list[list[int]]) -> torch.Tensor:
        """Raster order: the tower keeps each 2x2 unit together and the units in order."""
        merge = self.visual.spatial_merge_size
        return torch.arange(sum(t * (h // merge) * (w // merge) for t, h, w in grids))

    def _postprocess_video_embeds_evs(
        self,
        video_embeds_split: tuple[torch.Tensor, ...],
        video_input: Any,  # noqa: ANN401
    ) -> tuple[torch.Tensor, ...]:
        """SToP instead of EVS/VidCom2: the video span laid out as stop-qwen lays it out."""
        settings = self.stop_settings
        if settings is None:
            return super()._postprocess_video_embeds_evs(video_embeds_split, video_input)
        mains = tuple(emb[:, : self.visual_dim] for emb in video_embeds_split)
        out: list[torch.Tensor] = []
        for v, (t, h, w), tokens in self.stop_videos(mains, video_input):
            side = video_embeds_split[v][:, self.visual_dim :]
            pruned = prune_video(tokens, settings)
            order = torch.sort(pruned.frame_index, stable=True).indices
            kept = pruned.features[order]
            if side.shape[-1]:
                kept_side = prune_side_tensor(pruned, side.reshape(t, h * w, -1))
                kept = torch.cat([kept, kept_side[order]], dim=-1)
            per_frame = torch.bincount(pruned.frame_index.cpu(), minlength=t).tolist()
            merge = self.visual.spatial_merge_size
            out.append(
                self._create_final_video_embeddings(
                    video_embeddings=kept,
                    num_tokens_per_frame=per_frame,
                    timestamps=video_input.timestamps[v],
                    video_grid_thw=[t, h * merge, w * merge],
                    retention_mask=pruned.global_index[order],
                )
            )
        return tuple(out)

    def recompute_mrope_positions(
        self,
        input_ids: list[int] | torch.Tensor,
        multimodal_embeddings: Sequence[torch.Tensor],
        mrope_positions: torch.Tensor,
        num_computed_tokens: int,
    ) -> tuple[Sequence[torch.Tensor], torch.Tensor, int]:
        """With SToP: the M-RoPE ids of this prefill chunk, from the spans' own ids.

        vLLM 0.32's re-computation anchors a span at the first ``<|vision_start|>`` it finds,
        which with transformers >= 5.10 is the chat template's own one before the span, and
        it misplaces the text after a span whose tail falls into the next prefill chunk. Here
        every span row carries its id relative to the span's first token (vLLM's 5 extra
        channels), so the ids follow from where the spans lie (``media_regions``).
        """
        if self.stop_settings is None:
            return super().recompute_mrope_positions(
                input_ids, multimodal_embeddings, mrope_positions, num_computed_tokens
            )
        config = self.config
        ids = torch.as_tensor(input_ids, dtype=torch.long).cpu()
        regions = media_regions(
            ids,
            vision_start=config.vision_start_token_id,
            vision_end=config.vision_end_token_id,
            image=config.image_token_id,
            video=config.video_token_id,
        )
        relative = [mm[:, -5:-2].long().cpu() for mm in multimodal_embeddings]
        positions = chunk_positions(
            mrope_positions.cpu(), regions, relative, num_computed_tokens
        ).to(mrope_positions.device)
        delta = int(positions.max()) + 1 - int(ids.numel())
        return [mm[:, :-5] for mm in multimodal_embeddings], positions, delta


def media_regions(
    ids: torch.Tensor, *, vision_start: int, vision_end: int, image: int, video: int
) -> list[tuple[int, int]]:
    """``[start, end)`` of every media item in the prompt, in order.

    A video span is what replaced the template's ``<|video_pad|>``: it starts after a
    ``<|vision_start|>`` followed by timestamp text (not by a vision token) and ends before
    the ``<|vision_end|>`` that follows its last frame's own. An image is its run of tokens.
    """
    values = ids.tolist()
    regions: list[tuple[int, int]] = []
    i, n = 0, len(values)
    while i < n:
        token = values[i]
        if token == image:
            start = i
            while i < n and values[i] == image:
                i += 1
            regions.append((start, i))
            continue
        following = values[i + 1] if i + 1 < n else None
        if token == vision_start and following not in (video, vision_end, image, None):
            start = i + 1
            j = start
            while j + 1 < n and not (values[j] == vision_end and values[j + 1] == vision_end):
                j += 1
            regions.append((start, j + 1))
            i = j + 1
            continue
        i += 1
    return regions


def chunk_positions(
    positions: torch.Tensor,
    regions: list[tuple[int, int]],
    relative: list[torch.Tensor],
    computed: int,
) -> torch.Tensor:
    """``positions`` ``[3, N]`` with every token from ``computed`` on placed again.

    ``relative[k]`` holds the ids (relative to their item's first token) of the rows of the
    k-th item that overlaps ``[computed, N)``; the rows start at the item's start or at
    ``computed``. Text continues one after the largest id so far; an item starts one after it
    (or keeps the base an earlier chunk gave its first token). Items without rows here (later
    chunks) are placed as text until their chunk comes.
    """
    out = positions.clone()
    n = out.shape[1]
    rows_of: dict[int, torch.Tensor] = {}
    pending = [k for k, (_, end) in enumerate(regions) if end > computed]
    for k, rows in zip(pending, relative, strict=False):
        rows_of[k] = rows
    last = int(out[:, computed - 1].max()) if computed > 0 else -1
    cursor = computed
    for k, (start, end) in enumerate(regions):
        if end <= computed or k not in rows_of:
            continue
        first = max(start, computed)
        if first > cursor:
            out[:, cursor:first] = last + 1 + torch.arange(first - cursor)
            last += first - cursor
        rows = rows_of[k]
        base = last + 1 if first == start else int(out[0, start])
        out[:, first : first + rows.shape[0]] = rows.T + base
        last = int(rows.max()) + base
        cursor = first + rows.shape[0]
    if cursor < n:
        out[:, cursor:] = last + 1 + torch.arange(n - cursor)
    return out
