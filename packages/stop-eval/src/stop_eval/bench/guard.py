"""The ``stop-bench prune`` regression guard: method times over a calibration kernel vs a baseline.

Absolute milliseconds change with the machine and its load; the ratio of a method's time to
``stop_eval.bench.prune.calibration_ms`` timed in the same run (same threads) moves much less.
``--save-baseline`` stores those ratios; ``--check`` fails when a setting's ratio exceeds its
baseline ratio by more than ``TOLERANCE``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from stop_eval.bench.prune import PruneTiming, calibration_ms
from stop_eval.bench.report import write_json

TOLERANCE = 1.5  # a setting fails when it is this much slower, relative to the calibration
DEFAULT_BASELINE = Path("docs/benchmarks/prune-baseline.json")


def setting_key(row: PruneTiming) -> str:
    """The identity of one timed setting, shared by a run and its baseline."""
    stop = "stop" if row.use_stop else "base"
    return (
        f"{row.method}/{row.variant}/{stop}/D{row.hidden}/T{row.frames}x{row.tokens_per_frame}"
        f"/r{row.retention_ratio:g}/thr{row.threads}/{row.layout}/{row.dtype}/{row.device}"
    )


def calibrate(threads: Iterable[int]) -> dict[int, float]:
    """``calibration_ms`` at each thread count (restoring the caller's thread count)."""
    previous = torch.get_num_threads()
    try:
        out = {}
        for n in sorted(set(threads)):
            torch.set_num_threads(n)
            out[n] = calibration_ms()
        return out
    finally:
        torch.set_num_threads(previous)


def ratios(rows: Iterable[PruneTiming], calibration: dict[int, float]) -> dict[str, float]:
    """Each setting's median time over the calibration time at its thread count."""
    return {setting_key(r): r.median_ms / calibration[r.threads] for r in rows}


@dataclass(frozen=True)
class GuardRow:
    """One setting compared with its baseline: ``factor`` = ratio / baseline ratio."""

    key: str
    ratio: float
    baseline: float | None
    factor: float | None

    @property
    def failed(self) -> bool:
        """Slower than the baseline by more than ``TOLERANCE`` (unknown settings never fail)."""
        return self.factor is not None and self.factor > TOLERANCE


def save_baseline(
    path: Path, rows: list[PruneTiming], calibration: dict[int, float], settings: dict[str, Any]
) -> None:
    """Write the ratios of this run, its calibration times and its settings as a baseline."""
    write_json(
        path,
        settings,
        tolerance=TOLERANCE,
        calibration_ms={str(k): v for k, v in calibration.items()},
        ratios=ratios(rows, calibration),
        median_ms={setting_key(r): r.median_ms for r in rows},
    )


def load_baseline(path: Path) -> dict[str, float]:
    """The ``ratios`` of a baseline file; a clear error names a missing or malformed file."""
    if not path.is_file():
        raise FileNotFoundError(
            f"baseline {path} not found (write one with --save-baseline, or pass its path)"
        )
    try:
        data = json.loads(path.read_text())
        table = data["ratios"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ValueError(f"baseline {path} has no readable 'ratios' table: {exc}") from exc
    if not isinstance(table, dict) or not all(
        isinstance(v, (int, float)) and v > 0 for v in table.values()
    ):
        raise ValueError(f"baseline {path}: 'ratios' must map settings to positive numbers")
    return {str(k): float(v) for k, v in table.items()}


def compare(
    rows: list[PruneTiming], calibration: dict[int, float], baseline: dict[str, float]
) -> list[GuardRow]:
    """Every timed setting with its baseline ratio (None when the baseline lacks it)."""
    out = []
    for key, ratio in ratios(rows, calibration).items():
        base = baseline.get(key)
        out.append(GuardRow(key, ratio, base, None if base is None else ratio / base))
    return out


def format_guard(results: list[GuardRow], calibration: dict[int, float]) -> str:
    """A table of ratios vs baseline and a verdict line."""
    cal = ", ".join(f"{ms:.2f} ms at {n} thread(s)" for n, ms in sorted(calibration.items()))
    lines = [f"calibration kernel: {cal}", f"{'setting':<72} {'ratio':>7} {'base':>7} {'x':>6}"]
    for r in results:
        base = "-" if r.baseline is None else f"{r.baseline:.3f}"
        factor = "-" if r.factor is None else f"{r.factor:.2f}"
        flag = "  SLOWER" if r.failed else ""
        lines.append(f"{r.key:<72} {r.ratio:>7.3f} {base:>7} {factor:>6}{flag}")
    failed = [r for r in results if r.failed]
    missing = sum(r.baseline is None for r in results)
    verdict = (
        f"FAILED: {len(failed)} setting(s) more than {TOLERANCE}x their baseline ratio"
        if failed
        else f"ok: every setting within {TOLERANCE}x its baseline ratio"
    )
    if missing:
        verdict += f" ({missing} setting(s) not in the baseline, not checked)"
    lines.append(verdict)
    return "\n".join(lines)
