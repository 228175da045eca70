"""``stop-bench prune`` runs on small shapes and writes well-formed JSON."""

import json

from stop_eval.cli.bench import main


def test_prune_bench_writes_json(tmp_path, capsys) -> None:
    out = tmp_path / "bench.json"
    main(
        [
            "prune",
            "--methods",
            "uniform",
            "random",
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
            "--out",
            str(out),
        ]
    )
    data = json.loads(out.read_text())
    rows = data["results"]
    assert {(r["method"], r["use_stop"]) for r in rows} == {
        ("uniform", False),
        ("uniform", True),
        ("random", False),
        ("random", True),
    }
    for r in rows:
        assert len(r["runs_ms"]) == 2 and r["median_ms"] > 0 and r["kept"] == 6
    assert "torch" in data["environment"]
    assert data["settings"]["repeats"] == 2 and "out" not in data["settings"]
    assert "median ms" in capsys.readouterr().out


def test_capture_bench_runs_each_variant(tmp_path, capsys) -> None:
    out = tmp_path / "capture.json"
    main(
        [
            "capture",
            "--frames",
            "1",
            "--layers",
            "1",
            "--repeats",
            "1",
            "--threads",
            "1",
            "--out",
            str(out),
        ]
    )
    rows = json.loads(out.read_text())["results"]
    assert [r["variant"] for r in rows] == ["tower", "hooks", "eager"]
    assert all(r["median_s"] > 0 and r["peak_mb"] > 0 for r in rows)
    assert "x tower" in capsys.readouterr().out


def test_prefill_backbone_option_defaults_to_llava_ov() -> None:
    from stop_eval.cli.bench import build_parser

    parser = build_parser()
    args = parser.parse_args(["prefill"])
    assert (args.backbone, args.size) == ("llava_ov", "tiny")
    args = parser.parse_args(["prefill", "--backbone", "qwen3_vl", "--size", "8b"])
    assert (args.backbone, args.size) == ("qwen3_vl", "8b")
    capture = parser.parse_args(["capture", "--tower", "qwen3_vl"])
    assert capture.tower == "qwen3_vl"
