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

from stop_eval.benchmarks.annotation_files import check_protocol, first_existing, read_json_list
from stop_eval.benchmarks.base import AnnotationError, Protocol, Sample
from stop_eval.benchmarks.field_notes import (
    Duplicates,
    Notes,
    describe,
    liberal_number,
    liberal_text,
    strict_text,
)
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
    record: dict[str, Any], path: Path, where: int | str, notes: Notes
) -> tuple[float | None, float | None]:
    """Query clip ``(start, end)`` in seconds; None where a time is missing or unusable.

    Unusable times and an end before the start are noted (the latter means the whole video).
    """
    start = liberal_number(record, START_KEY, path, where, notes)
    end = None
    for key in END_KEYS:
        end = liberal_number(record, key, path, where, notes)
        if end is not None:
            break
    if start is not None and end is not None and end < start:
        notes.add(path, "query end before start, whole video", where)
        return None, None
    return (
        None if start is None else start / MICROSECONDS,
        None if end is None else end / MICROSECONDS,
    )


class VideoComp(MultipleChoiceBenchmark):
    """VideoComp adapter: overall MCQA accuracy, with per-part and per-disruption breakdowns."""

    name = "videocomp"
    folder = "fine_grained_task/VideoComp"
    markers = tuple(part.annotation for part in PARTS)
    group_key = "part"

    def load(self, root: Path, protocol: Protocol) -> list[Sample]:
        """ActivityNet then YouCook2 samples; ids are ``<part>_<key>`` (index if no key).

        Strict: ``video_id``, ``question``, ``answer``. Liberal: ``key`` (ids only), ``type``,
        the query times (read under ``fixed`` only). A repeated key is kept, suffixed.
        """
        check_protocol(protocol)
        notes = Notes(root)
        duplicates = Duplicates(notes)
        samples = []
        for part in PARTS:
            path = root / part.annotation
            for index, record in enumerate(read_json_list(path)):
                key = liberal_text(record, "key", path, index, notes)
                if key is None:
                    key = str(index)
                where = f"{index} (key {key})"
                video_id = strict_text(record, "video_id", path, where, notes=notes, strip=True)
                question = strict_text(record, "question", path, where)
                answer = record.get("answer")
                if isinstance(answer, str) and answer.strip():
                    answer = answer.strip()
                elif not isinstance(answer, int) or isinstance(answer, bool):
                    raise AnnotationError(
                        f"{path}: record {where}: 'answer' is {describe(answer)} ({answer!r}); "
                        "expected a letter or an integer"
                    )
                start = end = None
                if protocol == "fixed":
                    start, end = query_clip(record, path, where, notes)
                kind = liberal_text(record, "type", path, where, notes)
                samples.append(
                    Sample(
                        id=duplicates.unique_id(f"{part.part.lower()}_{key}", path, where, "key"),
                        benchmark=self.name,
                        video=video_path(root, part, video_id),
                        prompt=question,
                        answer=answer,
                        start=start,
                        end=end,
                        meta={"part": part.part, "type": kind, "key": key},
                    )
                )
        self.warnings = notes.lines()
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
