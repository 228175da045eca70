"""Answering benchmark samples: decode the video, generate, score; errors become records."""

from __future__ import annotations

import time
from typing import Any

from stop_eval.benchmarks.base import Benchmark, Sample
from stop_eval.judge import Judge, JudgeError
from stop_eval.models import VideoModel
from stop_eval.video import VideoError, load_video


def make_answer_fn(
    model: VideoModel, benchmark: Benchmark, judge: Judge | None, frames: int, protocol: str
) -> Any:  # noqa: ANN401 - Callable[[list[Sample]], list[dict]]
    """A function turning a batch of samples into their per-sample records."""

    def answer(batch: list[Sample]) -> list[dict[str, Any]]:
        return [answer_one(model, benchmark, judge, frames, protocol, s) for s in batch]

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
    }


def answer_one(
    model: VideoModel,
    benchmark: Benchmark,
    judge: Judge | None,
    frames: int,
    protocol: str,
    sample: Sample,
) -> dict[str, Any]:
    """One sample's record; a video or judge failure is recorded in ``error``, not raised."""
    record = base_record(sample)
    start = time.perf_counter()
    try:
        if sample.video is None:
            raise VideoError(f"sample {sample.id} has no video")
        video, meta = load_video(
            sample.video, num_frames=frames, start=sample.start, end=sample.end
        )
    except (VideoError, OSError, ValueError) as exc:
        record["error"] = f"video: {exc}"
        return record
    load_seconds = time.perf_counter() - start
    generation = model.answer(video, meta, sample.prompt)
    record.update(
        pred=generation.text,
        tokens=generation.tokens,
        timings={**generation.timings, "load_video": load_seconds},
    )
    try:
        record.update(benchmark.score(sample, generation.text, judge, protocol))  # type: ignore[arg-type]
    except JudgeError as exc:
        record["error"] = f"judge: {exc}"
    return record
