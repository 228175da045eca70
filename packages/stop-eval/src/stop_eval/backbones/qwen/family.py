"""Qwen-VL-class backbones: frames resized by ``smart_resize``, merged patches, M-RoPE fps.

The per-backbone modules fill in the names and the reference pixel rule (``factor``,
``min_pixels``, ``max_pixels``), and optionally a ``fixed_reader`` (the checkpoint's own
processor rule under ``--protocol fixed``); this class holds what the Qwen family shares.
Visual tokens are ``t * h * w / merge**2`` of the processor's ``video_grid_thw``, with
``merge`` from the model config.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch

from stop_eval.backbones.base import Backbone

if TYPE_CHECKING:
    from stop_core import PruningConfig
    from stop_eval.media.prepared import PreparedVideo
    from stop_eval.media.video import VideoMeta


def merge_kwargs(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """One processor call's kwargs from per-video ones: lists concatenate, dicts merge."""
    out: dict[str, Any] = {}
    for part in parts:
        for key, value in part.items():
            if key not in out:
                out[key] = list(value) if isinstance(value, list) else value
            elif isinstance(value, list):
                out[key] = out[key] + list(value)
            elif isinstance(value, dict):
                out[key] = merge_kwargs([out[key], value])
            elif out[key] != value:
                raise ValueError(f"videos of one batch disagree on processor option {key!r}")
    return out


def decoded_fps(frames: np.ndarray, meta: VideoMeta) -> float:
    """The sample rate of frames decoded over the whole video (for M-RoPE's temporal ids)."""
    return len(frames) / meta.duration if meta.duration > 0 else max(meta.fps, 1.0)


def decoded_metadata(frames: np.ndarray, meta: VideoMeta) -> dict[str, Any]:
    """Processor metadata for decoded frames: every frame kept, at the decoded sample rate.

    ``frames_indices`` lets Qwen3-VL's processor place its per-group timestamps.
    """
    return {
        "fps": decoded_fps(frames, meta),
        "total_num_frames": len(frames),
        "frames_indices": list(range(len(frames))),
    }


@functools.lru_cache(maxsize=4)
def reference_video_processor(folder: str) -> Any:  # noqa: ANN401
    """The video processor of a packaged configuration folder, built once per folder."""
    from transformers import AutoVideoProcessor

    return AutoVideoProcessor.from_pretrained(folder)


@dataclass(frozen=True)
class QwenBackbone(Backbone):
    """A Qwen-VL backbone pruned by ``stop_qwen``; ``factor``/``*_pixels``: the reference rule.

    ``fixed_reader`` (optional): ``(path, *, video_processor, start, end) -> PreparedVideo``,
    the ``--protocol fixed`` rule when it is the checkpoint's own processor rule rather than the
    reference rule with clip bounds; it gets the reference checkpoint's video processor.
    """

    factor: int = 28
    min_pixels: int = 4 * 28 * 28
    max_pixels: int = 256 * 28 * 28
    config_dir: str = ""  # package data folder of the reference checkpoint's configs
    fixed_reader: Callable[..., PreparedVideo] | None = None
    encoder_inputs: ClassVar[tuple[str, ...]] = ("pixel_values_videos", "video_grid_thw")

    def adapter_options(self, scorer: str) -> dict[str, Any]:
        """The token scorer (attention or the official feature-norm proxy)."""
        return {"scorer": scorer}

    def prepare(
        self,
        path: str | Path,
        *,
        frames: int,
        protocol: str,
        start: float | None = None,
        end: float | None = None,
    ) -> PreparedVideo:
        """``qwen_vl_utils``' frames, size and sample fps for ``nframes = frames``.

        Under ``fixed`` an entry with a ``fixed_reader`` uses it instead (``frames`` unused: the
        checkpoint's processor decides the count).
        """
        if protocol == "fixed" and self.fixed_reader is not None:
            processor = reference_video_processor(str(self.configs()))
            return self.fixed_reader(path, video_processor=processor, start=start, end=end)
        return self.read()(
            path,
            nframes=frames,
            factor=self.factor,
            min_pixels=self.min_pixels,
            max_pixels=self.max_pixels,
            start=start,
            end=end,
            protocol=protocol,
        )

    def processor_inputs(
        self,
        processor: Any,  # noqa: ANN401
        texts: list[str] | None,
        videos: list[PreparedVideo],
    ) -> dict[str, Any]:
        """Processor outputs for the prepared frames and each video's sample fps.

        Frames already at the rule's size get ``do_resize=False``, which keeps a processor with
        other pixel settings (e.g. the demo's fixed 224 x 224) from changing it; frames of a rule
        that leaves the size to the processor (``processor_resizes``) are resized by it.
        """
        from stop_eval.backbones.qwen.inputs import qwen_processor_kwargs

        resizes = {v.processor_resizes for v in videos}
        if len(resizes) > 1:
            raise ValueError("videos of one batch mix resized and processor-resized frames")
        kwargs = merge_kwargs([qwen_processor_kwargs(v) for v in videos])
        if not resizes.pop():
            kwargs["do_resize"] = False
            # our rule already sized (and capped) every frame: transformers' warning that it does
            # not apply qwen-vl-utils' per-frame cap would wrongly suggest the cap is missing
            kwargs["cap_pixels_per_frame"] = False
        clips = [v.frames for v in videos]
        if texts is None:
            flat = {**kwargs.pop("videos_kwargs", {}), **kwargs}
            return dict(processor(videos=clips, return_tensors="pt", **flat))
        return dict(
            processor(text=texts, videos=clips, return_tensors="pt", padding=True, **kwargs)
        )

    def decoded_inputs(
        self,
        processor: Any,  # noqa: ANN401
        texts: list[str] | None,
        videos: list[tuple[np.ndarray, VideoMeta]],
    ) -> dict[str, Any]:
        """Processor outputs for decoded frames, sized by the processor's own pixel range."""
        metadata = [decoded_metadata(frames, meta) for frames, meta in videos]
        if texts is None:
            return dict(
                processor(
                    videos=[frames for frames, _ in videos],
                    return_tensors="pt",
                    video_metadata=metadata,
                    do_sample_frames=False,
                )
            )
        return dict(
            processor(
                text=texts,
                videos=[frames for frames, _ in videos],
                return_tensors="pt",
                padding=True,
                videos_kwargs={"video_metadata": metadata, "do_sample_frames": False},
            )
        )

    def visual_tokens(self, batch: dict[str, Any], config: Any) -> list[int]:  # noqa: ANN401
        """Per video: ``t * h * w / merge**2`` of ``video_grid_thw``."""
        merge = config.vision_config.spatial_merge_size
        return [int(t * h * w) // merge**2 for t, h, w in batch["video_grid_thw"].tolist()]

    def reference_tokens(self, height: int, width: int, frames: int, config: Any) -> int:  # noqa: ANN401
        """``smart_resize`` to the reference pixel range; frames grouped by the temporal patch."""
        from qwen_vl_utils import smart_resize

        h, w = smart_resize(height, width, self.factor, self.min_pixels, self.max_pixels)
        groups = math.ceil(frames / config.vision_config.temporal_patch_size)
        return groups * (h // self.factor) * (w // self.factor)

    def token_grid(self, batch: dict[str, Any], config: Any) -> tuple[int, tuple[int, int]]:  # noqa: ANN401
        """Temporal groups x the merged patch grid."""
        merge = config.vision_config.spatial_merge_size
        t, h, w = (int(x) for x in batch["video_grid_thw"][0].tolist())
        return t, (h // merge, w // merge)

    def inspect_fields(self, batch: dict[str, Any], config: Any) -> dict[str, Any]:  # noqa: ANN401
        """``frame_size`` (patch grid x patch size), ``visual_tokens`` and ``grid_thw``."""
        patch = config.vision_config.patch_size
        t, h, w = (int(x) for x in batch["video_grid_thw"][0].tolist())
        return {
            "frame_size": [h * patch, w * patch],
            "visual_tokens": self.visual_tokens(batch, config)[0],
            "grid_thw": [t, h, w],
        }

    def default_processor(self) -> Any:  # noqa: ANN401
        """The reference checkpoint's own video processor (its ``preprocessor_config.json``)."""
        from transformers import AutoVideoProcessor

        return AutoVideoProcessor.from_pretrained(str(self.configs()))

    def default_config(self) -> Any:  # noqa: ANN401
        """The reference checkpoint's ``config.json`` (no weights)."""
        from transformers import AutoConfig

        return AutoConfig.from_pretrained(str(self.configs()))

    def configs(self) -> Path:
        """The package-data folder holding the reference checkpoint's configuration files."""
        from stop_qwen.checkpoints import checkpoint_dir

        return checkpoint_dir(self.config_dir)

    def video_encoder(self, model: torch.nn.Module, cfg: PruningConfig) -> Any:  # noqa: ANN401
        """``stop_qwen``'s adapter for the model's class: merged tokens with the attention."""
        return self.adapter_module().make_adapter(model, cfg, self.name)
