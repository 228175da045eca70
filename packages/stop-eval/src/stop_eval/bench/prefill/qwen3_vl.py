"""``stop-bench prefill`` on Qwen3-VL: random weights at the real 8B sizes, one random video.

Sizes: ``8b`` is Qwen3-VL-8B-Instruct's own ``config.json`` (bundled in ``stop_qwen.checkpoints``),
built directly in the run dtype on the run device (no float32 copy); ``tiny`` is the demo's
scaled-down config of the same structure (deepstack, interleaved M-RoPE), for tests.

The video is fed as the processor would: ``frames`` frames of ``side x side`` pixels in
temporal groups of ``temporal_patch_size``; the prompt holds, per group, a timestamp text of
``TIMESTAMP_TOKENS`` tokens, ``<|vision_start|>``, the group's placeholders and
``<|vision_end|>``. At ``8b`` the side is the largest square within the reference per-frame
cap (the backbone entry's ``max_pixels``: 256 merged tokens), i.e. 512 x 512 pixels.
Pixel values and text ids are random.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch

from stop_core import PruningConfig
from stop_eval.backbones import get_backbone
from stop_eval.backbones.qwen.qwen3_vl import BACKBONE as QWEN3_VL
from stop_eval.bench.flops import capture_flops
from stop_eval.bench.prefill.base import PrefillBench

if TYPE_CHECKING:
    from stop_core.adapter import SampleAccounting
    from stop_eval.bench.prefill.base import PrefillSpec

SIZES: tuple[str, ...] = ("tiny", "8b")
ALL_NEEDS = frozenset({"attention", "keys", "frame_embeddings"})
TINY_SIDE = 128  # 8 x 8 patches of 16 px -> 4 x 4 merged tokens per temporal group
# "<0.5 seconds>" is 6 tokens for Qwen's tokenizer (digits are single tokens)
TIMESTAMP_TOKENS = 6


def model_config(size: str) -> Any:  # noqa: ANN401 - a transformers Qwen3VLConfig
    """The ``Qwen3VLConfig`` of a size preset, read from the bundled checkpoint config."""
    from transformers import Qwen3VLConfig

    from stop_eval.backbones.qwen.demo import qwen3_vl_demo_tokenizer
    from stop_qwen.checkpoints import QWEN3_VL_8B, load_json
    from stop_qwen.testing import Qwen3VLSizes, scaled_config

    real = load_json(QWEN3_VL_8B, "config.json")
    if size == "8b":
        real.pop("dtype", None)
        real.pop("torch_dtype", None)
        real["text_config"].pop("dtype", None)
        return Qwen3VLConfig.from_dict(real)
    if size == "tiny":
        return scaled_config(real, qwen3_vl_demo_tokenizer(), Qwen3VLSizes())
    raise ValueError(f"unknown Qwen3-VL size {size!r}; known: {list(SIZES)}")


def build_model(
    size: str,
    seed: int = 0,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str = "cpu",
) -> torch.nn.Module:
    """A random-weight ``Qwen3VLForConditionalGeneration`` created in ``dtype`` on ``device``.

    Parameters are allocated where and as they will run (``torch.device`` context and
    ``_from_config(dtype=...)``), so the 8B model (~17 GB in bfloat16) never exists in
    float32 or on the host first.
    """
    from transformers import Qwen3VLForConditionalGeneration

    cfg = model_config(size)
    torch.manual_seed(seed)
    with torch.device(device):
        model = Qwen3VLForConditionalGeneration._from_config(cfg, dtype=dtype)
    model.eval()
    model.generation_config.pad_token_id = cfg.text_config.pad_token_id or 0
    model.generation_config.eos_token_id = None  # generate exactly the asked-for tokens
    return model


def frame_side(size: str, backbone: str) -> int:
    """Square frame side in pixels: at ``8b`` the largest within ``backbone``'s reference cap."""
    if size != "8b":
        return TINY_SIDE
    entry = get_backbone(backbone)
    factor, cap = entry.factor, entry.max_pixels  # type: ignore[attr-defined]
    return math.isqrt(cap) // factor * factor


def text_id_range(config: Any) -> tuple[int, int]:  # noqa: ANN401
    """[low, high) of ordinary text ids: above the low specials, below the first high one."""
    low = 10
    specials = (
        config.video_token_id,
        config.image_token_id,
        config.vision_start_token_id,
        config.vision_end_token_id,
        config.text_config.bos_token_id,
        config.text_config.pad_token_id,
    )
    high = min(
        [i for i in specials if i is not None and i >= low] + [config.text_config.vocab_size]
    )
    return low, high


class Qwen3VLPrefillSession:
    """A Qwen3-VL model and one random video laid out with its per-group timestamps."""

    def __init__(self, spec: PrefillSpec, model: torch.nn.Module | None = None) -> None:
        from stop_qwen import make_adapter

        if spec.capture_dtype is not None:
            raise ValueError(
                "--capture-dtype applies to LLaVA's SigLIP capture; the Qwen-VL capture always "
                "reduces in float32 (use --capture-dtype model)"
            )
        dev, self.spec = spec.device, spec
        self.model = (
            model if model is not None else build_model(spec.size, dtype=spec.dtype, device=dev)
        )
        self.model.to(device=dev, dtype=spec.dtype)
        cfg = self.model.config
        vision = cfg.vision_config
        side = frame_side(spec.size, spec.backbone)
        merge, tp, patch = vision.spatial_merge_size, vision.temporal_patch_size, vision.patch_size
        if side % (patch * merge):
            raise ValueError(f"frame side {side} is not a multiple of {patch * merge}")
        groups = math.ceil(spec.frames / tp)  # the processor pads to whole temporal groups
        h = w = side // patch
        per_group = h * w // merge**2
        self.grid = torch.tensor([[groups, h, w]], device=dev)
        width = vision.in_channels * tp * patch * patch
        self.pixels = torch.randn(groups * h * w, width, device=dev, dtype=spec.dtype)

        g = torch.Generator().manual_seed(0)
        low, high = text_id_range(cfg)
        half = spec.text_tokens // 2
        text = torch.randint(low, high, (spec.text_tokens,), generator=g)
        pieces, types = [text[:half]], [torch.zeros(half, dtype=torch.long)]
        for _ in range(groups):
            stamp = torch.randint(low, high, (TIMESTAMP_TOKENS,), generator=g)
            run = torch.full((per_group,), cfg.video_token_id)
            group = torch.cat(
                [
                    stamp,
                    torch.tensor([cfg.vision_start_token_id]),
                    run,
                    torch.tensor([cfg.vision_end_token_id]),
                ]
            )
            kinds = torch.zeros(group.numel(), dtype=torch.long)
            kinds[TIMESTAMP_TOKENS + 1 : TIMESTAMP_TOKENS + 1 + per_group] = 2  # video
            pieces.append(group)
            types.append(kinds)
        pieces.append(text[half:])
        types.append(torch.zeros(spec.text_tokens - half, dtype=torch.long))
        ids = torch.cat(pieces)[None].to(dev)
        self.base_inputs = {
            "input_ids": ids,
            "attention_mask": torch.ones_like(ids),
            "mm_token_type_ids": torch.cat(types)[None].to(dev),
            "pixel_values_videos": self.pixels,
            "video_grid_thw": self.grid,
        }
        # one probe captures everything once; every configuration reuses that tower pass
        self.probe = make_adapter(self.model, PruningConfig("none"), spec.backbone)
        self.probe.needs = ALL_NEEDS
        self.capture_gflops = (
            capture_flops(groups, h * w, vision.hidden_size, vision.num_heads) / 1e9
        )
        self.inputs = {
            "frame_size": [side, side],
            "temporal_groups": groups,
            "tokens_per_group": per_group,
            "visual_tokens": groups * per_group,
            "timestamp_tokens": TIMESTAMP_TOKENS,
            "text_tokens": spec.text_tokens,
            "capture_block": self.probe.block,
            "deepstack_levels": len(vision.deepstack_visual_indexes),
        }

    def vision(self) -> Any:  # noqa: ANN401
        """The tower with its mergers (main and deepstack features), no hooks."""
        return self.model.model.get_video_features(self.pixels, self.grid)

    def encode(self) -> tuple[Any, float]:  # noqa: ANN401
        """One hooked tower pass (attention, keys, frame embeddings) and its in-hook seconds."""
        encoded = self.probe._encode(self.pixels, self.grid)
        return encoded, encoded[2]

    def pruner(
        self, cfg: PruningConfig
    ) -> Callable[[Any], tuple[dict[str, Any], SampleAccounting]]:
        """Prune, rebuild the sequence and its M-RoPE positions (``prepare_inputs``).

        The adapter's own tower pass is replaced by the shared encoded video, so only the
        work after the tower is timed.
        """
        from stop_qwen import make_adapter

        adapter = make_adapter(self.model, cfg, self.spec.backbone)

        def run(encoded: Any) -> tuple[dict[str, Any], SampleAccounting]:  # noqa: ANN401
            adapter._encode = lambda pixels, grid: encoded  # type: ignore[method-assign]
            prepared = adapter.prepare_inputs(dict(self.base_inputs))
            return prepared, adapter.accounting[0]

        return run


BENCH = PrefillBench(backbone=QWEN3_VL.name, sizes=SIZES, session=Qwen3VLPrefillSession)
