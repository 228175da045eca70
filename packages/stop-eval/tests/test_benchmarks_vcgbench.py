"""VCGBench adapter on parquet fixtures in the published schema, with a scripted fake judge."""

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from stop_eval.benchmarks import AnnotationError, get_benchmark, resolve_root
from stop_eval.benchmarks.vcgbench_judge import parse_score

PARQUET = "test-00000-of-00001.parquet"
ASPECT_PHRASES = {
    "correct": "factual accuracy",
    "orientation": "detail orientation",
    "context": "contextual understanding",
    "temporal": "temporal understanding",
}
SINGLE_REPLIES = {
    ("What is the man doing?", "correct"): "{'score': 4}",
    ("What is the man doing?", "orientation"): "{''score': 4.8}",  # the malformed example
    ("What is the man doing?", "context"): "{'score': 3}",
    ("What does the girl hold?", "correct"): "{'score': 2}",
    ("What does the girl hold?", "orientation"): "{'score': 5}",
    ("What does the girl hold?", "context"): "great answer!",  # unparseable
    ("What happens first?", "temporal"): "{'score': 3}",
}


class FakeJudge:
    """Scripted single-answer replies; consistency 5 when both answers are about one video."""

    def __init__(self):
        self.calls = []

    def complete(self, messages, model):
        self.calls.append((messages, model))
        system, user = messages[0]["content"], messages[1]["content"]
        if "the consistency" in system:
            pred_1 = user.split("Predicted Answer to Question 1: ")[1].split("\n")[0]
            pred_2 = user.split("Predicted Answer to Question 2: ")[1].split("\n")[0]
            return "{'score': 5}" if pred_1.split()[-1] == pred_2.split()[-1] else "{'score': 1}"
        question = user.split("Question: ")[1].split("\n")[0]
        aspect = next(a for a, phrase in ASPECT_PHRASES.items() if phrase in system)
        return SINGLE_REPLIES[(question, aspect)]


def write_split(root, split, columns):
    (root / split).mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(columns), root / split / PARQUET)


def write_vcg(root, consistency=None):
    write_split(
        root,
        "Generic",
        {
            "video_name": ["v_1", "v_2"],
            "question": ["What is the man doing?", "What does the girl hold?"],
            "answer": ["He is juggling.", "A red umbrella."],
        },
    )
    write_split(
        root,
        "Temporal",
        {
            "video_name": ["v_1"],
            "question": ["What happens first?"],
            "answer": ["He bows."],
        },
    )
    # Not ordered q1,q2,q1,q2 per video: adjacency pairing mixes videos up.
    write_split(
        root,
        "Consistency",
        consistency
        or {
            "video_name": ["v_1", "v_2", "v_1", "v_2"],
            "question_1": ["What is he doing?", "What is in her hand?", "None", "None"],
            "question_2": ["None", "None", "Which activity is shown?", "What is she holding?"],
            "answer": ["He is juggling.", "A red umbrella.", "He is juggling.", "A red umbrella."],
        },
    )
    (root / "Test_Videos").mkdir(exist_ok=True)
    (root / "Test_Videos" / "v_2.avi").write_bytes(b"")
    return root


@pytest.fixture
def root(tmp_path):
    return write_vcg(tmp_path / "fine_grained_task" / "VCGBench")


def run(bench, root, protocol, judge, errors=()):
    records = []
    for s in bench.load(root, protocol):
        if s.id in errors:
            records.append({"id": s.id, "pred": None, "error": "video not found"})
            continue
        pred = f"an answer about {s.meta['video_name']}"
        records.append(
            {"id": s.id, "pred": pred, "error": None, **bench.score(s, pred, judge, protocol)}
        )
    return bench.finalize(records, judge, protocol)


def test_load(tmp_path, root):
    samples = get_benchmark("vcgbench").load(resolve_root(tmp_path, "vcgbench"), "reference")
    assert [s.id for s in samples] == [
        "generic_0",
        "generic_1",
        "temporal_0",
        "consistency_0",
        "consistency_1",
        "consistency_2",
        "consistency_3",
    ]
    assert samples[0].prompt == "What is the man doing?"  # question only, no suffix
    assert samples[0].video == root / "Test_Videos" / "v_1.mp4"
    assert samples[1].video == root / "Test_Videos" / "v_2.avi"  # existing extension found
    assert samples[3].prompt == "What is he doing?" and samples[3].meta["which"] == "question_1"
    assert samples[5].prompt == "Which activity is shown?"
    assert samples[5].meta["which"] == "question_2"
    assert all(s.start is None and s.end is None for s in samples)


def test_reference_protocol(root):
    bench = get_benchmark("vcgbench")
    judge = FakeJudge()
    records = run(bench, root, "reference", judge)
    assert len(judge.calls) == 3 * 2 + 1 + 2  # generic aspects, temporal, two pairs
    assert {model for _, model in judge.calls} == {"gpt-5-mini"}
    assert "{''score': 4.8}" in judge.calls[0][0][1]["content"]
    by_id = {r["id"]: r for r in records}
    assert by_id["generic_0"]["scores"] == {"correct": 4.0, "orientation": None, "context": 3.0}
    assert by_id["generic_0"]["judge_parse_failures"] == ["orientation"]
    assert len(by_id["generic_0"]["judge"]) == 3
    # adjacency: (consistency_0 v_1, consistency_1 v_2) and (consistency_2 v_1, consistency_3 v_2)
    assert by_id["consistency_0"]["pair"] == "consistency_1"
    assert by_id["consistency_0"]["scores"] == {"consistency": 1.0}
    assert by_id["consistency_1"]["scores"] == {}
    metrics = bench.aggregate(records, "reference")
    assert metrics["correct"] == pytest.approx(3.0)
    assert metrics["orientation"] == pytest.approx(5.0)  # 4.8 reply dropped
    assert metrics["context"] == pytest.approx(3.0)  # unparseable reply dropped
    assert metrics["temporal"] == pytest.approx(3.0)
    assert metrics["consistency"] == pytest.approx(1.0)
    assert metrics["overall"] == pytest.approx((4 + 2 + 5 + 3 + 3 + 1 + 1) / 7)
    assert "mean_of_aspects" not in metrics
    assert metrics["parse_failures"] == {
        "correct": 0,
        "orientation": 1,
        "context": 1,
        "temporal": 0,
        "consistency": 0,
    }
    assert metrics["counts"]["consistency"] == 2


def test_fixed_protocol(root):
    bench = get_benchmark("vcgbench")
    judge = FakeJudge()
    records = run(bench, root, "fixed", judge)
    assert "{'score': 4}" in judge.calls[0][0][1]["content"]
    by_id = {r["id"]: r for r in records}
    assert by_id["generic_1"]["scores"]["context"] == 0.0
    assert by_id["consistency_0"]["pair"] == "consistency_2"  # paired by video_name
    assert by_id["consistency_1"]["pair"] == "consistency_3"
    pair_prompt = judge.calls[-2][0][1]["content"]
    assert "Question 1: What is he doing?" in pair_prompt
    assert "Question 2: Which activity is shown?" in pair_prompt
    metrics = bench.aggregate(records, "fixed")
    assert metrics["orientation"] == pytest.approx(4.9)  # broken key quoting repaired
    assert metrics["context"] == pytest.approx(1.5)  # unparseable scored 0
    assert metrics["consistency"] == pytest.approx(5.0)
    assert metrics["overall"] == pytest.approx((4 + 2 + 4.8 + 5 + 3 + 0 + 3 + 5 + 5) / 9)
    assert metrics["mean_of_aspects"] == pytest.approx((3 + 4.9 + 1.5 + 3 + 5) / 5)
    assert metrics["parse_failures"]["context"] == 1
    assert metrics["parse_failures"]["orientation"] == 0


def test_error_records_shift_reference_adjacency(root):
    bench = get_benchmark("vcgbench")
    ref = run(bench, root, "reference", FakeJudge(), errors={"consistency_1"})
    by_id = {r["id"]: r for r in ref}
    assert by_id["consistency_0"]["pair"] == "consistency_2"
    assert by_id["consistency_3"]["pair_role"] == "unpaired"
    metrics = bench.aggregate(ref, "reference")
    assert metrics["consistency"] == pytest.approx(5.0)
    assert metrics["errors"] == 1 and metrics["unpaired"] == 1
    fixed = run(bench, root, "fixed", FakeJudge(), errors={"consistency_1"})
    assert {r["id"]: r for r in fixed}["consistency_3"]["pair_role"] == "unpaired"


def test_consistency_needs_a_judge(root):
    bench = get_benchmark("vcgbench")
    samples = bench.load(root, "fixed")
    records = [
        {"id": s.id, "pred": "x", "error": None, **bench.score(s, "x", None, "fixed")}
        for s in samples
        if s.meta["split"] == "Consistency"
    ]
    with pytest.raises(ValueError, match="judge"):
        bench.finalize(records, None, "fixed")
    with pytest.raises(ValueError, match="judge"):
        bench.score(samples[0], "x", None, "fixed")


@pytest.mark.parametrize(
    ("reply", "reference", "fixed"),
    [
        ("{'score': 4}", 4.0, 4.0),
        ('{"score": 2.5}', 2.5, 2.5),
        ("{''score': 4.8}", None, 4.8),
        ("Sure! {'score': 3}", None, 3.0),
        ("```python\n{'score': 1}\n```", None, 1.0),
        ("{'score': 7}", 7.0, None),
        ("{'score': 'high'}", None, None),
        ("{'rating': 4}", None, None),
        ("__import__('os').getcwd()", None, None),
        ("{'score': __import__('os').getpid()}", None, None),
        ("", None, None),
    ],
)
def test_parse_score(reply, reference, fixed):
    assert parse_score(reply, "reference") == reference
    assert parse_score(reply, "fixed") == fixed


def test_malformed_parquet_rows(tmp_path):
    root = write_vcg(
        tmp_path / "a",
        consistency={
            "video_name": ["v_1"],
            "question_1": ["None"],
            "question_2": ["None"],
            "answer": ["x"],
        },
    )
    with pytest.raises(
        AnnotationError, match=r"Consistency.test-00000-of-00001\.parquet: record 0"
    ):
        get_benchmark("vcgbench").load(root, "reference")
    root = write_vcg(
        tmp_path / "b", consistency={"video_name": ["v_1"], "question_1": ["q"], "answer": ["x"]}
    )
    with pytest.raises(AnnotationError, match=r"missing column.*question_2"):
        get_benchmark("vcgbench").load(root, "reference")
    root = write_vcg(tmp_path / "c")
    write_split(root, "Temporal", {"video_name": ["v_1"], "question": [3], "answer": ["a"]})
    with pytest.raises(AnnotationError, match=r"Temporal.test-00000-of-00001\.parquet: record 0"):
        get_benchmark("vcgbench").load(root, "reference")


def test_failed_pair_judgement_becomes_error_records(root):
    from stop_eval.benchmarks.judge import JudgeError

    class FailingPairs(FakeJudge):
        def complete(self, messages, model):
            if "the consistency" in messages[0]["content"] and "v_2" in messages[1]["content"]:
                raise JudgeError("gave up after 5 retries")
            return super().complete(messages, model)

    bench = get_benchmark("vcgbench")
    records = {r["id"]: r for r in run(bench, root, "fixed", FailingPairs())}
    assert records["consistency_1"]["error"].startswith("judge:")
    assert records["consistency_3"]["error"].startswith("judge:")
    assert records["consistency_0"]["scores"] == {"consistency": 5.0}
    metrics = bench.aggregate(list(records.values()), "fixed")
    assert metrics["errors"] == 2 and metrics["counts"]["consistency"] == 1


# ------------------------------------------------------------- real files as they come
def test_messy_parquets_load_every_row(tmp_path):
    """A padded video name, a repeated row, a null instead of "None", a null answer (error)."""
    root = write_vcg(
        tmp_path / "m",
        consistency={
            "video_name": ["v_1 ", "v_1", "v_2", "v_2"],
            "question_1": [
                "What is he doing?",
                None,
                "What is in her hand?",
                "What is in her hand?",
            ],
            "question_2": ["None", "Which activity is shown?", "None", "None"],
            "answer": ["He is juggling.", "He is juggling.", "A red umbrella.", "A red umbrella."],
        },
    )
    bench = get_benchmark("vcgbench")
    samples = bench.load(root, "fixed")
    rows = {
        s: pq.read_table(root / s / PARQUET).num_rows
        for s in ("Generic", "Temporal", "Consistency")
    }
    assert len(samples) == sum(rows.values()) == 2 + 1 + 4
    consistency = [s for s in samples if s.meta["split"] == "Consistency"]
    assert [s.meta["which"] for s in consistency] == [
        "question_1",
        "question_2",
        "question_1",
        "question_1",
    ]
    assert consistency[0].meta["video_name"] == "v_1"
    assert bench.warnings == [
        "Consistency/test-00000-of-00001.parquet: 1 record: `video_name` has surrounding "
        "spaces, stripped (first: record 0)",
        "Consistency/test-00000-of-00001.parquet: 1 record: duplicate of an earlier record "
        "(same video and question), kept (first: record 3)",
    ]
    write_split(root, "Generic", {"video_name": ["v_1"], "question": ["q"], "answer": [None]})
    with pytest.raises(
        AnnotationError, match=r"Generic.test-00000-of-00001\.parquet: record 0: 'answer' is null"
    ):
        bench.load(root, "fixed")
