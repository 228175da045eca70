"""Video-MME (no subtitles): 2700 four-option questions over short/medium/long videos.

Layout (``VQA/Video_MME``): ``test-00000-of-00001.parquet`` (moved up from ``videomme/``) and
``video/<videoID>.mp4``. Both protocols use the same prompt, matcher and metrics.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from stop_eval.benchmarks.annotation_files import check_protocol, read_parquet_rows
from stop_eval.benchmarks.base import AnnotationError, Protocol, Sample
from stop_eval.benchmarks.mcqa import MultipleChoiceBenchmark, videomme_prompt
from stop_eval.benchmarks.metrics import accuracy, grouped_accuracy, split_errors

if TYPE_CHECKING:
    pass

PARQUET = "test-00000-of-00001.parquet"
COLUMNS = ("video_id", "duration", "domain", "sub_category", "videoID", "question_id")
COLUMNS += ("task_type", "question", "options", "answer")
DURATIONS = ("short", "medium", "long")


def find_parquet(root: Path) -> Path:
    """The test parquet at the folder top, or still inside ``videomme/`` as cloned."""
    top = root / PARQUET
    nested = root / "videomme" / PARQUET
    return nested if not top.is_file() and nested.is_file() else top


class VideoMME(MultipleChoiceBenchmark):
    """Video-MME adapter: overall accuracy plus short/medium/long accuracies."""

    name = "videomme"
    folder = "VQA/Video_MME"
    markers = (PARQUET, f"videomme/{PARQUET}")

    def load(self, root: Path, protocol: Protocol) -> list[Sample]:
        """One sample per parquet row; the video is ``video/<videoID>.mp4``."""
        check_protocol(protocol)
        path = find_parquet(root)
        samples = []
        seen: set[str] = set()
        for index, row in enumerate(read_parquet_rows(path, COLUMNS)):
            where = f"{index} ({row.get('question_id')})"
            for key in ("videoID", "question_id", "question", "answer", "duration"):
                if not isinstance(row[key], str):
                    raise AnnotationError(f"{path}: record {where}: {key!r} must be a string")
            options = row["options"]
            if not isinstance(options, list) or not all(isinstance(o, str) for o in options):
                raise AnnotationError(
                    f"{path}: record {where}: 'options' must be a list of strings"
                )
            if row["duration"] not in DURATIONS:
                raise AnnotationError(
                    f"{path}: record {where}: duration {row['duration']!r} not in {DURATIONS}"
                )
            if row["question_id"] in seen:
                raise AnnotationError(f"{path}: record {where}: duplicate question_id")
            seen.add(row["question_id"])
            samples.append(
                Sample(
                    id=row["question_id"],
                    benchmark=self.name,
                    video=root / "video" / f"{row['videoID']}.mp4",
                    prompt=videomme_prompt(row["question"], options),
                    answer=row["answer"].strip(),
                    meta={
                        "duration": row["duration"],
                        "domain": row["domain"],
                        "sub_category": row["sub_category"],
                        "task_type": row["task_type"],
                        "video_id": row["videoID"],
                    },
                )
            )
        return samples

    def aggregate(self, records: list[dict[str, Any]], protocol: Protocol) -> dict[str, Any]:
        """``accuracy`` over all answered items and per duration (``short``/``medium``/``long``)."""
        ok, errors = split_errors(records)
        by_duration = grouped_accuracy(ok, "duration")
        metrics: dict[str, Any] = {"accuracy": accuracy(ok)}
        metrics.update({d: by_duration.get(d) for d in DURATIONS})
        metrics.update(n=len(ok), errors=errors, unparsed=sum(r.get("parsed") is None for r in ok))
        return metrics
