"""Answering benchmark samples: decode the video, generate, score; errors become records."""

from __future__ import annotations

import time
from typing import Any

from stop_eval.benchmarks.base import Benchmark, Sample
from stop_eval.benchmarks.judge import Judge, JudgeError
from stop_eval.eval.model import VideoModel
from stop_eval.media.video import VideoError


def make_answer_fn(
    model: VideoModel, benchmark: Benchmark, judge: Judge | None, frames: int, protocol: str
) -> Any:  # noqa: ANN401 - Callable[[list[Sample]], list[dict]]
    """A function turning a batch of samples into their per-sample records."""

    def answer(batch: list[Sample]) -> list[dict[str, Any]]:
        return answer_batch(model, benchmark, judge, frames, protocol, batch)

    return answer


def base_record(sample: Sample) -> dict[str, Any]:
    """The fields every record has, filled before anything can fail."""
    return {
        "id": sample.id,
        "benchmark": sample.benchmark,
        "prompt": sample.prompt,
        "video": None if sample.video is None else str(sample.video),
        "gt": sample.answer,
        "meta": sample.meta,
        "pred": None,
        "parsed": None,
        "judge": None,
        "error": None,
        "tokens": None,
        "timings": None,
        "prompt_source": None,
        "input_rule": None,
    }


def answer_batch(
    model: VideoModel,
    benchmark: Benchmark,
    judge: Judge | None,
    frames: int,
    protocol: str,
    samples: list[Sample],
) -> list[dict[str, Any]]:
    """Records for a batch: prepare each video, answer the decodable ones together, score.

    Videos are prepared by the backbone's official rule for ``protocol`` (frames, size, fps);
    each record says that rule and where the prompt text came from. A video or judge failure
    is recorded in that sample's ``error`` field, never raised.
    """
    records = [base_record(s) for s in samples]
    ready: list[tuple[int, Any, Any, float]] = []
    for i, sample in enumerate(samples):
        start = time.perf_counter()
        try:
            if sample.video is None:
                raise VideoError(f"sample {sample.id} has no video")
            video = model.prepare(
                sample.video, frames, protocol, start=sample.start, end=sample.end
            )
        except (VideoError, OSError, ValueError) as exc:
            records[i]["error"] = f"video: {exc}"
            continue
        ready.append((i, video, video.meta, time.perf_counter() - start))
    if ready:
        generations = model.answer_batch([(v, m, samples[i].prompt) for i, v, m, _ in ready])
        for (i, _, _, load_seconds), generation in zip(ready, generations, strict=True):
            record = records[i]
            record.update(
                pred=generation.text,
                tokens=generation.tokens,
                timings={**generation.timings, "load_video": load_seconds},
                prompt_source=generation.notes.get("prompt_source"),
                input_rule=generation.notes.get("input_rule"),
            )
            try:
                record.update(benchmark.score(samples[i], generation.text, judge, protocol))  # type: ignore[arg-type]
            except JudgeError as exc:
                record["error"] = f"judge: {exc}"
    return records
