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

DEFAULT_FRAMES = (32, 64, 128, 256)
PROC_STATUS = Path("/proc/self/status")  # VmRSS, VmHWM (Linux)
PAPER_METHODS = ("visionzip", "fastvid", "holitom", "flashvid")


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
    from stop_core.benchmark import synthetic_tokens

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
            print(format_row(rows[-1]), file=sys.stderr, flush=True)
    return rows


def format_row(r: ScalingRow) -> str:
    """One table line."""
    return (
        f"{r.method:<10} {r.variant:<9} {r.frames:>6} {r.kept:>6} {r.min_ms:>10.1f} "
        f"{r.input_mb:>9.0f} {r.extra_peak_mb:>9.0f} {r.peak_over_input:>7.2f}"
    )


def format_scaling(rows: list[ScalingRow]) -> str:
    """The table, with each method's time ratio between consecutive frame counts."""
    head = (
        f"{'method':<10} {'variant':<9} {'frames':>6} {'kept':>6} {'min ms':>10} "
        f"{'input MB':>9} {'extra MB':>9} {'peak/in':>7}"
    )
    lines = [head, "-" * len(head), *(format_row(r) for r in rows)]
    return "\n".join(lines)


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
    """Rows, settings and the peak ratio as JSON."""
    payload = {
        "settings": settings,
        "results": [{**asdict(r), "peak_over_input": r.peak_over_input} for r in rows],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2) + "\n")


if __name__ == "__main__":
    method, variant, frames, hidden, threads, repeats, params = sys.argv[1:8]
    row = measure(method, variant, int(frames), int(hidden), int(threads), int(repeats), params)
    print(json.dumps(asdict(row)))
