"""Video-MME adapter on a parquet fixture in the published schema."""

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from stop_eval.benchmarks import AnnotationError, get_benchmark, resolve_root

ROWS = [
    (
        "001",
        "short",
        "001-1",
        "What is shown?",
        ["A. a cat", "B. a dog", "C. a cow", "D. a fox"],
        "B",
    ),
    ("001", "short", "001-2", "What color?", ["A. red", "B. blue", "C. green", "D. gray"], "A"),
    (
        "301",
        "medium",
        "301-1",
        "Who talks?",
        ["A. a man", "B. a boy", "C. a girl", "D. nobody"],
        "C",
    ),
    (
        "601",
        "long",
        "601-1",
        "Where is it?",
        ["A. a park", "B. a bar", "C. a zoo", "D. a lab"],
        "D",
    ),
]


def write_videomme(folder, rows=ROWS, nested=False, **overrides):
    folder.mkdir(parents=True, exist_ok=True)
    columns = {
        "video_id": [r[0] for r in rows],
        "duration": [r[1] for r in rows],
        "domain": ["Knowledge"] * len(rows),
        "sub_category": ["Humanity & History"] * len(rows),
        "url": ["https://www.youtube.com/watch?v=x"] * len(rows),
        "videoID": [f"vid{r[0]}" for r in rows],
        "question_id": [r[2] for r in rows],
        "task_type": ["Counting Problem"] * len(rows),
        "question": [r[3] for r in rows],
        "options": [r[4] for r in rows],
        "answer": [r[5] for r in rows],
    }
    columns.update(overrides)
    target = folder / "videomme" if nested else folder
    target.mkdir(exist_ok=True)
    pq.write_table(pa.table(columns), target / "test-00000-of-00001.parquet")
    (folder / "video").mkdir(exist_ok=True)
    return folder


@pytest.fixture
def root(tmp_path):
    return write_videomme(tmp_path / "VQA" / "Video_MME")


def records_for(bench, samples, preds, protocol):
    return [
        {"id": s.id, "pred": p, "error": None, **bench.score(s, p, None, protocol)}
        for s, p in zip(samples, preds, strict=True)
    ]


@pytest.mark.parametrize("protocol", ["reference", "fixed"])
def test_load_prompt_and_metrics(tmp_path, root, protocol):
    bench = get_benchmark("videomme")
    folder = resolve_root(tmp_path, "videomme")
    assert folder == root
    samples = bench.load(folder, protocol)
    assert [s.id for s in samples] == ["001-1", "001-2", "301-1", "601-1"]
    first = samples[0]
    assert first.video == root / "video" / "vid001.mp4"
    assert first.answer == "B"
    assert first.start is None and first.end is None
    assert first.prompt.endswith(
        "What is shown?\nA. a cat.\nB. a dog.\nC. a cow.\nD. a fox.\nThe best answer is:"
    )
    assert first.meta["duration"] == "short"

    records = records_for(bench, samples, ["B", "I think A", "C. a girl", "a lab"], protocol)
    assert [r["parsed"] for r in records] == ["B", "I", "C", "A"]
    assert [r["correct"] for r in records] == [True, False, True, False]
    metrics = bench.aggregate(records, protocol)
    assert metrics["accuracy"] == pytest.approx(0.5)
    assert metrics["short"] == pytest.approx(0.5)
    assert metrics["medium"] == pytest.approx(1.0)
    assert metrics["long"] == pytest.approx(0.0)
    assert metrics["errors"] == 0 and metrics["n"] == 4


def test_error_records_are_excluded_and_counted(root):
    bench = get_benchmark("videomme")
    samples = bench.load(root, "reference")
    records = records_for(bench, samples[:2], ["B", "B"], "reference")
    records.append({"id": samples[2].id, "pred": None, "error": "video not found"})
    metrics = bench.aggregate(records, "reference")
    assert metrics["accuracy"] == pytest.approx(0.5)
    assert metrics["errors"] == 1 and metrics["n"] == 2
    assert metrics["medium"] is None


def test_parquet_still_inside_videomme_folder(tmp_path):
    folder = write_videomme(tmp_path / "own", nested=True)
    assert resolve_root(folder, "videomme") == folder
    assert len(get_benchmark("videomme").load(folder, "fixed")) == 4


def test_malformed_options_name_file_and_record(tmp_path):
    folder = write_videomme(tmp_path / "bad", options=["A. x B. y"] * len(ROWS))
    with pytest.raises(AnnotationError, match=r"test-00000-of-00001\.parquet: record 0 \(001-1\)"):
        get_benchmark("videomme").load(folder, "reference")


def test_unknown_duration_and_missing_column(tmp_path):
    bad = write_videomme(tmp_path / "dur", duration=["short", "short", "medium", "huge"])
    bench = get_benchmark("videomme")
    samples = bench.load(bad, "reference")
    assert [s.meta["duration"] for s in samples] == ["short", "short", "medium", "huge"]
    assert bench.warnings == [
        "test-00000-of-00001.parquet: 1 record: `duration` is not short/medium/long, overall "
        "accuracy only (first: record 3 (601-1))"
    ]
    folder = tmp_path / "cols"
    folder.mkdir()
    pq.write_table(pa.table({"question": ["q"]}), folder / "test-00000-of-00001.parquet")
    with pytest.raises(AnnotationError, match="missing column"):
        get_benchmark("videomme").load(folder, "reference")


def test_corrupt_parquet(tmp_path):
    (tmp_path / "test-00000-of-00001.parquet").write_bytes(b"not parquet")
    with pytest.raises(AnnotationError, match="not a readable parquet"):
        get_benchmark("videomme").load(tmp_path, "reference")


# ------------------------------------------------------------- real files as they come
def test_messy_parquet_loads_every_row_with_one_warning_per_oddity(tmp_path):
    """Nulls in side columns, padded strings, a repeated question, a video that is missing."""
    rows = [*ROWS, ROWS[1]]  # question 001-2 listed twice
    n = len(rows)
    folder = write_videomme(
        tmp_path / "messy",
        rows=rows,
        duration=["short ", "short", "medium", "long", "short"],
        domain=["Knowledge", None, None, "Sports", ""],
        task_type=["Counting Problem"] * n,
        question_id=["001-1", "001-2", "301-1 ", "601-1", "001-2"],
    )
    bench = get_benchmark("videomme")
    samples = bench.load(folder, "reference")
    official = pq.read_table(folder / "test-00000-of-00001.parquet").to_pylist()
    assert len(samples) == len(official) == 5  # every row, in row order
    assert [s.prompt.split("\n")[1] for s in samples] == [r["question"] for r in official]
    assert [s.id for s in samples] == ["001-1", "001-2", "301-1", "601-1", "001-2#2"]
    assert samples[0].meta["duration"] == "short" and samples[1].meta["domain"] is None
    name = "test-00000-of-00001.parquet"
    assert bench.warnings == [
        f"{name}: 1 record: `duration` has surrounding spaces, stripped (first: record 0 (001-1))",
        f"{name}: 2 records: `domain` is null, left out (first: record 1 (001-2))",
        f"{name}: 1 record: `question_id` has surrounding spaces, stripped (first: record 2)",
        f"{name}: 1 record: `domain` is empty, left out (first: record 4 (001-2))",
        f"{name}: 1 record: duplicate question_id, kept as a separate item "
        "(first: record 4 (001-2))",
    ]


@pytest.mark.parametrize(
    ("column", "values", "message"),
    [
        ("question_id", ["001-1", None, "301-1", "601-1"], r"record 1: 'question_id' is null"),
        ("videoID", [1, 1, 301, 601], r"record 0 \(001-1\): 'videoID' is an integer"),
        ("question", ["q", "", "q", "q"], r"record 1 \(001-2\): 'question' is empty"),
        ("answer", ["B", "A", "E", "D"], r"record 2 \(301-1\): answer 'E' is not one of"),
    ],
)
def test_scoring_columns_stay_strict(tmp_path, column, values, message):
    folder = write_videomme(tmp_path / "bad", **{column: values})
    with pytest.raises(AnnotationError, match=r"test-00000-of-00001\.parquet: " + message):
        get_benchmark("videomme").load(folder, "reference")
