"""MVBench adapter on JSON fixtures in the published schema (19 task files + the skipped one)."""

import json

import pytest

from stop_eval.benchmarks import AnnotationError, get_benchmark, resolve_root
from stop_eval.benchmarks.mvbench import SKIPPED_TASKS, TASKS


def record(task, i=0):
    rec = {
        "video": f"{task}_{i}.mp4",
        "question": f"What happens in {task}?",
        "candidates": ["open the door", "close the door", "sit down"],
        "answer": "close the door",
    }
    if task == "episodic_reasoning":
        rec["video"] = f"s01e02_seg{i}"  # a folder of 3-fps frames
    if task in (
        "action_sequence",
        "action_prediction",
        "object_interaction",
        "action_localization",
        "episodic_reasoning",
    ):
        rec.update(start=2.5 + i, end=9.0 + i)
    return rec


def write_mvbench(root, extra=None):
    (root / "json").mkdir(parents=True)
    for task in [t.stem for t in TASKS] + list(SKIPPED_TASKS):
        records = [record(task, 0), record(task, 1)] if task == "action_count" else [record(task)]
        if extra and task in extra:
            records = extra[task]
        (root / "json" / f"{task}.json").write_text(json.dumps(records))
    (root / "video").mkdir()
    return root


@pytest.fixture
def root(tmp_path):
    return write_mvbench(tmp_path / "VQA" / "MVBench")


def test_task_table():
    assert len(TASKS) == 19
    stems = [t.stem for t in TASKS]
    assert "fine_grained_pose" not in stems and len(set(stems)) == 19
    bounded = {t.stem for t in TASKS if t.bounded}
    assert bounded == {
        "action_sequence",
        "action_prediction",
        "object_interaction",
        "action_localization",
        "episodic_reasoning",
    }
    assert [t.stem for t in TASKS if t.frames] == ["episodic_reasoning"]


def test_reference_ignores_clip_bounds(tmp_path, root):
    samples = get_benchmark("mvbench").load(resolve_root(tmp_path, "mvbench"), "reference")
    assert len(samples) == 20  # 19 tasks, action_count has two items, pose skipped
    assert not any(s.meta["task"] == "fine_grained_pose" for s in samples)
    assert all(s.start is None and s.end is None for s in samples)
    by_id = {s.id: s for s in samples}
    seq = by_id["action_sequence_0"]
    assert seq.video == root / "video" / "star/Charades_v1_480" / "action_sequence_0.mp4"
    assert seq.answer == "B"
    assert seq.prompt == (
        "Question: What happens in action_sequence?\nOptions:\n(A) open the door\n"
        "(B) close the door\n(C) sit down\nOnly give the best option."
    )
    assert by_id["action_localization_0"].video.parent == root / "video" / "sta" / "sta_video"
    episodic = by_id["episodic_reasoning_0"]
    assert episodic.video == root / "video" / "tvqa/frames_fps3_hq" / "s01e02_seg0"
    assert episodic.meta["frames"] is True and episodic.meta["fps"] == 3.0


def test_fixed_keeps_bounds_of_bounded_tasks(root):
    samples = {s.id: s for s in get_benchmark("mvbench").load(root, "fixed")}
    assert (samples["action_sequence_0"].start, samples["action_sequence_0"].end) == (2.5, 9.0)
    assert samples["episodic_reasoning_0"].start == 2.5
    assert samples["object_shuffle_0"].start is None  # unbounded task


@pytest.mark.parametrize("protocol", ["reference", "fixed"])
def test_score_and_aggregate(root, protocol):
    bench = get_benchmark("mvbench")
    samples = bench.load(root, protocol)
    records = []
    for s in samples:
        pred = "(A) open the door" if s.meta["task"] == "action_count" else "(B) close the door"
        records.append(
            {"id": s.id, "pred": pred, "error": None, **bench.score(s, pred, None, protocol)}
        )
    metrics = bench.aggregate(records, protocol)
    assert metrics["accuracy"] == pytest.approx(18 / 20)
    assert metrics["per_task"]["action_count"] == 0.0
    assert metrics["per_task"]["action_sequence"] == 1.0
    assert len(metrics["per_task"]) == 19


def test_answer_not_among_candidates(tmp_path):
    bad = dict(record("state_change"), answer="dance")
    root = write_mvbench(tmp_path / "m", extra={"state_change": [record("state_change"), bad]})
    with pytest.raises(AnnotationError, match=r"state_change\.json: record 1: answer 'dance'"):
        get_benchmark("mvbench").load(root, "reference")


def test_bad_json_and_wrong_types(tmp_path):
    root = write_mvbench(tmp_path / "j")
    (root / "json" / "moving_count.json").write_text("[{")
    with pytest.raises(AnnotationError, match=r"moving_count\.json: not valid JSON"):
        get_benchmark("mvbench").load(root, "reference")
    root = write_mvbench(
        tmp_path / "t",
        extra={
            "vlnqa": [],
            "action_antonym": [dict(record("action_antonym"), candidates="open, close")],
        },
    )
    with pytest.raises(AnnotationError, match=r"action_antonym\.json: record 0: 'candidates'"):
        get_benchmark("mvbench").load(root, "reference")


def test_missing_task_file(tmp_path):
    root = write_mvbench(tmp_path / "p")
    (root / "json" / "scene_transition.json").unlink()
    with pytest.raises(FileNotFoundError, match="scene_transition.json"):
        get_benchmark("mvbench").load(root, "reference")


# ------------------------------------------------------------- real files as they come
def test_messy_task_files_load_every_record(tmp_path):
    """String, null and reversed bounds, a padded video name, an int answer, a repeated record."""
    seq = [record("action_sequence", i) for i in range(4)]
    seq[0]["start"] = "2.5"
    seq[1]["end"] = None
    seq[2].update(start=9.0, end=1.0)
    seq.append(dict(seq[3]))
    count = [dict(record("action_count"), candidates=[1, 2, 3], answer=2)]
    count[0]["video"] = "action_count_0.mp4 "
    root = write_mvbench(tmp_path / "m", extra={"action_sequence": seq, "action_count": count})
    bench = get_benchmark("mvbench")
    for protocol in ("reference", "fixed"):
        samples = bench.load(root, protocol)
        files = [json.loads((root / "json" / f"{t.stem}.json").read_text()) for t in TASKS]
        assert len(samples) == sum(len(f) for f in files) == 17 + 5 + 1
        assert [s.id for s in samples[:5]] == [f"action_sequence_{i}" for i in range(5)]
    by_id = {s.id: s for s in samples}  # fixed
    assert (by_id["action_sequence_0"].start, by_id["action_sequence_0"].end) == (2.5, 9.0)
    assert (by_id["action_sequence_1"].start, by_id["action_sequence_1"].end) == (3.5, None)
    assert (by_id["action_sequence_2"].start, by_id["action_sequence_2"].end) == (None, None)
    counted = by_id["action_count_0"]
    assert counted.answer == "B"
    assert counted.video == root / "video" / "perception/videos" / "action_count_0.mp4"
    assert bench.warnings == [
        "json/action_sequence.json: 1 record: `start` is a string, read as a number "
        "(first: record 0)",
        "json/action_sequence.json: 1 record: `end` is null, left out (first: record 1)",
        "json/action_sequence.json: 1 record: `end` before `start`, whole video (first: record 2)",
        "json/action_sequence.json: 1 record: duplicate of an earlier record (same video and "
        "question), kept (first: record 4)",
        "json/action_count.json: 1 record: `video` has surrounding spaces, stripped "
        "(first: record 0)",
        "json/action_count.json: 3 records: `candidates` holds an integer, read as text "
        "(first: record 0)",
        "json/action_count.json: 1 record: `answer` holds an integer, read as text "
        "(first: record 0)",
    ]
    bench.load(root, "reference")  # bounds are not read under reference
    assert not any("start" in w or "end`" in w for w in bench.warnings)
