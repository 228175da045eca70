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
    with pytest.raises(AnnotationError, match=r"5_order\.json: record 1: 'question' is missing"):
        get_benchmark("mlvu").load(root, "fixed")


def test_top_level_must_be_a_list(tmp_path):
    root = write_mlvu(tmp_path)
    (root / "json" / "2_needle.json").write_text(json.dumps({"video": "x"}))
    with pytest.raises(AnnotationError, match=r"2_needle\.json: expected a JSON list"):
        get_benchmark("mlvu").load(root, "reference")


# ------------------------------------------------------------- real files as they come
def test_messy_task_file_loads_every_record(tmp_path):
    """Numeric candidates and answer, a string duration, a null question_type, a repeat."""
    root = write_mlvu(tmp_path, counts={"4_count": 3})
    path = root / "json" / "4_count.json"
    records = json.loads(path.read_text())
    records[0].update(candidates=[3, 4, 5, 6], answer=5, duration="120.5")
    records[1].update(question_type=None, duration=None)
    records.append(dict(records[2]))
    path.write_text(json.dumps(records))
    bench = get_benchmark("mlvu")
    samples = bench.load(root, "reference")
    official = [len(json.loads((root / "json" / f"{s}.json").read_text())) for s in TASK_FILES]
    assert len(samples) == sum(official) == 6 + 4
    count = [s for s in samples if s.meta["task"] == "count"]
    assert [s.id for s in count] == ["count_0", "count_1", "count_2", "count_3"]
    assert count[0].answer == "C" and "(C) 5\n" in count[0].prompt
    assert count[0].meta["duration"] == 120.5 and count[1].meta["question_type"] is None
    assert bench.warnings == [
        "json/4_count.json: 4 records: `candidates` holds an integer, read as text "
        "(first: record 0)",
        "json/4_count.json: 1 record: `answer` holds an integer, read as text (first: record 0)",
        "json/4_count.json: 1 record: `duration` is a string, read as a number (first: record 0)",
        "json/4_count.json: 1 record: `duration` is null, left out (first: record 1)",
        "json/4_count.json: 1 record: `question_type` is null, left out (first: record 1)",
        "json/4_count.json: 1 record: duplicate of an earlier record (same video and question), "
        "kept (first: record 3)",
    ]


def test_answer_outside_candidates_and_empty_video_are_errors(tmp_path):
    root = write_mlvu(tmp_path)
    path = root / "json" / "3_ego.json"
    records = json.loads(path.read_text())
    path.write_text(json.dumps([dict(records[0], answer="purple")]))
    with pytest.raises(AnnotationError, match=r"3_ego\.json: record 0: answer 'purple' is not"):
        get_benchmark("mlvu").load(root, "reference")
    path.write_text(json.dumps([dict(records[0], video=" ")]))
    with pytest.raises(AnnotationError, match=r"3_ego\.json: record 0: 'video' is empty"):
        get_benchmark("mlvu").load(root, "reference")
