"""``stop-bench scaling``: prune time and peak memory as the video grows (fresh process each).

Each (frames, method) runs in its own Python process, so the peak resident memory it reports
is that one ``prune`` call's: the process builds the video (an 8-scene synthetic video, laid
out channel-major as pooling leaves it), resets the kernel's peak-RSS mark, times ``prune``
(min of ``repeats``) and reads the peak back. ``extra`` is the peak minus the resident size
before the call; the target is a peak within twice the input (``extra <= input``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from stop_core.presets import PAPER_METHODS
from stop_eval.bench.report import Column, text_row, text_table, write_json

DEFAULT_FRAMES = (32, 64, 128, 256)
PROC_STATUS = Path("/proc/self/status")  # VmRSS, VmHWM (Linux)


@dataclass(frozen=True)
class ScalingRow:
    """One (method, frames) measurement."""

    method: str
    variant: str
    frames: int
    hidden: int
    threads: int
    kept: int
    min_ms: float
    input_mb: float
    extra_peak_mb: float

    @property
    def peak_over_input(self) -> float:
        """(input + extra) / input: 2.0 is the target's ceiling."""
        return (self.input_mb + self.extra_peak_mb) / self.input_mb


def _status_kb(field: str) -> int:
    """A ``/proc/self/status`` field in kB (``VmRSS``, ``VmHWM``)."""
    for line in PROC_STATUS.read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{PROC_STATUS} has no {field}")


def measure(
    method: str, variant: str, frames: int, hidden: int, threads: int, repeats: int, params: str
) -> ScalingRow:
    """In this process: build the video, reset the peak mark, time ``prune``, read the peak."""
    import torch

    from stop_core import PruningConfig, prune
    from stop_core.testing import synthetic_tokens

    torch.set_num_threads(threads)
    tokens = synthetic_tokens(frames, (14, 14), hidden, scenes=8, layout="pooled")
    cfg = PruningConfig.preset(
        method, retention_ratio=0.1, use_stop=True, variant=variant, **json.loads(params)
    )
    before = _status_kb("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # peak RSS mark := current RSS
    best, kept = float("inf"), 0
    for i in range(repeats):
        start = time.perf_counter()
        out = prune(tokens, cfg, generator=torch.Generator().manual_seed(i))
        best = min(best, (time.perf_counter() - start) * 1e3)
        kept = out.kept
        del out
    extra = max(0, _status_kb("VmHWM") - before) / 1024
    return ScalingRow(
        method=method,
        variant=variant,
        frames=frames,
        hidden=hidden,
        threads=threads,
        kept=kept,
        min_ms=best,
        input_mb=tokens.features.numel() * tokens.features.element_size() / 2**20,
        extra_peak_mb=extra,
    )


def run_scaling(args: argparse.Namespace) -> list[ScalingRow]:
    """Every frames x method in a fresh process (``python -m stop_eval.bench.scaling``)."""
    if not PROC_STATUS.is_file():
        raise SystemExit(
            f"stop-bench scaling reads peak memory from {PROC_STATUS} (Linux); not found here"
        )
    rows = []
    for frames in args.frames:
        for method in args.methods:
            cmd = [
                sys.executable,
                "-m",
                "stop_eval.bench.scaling",
                method,
                args.variant,
                str(frames),
                str(args.hidden),
                str(args.threads),
                str(args.repeats),
                args.params,
            ]
            done = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ))
            if done.returncode != 0:
                raise RuntimeError(f"{method} at {frames} frames failed:\n{done.stderr[-2000:]}")
            rows.append(ScalingRow(**json.loads(done.stdout.strip().splitlines()[-1])))
            print(text_row(SCALING_COLUMNS, rows[-1]), file=sys.stderr, flush=True)
    return rows


SCALING_COLUMNS: tuple[Column, ...] = (
    Column("method", "<10", lambda r: r.method),
    Column("variant", "<9", lambda r: r.variant),
    Column("frames", ">6", lambda r: r.frames),
    Column("kept", ">6", lambda r: r.kept),
    Column("min ms", ">10.1f", lambda r: r.min_ms),
    Column("input MB", ">9.0f", lambda r: r.input_mb),
    Column("extra MB", ">9.0f", lambda r: r.extra_peak_mb),
    Column("peak/in", ">7.2f", lambda r: r.peak_over_input),
)


def format_scaling(rows: list[ScalingRow]) -> str:
    """One line per frames x method: kept tokens, time, input size and peak memory."""
    return text_table(SCALING_COLUMNS, rows)


def add_scaling_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``stop-bench scaling``."""
    parser.add_argument("--frames", type=int, nargs="+", default=list(DEFAULT_FRAMES))
    parser.add_argument("--methods", nargs="+", default=list(PAPER_METHODS))
    parser.add_argument("--variant", default="reference", choices=["reference", "fixed"])
    parser.add_argument("--hidden", type=int, default=3584)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--params", default="{}", help='method parameters as JSON, e.g. {"max_segment_length": 32}'
    )
    parser.add_argument("--out", default=None, help="JSON file to write")


def write_scaling(rows: list[ScalingRow], path: Path, settings: dict[str, object]) -> None:
    """Rows (with their peak ratio) and settings as the benches' JSON."""
    write_json(
        path, settings, results=[{**asdict(r), "peak_over_input": r.peak_over_input} for r in rows]
    )


if __name__ == "__main__":
    method, variant, frames, hidden, threads, repeats, params = sys.argv[1:8]
    row = measure(method, variant, int(frames), int(hidden), int(threads), int(repeats), params)
    print(json.dumps(asdict(row)))
