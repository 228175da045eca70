"""``stop-eval`` end to end: the offline demo, a resumable run killed midway, bad inputs.

Runs that need a process of their own (killed by a signal, or under ``torchrun``) start one
and are marked ``slow``; every other run calls ``main`` in this process, on one thread like
the subprocesses, so that predictions compare across the two.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from stop_eval.cli import main
from stop_eval.demo.data import bouncing_ball, moving_square, write_clip

OPTIONS = [f"{c}. option {c}" for c in "ABCD"]


def write_videomme_root(root: Path, n: int = 8) -> Path:
    """A Video-MME folder in the published schema with real tiny .mp4 files (two broken)."""
    folder = root / "VQA" / "Video_MME"
    (folder / "video").mkdir(parents=True)
    rows = []
    for i in range(n):
        rows.append(
            {
                "video_id": f"{i:03d}",
                "duration": ["short", "medium", "long"][i % 3],
                "domain": "Knowledge",
                "sub_category": "Other",
                "url": "u",
                "videoID": f"clip{i}",
                "question_id": f"{i:03d}-1",
                "task_type": "Other",
                "question": f"What happens in clip {i}?",
                "options": OPTIONS,
                "answer": "ABCD"[i % 4],
            }
        )
        if i == 3:
            continue  # missing video -> error record
        path = folder / "video" / f"clip{i}.mp4"
        if i == 5:
            path.write_bytes(os.urandom(2048))  # corrupt video -> error record
        else:
            write_clip(path, moving_square if i % 2 else bouncing_ball, frames=12)
    table = pa.table({k: [r[k] for r in rows] for k in rows[0]})
    pq.write_table(table, folder / "test-00000-of-00001.parquet")
    return root


ARGS = [
    "--backbone",
    "llava_ov",
    "--benchmark",
    "videomme",
    "--frames",
    "4",
    "--max-new-tokens",
    "2",
    "--method",
    "holitom",
    "--retention",
    "0.2",
]


def _cli(data_root: Path, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "stop_eval.cli",
        *ARGS,
        "--data-root",
        str(data_root),
        "--out",
        str(out),
        *extra,
    ]


def _run(data_root: Path, out: Path, *extra: str) -> None:
    """``stop-eval`` in this process, single-threaded like the subprocess runs."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        main([*ARGS, "--data-root", str(data_root), "--out", str(out), *extra])
    finally:
        torch.set_num_threads(threads)


def _env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}


def _records(out: Path) -> list[dict]:
    path = out / "records.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def data_root(tmp_path_factory) -> Path:
    return write_videomme_root(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="module")
def reference_run(data_root, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ref") / "run"
    _run(data_root, out)
    return out


def test_uninterrupted_run(reference_run) -> None:
    summary = json.loads((reference_run / "summary.json").read_text())
    assert summary["counts"] == {"samples": 8, "done": 8, "errors": 2}
    records = _records(reference_run)
    errors = {r["id"]: r["error"] for r in records if r["error"]}
    assert set(errors) == {"003-1", "005-1"}
    assert "clip3.mp4" in errors["003-1"] and "clip5.mp4" in errors["005-1"]
    ok = [r for r in records if not r["error"]]
    assert all(r["tokens"]["kept"] < r["tokens"]["before"] for r in ok)
    assert {"accuracy", "short", "medium", "long"} <= set(summary["metrics"])
    assert summary["config"]["method"] == "holitom" and summary["versions"]["stop-core"]


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
def test_killed_run_resumes_without_loss_or_duplicates(
    data_root, reference_run, tmp_path, sig
) -> None:
    out = tmp_path / "run"
    proc = subprocess.Popen(
        _cli(data_root, out), env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.time() + 300
    path = out / "records.jsonl"
    while time.time() < deadline:
        if path.exists() and len(path.read_text().splitlines()) >= 3:
            break
        if proc.poll() is not None:
            pytest.fail("the run finished before it could be interrupted")
        time.sleep(0.05)
    proc.send_signal(sig)
    proc.wait(timeout=60)
    partial = len(_records(out))
    assert 3 <= partial < 8
    assert not (out / "summary.json").exists()
    _run(data_root, out)  # the resume itself needs no process of its own
    records = _records(out)
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids)) == 8
    ref = {r["id"]: r for r in _records(reference_run)}
    for r in records:
        assert r["pred"] == ref[r["id"]]["pred"] and r["error"] == ref[r["id"]]["error"]
    resumed = json.loads((out / "summary.json").read_text())
    expected = json.loads((reference_run / "summary.json").read_text())
    assert resumed["metrics"] == expected["metrics"]
    assert resumed["counts"] == expected["counts"]


def usage_error(capsys, argv: list[str], pattern: str) -> None:
    """``main(argv)`` exits with 2 and one stderr line ``stop-eval: error: ...`` matching."""
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("stop-eval: error: ")
    assert re.search(pattern, lines[0]), lines[0]


def test_resume_with_other_settings_is_refused(data_root, reference_run, capsys) -> None:
    argv = [*ARGS, "--data-root", str(data_root), "--out", str(reference_run)]
    usage_error(capsys, [*argv, "--retention", "0.3"], "different configuration")


def test_offline_demo_runs(capsys) -> None:
    main(["--backbone", "llava_ov", "--frames", "4", "--max-new-tokens", "2"])
    out = capsys.readouterr().out
    assert "SToP demo on llava_ov" in out and "random-weight" in out
    for method in ("visionzip", "fastvid", "holitom", "flashvid"):
        assert method in out


def test_missing_data_root_says_how_to_download(tmp_path, capsys) -> None:
    argv = ["--benchmark", "mvbench", "--data-root", str(tmp_path / "nowhere")]
    usage_error(capsys, argv, "stop-eval download --benchmark mvbench")
    usage_error(capsys, ["--benchmark", "mvbench"], "needs --data-root")


def test_unknown_choices(capsys) -> None:
    for argv in (["--benchmark", "egoschema"], ["--backbone", "llava"]):
        with pytest.raises(SystemExit) as err:
            main(argv)
        assert err.value.code == 2
    assert "invalid choice: 'llava'" in capsys.readouterr().err
    usage_error(capsys, ["--method", "prunevid"], "unknown pruning method 'prunevid'")


def test_judge_key_missing_for_judged_benchmark(tmp_path, monkeypatch, capsys) -> None:
    folder = tmp_path / "fine_grained_task" / "VCGBench"
    for split in ("Generic", "Temporal"):
        (folder / split).mkdir(parents=True)
        pq.write_table(
            pa.table({"video_name": ["v1"], "question": ["q"], "answer": ["a"]}),
            folder / split / "test-00000-of-00001.parquet",
        )
    (folder / "Consistency").mkdir()
    pq.write_table(
        pa.table(
            {"video_name": ["v1"], "question_1": ["q"], "question_2": ["None"], "answer": ["a"]}
        ),
        folder / "Consistency" / "test-00000-of-00001.parquet",
    )
    monkeypatch.delenv("MY_JUDGE_KEY", raising=False)
    argv = ["--benchmark", "vcgbench", "--data-root", str(tmp_path), "--out", str(tmp_path / "o")]
    usage_error(capsys, [*argv, "--judge-api-key-env", "MY_JUDGE_KEY"], "MY_JUDGE_KEY")


def test_malformed_annotation_names_file_and_record(tmp_path, capsys) -> None:
    root = write_videomme_root(tmp_path, n=2)
    parquet = root / "VQA" / "Video_MME" / "test-00000-of-00001.parquet"
    table = pq.read_table(parquet).to_pylist()
    table[1]["answer"] = "Z"
    pq.write_table(pa.Table.from_pylist(table), parquet)
    argv = ["--benchmark", "videomme", "--data-root", str(root), "--out", str(tmp_path / "o")]
    usage_error(capsys, argv, r"test-00000-of-00001\.parquet.*record 1.*'Z'")


def test_run_prints_the_data_check_first(tmp_path, capsys) -> None:
    """Before any sample runs, stderr carries what `stop-eval check` reports for these items."""
    root = write_videomme_root(tmp_path, n=4)  # clip3 is missing
    parquet = root / "VQA" / "Video_MME" / "test-00000-of-00001.parquet"
    table = pq.read_table(parquet).to_pylist()
    table[0]["domain"] = None
    pq.write_table(pa.Table.from_pylist(table), parquet)
    _run(root, tmp_path / "out")
    err = capsys.readouterr().err
    missing = root / "VQA" / "Video_MME" / "video" / "clip3.mp4"
    assert "items: 4 (official 2700, differs)" in err
    assert f"missing videos (1):\n  {missing}" in err
    assert "1 record: `domain` is null, left out (first: record 0 (000-1))" in err
    assert "result: 1 of 4 items would error" in err


def test_batched_run_matches_unbatched(data_root, reference_run, tmp_path) -> None:
    out = tmp_path / "batched"
    _run(data_root, out, "--batch-size", "3")
    ref = {r["id"]: r for r in _records(reference_run)}
    batched = _records(out)
    assert [r["id"] for r in batched] == list(ref)
    for r in batched:
        assert r["error"] == ref[r["id"]]["error"]
        assert r["tokens"] == ref[r["id"]]["tokens"]


@pytest.mark.slow
def test_data_parallel_run_merges_shards(data_root, reference_run, tmp_path) -> None:
    out = tmp_path / "ddp"
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",  # rendezvous on a free port: parallel runs never collide
        "--nproc_per_node",
        "2",
        "-m",
        "stop_eval.cli",
        *ARGS,
        "--data-root",
        str(data_root),
        "--out",
        str(out),
    ]
    res = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    shards = [
        json.loads(line)["id"]
        for rank in (0, 1)
        for line in (out / f"records.rank{rank}.jsonl").read_text().splitlines()
    ]
    assert sorted(shards) == sorted(r["id"] for r in _records(reference_run))
    merged = json.loads((out / "summary.json").read_text())
    expected = json.loads((reference_run / "summary.json").read_text())
    assert merged["metrics"] == expected["metrics"] and merged["counts"] == expected["counts"]
