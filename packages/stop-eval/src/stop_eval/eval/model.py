"""Video LLMs behind one small interface: frames + prompt -> answer, tokens and timings.

``load_backbone`` loads a checkpoint with the backbone entry's ``transformers`` class (hub id
or local path) or, without one, builds the entry's random-weight demo model. SToP is applied
once (the entry's adapter ``apply_stop``) and stays attached to that model instance.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from stop_core import PruningConfig
from stop_eval.backbones import get_backbone
from stop_eval.media.video import VideoMeta

if TYPE_CHECKING:
    from stop_eval.media.prepared import PreparedVideo

Video = Any  # np.ndarray [T, H, W, 3] decoded frames, or a PreparedVideo
BUDGET_FACTOR = 2.0  # warn when a video feeds more than this many times the official tokens
DECODED_RULE = "frames decoded by stop_eval.media.video, sized by the processor's own settings"


class TokenBudgetWarning(UserWarning):
    """A run feeds far more visual tokens than the official evaluation of that backbone."""


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
    entry = get_backbone(backbone)
    if model is None:
        built, processor = entry.build_demo(seed)
        return built, processor, True
    from transformers import AutoProcessor

    from stop_eval.media.hub import check_model_source

    if dtype != "auto" and not isinstance(getattr(torch, dtype, None), torch.dtype):
        raise ValueError(f"unknown dtype {dtype!r}; use auto, float16, bfloat16 or float32")
    check_model_source(model)  # one clear line, fast, instead of retries and tracebacks
    torch_dtype = "auto" if dtype == "auto" else getattr(torch, dtype)
    placement = None if device_map in (None, "none") else device_map
    loaded = entry.model_cls().from_pretrained(
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
        self.entry = get_backbone(backbone)
        self.model = model.eval()
        self.processor = processor
        self.processor.tokenizer.padding_side = "left"  # batched generation needs left padding
        self.backbone = backbone
        self.cfg = cfg
        self.max_new_tokens = max_new_tokens
        self.random_weights = random_weights
        self.budget_warned = False
        options = {"seed": seed, **(adapter_options or {})}
        self.adapter = self.entry.apply_stop(model, cfg, **options)

    def close(self) -> None:
        """Remove SToP from the model."""
        self.adapter.detach()

    def chat(self, prompt: str) -> tuple[str, str]:
        """(chat text, source): the official messages through the checkpoint's chat template.

        ``source`` is ``"chat_template"`` or ``"fallback"`` (the official ChatML string, for a
        processor without a template).
        """
        return self.entry.prompt(self.processor, prompt)

    def build_prompt(self, prompt: str) -> str:
        """The chat text of the official evaluation (system prompt, video first, question)."""
        return self.chat(prompt)[0]

    def prepare(
        self,
        path: Any,  # noqa: ANN401 - str | Path
        frames: int,
        protocol: str,
        start: float | None = None,
        end: float | None = None,
    ) -> PreparedVideo:
        """One video prepared as the backbone's official rule for ``protocol`` says."""
        return self.entry.prepare(path, frames=frames, protocol=protocol, start=start, end=end)

    def inputs(
        self, items: list[tuple[Video, VideoMeta, str]], answers: list[str] | None = None
    ) -> dict[str, Any]:
        """Processor outputs for one video + prompt per item.

        A video is either a ``PreparedVideo`` (fed as prepared: frames, size, fps) or decoded
        ``[T, H, W, 3]`` frames (sized by the processor's own settings). ``answers`` (one per
        item) are appended after the assistant header, for scoring.
        """
        texts = [self.build_prompt(prompt) for _, _, prompt in items]
        if answers is not None:
            texts = [text + answer for text, answer in zip(texts, answers, strict=True)]
        prepared = [not isinstance(video, np.ndarray) for video, _, _ in items]
        if all(prepared):
            batch = self.entry.processor_inputs(
                self.processor, texts, [video for video, _, _ in items]
            )
        elif not any(prepared):
            batch = self.entry.decoded_inputs(
                self.processor, texts, [(video, meta) for video, meta, _ in items]
            )
        else:
            raise ValueError("a batch mixes prepared videos and decoded frames")
        self.check_budget(batch, [video for video, _, _ in items])
        device = next(self.model.parameters()).device
        return {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}

    def check_budget(self, batch: dict[str, Any], videos: list[Video]) -> None:
        """Warn (once) when a video feeds over ``BUDGET_FACTOR`` x the official token count.

        The random-weight demo is exempt: its processor is fixed-size by design.
        """
        if self.budget_warned or self.random_weights:
            return
        fed = self.entry.visual_tokens(batch, self.model.config)
        for video, tokens in zip(videos, fed, strict=True):
            height, width = frame_size(video)
            if warn_budget(
                self.backbone, tokens, height, width, num_frames(video), self.model.config
            ):
                self.budget_warned = True
                return

    def answer(
        self, frames: Video, meta: VideoMeta, prompt: str, max_new_tokens: int | None = None
    ) -> Generation:
        """Greedy answer for one video and prompt."""
        return self.answer_batch([(frames, meta, prompt)], max_new_tokens)[0]

    @torch.no_grad()
    def loglikelihood(
        self, frames: Video, meta: VideoMeta, prompt: str, continuation: str
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
        self, items: list[tuple[Video, VideoMeta, str]], max_new_tokens: int | None = None
    ) -> list[Generation]:
        """Greedy answers for a batch (left-padded, one pruning budget per video).

        Items whose frame counts differ (e.g. short frame folders) run one by one, since a
        LLaVA video batch must share its frame count.
        """
        if len({num_frames(video) for video, _, _ in items}) > 1:
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
            video, _, prompt = items[b]
            notes = {
                "frame_embedding": [r.notes.get("frame_embedding") for r in records],
                "batch_size": len(items),
                "prompt_source": self.chat(prompt)[1],
                "input_rule": getattr(video, "rule", DECODED_RULE),
            }
            results.append(
                Generation(text=text.strip(), tokens=tokens, timings=timings, notes=notes)
            )
        return results


def warn_budget(
    backbone: str,
    fed: int,
    height: int,
    width: int,
    frames: int,
    config: Any,  # noqa: ANN401 - a transformers config
    stacklevel: int = 4,
) -> bool:
    """Warn ``TokenBudgetWarning`` if ``fed`` tokens exceed ``BUDGET_FACTOR`` x the official count.

    The official count is what the backbone's reference evaluation feeds for ``frames`` frames
    of ``height x width``; returns whether it warned.
    """
    official = get_backbone(backbone).reference_tokens(height, width, frames, config)
    if fed <= BUDGET_FACTOR * official:
        return False
    warnings.warn(
        f"{backbone}: a {frames}-frame {height}x{width} video feeds {fed} visual tokens, "
        f"{fed / official:.1f}x the {official} of the official evaluation (prepare inputs with "
        "--protocol reference, or set the processor's pixel range)",
        TokenBudgetWarning,
        stacklevel=stacklevel,
    )
    return True


def num_frames(video: Video) -> int:
    """Frames of a decoded array or a ``PreparedVideo``."""
    return len(video.frames) if hasattr(video, "frames") else len(video)


def frame_size(video: Video) -> tuple[int, int]:
    """(height, width) of the frames handed to the processor."""
    frames = video.frames if hasattr(video, "frames") else video
    if frames.shape[1] == 3 and frames.shape[-1] != 3:
        return int(frames.shape[2]), int(frames.shape[3])  # [T, 3, H, W]
    return int(frames.shape[1]), int(frames.shape[2])  # [T, H, W, 3]
