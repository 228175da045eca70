"""MLVU adapter on JSON fixtures in the published schema; micro accuracy vs M-avg."""

import json

import pytest

from stop_eval.benchmarks import AnnotationError, get_benchmark, resolve_root
from stop_eval.benchmarks.mlvu import TASK_FILES


def write_mlvu(root, counts=None):
    (root / "json").mkdir(parents=True)
    for stem in TASK_FILES:
        task = stem.split("_", 1)[1]
        records = [
            {
                "video": f"{task}_{i}.mp4",
                "duration": 300.5,
                "question": f"Question {i} about {task}?",
                "candidates": ["red", "green", "blue", "black"],
                "answer": "blue",
                "question_type": task,
            }
            for i in range((counts or {}).get(stem, 1))
        ]
        (root / "json" / f"{stem}.json").write_text(json.dumps(records))
    return root


def test_load_paths_and_prompt(tmp_path):
    root = write_mlvu(tmp_path / "VQA" / "MLVU" / "MLVU")
    samples = get_benchmark("mlvu").load(resolve_root(tmp_path, "mlvu"), "reference")
    assert [s.id for s in samples][:2] == ["plotQA_0", "needle_0"]
    assert samples[0].video == root / "video" / "1_plotQA" / "plotQA_0.mp4"
    assert samples[0].answer == "C"
    assert samples[0].prompt.startswith("Question: Question 0 about plotQA?\nOptions:\n(A) red\n")
    assert samples[0].prompt.endswith("(D) black\nOnly give the best option.")
    assert samples[0].meta == {"task": "plotQA", "question_type": "plotQA", "duration": 300.5}


def test_micro_accuracy_vs_m_avg(tmp_path):
    root = write_mlvu(tmp_path, counts={"1_plotQA": 4})
    bench = get_benchmark("mlvu")
    results = {}
    for protocol in ("reference", "fixed"):
        samples = bench.load(root, protocol)
        assert len(samples) == 10
        # plotQA (4 items) all right, every other task (1 item each) wrong
        preds = ["C" if s.meta["task"] == "plotQA" else "A" for s in samples]
        records = [
            {"id": s.id, "pred": p, "error": None, **bench.score(s, p, None, protocol)}
            for s, p in zip(samples, preds, strict=True)
        ]
        results[protocol] = bench.aggregate(records, protocol)
    assert results["reference"]["accuracy"] == pytest.approx(0.4)
    assert "m_avg" not in results["reference"]
    assert results["fixed"]["accuracy"] == pytest.approx(0.4)
    assert results["fixed"]["m_avg"] == pytest.approx(1 / 7)
    assert results["fixed"]["per_task"]["plotQA"] == 1.0


def test_missing_key_names_file_and_record(tmp_path):
    root = write_mlvu(tmp_path)
    path = root / "json" / "5_order.json"
    records = json.loads(path.read_text())
    records.append({"video": "x.mp4", "candidates": ["a", "b"], "answer": "a"})
    path.write_text(json.dumps(records))
    with pytest.raises(AnnotationError, match=r"5_order\.json: record 1: missing key 'question'"):
        get_benchmark("mlvu").load(root, "fixed")


def test_top_level_must_be_a_list(tmp_path):
    root = write_mlvu(tmp_path)
    (root / "json" / "2_needle.json").write_text(json.dumps({"video": "x"}))
    with pytest.raises(AnnotationError, match=r"2_needle\.json: expected a JSON list"):
        get_benchmark("mlvu").load(root, "reference")
