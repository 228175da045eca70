"""MVBench: 19 multiple-choice tasks (fine_grained_pose skipped: NTU videos are not redistributed).

Layout (``VQA/MVBench``, main branch of the hub repo): ``json/<task>.json`` and per-source video
folders under ``video/``. Bounded tasks carry ``start``/``end`` (seconds): ignored under the
reference protocol (whole video sampled), honoured under ``fixed``. ``episodic_reasoning``
points to 3-fps frame folders instead of video files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stop_eval.benchmarks.annotation_files import (
    check_protocol,
    read_choice_record,
    read_json_list,
)
from stop_eval.benchmarks.base import Protocol, Sample
from stop_eval.benchmarks.field_notes import Duplicates, Notes, liberal_number
from stop_eval.benchmarks.mcqa import MultipleChoiceBenchmark, options_prompt
from stop_eval.benchmarks.metrics import accuracy, grouped_accuracy, split_errors

if TYPE_CHECKING:
    pass


@dataclass(frozen=True)
class MVBenchTask:
    """One task: its JSON stem, where its videos live under ``video/``, and how to read them."""

    stem: str
    prefix: str
    bounded: bool = False
    frames: bool = False


# The published task table; the ``video`` field of each record is relative to ``prefix``.
TASKS: tuple[MVBenchTask, ...] = (
    MVBenchTask("action_sequence", "star/Charades_v1_480/", bounded=True),
    MVBenchTask("action_prediction", "star/Charades_v1_480/", bounded=True),
    MVBenchTask("action_antonym", "ssv2_video/"),
    MVBenchTask("fine_grained_action", "Moments_in_Time_Raw/videos/"),
    MVBenchTask("unexpected_action", "FunQA_test/test/"),
    MVBenchTask("object_existence", "clevrer/video_validation/"),
    MVBenchTask("object_interaction", "star/Charades_v1_480/", bounded=True),
    MVBenchTask("object_shuffle", "perception/videos/"),
    MVBenchTask("moving_direction", "clevrer/video_validation/"),
    MVBenchTask("action_localization", "sta/sta_video/", bounded=True),
    MVBenchTask("scene_transition", "scene_qa/video/"),
    MVBenchTask("action_count", "perception/videos/"),
    MVBenchTask("moving_count", "clevrer/video_validation/"),
    MVBenchTask("moving_attribute", "clevrer/video_validation/"),
    MVBenchTask("state_change", "perception/videos/"),
    MVBenchTask("character_order", "perception/videos/"),
    MVBenchTask("egocentric_navigation", "vlnqa/"),
    MVBenchTask("episodic_reasoning", "tvqa/frames_fps3_hq/", bounded=True, frames=True),
    MVBenchTask("counterfactual_inference", "clevrer/video_validation/"),
)
SKIPPED_TASKS = ("fine_grained_pose",)
FRAME_FOLDER_FPS = 3.0


def clip_bounds(
    record: dict[str, Any], path: Path, where: int | str, notes: Notes
) -> tuple[float | None, float | None]:
    """``(start, end)`` seconds of a bounded record; None where a bound is missing or unusable.

    Unusable bounds and an end before the start are noted and mean the whole video.
    """
    start = liberal_number(record, "start", path, where, notes)
    end = liberal_number(record, "end", path, where, notes)
    if start is not None and end is not None and end < start:
        notes.add(path, "`end` before `start`, whole video", where)
        return None, None
    return start, end


class MVBench(MultipleChoiceBenchmark):
    """MVBench adapter: micro accuracy over all tasks, with a per-task breakdown."""

    name = "mvbench"
    folder = "VQA/MVBench"
    markers = ("json/action_sequence.json",)
    group_key = "task"
    expected_per_group = {task.stem: 200 for task in TASKS}
    expected_total = 200 * len(TASKS)

    def load(self, root: Path, protocol: Protocol) -> list[Sample]:
        """Samples of the 19 tasks in table order; the answer is the option letter.

        Strict: ``video``, ``question``, ``candidates``, ``answer`` (among the candidates).
        Liberal: ``start``/``end`` (read under ``fixed`` only). Repeated records are kept.
        """
        check_protocol(protocol)
        notes = Notes(root)
        samples = []
        for task in TASKS:
            path = root / "json" / f"{task.stem}.json"
            duplicates = Duplicates(notes)
            for index, record in enumerate(read_json_list(path)):
                video, question, candidates, letter = read_choice_record(record, path, index, notes)
                duplicates.check((video, question), path, index, "same video and question")
                start = end = None
                if task.bounded and protocol == "fixed":
                    start, end = clip_bounds(record, path, index, notes)
                meta: dict[str, Any] = {"task": task.stem, "bounded": task.bounded}
                if task.frames:
                    meta.update(frames=True, fps=FRAME_FOLDER_FPS)
                samples.append(
                    Sample(
                        id=f"{task.stem}_{index}",
                        benchmark=self.name,
                        video=root / "video" / task.prefix / video,
                        prompt=options_prompt(question, candidates),
                        answer=letter,
                        start=start,
                        end=end,
                        meta=meta,
                    )
                )
        self.warnings = notes.lines()
        return samples

    def aggregate(self, records: list[dict[str, Any]], protocol: Protocol) -> dict[str, Any]:
        """``accuracy`` (micro over all items) and ``per_task`` accuracies."""
        ok, errors = split_errors(records)
        return {
            "accuracy": accuracy(ok),
            "per_task": grouped_accuracy(ok, "task"),
            "n": len(ok),
            "errors": errors,
            "unparsed": sum(r.get("parsed") is None for r in ok),
        }
