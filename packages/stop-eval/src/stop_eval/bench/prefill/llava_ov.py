"""``stop-bench prefill`` on LLaVA-OneVision: random-weight models and one random video.

Sizes: ``tiny`` (tests), ``0.5b`` (SigLIP-so400m as LLaVA runs it + Qwen2-0.5B) and ``7b``
(SigLIP-so400m + Qwen2-7B). Frames are the tower's own square size; the LLM sees the
bilinear-pooled tokens of every frame and one newline after the video.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch

from stop_core import PruningConfig
from stop_eval.backbones.llava.llava_ov import BACKBONE as LLAVA_OV
from stop_eval.bench.flops import capture_flops
from stop_eval.bench.prefill.base import PrefillBench
from stop_eval.bench.towers import SO400M
from stop_llava.testing import LlavaSizes, llava_config, random_llava

if TYPE_CHECKING:
    from stop_core.adapter import SampleAccounting
    from stop_eval.bench.prefill.base import PrefillSpec

ALL_NEEDS = frozenset({"attention", "keys", "frame_embeddings"})
# SigLIP-so400m as LLaVA runs it (26 layers, no head), in stop_llava.testing's terms
SO400M_SIZES = {
    "image_size": SO400M["image_size"],
    "patch_size": SO400M["patch_size"],
    "vision_hidden": SO400M["hidden_size"],
    "vision_intermediate": SO400M["intermediate_size"],
    "vision_layers": SO400M["num_hidden_layers"],
    "vision_heads": SO400M["num_attention_heads"],
}
# size preset -> (model sizes, vocabulary size)
SIZES: dict[str, tuple[LlavaSizes, int]] = {
    "tiny": (LlavaSizes(image_size=112), 512),
    # LLaVA-OneVision-0.5B: SigLIP-so400m (26 layers as run) + Qwen2-0.5B
    "0.5b": (
        LlavaSizes(
            **SO400M_SIZES,
            text_hidden=896,
            text_intermediate=4864,
            text_layers=24,
            text_heads=14,
            text_kv_heads=2,
        ),
        151936,
    ),
    # LLaVA-OneVision-7B: SigLIP-so400m + Qwen2-7B (run it in bfloat16 on a CPU)
    "7b": (
        LlavaSizes(
            **SO400M_SIZES,
            text_hidden=3584,
            text_intermediate=18944,
            text_layers=28,
            text_heads=28,
            text_kv_heads=4,
        ),
        152064,
    ),
}


def build_model(size: str, seed: int = 0, dtype: torch.dtype = torch.float32) -> torch.nn.Module:
    """A random-weight LLaVA-OneVision of the given size preset, created directly in ``dtype``.

    The last two ids of the vocabulary are the image and video placeholders; no end-of-sequence
    id, so ``generate`` produces exactly the tokens asked for.
    """
    if size not in SIZES:
        raise ValueError(f"unknown LLaVA-OneVision size {size!r}; known: {sorted(SIZES)}")
    sizes, vocab = SIZES[size]
    config = llava_config(
        sizes, vocab_size=vocab, image_token_id=vocab - 2, video_token_id=vocab - 1
    )
    return random_llava(config, seed=seed, dtype=dtype, pad_token_id=0, eos_token_id=None)


class LlavaPrefillSession:
    """A LLaVA-OneVision model and one random video of ``spec.frames`` square frames."""

    def __init__(self, spec: PrefillSpec, model: torch.nn.Module | None = None) -> None:
        from stop_llava import LlavaStopAdapter

        self.backbone = spec.backbone
        self.model = (model if model is not None else build_model(spec.size, dtype=spec.dtype)).to(
            device=spec.device, dtype=spec.dtype
        )
        vision = self.model.config.vision_config
        side = vision.image_size
        self.pixels = torch.randn(
            1, spec.frames, 3, side, side, device=spec.device, dtype=spec.dtype
        )
        # one probe captures everything once; every configuration reuses that tower pass
        self.probe = LlavaStopAdapter(
            self.model,
            PruningConfig("none"),
            spec.backbone,
            capture=ALL_NEEDS,
            capture_dtype=spec.capture_dtype,
        )
        per_video = spec.frames * self.probe.hf_tokens_per_frame + 1
        g = torch.Generator().manual_seed(0)
        vocab = self.model.config.text_config.vocab_size
        text = torch.randint(10, vocab - 2, (spec.text_tokens,), generator=g)
        half = spec.text_tokens // 2
        video = torch.full((per_video,), self.model.config.video_token_id)
        ids = torch.cat([text[:half], video, text[half:]])[None].to(spec.device)
        self.base_inputs = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
        patches = (side // vision.patch_size) ** 2
        self.capture_gflops = (
            capture_flops(spec.frames, patches, vision.hidden_size, vision.num_attention_heads)
            / 1e9
        )
        self.inputs = {
            "frame_size": [side, side],
            "visual_tokens": per_video,
            "tokens_per_frame": self.probe.hf_tokens_per_frame,
            "text_tokens": spec.text_tokens,
            "capture_layer": self.probe.layer,
        }

    def vision(self) -> Any:  # noqa: ANN401
        """The tower, projector and pooling as the model runs them (no hooks)."""
        return self.model.model.get_video_features(self.pixels)

    def encode(self) -> tuple[dict[str, Any], float]:
        """One hooked tower pass (attention, keys, frame embeddings) and its in-hook seconds."""
        out = self.probe.encode_videos(self.pixels)
        return out, out["capture_seconds"]

    def pruner(
        self, cfg: PruningConfig
    ) -> Callable[[dict[str, Any]], tuple[dict[str, Any], SampleAccounting]]:
        """Prune, lay out and rebuild the sequence with ``cfg`` (``LlavaStopAdapter.assemble``)."""
        from stop_llava import LlavaStopAdapter

        adapter = LlavaStopAdapter(self.model, cfg, self.backbone)

        def run(encoded: dict[str, Any]) -> tuple[dict[str, Any], SampleAccounting]:
            prepared = adapter.assemble(dict(self.base_inputs), encoded)
            return prepared, adapter.accounting[0]

        return run


BENCH = PrefillBench(backbone=LLAVA_OV.name, sizes=tuple(SIZES), session=LlavaPrefillSession)
