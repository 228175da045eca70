"""SToP on ``LlavaOnevisionForConditionalGeneration`` (LLaVA-OneVision and LLaVA-Video).

The video path: the model's own ``get_video_features`` runs the tower once while hooks capture
one SigLIP layer's attention (and keys / frame features when the method needs them); the
pooled tokens go through ``stop_core.prune`` and ``stop_core.lay_out``; ``input_ids`` and the
attention mask are rebuilt around the shorter video runs and the call continues with
``mm_encoder_outputs``, so the language model never sees the dropped tokens.
"""

from __future__ import annotations

import math
import time
from typing import Any, ClassVar

import torch
from torch import nn
from transformers.modeling_outputs import BaseModelOutputWithPooling

from stop_core import PruningConfig, VideoTokens, get_method, lay_out, prune
from stop_core.adapter import SampleAccounting, StageTimer, StopAdapter, pad_token_id
from stop_core.layout import LAYOUT_MODES
from stop_core.sequence import RunReplacement, assign_videos, rebuild_sequences
from stop_llava import BACKBONES  # defined once, in the package
from stop_llava.capture import SiglipAttentionCapture, check_reduce_dtype
from stop_llava.frame_head import FrameHead
from stop_llava.pooling import POOL_MODES, pool_2d, pooled_grid

# (pool mode, newline layout) of each backbone when the model config does not say otherwise
BACKBONE_LAYOUT: dict[str, tuple[str, str]] = {
    "llava_ov": ("bilinear", "one_token"),
    "llava_video": ("average", "grid"),
}


class LlavaStopAdapter(StopAdapter):
    """Prunes the video tokens of one LLaVA-OneVision-class model instance."""

    backbone: ClassVar[str] = "llava"

    def __init__(
        self,
        model: nn.Module,
        cfg: PruningConfig,
        backbone: str = "llava_ov",
        *,
        layer: int | None = None,
        pool_mode: str | None = None,
        newline_mode: str | None = None,
        frame_head: FrameHead | None = None,
        chunk_frames: int = 2,
        capture: frozenset[str] | None = None,
        capture_dtype: torch.dtype | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__(model, cfg, seed=seed)
        check_model(model, backbone)
        self.backbone_name = backbone
        self.inner = model.model
        config = model.config
        default_pool, default_newline = BACKBONE_LAYOUT[backbone]
        self.pool_mode = pool_mode or getattr(config, "mm_spatial_pool_mode", None) or default_pool
        self.newline_mode = (
            newline_mode or getattr(config, "mm_newline_position", None) or default_newline
        )
        if self.pool_mode not in POOL_MODES:
            raise ValueError(f"unknown pool mode {self.pool_mode!r}; known: {list(POOL_MODES)}")
        if self.newline_mode not in LAYOUT_MODES:
            raise ValueError(
                f"unknown newline layout {self.newline_mode!r}; known: {list(LAYOUT_MODES)}"
            )
        vision = config.vision_config
        self.side = vision.image_size // vision.patch_size
        self.hf_tokens_per_frame = math.ceil(self.side / 2) ** 2
        self.layers = encoder_layers(self.inner.vision_tower)
        self.layer = resolve_layer(layer, config.vision_feature_layer, len(self.layers))
        self.frame_head = frame_head
        self.chunk_frames = chunk_frames
        check_reduce_dtype(capture_dtype, "capture_dtype")
        self.capture_dtype = capture_dtype
        # what encode_videos captures: the method's inputs, or more (a benchmark sharing one
        # tower pass across methods asks for everything)
        method_needs = get_method(cfg.method).needs if cfg.retention_ratio < 1.0 else frozenset()
        self.needs = method_needs if capture is None else frozenset(capture)

    @property
    def hf_layout(self) -> bool:
        """Whether the layout equals the one ``get_video_features`` already produces."""
        return self.pool_mode == "bilinear" and self.newline_mode == "one_token"

    def prepare_inputs(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        """Encode, prune and lay out every video; shrink ids and mask; add the encoder outputs."""
        pixel_values_videos = kwargs.pop("pixel_values_videos")
        kwargs.pop("image_sizes_videos", None)
        input_ids = kwargs.get("input_ids")
        if input_ids is None:
            raise ValueError(
                "SToP needs input_ids (the video placeholders) rather than inputs_embeds"
            )
        if pixel_values_videos.ndim != 5:
            raise ValueError(
                "pixel_values_videos must be [videos, frames, channels, height, width], got "
                f"shape {tuple(pixel_values_videos.shape)}"
            )
        n_videos, frames = pixel_values_videos.shape[:2]
        if frames == 0:
            raise ValueError(
                "a video with zero frames cannot be pruned (pixel_values_videos has T = 0)"
            )
        timer = StageTimer()
        mm: dict[str, BaseModelOutputWithPooling] = {}
        if kwargs.get("pixel_values") is not None:
            mm["image"] = self.inner.get_image_features(
                kwargs.pop("pixel_values"),
                kwargs.pop("image_sizes", None),
                vision_aspect_ratio=kwargs.pop("vision_aspect_ratio", None),
                batch_num_images=kwargs.pop("batch_num_images", None),
                return_dict=True,
            )
        with timer.stage("vision", pixel_values_videos.device):
            encoded = self.encode_videos(pixel_values_videos)
        return self.assemble(kwargs, encoded, mm, vision_seconds=timer.seconds["vision"])

    def unpruned_tokens(self, frames: int) -> int:
        """Visual tokens of an unpruned ``frames``-frame video in this adapter's layout.

        The pooled grid plus its newlines: one per video (``one_token``), one per frame
        (``frame``), one per row (``grid``, LLaVA-Video) or none (``no_token``).
        """
        h, w = pooled_grid(self.side, self.pool_mode)  # type: ignore[arg-type]
        newlines = {"one_token": 1, "no_token": 0, "frame": frames, "grid": frames * h}
        return frames * h * w + newlines[self.newline_mode]

    def assemble(
        self,
        kwargs: dict[str, Any],
        encoded: dict[str, Any],
        mm: dict[str, BaseModelOutputWithPooling] | None = None,
        vision_seconds: float = 0.0,
    ) -> dict[str, Any]:
        """Prune and lay out encoded videos, shrink ids and mask, add the encoder outputs.

        ``encoded`` comes from ``encode_videos`` (possibly of another adapter instance that
        captured more, which lets benchmarks reuse one tower pass across configurations).
        """
        mm = dict(mm or {})
        input_ids = kwargs["input_ids"]
        n_videos, frames = encoded["features"].shape[:2]
        sequences: list[torch.Tensor] = []
        records: list[SampleAccounting] = []
        newline = self.inner.image_newline.detach()
        for v, tokens in enumerate(video_tokens(encoded)):
            start = time.perf_counter()
            out = prune(tokens, self.cfg, generator=self.generator())
            seq = lay_out(out, newline, mode=self.newline_mode)  # type: ignore[arg-type]
            prune_seconds = time.perf_counter() - start
            sequences.append(seq)
            records.append(
                SampleAccounting(
                    sample=-1,
                    video=v,
                    frames=frames,
                    tokens_before=self.unpruned_tokens(frames),
                    requested=out.requested,
                    kept=out.kept,
                    sequence_tokens=int(seq.shape[0]),
                    attention_layer=self.layer if "attention" in self.needs else None,
                    method=self.cfg.method,
                    use_stop=self.cfg.use_stop,
                    vision_seconds=vision_seconds / n_videos,
                    capture_seconds=encoded["capture_seconds"] / n_videos,
                    prune_seconds=prune_seconds,
                    notes={
                        "layout": self.newline_mode,
                        "pool": self.pool_mode,
                        "frame_embedding": encoded["frame_source"],
                        **(
                            {"budget": out.info["budget_explanation"]}
                            if "budget_explanation" in out.info
                            else {}
                        ),
                    },
                )
            )
        video_id = self.model.config.video_token_id
        attention_mask = kwargs.get("attention_mask")
        per_video = frames * self.hf_tokens_per_frame + 1
        runs = assign_videos(input_ids, attention_mask, video_id, [per_video] * n_videos)
        for b, sample_runs in enumerate(runs):
            for video in sample_runs:
                records[video].sample = b
        pad_id = pad_token_id(self.model)
        rebuilt = rebuild_sequences(
            input_ids,
            attention_mask,
            video_id,
            [[RunReplacement(per_video, int(sequences[v].shape[0])) for v in r] for r in runs],
            pad_id=pad_id,
        )
        kwargs["input_ids"] = rebuilt.input_ids
        kwargs["attention_mask"] = rebuilt.attention_mask
        order = [v for r in runs for v in r]
        embeds = torch.cat([sequences[v] for v in order])[None]
        mm["video"] = BaseModelOutputWithPooling(pooler_output=embeds)
        kwargs["mm_encoder_outputs"] = mm
        self.accounting = records
        return kwargs

    def encode_video_tokens(self, pixel_values_videos: torch.Tensor) -> list[VideoTokens]:
        """The pooled ``VideoTokens`` of each video of ``[V, T, C, H, W]`` pixels, as pruned."""
        if pixel_values_videos.ndim != 5:
            raise ValueError(
                "pixel_values_videos must be [videos, frames, channels, height, width], got "
                f"shape {tuple(pixel_values_videos.shape)}"
            )
        return video_tokens(self.encode_videos(pixel_values_videos))

    @torch.no_grad()
    def encode_videos(self, pixel_values_videos: torch.Tensor) -> dict[str, Any]:
        """Run ``get_video_features`` once with the hooks the method needs; pool what they saw.

        Returns pooled ``features`` ``[V, T, S, D]``, ``attention``, ``keys``, ``frames``
        (frame embeddings) where needed, the ``grid``, ``frame_source`` and ``capture_seconds``.
        """
        n_videos, frames = pixel_values_videos.shape[:2]
        needs = self.needs
        capture = None
        handles: list[torch.utils.hooks.RemovableHandle] = []
        seen: dict[str, torch.Tensor] = {}
        if "attention" in needs or "keys" in needs:
            capture = SiglipAttentionCapture(
                self.layers[self.layer].self_attn,
                chunk_frames=self.chunk_frames,
                keep_keys="keys" in needs,
                reduce_dtype=self.capture_dtype,
            )
        if "frame_embeddings" in needs:
            handles.append(
                self.layers[self.layer].register_forward_hook(
                    lambda m, a, o: seen.__setitem__("hidden", o[0] if isinstance(o, tuple) else o)
                )
            )
        if not self.hf_layout:
            handles.append(
                self.inner.multi_modal_projector.register_forward_hook(
                    lambda m, a, o: seen.__setitem__("projected", o)
                )
            )
        try:
            output = self.inner.get_video_features(pixel_values_videos, return_dict=True)
        finally:
            if capture is not None:
                capture.remove()
            for handle in handles:
                handle.remove()
        d = output.pooler_output.shape[-1]
        strategy = self.model.config.vision_feature_select_strategy
        drop_first = strategy == "default"
        if self.hf_layout:
            grid = pooled_grid(self.side, "bilinear")
            features = output.pooler_output[:, :-1].reshape(n_videos, frames, grid[0] * grid[1], d)
        else:
            grid = pooled_grid(self.side, self.pool_mode)  # type: ignore[arg-type]
            projected = seen["projected"]
            features = pool_2d(projected, self.side, self.pool_mode).reshape(  # type: ignore[arg-type]
                n_videos, frames, grid[0] * grid[1], d
            )
        result: dict[str, Any] = {
            "features": features,
            "grid": grid,
            "attention": None,
            "keys": None,
            "frames": None,
            "frame_source": None,
            "capture_seconds": 0.0,
        }
        if capture is not None:
            start = time.perf_counter()
            received = capture.received[:, 1:] if drop_first else capture.received
            pooled = pool_2d(received[..., None], self.side, self.pool_mode)[..., 0]  # type: ignore[arg-type]
            result["attention"] = pooled.reshape(n_videos, frames, -1)
            if "keys" in needs:
                keys = capture.keys[:, 1:] if drop_first else capture.keys
                pooled_keys = pool_2d(keys, self.side, self.pool_mode)  # type: ignore[arg-type]
                result["keys"] = pooled_keys.reshape(n_videos, frames, grid[0] * grid[1], -1)
            result["capture_seconds"] = capture.seconds + time.perf_counter() - start
        if "frame_embeddings" in needs:
            hidden = seen["hidden"]
            if self.frame_head is not None:
                emb = self.frame_head(hidden)
                result["frame_source"] = self.frame_head.source
            else:
                emb = hidden.float().mean(dim=1)
                result["frame_source"] = "mean_of_patch_features"
            result["frames"] = emb.reshape(n_videos, frames, -1)
        return result


def video_tokens(encoded: dict[str, Any]) -> list[VideoTokens]:
    """One ``VideoTokens`` per video from the batched output of ``encode_videos``."""
    return [
        VideoTokens(
            features=encoded["features"][v],
            attention=None if encoded["attention"] is None else encoded["attention"][v],
            keys=None if encoded["keys"] is None else encoded["keys"][v],
            frame_embeddings=None if encoded["frames"] is None else encoded["frames"][v],
            grid=encoded["grid"],
        )
        for v in range(encoded["features"].shape[0])
    ]


def check_model(model: nn.Module, backbone: str) -> None:
    """Raise a clear error for an unsupported model class or a config/backbone mismatch."""
    if backbone not in BACKBONES:
        hint = " (use stop_qwen for Qwen2.5-VL)" if "qwen" in str(backbone) else ""
        raise ValueError(f"unknown LLaVA backbone {backbone!r}; known: {list(BACKBONES)}{hint}")
    from transformers import LlavaOnevisionForConditionalGeneration

    if not isinstance(model, LlavaOnevisionForConditionalGeneration):
        raise TypeError(
            f"stop_llava supports LlavaOnevisionForConditionalGeneration, got "
            f"{type(model).__name__}"
        )
    model_type = getattr(model.config, "model_type", None)
    vision_type = getattr(model.config.vision_config, "model_type", None)
    if model_type != "llava_onevision" or vision_type != "siglip_vision_model":
        raise ValueError(
            f"backbone {backbone!r} needs a llava_onevision config with a SigLIP tower, got "
            f"model_type={model_type!r}, vision model_type={vision_type!r}"
        )


def encoder_layers(vision_tower: nn.Module) -> nn.ModuleList:
    """The SigLIP encoder layers of a vision tower (with or without a ``vision_model`` level)."""
    inner = getattr(vision_tower, "vision_model", vision_tower)
    encoder = getattr(inner, "encoder", None)
    if encoder is None or not hasattr(encoder, "layers"):
        raise TypeError(f"cannot find SigLIP encoder layers in {type(vision_tower).__name__}")
    return encoder.layers


def resolve_layer(layer: int | None, feature_layer: int | list[int], num_layers: int) -> int:
    """Index of the encoder layer whose output the model uses (or the one asked for).

    ``hidden_states[k]`` is the output of layer ``k - 1``, so feature layer ``-1`` is the last
    layer and ``-2`` the one before it.
    """
    if layer is None:
        if isinstance(feature_layer, (list, tuple)):
            feature_layer = feature_layer[-1]
        layer = feature_layer - 1 if feature_layer > 0 else num_layers + feature_layer
    if isinstance(layer, bool) or not isinstance(layer, int):
        raise TypeError(f"layer must be an int, got {type(layer).__name__}")
    index = layer if layer >= 0 else num_layers + layer
    if not 0 <= index < num_layers:
        raise ValueError(
            f"attention layer {layer} is out of range for a tower with {num_layers} layers"
        )
    return index


__all__ = ["BACKBONES", "LlavaStopAdapter"]
