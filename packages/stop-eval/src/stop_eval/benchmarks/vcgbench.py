"""VCGBench (VideoChatGPT generative benchmark): free answers scored 0-5 by a judge.

Layout (``fine_grained_task/VCGBench``): ``{Generic,Temporal,Consistency}/test-00000-of-00001
.parquet`` and ``Test_Videos/<video_name>.{mp4,avi,mov,mkv}``. Generic rows are judged on
correctness, detail orientation and context; Temporal rows on temporal understanding;
Consistency rows in pairs (``finalize``). Reference: pairs by adjacency in row order, unparseable
replies dropped, ``overall`` = mean of every individual score. Fixed: pairs by ``video_name``,
unparseable replies scored 0 and counted, ``mean_of_aspects`` added.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from stop_eval.benchmarks.annotation_files import check_protocol, first_existing, read_parquet_rows
from stop_eval.benchmarks.base import AnnotationError, Benchmark, Protocol, Sample
from stop_eval.benchmarks.field_notes import Duplicates, Notes, strict_text
from stop_eval.benchmarks.metrics import mean, meta, split_errors
from stop_eval.benchmarks.vcgbench_judge import consistency_messages, parse_score, single_messages

if TYPE_CHECKING:
    from stop_eval.benchmarks.judge import Judge

PARQUET = "test-00000-of-00001.parquet"
VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv")
SPLIT_ASPECTS: dict[str, tuple[str, ...]] = {
    "Generic": ("correct", "orientation", "context"),
    "Temporal": ("temporal",),
    "Consistency": ("consistency",),
}
ASPECTS = ("correct", "orientation", "context", "temporal", "consistency")
NO_QUESTION = "None"


def video_path(root: Path, video_name: str) -> Path:
    """``Test_Videos/<video_name>`` with the first existing extension (``.mp4`` if none)."""
    folder = root / "Test_Videos"
    if Path(video_name).suffix.lower() in VIDEO_EXTENSIONS:
        return folder / video_name
    return first_existing([folder / f"{video_name}{ext}" for ext in VIDEO_EXTENSIONS])


def _is_set(value: Any) -> bool:
    return value is not None and value != NO_QUESTION


def judged_score(
    judge: Judge, model: str, messages: list[dict[str, str]], protocol: Protocol
) -> tuple[float | None, str, bool]:
    """``(score, raw reply, parse_failed)``; a failed parse scores None (reference) or 0 (fixed)."""
    reply = judge.complete(messages, model=model)
    score = parse_score(reply, protocol)
    if score is None:
        return (0.0 if protocol == "fixed" else None), reply, True
    return score, reply, False


class VCGBench(Benchmark):
    """VCGBench adapter: per-aspect mean scores, ``overall``, parse-failure counts."""

    name = "vcgbench"
    folder = "fine_grained_task/VCGBench"
    judged = True
    judge_model = "gpt-5-mini"
    markers = (f"Generic/{PARQUET}",)
    expected_per_group = {"Generic": 1996, "Temporal": 499, "Consistency": 998}
    expected_total = 1996 + 499 + 998

    def load(self, root: Path, protocol: Protocol) -> list[Sample]:
        """Generic, Temporal, then Consistency rows in parquet order; ids ``<split>_<row>``.

        Strict: ``video_name``, ``question`` (Consistency: ``question_1`` or ``question_2``),
        ``answer``. Nothing else is read. Repeated rows are kept and noted.
        """
        check_protocol(protocol)
        notes = Notes(root)
        samples: list[Sample] = []
        for split in SPLIT_ASPECTS:
            path = root / split / PARQUET
            if split == "Consistency":
                columns: tuple[str, ...] = ("video_name", "question_1", "question_2", "answer")
            else:
                columns = ("video_name", "question", "answer")
            duplicates = Duplicates(notes)
            rows, _ = read_parquet_rows(path, columns)
            for row, record in enumerate(rows):
                sample = self._sample(root, split, row, record, path, notes)
                key = (sample.meta["video_name"], sample.prompt, sample.meta.get("which"))
                duplicates.check(key, path, row, "same video and question")
                samples.append(sample)
        self.warnings = notes.lines()
        return samples

    def _sample(
        self, root: Path, split: str, row: int, record: dict[str, Any], path: Path, notes: Notes
    ) -> Sample:
        video_name = strict_text(record, "video_name", path, row, notes=notes, strip=True)
        answer = strict_text(record, "answer", path, row)
        info: dict[str, Any] = {"split": split, "row": row, "video_name": video_name}
        if split == "Consistency":
            if _is_set(record["question_1"]):
                which = "question_1"
            elif _is_set(record["question_2"]):
                which = "question_2"
            else:
                raise AnnotationError(f"{path}: record {row}: neither question_1 nor question_2")
            question = strict_text(record, which, path, row)
            info.update(which=which, answer=answer)
        else:
            question = strict_text(record, "question", path, row)
        info["question"] = question
        return Sample(
            id=f"{split.lower()}_{row}",
            benchmark=self.name,
            video=video_path(root, video_name),
            prompt=question,
            answer=answer,
            meta=info,
        )

    def score(
        self, sample: Sample, pred: str, judge: Judge | None, protocol: Protocol
    ) -> dict[str, Any]:
        """Generic: three judge calls; Temporal: one; Consistency: deferred to ``finalize``."""
        split = sample.meta["split"]
        fields: dict[str, Any] = {
            "parsed": None,
            "scores": {},
            "judge": [],
            "meta": dict(sample.meta),
        }
        if split == "Consistency":
            return fields
        if judge is None:
            raise ValueError(f"{self.name}: scoring needs a judge")
        failures = []
        for aspect in SPLIT_ASPECTS[split]:
            messages = single_messages(aspect, sample.prompt, str(sample.answer), pred, protocol)
            score, reply, failed = judged_score(judge, self.judge_model, messages, protocol)
            fields["scores"][aspect] = score
            fields["judge"].append(reply)
            if failed:
                failures.append(aspect)
        fields["judge_parse_failures"] = failures
        return fields

    def finalize(
        self, records: list[dict[str, Any]], judge: Judge | None, protocol: Protocol
    ) -> list[dict[str, Any]]:
        """Pair Consistency records and judge each pair once; the first record holds the score.

        A pair whose judge call fails for good becomes two error records.
        """
        from stop_eval.benchmarks.judge import JudgeError

        out = [dict(r) for r in records]
        pending = [
            r for r in out if r.get("error") is None and meta(r).get("split") == "Consistency"
        ]
        pairs, unpaired = (
            pairs_by_adjacency(pending) if protocol == "reference" else pairs_by_video(pending)
        )
        if pairs and judge is None:
            raise ValueError(f"{self.name}: consistency pairs need a judge")
        for first, second in pairs:
            a, b = meta(first), meta(second)
            messages = consistency_messages(
                a["question"],
                b["question"],
                str(a.get("answer", "")),
                str(first.get("pred") or ""),
                str(second.get("pred") or ""),
                protocol,
            )
            try:
                score, reply, failed = judged_score(judge, self.judge_model, messages, protocol)
            except JudgeError as exc:  # the pair is reported as failed, the run goes on
                for record in (first, second):
                    record.update(scores={}, pair=None, pair_role="judge_failed")
                    record["error"] = f"judge: {exc}"
                continue
            first.update(
                scores={"consistency": score},
                judge=[reply],
                judge_parse_failures=["consistency"] if failed else [],
                pair=second["id"],
                pair_role="first",
            )
            second.update(scores={}, judge=[], judge_parse_failures=[], pair=first["id"])
            second["pair_role"] = "second"
        for record in unpaired:
            record.update(scores={}, pair=None, pair_role="unpaired")
        return out

    def aggregate(self, records: list[dict[str, Any]], protocol: Protocol) -> dict[str, Any]:
        """Aspect means, ``overall`` over all individual scores, counts of parse failures."""
        ok, errors = split_errors(records)
        values: dict[str, list[float]] = {aspect: [] for aspect in ASPECTS}
        failures = dict.fromkeys(ASPECTS, 0)
        for record in ok:
            for aspect, score in (record.get("scores") or {}).items():
                if aspect in values and score is not None:
                    values[aspect].append(float(score))
            for aspect in record.get("judge_parse_failures") or ():
                if aspect in failures:
                    failures[aspect] += 1
        metrics: dict[str, Any] = {aspect: mean(values[aspect]) for aspect in ASPECTS}
        metrics["overall"] = mean(v for aspect in ASPECTS for v in values[aspect])
        if protocol == "fixed":
            metrics["mean_of_aspects"] = mean(
                m for m in (metrics[a] for a in ASPECTS) if m is not None
            )
        metrics["counts"] = {aspect: len(values[aspect]) for aspect in ASPECTS}
        metrics["parse_failures"] = failures
        metrics["unpaired"] = sum(r.get("pair_role") == "unpaired" for r in ok)
        metrics["n"] = len(ok)
        metrics["errors"] = errors
        return metrics


Pairs = list[tuple[dict[str, Any], dict[str, Any]]]


def pairs_by_adjacency(records: list[dict[str, Any]]) -> tuple[Pairs, list[dict[str, Any]]]:
    """Reference pairing: consecutive records in load (row) order, whatever their video."""
    ordered = sorted(records, key=lambda r: meta(r)["row"])
    pairs = [(ordered[i], ordered[i + 1]) for i in range(0, len(ordered) - 1, 2)]
    return pairs, ordered[len(pairs) * 2 :]


def pairs_by_video(records: list[dict[str, Any]]) -> tuple[Pairs, list[dict[str, Any]]]:
    """Fixed pairing: within each ``video_name``, question_1 rows with question_2 rows in order."""
    groups: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for record in sorted(records, key=lambda r: meta(r)["row"]):
        info = meta(record)
        slots = groups.setdefault(info["video_name"], {"question_1": [], "question_2": []})
        slots[info["which"]].append(record)
    pairs: Pairs = []
    unpaired: list[dict[str, Any]] = []
    for slots in groups.values():
        firsts, seconds = slots["question_1"], slots["question_2"]
        count = min(len(firsts), len(seconds))
        pairs.extend(zip(firsts[:count], seconds[:count], strict=True))
        unpaired.extend(firsts[count:] + seconds[count:])
    return pairs, unpaired
