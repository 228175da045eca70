"""Vet a benchmark's data root without loading a model (``stop-eval check``).

Loads the annotations exactly as a run would (same items, same order), compares the item
counts with the official enumeration where it is fixed, opens every referenced video and
decodes its first frame, and lists what is missing, empty or undecodable, the duplicates and the
loaders' warnings. Exit status 0 when a run could proceed without a sample erroring, 1 otherwise.
The evaluation run prints the same summary before it starts. Imports no torch / transformers.
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from stop_eval.benchmarks import AnnotationError, Benchmark, Sample, get_benchmark, resolve_root
from stop_eval.media.video import IMAGE_SUFFIXES


@dataclass
class DataReport:
    """What a run on this data root would meet; ``ok`` when no sample would error."""

    benchmark: str
    root: str
    protocol: str
    items: int = 0
    per_group: dict[str, int] = field(default_factory=dict)
    expected_total: int | None = None
    expected_per_group: dict[str, int] = field(default_factory=dict)
    videos: int = 0
    missing_videos: list[str] = field(default_factory=list)
    empty_videos: list[str] = field(default_factory=list)
    undecodable_videos: list[dict[str, str]] = field(default_factory=list)
    failing_items: int = 0
    duplicates: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    limit: int | None = None

    @property
    def ok(self) -> bool:
        """True when the annotations load and every referenced video decodes."""
        return self.error is None and self.failing_items == 0

    def count_mismatches(self) -> list[str]:
        """Lines for each count that differs from the official enumeration (none with a limit)."""
        if self.limit is not None:
            return []
        out = []
        if self.expected_total is not None and self.items != self.expected_total:
            out.append(f"{self.items} items, the official enumeration has {self.expected_total}")
        for group, expected in self.expected_per_group.items():
            got = self.per_group.get(group, 0)
            if got != expected:
                out.append(f"{group}: {got} items, the official enumeration has {expected}")
        return out

    def as_json(self) -> dict[str, Any]:
        """The report as one JSON object (``ok`` and ``count_mismatches`` included)."""
        data = asdict(self)
        data.update(ok=self.ok, count_mismatches=self.count_mismatches())
        return data


def video_problem(path: Path) -> tuple[str, str] | None:
    """``(kind, detail)`` for a video that a run could not read, None when it opens.

    ``kind`` is ``missing``, ``empty`` (zero bytes, or a folder without images) or
    ``undecodable`` (the file does not open or its first frame does not decode).
    """
    if not path.exists():
        return "missing", ""
    if path.is_dir():
        images = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not images:
            return "empty", "no images"
        return _first_image_problem(images[0])
    if path.stat().st_size == 0:
        return "empty", "0 bytes"
    return _first_frame_problem(path)


def _first_image_problem(path: Path) -> tuple[str, str] | None:
    from PIL import Image

    try:
        with Image.open(path) as image:
            image.convert("RGB")
    except (OSError, ValueError) as exc:
        return "undecodable", f"{path.name}: {exc}"
    return None


def _first_frame_problem(path: Path) -> tuple[str, str] | None:
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                return "undecodable", "no video stream"
            for frame in container.decode(container.streams.video[0]):
                frame.to_ndarray(format="rgb24")
                return None
    except (av.FFmpegError, OSError, ValueError, RuntimeError) as exc:
        return "undecodable", getattr(exc, "strerror", None) or str(exc)
    return "undecodable", "no frame decodes"


def check_samples(
    benchmark: Benchmark,
    root: Path,
    protocol: str,
    samples: list[Sample],
    *,
    limit: int | None = None,
) -> DataReport:
    """The report for ``samples`` already loaded by ``benchmark`` (its warnings included)."""
    report = DataReport(
        benchmark=benchmark.name,
        root=str(root),
        protocol=protocol,
        items=len(samples),
        per_group=dict(Counter(str(s.meta.get(benchmark.group_key)) for s in samples)),
        expected_total=benchmark.expected_total,
        expected_per_group=dict(benchmark.expected_per_group),
        warnings=list(benchmark.warnings),
        limit=limit,
    )
    report.duplicates = [w for w in report.warnings if "duplicate" in w]
    users: Counter[Path] = Counter(s.video for s in samples if s.video is not None)
    report.videos = len(users)
    for video, count in users.items():
        problem = video_problem(video)
        if problem is None:
            continue
        kind, detail = problem
        report.failing_items += count
        if kind == "missing":
            report.missing_videos.append(str(video))
        elif kind == "empty":
            report.empty_videos.append(str(video))
        else:
            report.undecodable_videos.append({"path": str(video), "error": detail})
    return report


def check_data_root(name: str, data_root: Path, protocol: str = "reference") -> DataReport:
    """Load ``name`` from ``data_root`` as a run would and check what it references."""
    benchmark = get_benchmark(name)
    try:
        root = resolve_root(data_root, name)
        samples = benchmark.load(root, protocol)
    except (AnnotationError, FileNotFoundError) as exc:
        return DataReport(
            benchmark=benchmark.name, root=str(data_root), protocol=protocol, error=str(exc)
        )
    return check_samples(benchmark, root, protocol, samples)


def _listing(title: str, entries: list[str], stream: IO[str], most: int = 20) -> None:
    if not entries:
        return
    print(f"{title} ({len(entries)}):", file=stream)
    for entry in entries[:most]:
        print(f"  {entry}", file=stream)
    if len(entries) > most:
        print(f"  ... and {len(entries) - most} more (--json lists all)", file=stream)


def _official(count: int, expected: int | None, limit: int | None) -> str:
    """`` (official N)``, flagged when the count differs (a ``--limit`` explains any)."""
    if expected is None:
        return ""
    differs = count != expected and limit is None
    return f" (official {expected}{', differs' if differs else ''})"


def print_report(report: DataReport, stream: IO[str] | None = None) -> None:
    """The human-readable summary (the same lines before an evaluation run starts)."""
    stream = stream or sys.stdout
    print(f"{report.benchmark} ({report.protocol}) in {report.root}", file=stream)
    if report.error is not None:
        print(f"error: {report.error}", file=stream)
        print("result: the run cannot start", file=stream)
        return
    limited = "" if report.limit is None else f" (--limit {report.limit})"
    official = _official(report.items, report.expected_total, report.limit)
    print(f"items: {report.items}{official}{limited}", file=stream)
    for group, count in report.per_group.items():
        expected = report.expected_per_group.get(group)
        print(f"  {group}: {count}{_official(count, expected, report.limit)}", file=stream)
    bad = len(report.missing_videos) + len(report.empty_videos) + len(report.undecodable_videos)
    print(f"videos: {report.videos} referenced, {report.videos - bad} decode", file=stream)
    _listing("missing videos", report.missing_videos, stream)
    _listing("empty videos", report.empty_videos, stream)
    undecodable = [f"{v['path']}: {v['error']}" for v in report.undecodable_videos]
    _listing("undecodable videos", undecodable, stream)
    _listing("warnings", report.warnings, stream, most=50)
    if report.ok:
        print("result: ok, every item can run", file=stream)
    else:
        print(f"result: {report.failing_items} of {report.items} items would error", file=stream)
