"""What every benchmark provides: samples from the published layout, scoring, aggregation."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

if TYPE_CHECKING:
    from stop_eval.benchmarks.judge import Judge

Protocol = Literal["reference", "fixed"]
PROTOCOLS: tuple[str, ...] = ("reference", "fixed")


class AnnotationError(ValueError):
    """A malformed annotation file; the message names the file and the record."""


@dataclass(frozen=True)
class Sample:
    """One model query: a video (file or frame folder), the prompt text and the ground truth.

    ``prompt`` is the user text without any chat template (the model wrapper adds it);
    ``start``/``end`` are seconds (None = whole video); ``meta`` holds split/task/duration etc.
    """

    id: str
    benchmark: str
    video: Path | None
    prompt: str
    answer: Any
    start: float | None = None
    end: float | None = None
    meta: dict[str, Any] = field(default_factory=dict)


class Benchmark(ABC):
    """A benchmark adapter: ``load`` -> per-sample ``score`` -> ``finalize`` -> ``aggregate``.

    ``folder`` is the benchmark's place under a data root in the official layout (what
    ``stop-eval download`` writes); ``judged`` says whether scoring needs a judge.
    """

    name: ClassVar[str]
    folder: ClassVar[str]
    judged: ClassVar[bool] = False
    # What ``stop-eval check`` compares with: the meta key that groups items (split / task),
    # the official counts per group where the benchmark fixes them, and the fixed total.
    group_key: ClassVar[str] = "split"
    expected_per_group: ClassVar[dict[str, int]] = {}
    expected_total: ClassVar[int | None] = None
    # One line per file, field and oddity found by the last ``load`` (side fields only).
    warnings: list[str]

    def __init__(self) -> None:
        self.warnings = []

    @abstractmethod
    def load(self, root: Path, protocol: Protocol) -> list[Sample]:
        """Samples from the benchmark folder ``root``; malformed files raise AnnotationError.

        Oddities of fields that do not score are kept in ``self.warnings`` (one line each).
        """

    @abstractmethod
    def score(
        self, sample: Sample, pred: str, judge: Judge | None, protocol: Protocol
    ) -> dict[str, Any]:
        """Record fields for one answer: ``parsed``, ``correct`` or ``scores``, ``judge``."""

    def finalize(
        self, records: list[dict[str, Any]], judge: Judge | None, protocol: Protocol
    ) -> list[dict[str, Any]]:
        """Scoring that needs several records at once (e.g. VCGBench consistency pairs)."""
        return records

    @abstractmethod
    def aggregate(self, records: list[dict[str, Any]], protocol: Protocol) -> dict[str, Any]:
        """Metrics (names as EVAL.md) over the scored records; error records are excluded."""
