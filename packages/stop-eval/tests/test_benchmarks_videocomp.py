"""VideoComp adapter on JSON fixtures with the published field names."""

import json

import pytest

from stop_eval.benchmarks import AnnotationError, get_benchmark, resolve_root

QUESTION = (
    "Which caption matches the video?\n(A) A man opens a box, then eats cake.\n"
    "(B) A man eats cake, then opens a box.\nAnswer with the option letter."
)


def comp_record(key, video_id, answer, kind, start=1_500_000, end=12_000_000):
    return {
        "key": key,
        "video_id": video_id,
        "type": kind,
        "original_video/start_time": 0,
        "original_video/end_time": 60_000_000,
        "query_video/start_time": start,
        "query_video/end_time": end,
        "positive_text": "A man opens a box, then eats cake.",
        "negative_text": "A man eats cake, then opens a box.",
        "question": QUESTION,
        "answer": answer,
    }


def write_videocomp(root, activitynet=None, youcook2=None):
    root.mkdir(parents=True, exist_ok=True)
    activitynet = (
        activitynet
        if activitynet is not None
        else [
            comp_record("an-1", "abc123", "A", "temporal_reordering"),
            comp_record("an-2", "def456", "B", "action_word_replacement"),
        ]
    )
    youcook2 = (
        youcook2
        if youcook2 is not None
        else [
            comp_record("yc-1", "yc_vid", "A", "segment_level_mismatch", start=0, end=3_250_000),
        ]
    )
    (root / "activitynet_comp_val.json").write_text(json.dumps(activitynet))
    (root / "youcook2_comp_val.json").write_text(json.dumps(youcook2))
    (root / "activitynet_video").mkdir(exist_ok=True)
    (root / "raw_videos" / "video").mkdir(parents=True, exist_ok=True)
    return root


@pytest.fixture
def root(tmp_path):
    return write_videocomp(tmp_path / "fine_grained_task" / "VideoComp")


def test_reference_load_ignores_query_times(tmp_path, root):
    (root / "activitynet_video" / "v_def456.mkv").write_bytes(b"")
    samples = get_benchmark("videocomp").load(resolve_root(tmp_path, "videocomp"), "reference")
    assert [s.id for s in samples] == ["activitynet_an-1", "activitynet_an-2", "youcook2_yc-1"]
    assert samples[0].video == root / "activitynet_video" / "v_abc123.mp4"  # nothing on disk
    assert samples[1].video == root / "activitynet_video" / "v_def456.mkv"  # the existing one
    assert samples[2].video == root / "raw_videos" / "video" / "yc_vid.mp4"
    assert samples[0].prompt == QUESTION
    assert all(s.start is None and s.end is None for s in samples)
    assert samples[2].meta["part"] == "YouCook2"


def test_fixed_load_keeps_query_times_in_seconds(root):
    samples = get_benchmark("videocomp").load(root, "fixed")
    assert (samples[0].start, samples[0].end) == (1.5, 12.0)
    assert (samples[2].start, samples[2].end) == (0.0, 3.25)


@pytest.mark.parametrize("protocol", ["reference", "fixed"])
def test_score_and_aggregate(root, protocol):
    bench = get_benchmark("videocomp")
    samples = bench.load(root, protocol)
    preds = ["(A) A man opens a box", "I would say B", "A"]
    records = [
        {"id": s.id, "pred": p, "error": None, **bench.score(s, p, None, protocol)}
        for s, p in zip(samples, preds, strict=True)
    ]
    assert [r["parsed"] for r in records] == ["A", "I", "A"]
    metrics = bench.aggregate(records, protocol)
    assert metrics["accuracy"] == pytest.approx(2 / 3)
    assert metrics["per_part"] == {"ActivityNet": 0.5, "YouCook2": 1.0}
    assert metrics["per_type"]["action_word_replacement"] == 0.0


def test_end_key_spelled_as_in_readme(tmp_path):
    rec = comp_record("an-9", "zzz", "A", "temporal_reordering")
    rec["query_videl/end_time"] = rec.pop("query_video/end_time")
    root = write_videocomp(tmp_path / "v", activitynet=[rec])
    assert get_benchmark("videocomp").load(root, "fixed")[0].end == 12.0


def test_malformed_record_named(tmp_path):
    bad = comp_record("an-7", "ggg", "A", "temporal_reordering")
    del bad["question"]
    root = write_videocomp(tmp_path / "bad", youcook2=[bad])
    with pytest.raises(AnnotationError, match=r"youcook2_comp_val\.json: record 0 \(key an-7\)"):
        get_benchmark("videocomp").load(root, "reference")
    for answer, shown in ((None, "null"), ("", "empty"), (["A"], "a list")):
        bad = comp_record("an-8", "ggg", answer, "x")
        root = write_videocomp(tmp_path / f"bad_{shown}", activitynet=[bad])
        with pytest.raises(AnnotationError, match=rf"record 0 \(key an-8\): 'answer' is {shown}"):
            get_benchmark("videocomp").load(root, "reference")


# ------------------------------------------------------------- real files as they come
def test_messy_files_load_every_record(tmp_path):
    """Times as strings and nulls, a reversed clip, an integer key, a repeated key, no type."""
    activitynet = [
        comp_record("an-1", "abc123", "A", "temporal_reordering", start="1500000"),
        comp_record("an-2", "def456 ", "B", "action_word_replacement", end=None),
        comp_record(3, "ghi789", "A", "partial", start=9_000_000, end=1_000_000),
        comp_record("an-1", "abc123", "B", "temporal_reordering"),
    ]
    del activitynet[1]["type"]
    root = write_videocomp(tmp_path / "messy", activitynet=activitynet)
    bench = get_benchmark("videocomp")
    samples = bench.load(root, "fixed")
    official = [
        json.loads((root / f).read_text())
        for f in ("activitynet_comp_val.json", "youcook2_comp_val.json")
    ]
    assert [s.prompt for s in samples] == [r["question"] for f in official for r in f]
    assert [s.id for s in samples] == [
        "activitynet_an-1",
        "activitynet_an-2",
        "activitynet_3",
        "activitynet_an-1#2",
        "youcook2_yc-1",
    ]
    assert (samples[0].start, samples[0].end) == (1.5, 12.0)
    assert (samples[1].start, samples[1].end) == (1.5, None)
    assert (samples[2].start, samples[2].end) == (None, None)
    assert samples[1].video == root / "activitynet_video" / "v_def456.mp4"
    assert samples[1].meta["type"] is None
    assert bench.warnings == [
        "activitynet_comp_val.json: 1 record: `query_video/start_time` is a string, read as a "
        "number (first: record 0 (key an-1))",
        "activitynet_comp_val.json: 1 record: `video_id` has surrounding spaces, stripped "
        "(first: record 1 (key an-2))",
        "activitynet_comp_val.json: 1 record: `query_video/end_time` is null, left out "
        "(first: record 1 (key an-2))",
        "activitynet_comp_val.json: 1 record: `type` is missing, left out "
        "(first: record 1 (key an-2))",
        "activitynet_comp_val.json: 1 record: `key` is an integer, read as text (first: record 2)",
        "activitynet_comp_val.json: 1 record: query end before start, whole video "
        "(first: record 2 (key 3))",
        "activitynet_comp_val.json: 1 record: duplicate key, kept as a separate item "
        "(first: record 3 (key an-1))",
    ]
