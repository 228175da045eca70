"""EventHallusion: yes/no hallucination questions plus judged video descriptions.

Layout (``fine_grained_task/EventHallusion``): ``questions/{entire,misleading,mix}_questions.json``
and ``videos/{entire,misleading,interleave}/<id>.mp4``; ``mix_XXX`` ids become ``interleave_XXX``.
Every question is a QA item; every *entire* and *interleave* video also gets one description
item, judged yes/no. The reference judge compares interleave descriptions with the ordinary
``caption``; ``fixed`` uses the ``unexpected`` event, as the benchmark's own judge does.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stop_eval.benchmarks.annotation_files import check_protocol, read_json_list
from stop_eval.benchmarks.base import AnnotationError, Benchmark, Protocol, Sample
from stop_eval.benchmarks.field_notes import (
    Duplicates,
    Notes,
    describe,
    liberal_text,
    strict_text,
)
from stop_eval.benchmarks.metrics import accuracy, grouped_accuracy, meta, split_errors

if TYPE_CHECKING:
    from stop_eval.benchmarks.judge import Judge

QA_SUFFIX = "\nPlease answer yes or no:"
DESC_PROMPT = "Please describe this video in detail."
_LENGTH = re.compile(r"^\d+(:\d+){0,2}$")

JUDGE_ENTIRE = (
    "You are a referee checking a video description against the true event of the video.\n"
    "Decide whether the event described by the model is consistent with the ground-truth "
    "event. Judge only the events and actions; do not penalise differences in objects, "
    "appearance or scene.\n"
    'Start your reply with "yes" or "no" as its first word, then explain briefly.\n\n'
    "Model description: {pred}\n"
    "Ground-truth event: {event}"
)
JUDGE_MISLEADING = (
    "You are a referee checking a video description against the true event of the video.\n"
    "Decide whether the event described by the model is consistent with the ground-truth "
    'event. If the description contains any event unrelated to the ground truth, answer "no". '
    "Judge only the events and actions, not objects or scene.\n"
    'Start your reply with "yes" or "no" as its first word, then explain briefly.\n\n'
    "Model description: {pred}\n"
    "Ground-truth event: {event}"
)
JUDGE_INTERLEAVE = (
    "You are a referee checking whether a video description mentions a particular event.\n"
    "The video contains the special, unexpected event given below. Decide whether the model's "
    "description mentions this event.\n"
    'Start your reply with "yes" or "no" as its first word, then explain briefly.\n\n'
    "Model description: {pred}\n"
    "Special event: {event}"
)
JUDGE_RUBRICS = {
    "entire": JUDGE_ENTIRE,
    "misleading": JUDGE_MISLEADING,
    "interleave": JUDGE_INTERLEAVE,
}


@dataclass(frozen=True)
class EventSplit:
    """One question file: the split name used for ids and videos, and whether it gets desc items."""

    split: str
    files: tuple[str, ...]
    described: bool


SPLITS: tuple[EventSplit, ...] = (
    EventSplit("entire", ("entire_questions.json",), described=True),
    EventSplit("misleading", ("misleading_questions.json",), described=False),
    EventSplit("interleave", ("mix_questions.json", "interleave_questions.json"), described=True),
)


def parse_yes_no(pred: str) -> str:
    """First whitespace-separated word, stripped of spaces/periods/commas, lowercased.

    Anything else is kept as is, so "**Yes**" parses as "**yes**" and is wrong.
    """
    words = pred.split()
    return words[0].strip(" .,").lower() if words else ""


def gt_yes_no(answer: str) -> str:
    """The ground truth ``"Yes."``/``"No."`` as ``"yes"``/``"no"``."""
    return answer.strip().lower().rstrip(".")


def length_seconds(record: dict[str, Any], path: Path, where: str, notes: Notes) -> float | None:
    """The side field ``length`` (``"00:05"`` or ``h:mm:ss``) in seconds; no metric reads it.

    Integers are taken as seconds, surrounding spaces stripped, empty or other shapes left out;
    each is noted, none stops the load.
    """
    if "length" not in record or record["length"] is None:
        return None
    value = record["length"]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        notes.add(path, f"`length` is {describe(value)}, read as seconds", where)
        return float(value)
    if not isinstance(value, str):
        notes.add(path, f"`length` is {describe(value)}, left out", where)
        return None
    text = value.strip()
    if not text:
        notes.add(path, "`length` is empty, left out", where)
        return None
    if not _LENGTH.match(text):
        notes.add(path, "`length` is not mm:ss, left out", where)
        return None
    if text != value:
        notes.add(path, "`length` has surrounding spaces, stripped", where)
    seconds = 0
    for part in text.split(":"):
        seconds = seconds * 60 + int(part)
    return float(seconds)


def question_file(root: Path, split: EventSplit) -> Path:
    """The first existing file of the split (``mix`` preferred), else the preferred name."""
    folder = root / "questions"
    for name in split.files:
        if (folder / name).is_file():
            return folder / name
    return folder / split.files[0]


def judge_messages(split: str, pred: str, event: str) -> list[dict[str, str]]:
    """The single user message asking the judge about one description."""
    text = JUDGE_RUBRICS[split].format(pred=pred, event=event)
    return [{"role": "user", "content": text}]


class EventHallusion(Benchmark):
    """EventHallusion adapter: ``binary_acc`` (QA), ``desc_acc`` (judged), ``overall_acc``."""

    name = "eventhallusion"
    folder = "fine_grained_task/EventHallusion"
    judged = True
    judge_model = "gpt-5"
    markers = ("questions",)
    group_key = "kind"
    expected_per_group = {"qa": 409, "desc": 302}
    expected_total = 711

    def load(self, root: Path, protocol: Protocol) -> list[Sample]:
        """QA items then (entire/interleave) one description item per video, file by file.

        Strict: ``id``, ``questions`` (``question``, yes/no ``answer``) and the judged event
        (``event_info.caption``; ``unexpected`` under ``fixed``). Liberal: ``length``,
        ``category``, the rest of ``event_info``. A repeated id is kept, under a suffixed id.
        """
        check_protocol(protocol)
        notes = Notes(root)
        duplicates = Duplicates(notes)
        samples: list[Sample] = []
        for split in SPLITS:
            path = question_file(root, split)
            for index, record in enumerate(read_json_list(path)):
                batch = self._video_samples(root, split, record, path, index, protocol, notes)
                if batch:
                    video_id = batch[0].meta["video_id"]
                    unique = duplicates.unique_id(video_id, path, f"{index} ({video_id})")
                    if unique != video_id:
                        batch = [
                            dataclasses.replace(s, id=unique + s.id[len(video_id) :]) for s in batch
                        ]
                samples.extend(batch)
        self.warnings = notes.lines()
        return samples

    def _video_samples(
        self,
        root: Path,
        split: EventSplit,
        record: dict[str, Any],
        path: Path,
        index: int,
        protocol: Protocol,
        notes: Notes,
    ) -> list[Sample]:
        raw_id = strict_text(record, "id", path, index, notes=notes, strip=True)
        where = f"{index} ({raw_id})"
        video_id = re.sub(r"^mix_", "interleave_", raw_id)
        info = record.get("event_info")
        if not isinstance(info, dict):
            info = {}
            if split.described:
                raise AnnotationError(
                    f"{path}: record {where}: 'event_info' is {describe(record.get('event_info'))}"
                )
            notes.add(path, f"`event_info` is {describe(record.get('event_info'))}", where)
        event = None
        if split.described:
            event = strict_text(info, "caption", path, f"{where} event_info")
            if split.split == "interleave":
                if protocol == "fixed":
                    event = strict_text(info, "unexpected", path, f"{where} event_info")
                elif not isinstance(info.get("unexpected"), str):
                    shown = describe(info.get("unexpected"))
                    notes.add(path, f"`event_info.unexpected` is {shown} (read under fixed)", where)
        questions = record.get("questions")
        if not isinstance(questions, list):
            raise AnnotationError(
                f"{path}: record {where}: 'questions' is {describe(questions)}; expected a list"
            )
        common = {
            "split": split.split,
            "video_id": video_id,
            "category": liberal_text(record, "category", path, where, notes),
            "duration": length_seconds(record, path, where, notes),
        }
        video = root / "videos" / split.split / f"{video_id}.mp4"
        samples = []
        for k, question in enumerate(questions):
            q_where = f"{where} question {k}"
            if not isinstance(question, dict):
                raise AnnotationError(f"{path}: record {q_where}: not an object")
            text = strict_text(question, "question", path, q_where)
            answer = strict_text(question, "answer", path, q_where)
            if gt_yes_no(answer) not in ("yes", "no"):
                raise AnnotationError(f"{path}: record {q_where}: answer {answer!r} is not yes/no")
            samples.append(
                Sample(
                    id=f"{video_id}_q{k}",
                    benchmark=self.name,
                    video=video,
                    prompt=text + QA_SUFFIX,
                    answer=answer,
                    meta={**common, "kind": "qa"},
                )
            )
        if split.described:
            samples.append(
                Sample(
                    id=f"{video_id}_desc",
                    benchmark=self.name,
                    video=video,
                    prompt=DESC_PROMPT,
                    answer=event,
                    meta={**common, "kind": "desc"},
                )
            )
        return samples

    def score(
        self, sample: Sample, pred: str, judge: Judge | None, protocol: Protocol
    ) -> dict[str, Any]:
        """QA: first-word yes/no match. Description: one judge call, correct if it says yes."""
        if sample.meta["kind"] == "qa":
            parsed = parse_yes_no(pred)
            return {
                "parsed": parsed,
                "correct": parsed == gt_yes_no(sample.answer),
                "meta": dict(sample.meta),
            }
        if judge is None:
            raise ValueError(f"{self.name}: description items need a judge")
        reply = judge.complete(
            judge_messages(sample.meta["split"], pred, sample.answer), model=self.judge_model
        )
        verdict = reply.lower().startswith("yes")
        return {
            "parsed": "yes" if verdict else "no",
            "correct": verdict,
            "judge": [reply],
            "meta": dict(sample.meta),
        }

    def aggregate(self, records: list[dict[str, Any]], protocol: Protocol) -> dict[str, Any]:
        """``binary_acc`` over QA, ``desc_acc`` over descriptions, ``overall_acc`` over both."""
        ok, errors = split_errors(records)
        qa = [r for r in ok if meta(r).get("kind") == "qa"]
        desc = [r for r in ok if meta(r).get("kind") == "desc"]
        return {
            "binary_acc": accuracy(qa),
            "desc_acc": accuracy(desc),
            "overall_acc": accuracy(qa + desc),
            "binary_per_split": grouped_accuracy(qa, "split"),
            "desc_per_split": grouped_accuracy(desc, "split"),
            "n_qa": len(qa),
            "n_desc": len(desc),
            "errors": errors,
        }
