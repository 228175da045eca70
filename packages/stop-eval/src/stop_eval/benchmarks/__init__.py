"""The six benchmarks (one module each) and the judge client; ``get_benchmark`` picks one."""

from __future__ import annotations

from pathlib import Path

from stop_eval.benchmarks.base import PROTOCOLS, AnnotationError, Benchmark, Sample
from stop_eval.benchmarks.eventhallusion import EventHallusion
from stop_eval.benchmarks.mlvu import MLVU
from stop_eval.benchmarks.mvbench import MVBench
from stop_eval.benchmarks.vcgbench import VCGBench
from stop_eval.benchmarks.videocomp import VideoComp
from stop_eval.benchmarks.videomme import VideoMME

BENCHMARKS: dict[str, type[Benchmark]] = {
    cls.name: cls for cls in (EventHallusion, VCGBench, VideoComp, VideoMME, MVBench, MLVU)
}

__all__ = [
    "BENCHMARKS",
    "PROTOCOLS",
    "AnnotationError",
    "Benchmark",
    "Sample",
    "get_benchmark",
    "resolve_root",
]


def _benchmark_class(name: str) -> type[Benchmark]:
    key = name.strip().lower()
    if key not in BENCHMARKS:
        known = ", ".join(BENCHMARKS)
        raise ValueError(f"unknown benchmark {name!r}; known benchmarks: {known}")
    return BENCHMARKS[key]


def get_benchmark(name: str) -> Benchmark:
    """An adapter instance for a CLI name; unknown names raise ValueError listing the known."""
    return _benchmark_class(name)()


def resolve_root(data_root: Path, name: str) -> Path:
    """The benchmark folder: ``<data_root>/<folder>`` (official layout) or ``data_root`` itself.

    ``data_root`` counts as the benchmark's own folder when it holds one of the benchmark's
    marker files; otherwise FileNotFoundError says how to download the data.
    """
    cls = _benchmark_class(name)
    data_root = Path(data_root).expanduser()
    official = data_root / cls.folder
    if official.is_dir():
        return official
    markers: tuple[str, ...] = getattr(cls, "markers", ())
    if any((data_root / marker).exists() for marker in markers):
        return data_root
    raise FileNotFoundError(
        f"{cls.name} data not found: neither {official} nor {data_root} (holding "
        f"{' or '.join(markers) or 'its files'}) exists. Get it with: "
        f"stop-eval download --benchmark {cls.name} --data-root {data_root}"
    )
