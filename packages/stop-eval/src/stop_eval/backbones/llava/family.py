"""LLaVA-OneVision-class backbones: SigLIP frames at a fixed size, 2-D pooling, newline layout.

The per-backbone modules fill in the names; this class holds what the LLaVA family shares.
The unpruned token count follows the adapter's rule: the pool mode and newline layout come
from the model config (``mm_spatial_pool_mode``, ``mm_newline_position``) or the adapter's
default for the backbone, counted with ``stop_core``'s own layout code.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from stop_eval.backbones.base import Backbone

if TYPE_CHECKING:
    from stop_core import PruningConfig
    from stop_eval.media.prepared import PreparedVideo
    from stop_eval.media.video import VideoMeta

# llava-onevision's processor: SigLIP 384 x 384, bicubic, mean/std 0.5
SIGLIP_SIZE = 384
SIGLIP_MEAN_STD = 0.5


@dataclass(frozen=True)
class LlavaBackbone(Backbone):
    """A ``LlavaOnevisionForConditionalGeneration`` backbone pruned by ``stop_llava``."""

    def prepare(
        self,
        path: str | Path,
        *,
        frames: int,
        protocol: str,
        start: float | None = None,
        end: float | None = None,
    ) -> PreparedVideo:
        """The official ``load_video`` frames (uint8); the processor resizes to SigLIP's size."""
        return self.read()(path, num_frames=frames, start=start, end=end, protocol=protocol)

    def processor_inputs(
        self,
        processor: Any,  # noqa: ANN401
        texts: list[str] | None,
        videos: list[PreparedVideo],
    ) -> dict[str, Any]:
        """Processor outputs (``texts=None``: ``processor`` is the video processor)."""
        clips = [np.asarray(v.frames) for v in videos]
        if texts is None:
            return dict(processor(videos=clips, return_tensors="pt"))
        return dict(processor(text=texts, videos=clips, return_tensors="pt", padding=True))

    def decoded_inputs(
        self,
        processor: Any,  # noqa: ANN401
        texts: list[str] | None,
        videos: list[tuple[np.ndarray, VideoMeta]],
    ) -> dict[str, Any]:
        """Processor outputs for decoded ``[T, H, W, 3]`` frames."""
        clips = [frames for frames, _ in videos]
        if texts is None:
            return dict(processor(videos=clips, return_tensors="pt"))
        return dict(processor(text=texts, videos=clips, return_tensors="pt", padding=True))

    def layout(self, config: Any) -> tuple[str, str]:  # noqa: ANN401
        """(pool mode, newline layout): the config's, else the adapter's default for us."""
        from stop_llava.adapter import BACKBONE_LAYOUT

        default_pool, default_newline = BACKBONE_LAYOUT[self.name]
        pool = getattr(config, "mm_spatial_pool_mode", None) or default_pool
        newline = getattr(config, "mm_newline_position", None) or default_newline
        return pool, newline

    def layout_tokens(self, frames: int, side: int, config: Any) -> int:  # noqa: ANN401
        """Tokens of an unpruned ``frames``-frame video with a ``side x side`` patch grid."""
        from stop_core import PruningConfig, VideoTokens, prune
        from stop_core.layout import layout_order
        from stop_llava.pooling import pooled_grid

        pool, newline = self.layout(config)
        grid = pooled_grid(side, pool)  # type: ignore[arg-type]
        tokens = VideoTokens(features=torch.zeros(frames, grid[0] * grid[1], 1), grid=grid)
        return int(layout_order(prune(tokens, PruningConfig("none")), newline).numel())  # type: ignore[arg-type]

    def token_grid(self, batch: dict[str, Any], config: Any) -> tuple[int, tuple[int, int]]:  # noqa: ANN401
        """Every frame's pooled patch grid."""
        from stop_llava.pooling import pooled_grid

        pixels = batch["pixel_values_videos"]
        side = int(pixels.shape[-1]) // config.vision_config.patch_size
        return int(pixels.shape[1]), pooled_grid(side, self.layout(config)[0])  # type: ignore[arg-type]

    def visual_tokens(self, batch: dict[str, Any], config: Any) -> list[int]:  # noqa: ANN401
        """Per video: the pooled grid of every frame plus its newline tokens."""
        pixels = batch["pixel_values_videos"]  # [V, T, C, H, W]
        side = int(pixels.shape[-1]) // config.vision_config.patch_size
        return [self.layout_tokens(int(pixels.shape[1]), side, config)] * int(pixels.shape[0])

    def reference_tokens(self, height: int, width: int, frames: int, config: Any) -> int:  # noqa: ANN401
        """Every frame is resized to SigLIP's input size, whatever the video's size."""
        vision = self.default_config().vision_config
        return self.layout_tokens(frames, vision.image_size // vision.patch_size, config)

    def inspect_fields(self, batch: dict[str, Any], config: Any) -> dict[str, Any]:  # noqa: ANN401
        """``frame_size`` (what SigLIP gets) and ``visual_tokens``."""
        pixels = batch["pixel_values_videos"]
        return {
            "frame_size": [int(pixels.shape[-2]), int(pixels.shape[-1])],
            "visual_tokens": self.visual_tokens(batch, config)[0],
        }

    def default_processor(self) -> Any:  # noqa: ANN401
        """llava-onevision's video processor settings: SigLIP 384, mean/std 0.5."""
        from transformers import LlavaOnevisionVideoProcessor

        return LlavaOnevisionVideoProcessor(
            size={"height": SIGLIP_SIZE, "width": SIGLIP_SIZE},
            image_mean=[SIGLIP_MEAN_STD] * 3,
            image_std=[SIGLIP_MEAN_STD] * 3,
        )

    def default_config(self) -> Any:  # noqa: ANN401
        """``LlavaOnevisionConfig``'s defaults: SigLIP-so400m at 384 px, patch 14."""
        from transformers import LlavaOnevisionConfig

        return LlavaOnevisionConfig()

    def video_encoder(self, model: torch.nn.Module, cfg: PruningConfig) -> Any:  # noqa: ANN401
        """``stop_llava``'s adapter: pooled SigLIP tokens with the capture the method needs."""
        from stop_llava.adapter import LlavaStopAdapter

        return LlavaStopAdapter(model, cfg, self.name)

    def demo_sinks(self) -> tuple[tuple[int, ...], int] | None:
        """The demo tower's planted sinks on its patch grid."""
        from stop_eval.backbones.llava.demo import DEMO_SIZE, SINK_PATCHES

        return SINK_PATCHES, DEMO_SIZE // 14
