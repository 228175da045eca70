"""MLVU multiple-choice dev set: seven task files, MVBench-style prompt and matcher.

Layout (``VQA/MLVU/MLVU``): ``json/<n>_<task>.json`` and ``video/<n>_<task>/<video>``. The
reference metric is the micro accuracy over all items; ``fixed`` adds ``m_avg``, the mean of the
per-task accuracies that papers usually cite.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from stop_eval.benchmarks.annotation_files import (
    check_protocol,
    read_choice_record,
    read_json_list,
)
from stop_eval.benchmarks.base import Protocol, Sample
from stop_eval.benchmarks.field_notes import Duplicates, Notes, liberal_number, liberal_text
from stop_eval.benchmarks.mcqa import MultipleChoiceBenchmark, options_prompt
from stop_eval.benchmarks.metrics import accuracy, grouped_accuracy, mean, split_errors

if TYPE_CHECKING:
    pass

TASK_FILES: tuple[str, ...] = (
    "1_plotQA",
    "2_needle",
    "3_ego",
    "4_count",
    "5_order",
    "6_anomaly_reco",
    "7_topic_reasoning",
)


def task_name(stem: str) -> str:
    """``"1_plotQA"`` -> ``"plotQA"``: the task name without its ordering prefix."""
    return stem.split("_", 1)[1]


class MLVU(MultipleChoiceBenchmark):
    """MLVU adapter: micro ``accuracy``, ``per_task``, and ``m_avg`` under the fixed protocol."""

    name = "mlvu"
    folder = "VQA/MLVU/MLVU"
    markers = ("json/1_plotQA.json",)
    group_key = "task"
    expected_per_group = {"plotQA": 539}

    def load(self, root: Path, protocol: Protocol) -> list[Sample]:
        """Samples of the seven task files in order; the answer is the option letter.

        Strict: ``video``, ``question``, ``candidates``, ``answer`` (among the candidates).
        Liberal: ``duration``, ``question_type``. Repeated records are kept.
        """
        check_protocol(protocol)
        notes = Notes(root)
        samples = []
        for stem in TASK_FILES:
            path = root / "json" / f"{stem}.json"
            duplicates = Duplicates(notes)
            for index, record in enumerate(read_json_list(path)):
                video, question, candidates, letter = read_choice_record(record, path, index, notes)
                duplicates.check((video, question), path, index, "same video and question")
                duration = liberal_number(record, "duration", path, index, notes)
                question_type = None
                if "question_type" in record:
                    question_type = liberal_text(record, "question_type", path, index, notes)
                samples.append(
                    Sample(
                        id=f"{task_name(stem)}_{index}",
                        benchmark=self.name,
                        video=root / "video" / stem / video,
                        prompt=options_prompt(question, candidates),
                        answer=letter,
                        meta={
                            "task": task_name(stem),
                            "question_type": question_type,
                            "duration": duration,
                        },
                    )
                )
        self.warnings = notes.lines()
        return samples

    def aggregate(self, records: list[dict[str, Any]], protocol: Protocol) -> dict[str, Any]:
        """Micro ``accuracy`` and ``per_task``; ``fixed`` also reports ``m_avg`` (task mean)."""
        ok, errors = split_errors(records)
        per_task = grouped_accuracy(ok, "task")
        metrics: dict[str, Any] = {"accuracy": accuracy(ok), "per_task": per_task}
        if protocol == "fixed":
            metrics["m_avg"] = mean(v for v in per_task.values() if v is not None)
        metrics.update(n=len(ok), errors=errors, unparsed=sum(r.get("parsed") is None for r in ok))
        return metrics
