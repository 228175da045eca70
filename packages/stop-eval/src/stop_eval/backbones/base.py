"""What a backbone entry says: model class, adapter, inputs, prompt, demo, presets, ``inspect``.

A ``Backbone`` is one registered video LLM family member. Everything in ``stop_eval`` that
depends on the backbone asks its entry instead of comparing names, so adding a backbone is
one module that builds an entry plus one registration (and its adapter package).
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch

if TYPE_CHECKING:
    from stop_core import PruningConfig, VideoTokens
    from stop_eval.media.prepared import PreparedVideo
    from stop_eval.media.video import VideoMeta

DemoBuilder = Callable[[int], tuple[torch.nn.Module, Any]]


@dataclass(frozen=True)
class Backbone(ABC):
    """One backbone: its names, classes and the rules its inputs follow.

    ``name`` is the CLI / config name, ``title`` the support-table column, ``model_class``
    the ``transformers`` class, ``adapter`` the package whose ``apply_stop`` prunes it,
    ``presets_backbone`` the name ``PruningConfig.preset`` looks up (mu presets),
    ``video_kind`` the prompt flavour of ``stop_eval.eval.prompts.chat_text``, ``max_new_tokens``
    the official answer length, ``demo_builder`` the random-weight demo (``seed -> (model,
    processor)``) and ``demo_note`` what the demo tells about it, ``reader`` the
    family ``inputs`` function that prepares one video as the official evaluation
    does. The benches keep their own per-backbone parts (``stop_eval.bench``).
    """

    name: str
    title: str
    model_class: str
    adapter: str
    presets_backbone: str
    video_kind: str
    max_new_tokens: int
    demo_builder: DemoBuilder
    reader: Callable[..., PreparedVideo] | None = None
    demo_note: str = ""
    # the video processor's tensors the adapter encodes, in ``encode_video_tokens``' order
    encoder_inputs: ClassVar[tuple[str, ...]] = ("pixel_values_videos",)

    # -- classes and adapter -------------------------------------------------------------------
    def model_cls(self) -> type[torch.nn.Module]:
        """The ``transformers`` model class checkpoints of this backbone load with."""
        return getattr(importlib.import_module("transformers"), self.model_class)

    def adapter_module(self) -> Any:  # noqa: ANN401 - a module
        """The adapter package (imported on first use)."""
        return importlib.import_module(self.adapter)

    def adapter_supports(self) -> bool:
        """Whether the adapter package is installed and declares this backbone."""
        try:
            module = self.adapter_module()
        except ImportError:
            return False
        return self.name in getattr(module, "BACKBONES", ())

    def apply_stop(
        self,
        model: torch.nn.Module,
        cfg: PruningConfig,
        **options: Any,  # noqa: ANN401
    ) -> Any:  # noqa: ANN401 - the adapter's StopAdapter
        """Attach SToP to ``model`` through the adapter package's ``apply_stop``."""
        return self.adapter_module().apply_stop(model, cfg, backbone=self.name, **options)

    def adapter_options(self, scorer: str) -> dict[str, Any]:
        """Adapter keyword options that depend on run options (none by default)."""
        return {}

    def build_demo(self, seed: int = 0) -> tuple[torch.nn.Module, Any]:
        """The random-weight demo model and its processor."""
        return self.demo_builder(seed)

    # -- prompt --------------------------------------------------------------------------------
    def prompt(self, processor: Any, question: str) -> tuple[str, str]:  # noqa: ANN401
        """(chat text, source): the official messages through the checkpoint's chat template."""
        from stop_eval.eval.prompts import chat_text

        return chat_text(processor, question, video_kind=self.video_kind)

    # -- inputs --------------------------------------------------------------------------------
    @abstractmethod
    def prepare(
        self,
        path: str | Path,
        *,
        frames: int,
        protocol: str,
        start: float | None = None,
        end: float | None = None,
    ) -> PreparedVideo:
        """Decode and prepare one video (file or frame folder) as the protocol's rule says."""

    def read(self) -> Callable[..., PreparedVideo]:
        """The entry's ``reader``; an entry without one cannot prepare videos."""
        if self.reader is None:
            raise ValueError(f"backbone {self.name!r} names no reader for its official inputs")
        return self.reader

    @abstractmethod
    def processor_inputs(
        self,
        processor: Any,  # noqa: ANN401
        texts: list[str] | None,
        videos: list[PreparedVideo],
    ) -> dict[str, Any]:
        """Processor outputs for prepared videos (``texts=None``: the video processor alone)."""

    @abstractmethod
    def decoded_inputs(
        self,
        processor: Any,  # noqa: ANN401
        texts: list[str] | None,
        videos: list[tuple[np.ndarray, VideoMeta]],
    ) -> dict[str, Any]:
        """Processor outputs for frames decoded elsewhere, sized by the processor's settings.

        ``texts=None``: ``processor`` is the video processor alone.
        """

    @abstractmethod
    def token_grid(self, batch: dict[str, Any], config: Any) -> tuple[int, tuple[int, int]]:  # noqa: ANN401
        """(frames, (h, w)) of the first video's ``VideoTokens`` as the adapter prunes them."""

    @abstractmethod
    def visual_tokens(self, batch: dict[str, Any], config: Any) -> list[int]:  # noqa: ANN401
        """Per video of ``batch``: tokens the LLM receives unpruned (newlines included)."""

    @abstractmethod
    def reference_tokens(self, height: int, width: int, frames: int, config: Any) -> int:  # noqa: ANN401
        """Visual tokens the official evaluation feeds for ``frames`` frames of this size."""

    @abstractmethod
    def inspect_fields(self, batch: dict[str, Any], config: Any) -> dict[str, Any]:  # noqa: ANN401
        """``inspect``'s fields of the first video: ``frame_size``, ``visual_tokens`` (+ extras)."""

    def saved_tensors(self, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        """The processor tensors ``inspect --save-inputs`` writes: the encoder's inputs."""
        return {key: batch[key] for key in self.encoder_inputs}

    @abstractmethod
    def default_processor(self) -> Any:  # noqa: ANN401
        """The video processor with the backbone's real settings (no checkpoint needed)."""

    @abstractmethod
    def default_config(self) -> Any:  # noqa: ANN401
        """The model configuration of the backbone's reference checkpoint (no weights)."""

    def load_processor_and_config(self, model: str | None) -> tuple[Any, Any]:  # noqa: ANN401
        """(video processor, model config) of ``model`` (hub id or folder), or the defaults."""
        if model is None:
            return self.default_processor(), self.default_config()
        from transformers import AutoConfig, AutoVideoProcessor

        from stop_eval.media.hub import check_model_source

        check_model_source(model)
        return AutoVideoProcessor.from_pretrained(model), AutoConfig.from_pretrained(model)

    # -- visualize -----------------------------------------------------------------------------
    def video_batch(
        self,
        processor: Any,  # noqa: ANN401
        frames: np.ndarray | PreparedVideo,
        meta: VideoMeta,
    ) -> dict[str, Any]:
        """The video processor's tensors for one video, prepared (as is) or decoded."""
        if isinstance(frames, np.ndarray):
            return self.decoded_inputs(processor.video_processor, None, [(frames, meta)])
        return self.processor_inputs(processor.video_processor, None, [frames])

    @abstractmethod
    @abstractmethod
    def video_encoder(self, model: torch.nn.Module, cfg: PruningConfig) -> Any:  # noqa: ANN401
        """An adapter for ``model`` whose ``encode_video_tokens(*encoder_inputs)`` encodes."""

    def encode_tokens(
        self,
        model: torch.nn.Module,
        processor: Any,  # noqa: ANN401
        frames: np.ndarray | PreparedVideo,
        meta: VideoMeta,
        cfg: PruningConfig,
    ) -> VideoTokens:
        """The ``VideoTokens`` the adapter would prune for this video (with its capture).

        A ``PreparedVideo`` is fed as prepared (the official rule); decoded ``[T, H, W, 3]``
        frames are sized by the processor's own settings.
        """
        device = next(model.parameters()).device
        batch = self.video_batch(processor, frames, meta)
        inputs = [batch[key].to(device) for key in self.encoder_inputs]
        return self.video_encoder(model, cfg).encode_video_tokens(*inputs)[0]

    def demo_sinks(self) -> tuple[tuple[int, ...], int] | None:
        """(patch indices, patches per side) of the demo's planted attention sinks, if any."""
        return None


def batch_on(batch: dict[str, Any], device: torch.device) -> dict[str, Any]:
    """``batch`` with every tensor moved to ``device``."""
    return {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}
