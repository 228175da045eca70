"""VideoComp (ActivityNet-Comp + YouCook2-Comp): binary-choice compositionality questions.

Layout (``fine_grained_task/VideoComp``): ``activitynet_comp_val.json``, ``youcook2_comp_val.json``,
videos in ``activitynet_video/v_<video_id>.{mp4,mkv}`` and ``raw_videos/video/<video_id>.{mp4,
mkv,webm}``. The ``question`` field is the prompt verbatim. Query clip times
(``query_video/start_time``/``end_time``, microseconds as the reference loader reads them) are
ignored under the reference protocol and honoured under ``fixed``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stop_eval.benchmarks.annotation_files import (
    check_protocol,
    field,
    first_existing,
    read_json_list,
)
from stop_eval.benchmarks.base import AnnotationError, Protocol, Sample
from stop_eval.benchmarks.mcqa import MultipleChoiceBenchmark
from stop_eval.benchmarks.metrics import accuracy, grouped_accuracy, split_errors

if TYPE_CHECKING:
    pass

MICROSECONDS = 1e6
START_KEY = "query_video/start_time"
# The dataset README spells the end key "query_videl/end_time" in places; accept both.
END_KEYS = ("query_video/end_time", "query_videl/end_time")


@dataclass(frozen=True)
class VideoCompPart:
    """One half of the benchmark: its annotation file and how its video paths are formed."""

    part: str
    annotation: str
    video_dir: str
    video_prefix: str
    extensions: tuple[str, ...]


PARTS: tuple[VideoCompPart, ...] = (
    VideoCompPart(
        "ActivityNet", "activitynet_comp_val.json", "activitynet_video", "v_", (".mp4", ".mkv")
    ),
    VideoCompPart(
        "YouCook2", "youcook2_comp_val.json", "raw_videos/video", "", (".mp4", ".mkv", ".webm")
    ),
)


def video_path(root: Path, part: VideoCompPart, video_id: str) -> Path:
    """The first existing candidate file for ``video_id`` (the first extension if none exists)."""
    stem = video_id if video_id.startswith(part.video_prefix) else part.video_prefix + video_id
    folder = root / part.video_dir
    return first_existing([folder / f"{stem}{ext}" for ext in part.extensions])


def query_clip(
    record: dict[str, Any], path: Path, where: int | str
) -> tuple[float | None, float | None]:
    """Query clip ``(start, end)`` in seconds, or None where the record has no time."""
    start = field(record, START_KEY, (int, float), path, where, default=None)
    end = None
    for key in END_KEYS:
        end = field(record, key, (int, float), path, where, default=None)
        if end is not None:
            break
    if start is not None and end is not None and end < start:
        raise AnnotationError(f"{path}: record {where}: query end {end} before start {start}")
    return (
        None if start is None else start / MICROSECONDS,
        None if end is None else end / MICROSECONDS,
    )


class VideoComp(MultipleChoiceBenchmark):
    """VideoComp adapter: overall MCQA accuracy, with per-part and per-disruption breakdowns."""

    name = "videocomp"
    folder = "fine_grained_task/VideoComp"
    markers = tuple(part.annotation for part in PARTS)

    def load(self, root: Path, protocol: Protocol) -> list[Sample]:
        """ActivityNet then YouCook2 samples; ids are ``<part>_<key>`` (index if no key)."""
        check_protocol(protocol)
        samples = []
        seen: set[str] = set()
        for part in PARTS:
            path = root / part.annotation
            for index, record in enumerate(read_json_list(path)):
                key = record.get("key", index)
                where = f"{index} (key {key})"
                video_id = field(record, "video_id", str, path, where)
                question = field(record, "question", str, path, where)
                answer = field(record, "answer", (str, int), path, where)
                start, end = query_clip(record, path, where)
                if protocol == "reference":
                    start = end = None
                sample_id = f"{part.part.lower()}_{key}"
                if sample_id in seen:
                    sample_id = f"{sample_id}_{index}"
                seen.add(sample_id)
                samples.append(
                    Sample(
                        id=sample_id,
                        benchmark=self.name,
                        video=video_path(root, part, video_id),
                        prompt=question,
                        answer=answer.strip() if isinstance(answer, str) else answer,
                        start=start,
                        end=end,
                        meta={"part": part.part, "type": record.get("type"), "key": key},
                    )
                )
        return samples

    def aggregate(self, records: list[dict[str, Any]], protocol: Protocol) -> dict[str, Any]:
        """Overall ``accuracy`` (the reference number) plus ``per_part`` and ``per_type``."""
        ok, errors = split_errors(records)
        return {
            "accuracy": accuracy(ok),
            "per_part": grouped_accuracy(ok, "part"),
            "per_type": grouped_accuracy(ok, "type"),
            "n": len(ok),
            "errors": errors,
            "unparsed": sum(r.get("parsed") is None for r in ok),
        }
