"""What every Qwen-VL adapter shares: encode once with capture, prune, shrink, keep M-RoPE ids.

The model's own ``get_video_features`` runs the tower once; a pre-hook on one vision block
captures its attention. Scores are reduced to the 2x2-merged tokens on the ``(t, h/2, w/2)``
grid, ``stop_core.prune`` picks the tokens, and the call continues with
``mm_encoder_outputs``, shrunk ``input_ids``/``attention_mask``/``mm_token_type_ids`` and
4-row position ids: a contiguous text row plus each kept token's original T/H/W M-RoPE ids
(from the model's ``get_rope_index`` on the unpruned sequence). A subclass says what differs
per model class: where the placeholders of a video lie, the patch order inside the tower,
extra per-token tensors (deepstack) and the encoder-output type.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

import torch
from torch import nn
from transformers.modeling_outputs import BaseModelOutputWithPooling

from stop_core import PrunedVideo, PruningConfig, VideoTokens, get_method, prune
from stop_core.adapter import SampleAccounting, StageTimer, StopAdapter, pad_token_id
from stop_core.scoring import (
    SCORERS,
    merge_to_tokens,
    norm_importance,
    normalize_per_frame,
    resolve_block,
)
from stop_core.sequence import RunReplacement, assign_videos, rebuild_sequences
from stop_qwen import BACKBONES  # defined once, in the package
from stop_qwen.capture import QwenVisionAttentionCapture


class QwenAdapterBase(StopAdapter):
    """Prunes the video tokens of one Qwen-VL model instance (subclass per model class)."""

    backbone: ClassVar[str] = ""
    model_class_name: ClassVar[str] = ""

    def __init__(
        self,
        model: nn.Module,
        cfg: PruningConfig,
        backbone: str | None = None,
        *,
        block: int | None = None,
        scorer: str = "attention",
        seed: int = 0,
    ) -> None:
        super().__init__(model, cfg, seed=seed)
        check_model(model, self.backbone if backbone is None else backbone, type(self))
        if scorer not in SCORERS:
            raise ValueError(f"unknown scorer {scorer!r}; known: {list(SCORERS)}")
        self.scorer = scorer
        self.inner = model.model
        self.visual = self.inner.visual
        self.merge = model.config.vision_config.spatial_merge_size
        depth = len(self.visual.blocks)
        self.block = resolve_block(block, self.full_attention_blocks(), depth)
        self.needs = get_method(cfg.method).needs if cfg.retention_ratio < 1.0 else frozenset()

    @classmethod
    def model_class(cls) -> type[nn.Module]:
        """The transformers class this adapter accepts."""
        import transformers

        return getattr(transformers, cls.model_class_name)

    # -- what a subclass provides ------------------------------------------------------------
    def full_attention_blocks(self) -> list[int]:
        """Vision blocks whose attention spans a whole temporal slice (capture candidates)."""
        raise NotImplementedError

    def patch_order(self, grid: torch.Tensor) -> torch.Tensor:
        """For each merged-token slot of the tower's sequence, the merged token it holds."""
        raise NotImplementedError

    def pop_rope_extras(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        """Remove and return the video inputs ``get_rope_index`` needs beyond the grid."""
        return {}

    def replacements(self, tokens: VideoTokens, out: PrunedVideo) -> list[RunReplacement]:
        """The placeholder runs of one video in the prompt and the kept offsets of each."""
        raise NotImplementedError

    def token_order(self, out: PrunedVideo) -> torch.Tensor:
        """The order in which the pruned tokens enter the sequence (default: as returned)."""
        return torch.arange(out.kept, device=out.features.device)

    def video_notes(self, tokens: VideoTokens, out: PrunedVideo) -> dict[str, Any]:
        """Backbone-specific accounting notes for one pruned video."""
        return {}

    def encoder_output(
        self, features: list[torch.Tensor], side: list[list[torch.Tensor]]
    ) -> BaseModelOutputWithPooling:
        """The ``mm_encoder_outputs["video"]`` entry for the kept tokens (videos in order)."""
        return BaseModelOutputWithPooling(pooler_output=tuple(features))

    def prune_side(self, out: PrunedVideo, side: list[torch.Tensor]) -> list[torch.Tensor]:
        """Carry per-token side tensors ``[T, S, D']`` through the pruning (none by default)."""
        return []

    # -- shared machinery --------------------------------------------------------------------
    def prepare_inputs(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        """Encode and prune every video; shrink ids, mask, token types; build M-RoPE positions."""
        pixel_values_videos = kwargs.pop("pixel_values_videos")
        grid = kwargs.pop("video_grid_thw", None)
        rope_extras = self.pop_rope_extras(kwargs)
        input_ids = kwargs.get("input_ids")
        attention_mask = kwargs.get("attention_mask")
        types = kwargs.get("mm_token_type_ids")
        if input_ids is None:
            raise ValueError(
                "SToP needs input_ids (the video placeholders) rather than inputs_embeds"
            )
        if grid is None:
            raise ValueError(
                f"pixel_values_videos needs video_grid_thw (from the {self.model_class_name} "
                "processor)"
            )
        grid = torch.as_tensor(grid)
        check_grid(grid, self.merge)
        if types is None:
            raise ValueError(
                f"SToP on {self.backbone} needs mm_token_type_ids (from the processor)"
            )
        timer = StageTimer()
        mm: dict[str, BaseModelOutputWithPooling] = {}
        image_grid = kwargs.pop("image_grid_thw", None)
        if kwargs.get("pixel_values") is not None:
            mm["image"] = self.inner.get_image_features(
                kwargs.pop("pixel_values"), image_grid, return_dict=True
            )
        positions, _ = self.inner.get_rope_index(
            input_ids,
            types,
            image_grid_thw=image_grid,
            video_grid_thw=grid,
            attention_mask=attention_mask,
            **rope_extras,
        )
        device = pixel_values_videos.device
        with timer.stage("vision", device):
            videos, sides, capture_seconds = self._encode(pixel_values_videos, grid)
        records: list[SampleAccounting] = []
        kept_features: list[torch.Tensor] = []
        kept_side: list[list[torch.Tensor]] = []
        runs_of: list[list[RunReplacement]] = []
        for v, tokens in enumerate(videos):
            start = time.perf_counter()
            out = prune(tokens, self.cfg, generator=self.generator())
            prune_seconds = time.perf_counter() - start
            order = self.token_order(out)
            kept_features.append(out.features[order])
            kept_side.append([s[order] for s in self.prune_side(out, sides[v])])
            runs_of.append(self.replacements(tokens, out))
            records.append(
                SampleAccounting(
                    sample=-1,
                    video=v,
                    frames=tokens.num_frames,
                    tokens_before=tokens.num_frames * tokens.tokens_per_frame,
                    requested=out.requested,
                    kept=out.kept,
                    sequence_tokens=out.kept,
                    attention_layer=self.block if "attention" in self.needs else None,
                    method=self.cfg.method,
                    use_stop=self.cfg.use_stop,
                    vision_seconds=timer.seconds["vision"] / len(videos),
                    capture_seconds=capture_seconds / len(videos),
                    prune_seconds=prune_seconds,
                    notes={
                        "scorer": self.scorer,
                        "grid": list(tokens.hw),
                        "frame_embedding": "mean_of_merged_tokens"
                        if "frame_embeddings" in self.needs
                        else None,
                        **self.video_notes(tokens, out),
                        **(
                            {"budget": out.info["budget_explanation"]}
                            if "budget_explanation" in out.info
                            else {}
                        ),
                    },
                )
            )
        video_id = self.model.config.video_token_id
        runs = assign_videos(
            input_ids, attention_mask, video_id, [t.num_frames * t.tokens_per_frame for t in videos]
        )
        for b, sample_runs in enumerate(runs):
            for video in sample_runs:
                records[video].sample = b
        rebuilt = rebuild_sequences(
            input_ids,
            attention_mask,
            video_id,
            [[run for v in r for run in runs_of[v]] for r in runs],
            pad_id=pad_token_id(self.model),
        )
        src = rebuilt.source
        real = src >= 0
        gathered = torch.gather(positions, 2, src.clamp_min(0)[None].expand(3, -1, -1))
        gathered = gathered.masked_fill(~real[None], 0)
        text_row = (rebuilt.attention_mask.long().cumsum(-1) - 1).masked_fill(
            rebuilt.attention_mask == 0, 0
        )
        kwargs["position_ids"] = torch.cat([text_row[None], gathered], dim=0)
        kwargs["input_ids"] = rebuilt.input_ids
        kwargs["attention_mask"] = rebuilt.attention_mask
        kwargs["mm_token_type_ids"] = torch.gather(types, 1, src.clamp_min(0)).masked_fill(~real, 0)
        lengths = torch.tensor(rebuilt.lengths, device=gathered.device)
        last = gathered.masked_fill(~real[None], -1).amax(dim=(0, 2))
        self.inner.rope_deltas = (last + 1 - lengths)[:, None]
        order = [v for r in runs for v in r]
        mm["video"] = self.encoder_output(
            [kept_features[v] for v in order], [kept_side[v] for v in order]
        )
        kwargs["mm_encoder_outputs"] = mm
        self.accounting = records
        return kwargs

    def encode_video_tokens(
        self, pixel_values_videos: torch.Tensor, grid: torch.Tensor
    ) -> list[VideoTokens]:
        """The merged-token ``VideoTokens`` of each video, as ``prepare_inputs`` prunes them.

        ``grid`` is the processor's ``video_grid_thw``.
        """
        grid = torch.as_tensor(grid)
        check_grid(grid, self.merge)
        return self._encode(pixel_values_videos, grid)[0]

    @torch.no_grad()
    def _encode(
        self, pixel_values_videos: torch.Tensor, grid: torch.Tensor
    ) -> tuple[list[VideoTokens], list[list[torch.Tensor]], float]:
        """Run the tower once with the capture hook.

        Returns one ``VideoTokens`` per video, per video its side tensors ``[T, S, D']``
        (deepstack levels, if the tower emits them) and the capture time.
        """
        capture = None
        if "attention" in self.needs or "keys" in self.needs:
            capture = QwenVisionAttentionCapture(
                self.visual.blocks[self.block].attn, keep_keys="keys" in self.needs
            )
        try:
            output = self.inner.get_video_features(pixel_values_videos, grid, return_dict=True)
        finally:
            if capture is not None:
                capture.remove()
        features = output.pooler_output
        levels = getattr(output, "deepstack_features", None) or []
        start = time.perf_counter()
        attention = keys = None
        if capture is not None:
            order = self.patch_order(grid)
            unit = self.merge * self.merge
            attention = merge_to_tokens(capture.received, order, unit)
            if "keys" in self.needs:
                keys = merge_to_tokens(capture.keys, order, unit)
        videos: list[VideoTokens] = []
        sides: list[list[torch.Tensor]] = []
        offset = 0
        for v, (t, h, w) in enumerate(grid.tolist()):
            hm, wm = h // self.merge, w // self.merge
            n = t * hm * wm
            feats = features[v].reshape(t, hm * wm, -1)
            sides.append([level[v].reshape(t, hm * wm, -1) for level in levels])
            att = None
            if attention is not None:
                raw = attention[offset : offset + n].reshape(t, hm * wm)
                att = (
                    normalize_per_frame(norm_importance(feats))
                    if self.scorer == "norm"
                    else normalize_per_frame(raw)
                )
            elif self.scorer == "norm" and "attention" in self.needs:
                att = normalize_per_frame(norm_importance(feats))
            videos.append(
                VideoTokens(
                    features=feats,
                    attention=att,
                    keys=None
                    if keys is None
                    else keys[offset : offset + n].reshape(t, hm * wm, -1),
                    frame_embeddings=feats.float().mean(dim=1)
                    if "frame_embeddings" in self.needs
                    else None,
                    grid=(hm, wm),
                )
            )
            offset += n
        seconds = (capture.seconds if capture is not None else 0.0) + time.perf_counter() - start
        return videos, sides, seconds


def check_backbone(backbone: str) -> None:
    """Raise a clear error for a backbone name stop_qwen does not know."""
    if backbone not in BACKBONES:
        hint = " (use stop_llava for LLaVA models)" if "llava" in str(backbone) else ""
        raise ValueError(f"unknown Qwen backbone {backbone!r}; known: {list(BACKBONES)}{hint}")


def check_model(model: nn.Module, backbone: str, adapter: type[QwenAdapterBase]) -> None:
    """Raise a clear error for an unknown backbone, a wrong model class or a config mismatch."""
    check_backbone(backbone)
    if backbone != adapter.backbone:
        raise ValueError(
            f"backbone {backbone!r} does not match {adapter.__name__}, which is for "
            f"{adapter.backbone!r} ({adapter.model_class_name})"
        )
    if not isinstance(model, adapter.model_class()):
        raise TypeError(
            f"backbone {backbone!r} needs a {adapter.model_class_name}, got {type(model).__name__}"
        )
    if getattr(model.config, "model_type", None) != backbone:
        raise ValueError(
            f"backbone {backbone!r} needs a {backbone} config, got "
            f"model_type={getattr(model.config, 'model_type', None)!r}"
        )


def check_grid(grid: torch.Tensor, merge: int) -> None:
    """Each ``(t, h, w)`` must have t >= 1 and h, w divisible by the spatial merge size."""
    if grid.ndim != 2 or grid.shape[1] != 3:
        raise ValueError(f"video_grid_thw must be [videos, 3], got shape {tuple(grid.shape)}")
    for v, (t, h, w) in enumerate(grid.tolist()):
        if t < 1:
            raise ValueError(
                f"video {v} has {t} temporal patches: it is shorter than the temporal patch "
                "(give at least temporal_patch_size frames)"
            )
        if h % merge or w % merge:
            raise ValueError(
                f"video {v} has a {h}x{w} patch grid, not divisible by the spatial merge "
                f"size {merge}"
            )
