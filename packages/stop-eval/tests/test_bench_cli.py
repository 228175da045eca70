"""``stop-bench prune`` runs on small shapes and writes well-formed JSON."""

import json

from stop_eval.bench_cli import main


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
    assert "median ms" in capsys.readouterr().out
