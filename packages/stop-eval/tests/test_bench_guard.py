"""The ``stop-bench prune`` guard: ratios to the calibration kernel against a saved baseline."""

import json
from pathlib import Path

import pytest

from stop_eval.bench.guard import TOLERANCE, compare, load_baseline, setting_key
from stop_eval.bench.prune import PruneTiming
from stop_eval.cli.bench import main

TINY = [
    "prune",
    "--methods",
    "uniform",
    "--frames",
    "4",
    "--grid",
    "4",
    "4",
    "--hidden",
    "8",
    "--threads",
    "1",
    "--repeats",
    "2",
]


def timing(method: str, median_ms: float, threads: int = 1) -> PruneTiming:
    return PruneTiming(
        method=method,
        use_stop=True,
        frames=32,
        tokens_per_frame=196,
        hidden=3584,
        retention_ratio=0.1,
        threads=threads,
        device="cpu",
        dtype="float32",
        kept=600,
        median_ms=median_ms,
        min_ms=median_ms,
        runs_ms=(median_ms,),
    )


def test_compare_divides_by_the_calibration_of_the_same_thread_count() -> None:
    rows = [timing("holitom", 80.0, threads=1), timing("holitom", 50.0, threads=2)]
    calibration = {1: 20.0, 2: 10.0}  # ratios 4.0 and 5.0
    baseline = {setting_key(rows[0]): 4.0, setting_key(rows[1]): 5.0 / (TOLERANCE + 0.1)}
    first, second = compare(rows, calibration, baseline)
    assert first.ratio == pytest.approx(4.0) and first.factor == pytest.approx(1.0)
    assert not first.failed
    assert second.ratio == pytest.approx(5.0) and second.factor == pytest.approx(TOLERANCE + 0.1)
    assert second.failed


def test_a_setting_missing_from_the_baseline_is_reported_not_failed() -> None:
    (row,) = compare([timing("flashvid", 10.0)], {1: 5.0}, {})
    assert row.baseline is None and row.factor is None and not row.failed


def test_save_then_check_passes_and_a_faster_baseline_fails(tmp_path, capsys) -> None:
    baseline = tmp_path / "baseline.json"
    main([*TINY, "--save-baseline", str(baseline)])
    data = json.loads(baseline.read_text())
    assert set(data["ratios"]) == {k for k in data["median_ms"]} and len(data["ratios"]) == 2
    assert all(v > 0 for v in data["ratios"].values()) and data["calibration_ms"]["1"] > 0

    generous = tmp_path / "generous.json"  # 100x slower baseline: this run is far within it
    generous.write_text(json.dumps({"ratios": {k: v * 100 for k, v in data["ratios"].items()}}))
    main([*TINY, "--check", str(generous)])
    assert "ok: every setting" in capsys.readouterr().out

    strict = tmp_path / "strict.json"  # a baseline 100x faster than this machine can be
    strict.write_text(json.dumps({"ratios": {k: v / 100 for k, v in data["ratios"].items()}}))
    with pytest.raises(SystemExit) as exc:
        main([*TINY, "--check", str(strict)])
    assert exc.value.code == 1
    assert "FAILED: 2 setting(s)" in capsys.readouterr().out


def test_a_missing_or_malformed_baseline_is_named(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="nope.json"):
        load_baseline(tmp_path / "nope.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"ratios": {"x": -1}}')
    with pytest.raises(ValueError, match="bad.json"):
        load_baseline(bad)


def test_the_committed_baseline_covers_the_paper_methods_in_both_variants() -> None:

    root = Path(__file__).resolve().parents[3]
    table = load_baseline(root / "docs" / "benchmarks" / "prune-baseline.json")
    for method in ("visionzip", "fastvid", "holitom", "flashvid"):
        for variant in ("reference", "fixed"):
            assert any(k.startswith(f"{method}/{variant}/") for k in table), (method, variant)


def test_scaling_bench_runs_each_size_in_its_own_process(tmp_path, capsys) -> None:
    out = tmp_path / "scaling.json"
    main(["scaling", "--frames", "4", "8", "--methods", "uniform", "--hidden", "8"])
    main(["scaling", "--frames", "4", "--methods", "uniform", "--hidden", "8", "--out", str(out)])
    rows = json.loads(out.read_text())["results"]
    assert [(r["method"], r["frames"]) for r in rows] == [("uniform", 4)]
    (row,) = rows
    assert row["kept"] == round(0.1 * 4 * 196) and row["min_ms"] > 0
    assert row["input_mb"] == 4 * 196 * 8 * 4 / 2**20 and row["extra_peak_mb"] >= 0
    printed = capsys.readouterr().out
    assert printed.count("uniform") == 3 and "peak/in" in printed


def test_check_with_a_missing_baseline_is_one_line_and_exit_2(tmp_path, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main([*TINY, "--check", str(tmp_path / "absent.json")])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "absent.json" in err[0]


GOLDEN = Path(__file__).resolve().parents[2] / "stop-core" / "tests" / "golden"


def test_golden_inputs_are_pooled_as_the_official_code_pooled_them() -> None:
    """Attention and keys against the official pooling's own output (``pooled_D64.pt``)."""
    import torch

    from stop_eval.bench.golden import golden_style_tokens

    tokens = golden_style_tokens(GOLDEN / "inputs_D64.pt", 96)
    official = torch.load(GOLDEN / "pooled_D64.pt", weights_only=True)
    assert torch.equal(tokens.attention, official["pooled_attention"])
    assert torch.equal(tokens.keys, official["pooled_metric"])
    assert tokens.features.shape == (32, 196, 96)
    assert tokens.features.stride() == (196 * 96, 1, 196)  # channel-major, as pooled


def test_prune_bench_on_the_golden_inputs(capsys) -> None:
    argv = ["prune", "--methods", "holitom", "--hidden", "32", "--threads", "1", "--repeats", "1"]
    main([*argv, "--golden-inputs", str(GOLDEN / "inputs_D64.pt")])
    table = capsys.readouterr().out
    assert table.count("holitom") == 2
    with pytest.raises(SystemExit) as exc:
        main([*argv, "--golden-inputs", str(GOLDEN / "absent.pt")])
    assert exc.value.code == 2
