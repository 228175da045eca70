"""``stop-bench gpu-check`` and the syncs/ops columns of ``stop-bench prune``."""

from __future__ import annotations

import json

import pytest
import torch

from stop_eval.bench.gpu import NO_CUDA_LINE
from stop_eval.cli.bench import main


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-CUDA message")
def test_gpu_check_without_cuda_prints_one_line_and_exits_0(tmp_path, capsys) -> None:
    out = tmp_path / "gpu.json"
    main(["gpu-check", "--out", str(out)])  # returns: exit status 0
    assert capsys.readouterr().out.strip().splitlines() == [NO_CUDA_LINE]
    assert "no CUDA device" in NO_CUDA_LINE
    assert not out.exists()


@pytest.mark.cuda
def test_gpu_check_on_cuda_matches_the_cpu(tmp_path, capsys) -> None:
    out = tmp_path / "gpu.json"
    main(["gpu-check", "--frames", "8", "--repeats", "1", "--out", str(out)])
    data = json.loads(out.read_text())
    assert data["methods"] and all(r["passed"] for r in data["methods"])
    assert {r["backbone"] for r in data["adapters"]} == {"llava_ov", "qwen2_5_vl"}
    assert all(r["forward_ms"] > 0 and r["peak_mb"] > 0 for r in data["adapters"])


def test_prune_bench_reports_syncs_and_ops(tmp_path, capsys) -> None:
    out = tmp_path / "bench.json"
    argv = ["prune", "--methods", "uniform", "visionzip", "--frames", "4", "--grid", "4", "4"]
    main([*argv, "--hidden", "8", "--threads", "1", "--repeats", "1", "--out", str(out)])
    rows = json.loads(out.read_text())["results"]
    by = {(r["method"], r["use_stop"]): r for r in rows}
    assert all(r["ops"] > 0 and isinstance(r["syncs"], int) and r["syncs"] >= 0 for r in rows)
    # uniform only builds a strided selection; visionzip scores, selects and merges
    assert by[("uniform", False)]["ops"] < by[("visionzip", False)]["ops"]
    header = capsys.readouterr().out.splitlines()[0]
    assert "syncs" in header and "ops" in header


def test_gpu_check_machinery_runs_on_the_cpu() -> None:
    """The comparison and the adapter timing, pointed at the CPU (no GPU needed)."""
    from stop_eval.bench.gpu import check_methods, format_adapters, format_checks, time_adapters

    checks = check_methods(4, (4, 4), 8, 0.25, device="cpu")
    assert {c.method for c in checks} >= {"visionzip", "fastvid", "holitom", "flashvid"}
    assert len(checks) == 4 * len({c.method for c in checks})  # variants x SToP
    assert all(c.passed and c.same_indices and c.max_feature_diff == 0.0 for c in checks)
    assert "same idx" in format_checks(checks)
    timings = time_adapters(0.25, repeats=1, device="cpu", methods=("visionzip",))
    assert [(t.backbone, t.method) for t in timings] == [
        (b, "visionzip") for b in ("llava_ov", "llava_video", "qwen2_5_vl", "qwen3_vl")
    ]
    assert all(t.forward_ms > 0 and 0 < t.kept < t.tokens_before for t in timings)
    assert "forward ms" in format_adapters(timings)
