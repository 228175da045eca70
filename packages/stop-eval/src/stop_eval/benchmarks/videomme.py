"""Video-MME (no subtitles): 2700 four-option questions over short/medium/long videos.

Layout (``VQA/Video_MME``): ``test-00000-of-00001.parquet`` (moved up from ``videomme/``) and
``video/<videoID>.mp4``. Both protocols use the same prompt, matcher and metrics.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from stop_eval.benchmarks.annotation_files import check_protocol, read_parquet_rows
from stop_eval.benchmarks.base import AnnotationError, Protocol, Sample
from stop_eval.benchmarks.field_notes import (
    Duplicates,
    Notes,
    describe,
    liberal_text,
    option_text,
    strict_text,
)
from stop_eval.benchmarks.mcqa import OPTION_LETTERS, MultipleChoiceBenchmark, videomme_prompt
from stop_eval.benchmarks.metrics import accuracy, grouped_accuracy, split_errors

if TYPE_CHECKING:
    pass

PARQUET = "test-00000-of-00001.parquet"
COLUMNS = ("videoID", "question_id", "question", "options", "answer")
SIDE_COLUMNS = ("video_id", "duration", "domain", "sub_category", "task_type")
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
    group_key = "duration"
    expected_total = 2700

    def load(self, root: Path, protocol: Protocol) -> list[Sample]:
        """One sample per parquet row; the video is ``video/<videoID>.mp4``.

        Strict: ``question_id``, ``videoID``, ``question``, ``options`` and the ``answer`` letter.
        Liberal: ``duration`` (an unknown one counts in the overall accuracy only), ``domain``,
        ``sub_category``, ``task_type``, ``video_id``. A repeated question_id is kept, suffixed.
        """
        check_protocol(protocol)
        path = find_parquet(root)
        notes = Notes(root)
        duplicates = Duplicates(notes)
        rows, absent = read_parquet_rows(path, COLUMNS, SIDE_COLUMNS)
        for column in absent:
            notes.add(path, f"column `{column}` is missing, left out", "0")
        samples = []
        for index, row in enumerate(rows):
            qid = strict_text(row, "question_id", path, index, notes=notes, strip=True)
            where = f"{index} ({qid})"
            video = strict_text(row, "videoID", path, where, notes=notes, strip=True)
            question = strict_text(row, "question", path, where)
            options = row["options"]
            if not isinstance(options, list) or not options:
                raise AnnotationError(
                    f"{path}: record {where}: 'options' is {describe(options)}; expected a list"
                )
            options = [option_text(o, "options", path, where, notes) for o in options]
            answer = strict_text(row, "answer", path, where).strip()
            letters = OPTION_LETTERS[: len(options)]
            if len(answer) != 1 or answer.upper() not in letters:
                raise AnnotationError(
                    f"{path}: record {where}: answer {answer!r} is not one of the option "
                    f"letters {', '.join(letters)}"
                )
            meta: dict[str, Any] = {
                key: None if key in absent else liberal_text(row, key, path, where, notes)
                for key in ("duration", "domain", "sub_category", "task_type")
            }
            duration = meta["duration"]
            if duration is not None and duration.lower() in DURATIONS:
                meta["duration"] = duration.lower()
            elif duration is not None:
                notes.add(path, "`duration` is not short/medium/long, overall accuracy only", where)
            meta["video_id"] = video
            samples.append(
                Sample(
                    id=duplicates.unique_id(qid, path, where, "question_id"),
                    benchmark=self.name,
                    video=root / "video" / f"{video}.mp4",
                    prompt=videomme_prompt(question, options),
                    answer=answer.upper(),
                    meta=meta,
                )
            )
        self.warnings = notes.lines()
        return samples

    def aggregate(self, records: list[dict[str, Any]], protocol: Protocol) -> dict[str, Any]:
        """``accuracy`` over all answered items and per duration (``short``/``medium``/``long``)."""
        ok, errors = split_errors(records)
        by_duration = grouped_accuracy(ok, "duration")
        metrics: dict[str, Any] = {"accuracy": accuracy(ok)}
        metrics.update({d: by_duration.get(d) for d in DURATIONS})
        metrics.update(n=len(ok), errors=errors, unparsed=sum(r.get("parsed") is None for r in ok))
        return metrics
