"""The evaluation loop: resumable, sharded over ranks, one JSONL record per sample.

Each rank answers ``samples[rank::world]`` and appends records as they complete; a rerun skips
ids already written (and checks that the run configuration is the same). Missing or corrupt
videos and judge failures become error records, counted, never fatal. Rank 0 merges the shards,
runs the benchmark's multi-record scoring, aggregates and writes ``summary.json``.
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from stop_eval.benchmarks.base import Benchmark, Sample
from stop_eval.eval.records import RecordWriter, read_records
from stop_eval.progress import progress_bar

RESUME_IGNORED = ("limit", "batch_size", "out")


@dataclass(frozen=True)
class RunSettings:
    """Everything that defines a run's results (stored in ``config.json``, checked on resume)."""

    backbone: str
    model: str
    method: str
    retention: float
    use_stop: bool
    mu_s: float
    mu_t: float
    gamma: float
    variant: str
    benchmark: str
    protocol: str
    frames: int
    seed: int
    max_new_tokens: int
    judge_model: str | None
    judge_base_url: str | None
    limit: int | None = None
    batch_size: int = 1
    out: str = ""


@dataclass(frozen=True)
class Shard:
    """The place of this process in a data-parallel run."""

    rank: int = 0
    world: int = 1


def records_path(out: Path, shard: Shard) -> Path:
    """The JSONL file a rank writes."""
    return out / ("records.jsonl" if shard.world == 1 else f"records.rank{shard.rank}.jsonl")


def check_config(out: Path, settings: RunSettings) -> None:
    """Write ``config.json`` or, on resume, fail if the stored one differs."""
    path = out / "config.json"
    current = {k: v for k, v in asdict(settings).items() if k not in RESUME_IGNORED}
    if path.exists():
        stored = {k: v for k, v in json.loads(path.read_text()).items() if k not in RESUME_IGNORED}
        diff = {k: (stored.get(k), v) for k, v in current.items() if stored.get(k) != v}
        if diff:
            raise ValueError(
                f"{out} holds a run with a different configuration {diff} (stored, now); "
                "use another --out or delete it"
            )
    else:
        out.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(settings), indent=2))


AnswerFn = Callable[[list[Sample]], list[dict[str, Any]]]


def run_shard(
    samples: list[Sample],
    answer: AnswerFn,
    out: Path,
    shard: Shard,
    batch_size: int = 1,
    retry_errors: bool = False,
    console: Console | None = None,
) -> int:
    """Answer this rank's samples that have no record yet; returns how many were answered.

    Progress (count, elapsed, ETA) goes to stderr; ``console`` is kept for callers' output.
    """
    path = records_path(out, shard)
    existing = read_records(path)
    if retry_errors and any(r.get("error") for r in existing):
        kept = [r for r in existing if not r.get("error")]
        path.write_text("".join(json.dumps(r, default=str) + "\n" for r in kept))
        existing = kept
    done = {r["id"] for r in existing}
    todo = [s for s in samples[shard.rank :: shard.world] if s.id not in done]
    writer = RecordWriter(path)
    try:
        with progress_bar() as progress:  # stderr: stdout keeps the summary table only
            task = progress.add_task(f"samples (rank {shard.rank})", total=len(todo))
            for start in range(0, len(todo), batch_size):
                batch = todo[start : start + batch_size]
                for record in answer(batch):
                    writer.write(record)
                progress.advance(task, len(batch))
    finally:
        writer.close()
    return len(todo)


def merge_records(out: Path, samples: list[Sample], world: int) -> list[dict[str, Any]]:
    """All ranks' records in sample order (one per id; the first written wins)."""
    by_id: dict[str, dict[str, Any]] = {}
    for rank in range(world):
        for record in read_records(records_path(out, Shard(rank, world))):
            by_id.setdefault(record["id"], record)
    return [by_id[s.id] for s in samples if s.id in by_id]


def summarize(
    settings: RunSettings,
    benchmark: Benchmark,
    records: list[dict[str, Any]],
    total: int,
    judge: Any,  # noqa: ANN401 - Judge or None
) -> dict[str, Any]:
    """Finalize scoring, aggregate, and collect the summary (config, versions, counts, ...)."""
    records = benchmark.finalize(records, judge, settings.protocol)  # type: ignore[arg-type]
    ok = [r for r in records if not r.get("error")]
    metrics = benchmark.aggregate(records, settings.protocol)  # type: ignore[arg-type]

    def mean(key: str, field: str) -> float | None:
        values = [r[key][field] for r in ok if r.get(key) and r[key].get(field) is not None]
        return sum(values) / len(values) if values else None

    return {
        "config": asdict(settings),
        "versions": versions(),
        "counts": {"samples": total, "done": len(records), "errors": len(records) - len(ok)},
        "frames": settings.frames,
        "seed": settings.seed,
        "tokens": {k: mean("tokens", k) for k in ("before", "requested", "kept")},
        "timings": {
            k: mean("timings", k) for k in ("generate", "vision", "capture", "prune", "load_video")
        },
        "metrics": metrics,
        "errors": sorted({r["error"] for r in records if r.get("error")})[:20],
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }


def versions() -> dict[str, str]:
    """Versions of the packages that decide results."""
    out = {"python": platform.python_version()}
    for name in (
        "stop-core",
        "stop-llava",
        "stop-qwen",
        "stop-eval",
        "torch",
        "transformers",
        "av",
    ):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "missing"
    return out


def print_summary(summary: dict[str, Any], console: Console) -> None:
    """A rich table of the metrics, counts and token accounting."""
    table = Table(
        title=f"{summary['config']['benchmark']} — {summary['config']['method']} "
        f"(SToP {'on' if summary['config']['use_stop'] else 'off'}, "
        f"retention {summary['config']['retention']})"
    )
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in flatten(summary["metrics"]).items():
        table.add_row(key, f"{value:.4f}" if isinstance(value, float) else str(value))
    for key, value in summary["counts"].items():
        table.add_row(f"count/{key}", str(value))
    for key, value in summary["tokens"].items():
        table.add_row(f"tokens/{key}", "-" if value is None else f"{value:.1f}")
    console.print(table)


def flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a/b": 1}``."""
    out: dict[str, Any] = {}
    for key, value in d.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, f"{name}/"))
        else:
            out[name] = value
    return out
