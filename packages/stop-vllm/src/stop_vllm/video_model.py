"""What the SToP-aware vLLM Qwen-VL models share: settings, the capture block, encoding.

A model class mixes this in before vLLM's own class and says which vision blocks may be read
(``capture_candidates``) and in which order the tower holds the merged tokens
(``merged_order``); the pruning of each video is then the same for every backbone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import torch

from stop_core import VideoTokens
from stop_core.scoring import merge_to_tokens, resolve_block
from stop_vllm.capture import VisionAttentionCapture
from stop_vllm.pruning import needs, needs_capture, video_tokens
from stop_vllm.settings import StopSettings, read_settings


class StopVideoMixin:
    """SToP state and encoding for a vLLM Qwen-VL model (``stop_settings`` None: inert)."""

    stop_backbone: ClassVar[str] = ""
    stop_settings: StopSettings | None
    config: Any
    visual: Any
    use_data_parallel: bool

    def capture_candidates(self) -> list[int]:
        """Vision blocks whose attention spans a whole temporal slice."""
        raise NotImplementedError

    def merged_order(self, grids: list[list[int]]) -> torch.Tensor:
        """For each merged-token slot of the tower's sequence, the merged token it holds."""
        raise NotImplementedError

    def __init__(self, *, vllm_config: Any, prefix: str = "") -> None:  # noqa: ANN401
        super().__init__(vllm_config=vllm_config, prefix=prefix)  # vLLM's own model class
        self.init_stop(vllm_config)

    def _process_video_input(self, video_input: Any) -> tuple[torch.Tensor, ...]:  # noqa: ANN401
        """The tower's per-video embeddings; with SToP, the capture block's attention too."""
        return self.encode_with_capture(video_input, super()._process_video_input)  # type: ignore[misc]

    def init_stop(self, vllm_config: Any) -> None:  # noqa: ANN401 - vLLM's VllmConfig
        """Read ``stop_pruning`` and pick the capture block (after vLLM's ``__init__``)."""
        rate = vllm_config.model_config.get_multimodal_config().video_pruning_rate
        self.stop_settings = read_settings(self.config, rate, self.stop_backbone)
        self._stop_captured: tuple[torch.Tensor | None, torch.Tensor | None] = (None, None)
        if self.stop_settings is None:
            return
        depth = self.config.vision_config.depth
        self.stop_block = resolve_block(self.stop_settings.block, self.capture_candidates(), depth)
        if needs_capture(self.stop_settings) and self.use_data_parallel:
            raise NotImplementedError(
                "stop_pruning with the attention scorer reads one vision block, which the "
                "data-parallel encoder shards over ranks; use scorer='norm'"
            )

    def encode_with_capture(
        self,
        video_input: Any,  # noqa: ANN401 - vLLM's video inputs
        encode: Callable[[Any], tuple[torch.Tensor, ...]],
    ) -> tuple[torch.Tensor, ...]:
        """``encode(video_input)``, reading the capture block when the method needs it."""
        settings = self.stop_settings
        if settings is None or not needs_capture(settings):
            return encode(video_input)
        if video_input["type"] == "video_embeds":
            raise ValueError(
                "stop_pruning with the attention scorer needs pixels (the vision attention); "
                "precomputed video_embeds carry none: use scorer='norm'"
            )
        capture = VisionAttentionCapture(
            self.visual.blocks[self.stop_block].attn, keep_keys="keys" in needs(settings)
        )
        try:
            embeds = encode(video_input)
        finally:
            capture.remove()
        order = self.merged_order(video_input["video_grid_thw"].tolist()).cpu()
        unit = self.visual.spatial_merge_size**2
        received = merge_to_tokens(capture.received[-1], order, unit)
        keys = merge_to_tokens(capture.keys[-1], order, unit) if capture.keys else None
        self._stop_captured = (received, keys)
        return embeds

    def stop_videos(
        self,
        features: tuple[torch.Tensor, ...],
        video_input: Any,  # noqa: ANN401
    ) -> Iterator[tuple[int, tuple[int, int, int], VideoTokens]]:
        """Per video: its index, merged grid ``(t, h, w)`` and the ``VideoTokens`` to prune.

        ``features`` are the tower's per-video main features (raster order); the attention
        and keys captured by ``encode_with_capture`` are consumed.
        """
        assert self.stop_settings is not None
        received, keys = self._stop_captured
        self._stop_captured = (None, None)
        merge = self.visual.spatial_merge_size
        offset = 0
        for v, (feats, (t, h, w)) in enumerate(
            zip(features, video_input["video_grid_thw"].tolist(), strict=True)
        ):
            grid = (t, h // merge, w // merge)
            n = feats.shape[0]
            yield (
                v,
                grid,
                video_tokens(
                    feats,
                    grid,
                    self.stop_settings,
                    attention=None if received is None else received[offset : offset + n],
                    keys=None if keys is None else keys[offset : offset + n],
                ),
            )
            offset += n
