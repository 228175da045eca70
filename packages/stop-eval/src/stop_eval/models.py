"""Video LLMs behind one small interface: frames + prompt -> answer, tokens and timings.

``load_video_model`` loads a checkpoint with ``from_pretrained`` (hub id or local path) or,
without one, builds the embedded random-weight demo model of the backbone. SToP is applied
once (``apply_stop``) and stays attached to that model instance.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from stop_core import PruningConfig
from stop_eval.video import VideoMeta

BACKBONES: tuple[str, ...] = ("llava_ov", "llava_video", "qwen2_5_vl")
SYSTEM = "You are a helpful assistant."


@dataclass
class Generation:
    """One answer with its token accounting (summed over the prompt's videos) and timings."""

    text: str
    tokens: dict[str, int]
    timings: dict[str, float]
    notes: dict[str, Any] = field(default_factory=dict)


def load_backbone(
    backbone: str,
    model: str | None = None,
    *,
    dtype: str = "auto",
    device_map: str | None = "auto",
    seed: int = 0,
) -> tuple[torch.nn.Module, Any, bool]:
    """(model, processor, random_weights): ``from_pretrained`` of a hub id / path, or the demo.

    ``dtype`` is "auto" or a torch dtype name; ``device_map`` "none"/None loads on the CPU.
    """
    if backbone not in BACKBONES:
        raise ValueError(f"unknown backbone {backbone!r}; known: {list(BACKBONES)}")
    if model is None:
        from stop_eval.demo_model import build_demo

        built, processor = build_demo(backbone, seed=seed)
        return built, processor, True
    from transformers import AutoProcessor

    if backbone == "qwen2_5_vl":
        from transformers import Qwen2_5_VLForConditionalGeneration as cls
    else:
        from transformers import LlavaOnevisionForConditionalGeneration as cls
    if dtype != "auto" and not isinstance(getattr(torch, dtype, None), torch.dtype):
        raise ValueError(f"unknown dtype {dtype!r}; use auto, float16, bfloat16 or float32")
    torch_dtype = "auto" if dtype == "auto" else getattr(torch, dtype)
    placement = None if device_map in (None, "none") else device_map
    loaded = cls.from_pretrained(
        model, dtype=torch_dtype, device_map=placement, attn_implementation="sdpa"
    )
    processor = AutoProcessor.from_pretrained(model)
    return loaded, processor, False


class VideoModel:
    """A backbone model + processor with SToP attached; ``answer`` runs one greedy generation."""

    def __init__(
        self,
        model: torch.nn.Module,
        processor: Any,  # noqa: ANN401 - a transformers processor
        backbone: str,
        cfg: PruningConfig,
        *,
        max_new_tokens: int,
        seed: int = 0,
        adapter_options: dict[str, Any] | None = None,
        random_weights: bool = False,
    ) -> None:
        if backbone not in BACKBONES:
            raise ValueError(f"unknown backbone {backbone!r}; known: {list(BACKBONES)}")
        self.model = model.eval()
        self.processor = processor
        self.processor.tokenizer.padding_side = "left"  # batched generation needs left padding
        self.backbone = backbone
        self.cfg = cfg
        self.max_new_tokens = max_new_tokens
        self.random_weights = random_weights
        options = {"seed": seed, **(adapter_options or {})}
        if backbone == "qwen2_5_vl":
            from stop_qwen import apply_stop
        else:
            from stop_llava import apply_stop
        self.adapter = apply_stop(model, cfg, backbone=backbone, **options)

    def close(self) -> None:
        """Remove SToP from the model."""
        self.adapter.detach()

    def build_prompt(self, prompt: str) -> str:
        """The chat text of the official evaluation (ChatML, system prompt, video first)."""
        video = (
            "<|vision_start|><|video_pad|><|vision_end|>"
            if self.backbone == "qwen2_5_vl"
            else "<video>\n"
        )
        return (
            f"<|im_start|>system\n{SYSTEM}<|im_end|>\n<|im_start|>user\n{video}{prompt}"
            "<|im_end|>\n<|im_start|>assistant\n"
        )

    def inputs(
        self, items: list[tuple[np.ndarray, VideoMeta, str]], answers: list[str] | None = None
    ) -> dict[str, Any]:
        """Processor outputs for one video + prompt per item (frames already sampled).

        ``answers`` (one per item) are appended after the assistant header, for scoring.
        """
        texts = [self.build_prompt(prompt) for _, _, prompt in items]
        if answers is not None:
            texts = [text + answer for text, answer in zip(texts, answers, strict=True)]
        videos = [frames for frames, _, _ in items]
        if self.backbone == "qwen2_5_vl":
            metadata = []
            for frames, meta, _ in items:
                fps = len(frames) / meta.duration if meta.duration > 0 else max(meta.fps, 1.0)
                metadata.append({"fps": fps, "total_num_frames": len(frames)})
            batch = self.processor(
                text=texts,
                videos=videos,
                return_tensors="pt",
                padding=True,
                videos_kwargs={"video_metadata": metadata, "do_sample_frames": False},
            )
        else:
            batch = self.processor(text=texts, videos=videos, return_tensors="pt", padding=True)
        device = next(self.model.parameters()).device
        return {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}

    def answer(
        self, frames: np.ndarray, meta: VideoMeta, prompt: str, max_new_tokens: int | None = None
    ) -> Generation:
        """Greedy answer for one video and prompt."""
        return self.answer_batch([(frames, meta, prompt)], max_new_tokens)[0]

    @torch.no_grad()
    def loglikelihood(
        self, frames: np.ndarray, meta: VideoMeta, prompt: str, continuation: str
    ) -> tuple[float, bool]:
        """Log-probability of ``continuation`` as the answer, and whether greedy decoding gives it.

        One pruned forward pass; pruning only removes video tokens, so the sequence still ends
        with the continuation's tokens.
        """
        tokenizer = self.processor.tokenizer
        head = self.build_prompt(prompt)
        n_cont = len(tokenizer(head + continuation).input_ids) - len(tokenizer(head).input_ids)
        if n_cont <= 0:
            raise ValueError(f"continuation {continuation!r} adds no tokens to the prompt")
        batch = self.inputs([(frames, meta, prompt)], answers=[continuation])
        targets = batch["input_ids"][0, -n_cont:]
        logits = self.model(**batch).logits[0, -n_cont - 1 : -1].float()
        logprobs = torch.log_softmax(logits, dim=-1)
        total = logprobs.gather(-1, targets[:, None]).sum()
        greedy = bool((logits.argmax(dim=-1) == targets).all())
        return float(total), greedy

    @torch.no_grad()
    def answer_batch(
        self, items: list[tuple[np.ndarray, VideoMeta, str]], max_new_tokens: int | None = None
    ) -> list[Generation]:
        """Greedy answers for a batch (left-padded, one pruning budget per video).

        Items whose frame counts differ (e.g. short frame folders) run one by one, since a
        LLaVA video batch must share its frame count.
        """
        if len({len(frames) for frames, _, _ in items}) > 1:
            return [self.answer_batch([item], max_new_tokens)[0] for item in items]
        batch = self.inputs(items)
        start = time.perf_counter()
        out = self.model.generate(
            **batch, do_sample=False, max_new_tokens=max_new_tokens or self.max_new_tokens
        )
        total = time.perf_counter() - start
        new = out[:, self.adapter.last_input_length :]
        texts = self.processor.tokenizer.batch_decode(new, skip_special_tokens=True)
        results = []
        for b, text in enumerate(texts):
            records = [r for r in self.adapter.accounting if r.sample == b]
            tokens = {
                "before": sum(r.tokens_before for r in records),
                "requested": sum(r.requested for r in records),
                "kept": sum(r.kept for r in records),
                "sequence": sum(r.sequence_tokens for r in records),
            }
            timings = {
                "generate": total / len(items),
                "vision": sum(r.vision_seconds for r in records),
                "capture": sum(r.capture_seconds for r in records),
                "prune": sum(r.prune_seconds for r in records),
            }
            notes = {
                "frame_embedding": [r.notes.get("frame_embedding") for r in records],
                "batch_size": len(items),
            }
            results.append(
                Generation(text=text.strip(), tokens=tokens, timings=timings, notes=notes)
            )
        return results
