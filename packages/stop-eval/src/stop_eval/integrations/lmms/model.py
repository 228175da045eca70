"""A SToP-pruned video LLM as an lmms-eval model (``--model stop``), found by entry point.

Install with ``pip install 'stop-eval[lmms]'``, then e.g.::

    python -m lmms_eval --model stop --tasks videomme --model_args \
        pretrained=llava-hf/llava-onevision-qwen2-7b-ov-hf,method=holitom,retention=0.1

Videos are prepared by stop-eval as the official evaluation does (the backbone entry's
``--protocol reference`` rule: frames, size, fps) and answered through ``VideoModel``, so
lmms-eval runs see exactly the pipeline ``stop-eval`` runs.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

try:
    from lmms_eval.api.instance import Instance
    from lmms_eval.api.model import lmms
except ImportError as exc:  # the optional extra is not installed
    raise ImportError(
        "the lmms-eval plugin of stop-eval needs lmms-eval: pip install 'stop-eval[lmms]'"
    ) from exc

from stop_eval.backbones import DEFAULT_BACKBONE, get_backbone
from stop_eval.eval.model import VideoModel, load_backbone
from stop_eval.eval.run_config import default_max_new_tokens, make_config
from stop_eval.media.video import VideoMeta

log = logging.getLogger(__name__)
IMAGE_SEQUENCE_FPS = 1.0  # assumed rate of a visual given as a list of images


def _flag(value: bool | str | int) -> bool:
    """A boolean model argument (lmms-eval parses ``True``/``False``; accept 1/0/yes/no too)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected a boolean, got {value!r}")


def _optional_float(value: float | str | None) -> float | None:
    """``None`` / "none" or a float."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "none")):
        return None
    return float(value)


class StopVideoLMM(lmms):
    """lmms-eval "simple" model: any registered backbone (``stop_eval.backbones``) with SToP.

    Model arguments: ``pretrained`` (hub id or path; omitted = the random-weight demo model),
    ``backbone``, ``method``, ``retention``, ``stop``, ``preset``, ``variant``, ``scorer``,
    ``gamma``, ``mu_s``, ``mu_t``, ``frames``, ``max_new_tokens``, ``dtype``, ``device_map``,
    ``seed``; lmms-eval adds ``batch_size``, ``max_batch_size`` (unused) and ``device``.
    """

    is_simple = True

    def __init__(
        self,
        pretrained: str | None = None,
        backbone: str = DEFAULT_BACKBONE,
        method: str = "holitom",
        retention: float = 0.1,
        stop: bool | str = True,
        preset: str | None = None,
        variant: str = "reference",
        scorer: str = "attention",
        gamma: float = 1.1,
        mu_s: float | str | None = None,
        mu_t: float | str | None = None,
        frames: int = 32,
        max_new_tokens: int | None = None,
        dtype: str = "auto",
        device_map: str | None = None,
        device: str | None = None,
        batch_size: int | str = 1,
        max_batch_size: int | None = None,
        seed: int = 4,
    ) -> None:
        super().__init__()
        if int(frames) < 1:
            raise ValueError(f"frames must be >= 1, got {frames}")
        if str(batch_size) == "auto":
            raise ValueError("batch_size=auto is not supported; give a number")
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.batch_size_per_gpu = int(batch_size)
        self.frames = int(frames)
        cfg = make_config(
            backbone,
            str(method),
            float(retention),
            use_stop=_flag(stop),
            variant=str(variant),
            scorer=str(scorer),
            gamma=float(gamma),
            mu_s=_optional_float(mu_s),
            mu_t=_optional_float(mu_t),
            preset=None if preset in (None, "", "none") else str(preset),
        )
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        if device is None:
            device = f"cuda:{local_rank}" if torch.cuda.is_available() else "cpu"
        self._device = torch.device(device)
        placement = device_map if device_map not in (None, "none") else str(self._device)
        torch.manual_seed(int(seed))
        model, processor, random_weights = load_backbone(
            backbone,
            None if pretrained in (None, "", "none") else str(pretrained),
            dtype=str(dtype),
            device_map=placement,
            seed=int(seed),
        )
        if random_weights:
            model = model.to(self._device)
            log.warning("stop: no `pretrained` given, using the random-weight demo model")
        self._max_new_tokens = int(max_new_tokens or default_max_new_tokens(backbone))
        self.video_model = VideoModel(
            model,
            processor,
            backbone,
            cfg,
            max_new_tokens=self._max_new_tokens,
            seed=int(seed),
            random_weights=random_weights,
            adapter_options=get_backbone(backbone).adapter_options(str(scorer)),
        )
        self._sampling_warned = False

    @property
    def device(self) -> torch.device:
        """Where the model's inputs go (lmms-eval uses it for its collectives)."""
        return self._device

    @property
    def batch_size(self) -> int:
        """Requests answered per ``generate`` call."""
        return self.batch_size_per_gpu

    # -- requests --------------------------------------------------------------------------------
    def _video(self, request: Instance, visuals: Sequence[Any] | None) -> tuple[Any, VideoMeta]:
        """The single video of one request + its metadata.

        A path is prepared by the backbone's official rule (``--protocol reference``: frames,
        size, fps); a list of images is fed as decoded frames.
        """
        where = f"task {request.task_name!r} doc {request.doc_id}"
        if not visuals:
            raise ValueError(f"{where} has no video; the stop model answers video tasks only")
        if len(visuals) == 1 and isinstance(visuals[0], (str, os.PathLike)):
            video = self.video_model.prepare(Path(visuals[0]), self.frames, "reference")
            return video, video.meta
        if all(hasattr(v, "convert") for v in visuals):  # a sequence of PIL images
            frames = np.stack([np.asarray(v.convert("RGB")) for v in visuals])
            count = len(frames)
            meta = VideoMeta(
                fps=IMAGE_SEQUENCE_FPS,
                total_frames=count,
                duration=count / IMAGE_SEQUENCE_FPS,
                indices=list(range(count)),
                source=f"images of {where}",
                kind="frames",
            )
            return frames, meta
        kinds = sorted({type(v).__name__ for v in visuals})
        raise ValueError(
            f"{where}: expected one video path or a list of images, got {len(visuals)} "
            f"visual(s) of type {kinds}"
        )

    def _visuals(self, request: Instance) -> Sequence[Any] | None:
        """The request's visuals: ``doc_to_visual`` applied to its document."""
        doc_to_visual: Callable[[Any], Any] = request.args[2]
        doc = self.task_dict[request.args[4]][request.args[5]][request.args[3]]
        visuals = doc_to_visual(doc)
        if visuals is None or isinstance(visuals, (list, tuple)):
            return visuals
        return [visuals]

    def generate_until(self, requests: list[Instance]) -> list[str]:
        """Greedy answers, cut at the first ``until`` string; batched by generation length."""
        answers: list[str | None] = [None] * len(requests)
        groups: dict[int, list[int]] = {}
        stops: list[list[str]] = []
        for i, request in enumerate(requests):
            gen_kwargs = dict(request.args[1] or {})
            until = gen_kwargs.get("until") or []
            stops.append([until] if isinstance(until, str) else list(until))
            self._check_sampling(gen_kwargs)
            length = int(gen_kwargs.get("max_new_tokens") or self._max_new_tokens)
            groups.setdefault(length, []).append(i)
        for length, members in groups.items():
            for start in range(0, len(members), self.batch_size):
                chunk = members[start : start + self.batch_size]
                items = []
                for i in chunk:
                    frames, meta = self._video(requests[i], self._visuals(requests[i]))
                    items.append((frames, meta, self._prompt(requests[i].args[0])))
                for i, generation in zip(
                    chunk, self.video_model.answer_batch(items, length), strict=True
                ):
                    answers[i] = _cut(generation.text, stops[i])
                    self.cache_hook.add_partial("generate_until", requests[i].args, answers[i])
        return [a if a is not None else "" for a in answers]

    def loglikelihood(self, requests: list[Instance]) -> list[tuple[float, bool]]:
        """(log p(continuation | video, context), is greedy) per request."""
        results = []
        for request in requests:
            context, continuation = request.args[0], request.args[1]
            frames, meta = self._video(request, self._visuals(request))
            results.append(
                self.video_model.loglikelihood(frames, meta, self._prompt(context), continuation)
            )
        return results

    def generate_until_multi_round(self, requests: list[Instance]) -> list[str]:
        """Multi-round generation is not part of the video benchmarks this model targets."""
        raise NotImplementedError("the stop model does not implement multi-round generation")

    @staticmethod
    def _prompt(context: str) -> str:
        """The task's text without image placeholders (the video goes first in the chat)."""
        return context.replace("<image>", "").strip()

    def _check_sampling(self, gen_kwargs: dict[str, Any]) -> None:
        """Decoding is greedy (as in the SToP evaluation); say so once if sampling is asked."""
        wants = bool(gen_kwargs.get("do_sample")) or float(gen_kwargs.get("temperature") or 0) > 0
        if wants and not self._sampling_warned:
            log.warning("stop: decoding greedily; do_sample/temperature are ignored")
            self._sampling_warned = True


def _cut(text: str, stops: list[str]) -> str:
    """``text`` up to the first occurrence of any stop string."""
    for stop in stops:
        if stop:
            text = text.split(stop, 1)[0]
    return text
