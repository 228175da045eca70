"""EventHallusion adapter on question files in the published schema, with a fake judge."""

import json

import pytest

from stop_eval.benchmarks import AnnotationError, get_benchmark, resolve_root
from stop_eval.benchmarks.eventhallusion import DESC_PROMPT, parse_yes_no


class FakeJudge:
    """Says "yes" when the event text appears in the description; records every call."""

    def __init__(self):
        self.calls = []

    def complete(self, messages, model):
        self.calls.append((messages, model))
        text = messages[-1]["content"]
        pred = text.split("Model description: ")[1].split("\n")[0]
        event = text.rsplit(": ", 1)[1]
        return "Yes, it matches." if event.lower() in pred.lower() else "No. Something else."


def video(vid, caption, questions, extra_key, extra_value, length="00:05"):
    return {
        "id": vid,
        "category": "pet&animal",
        "length": length,
        "event_info": {
            "object": ["cat"],
            "scene": "A room.",
            "caption": caption,
            extra_key: extra_value,
        },
        "questions": [{"type": "hallucination", "question": q, "answer": a} for q, a in questions],
    }


ENTIRE = [
    video(
        "entire_001",
        "the cat jumps",
        [("Is the cat sleeping?", "No."), ("Is the cat eating?", "No.")],
        "bias",
        "a cat sleeps",
    ),
]
MISLEADING = [
    video(
        "misleading_001",
        "a dog runs",
        [("Is the dog flying?", "No.")],
        "bias",
        "a dog flies",
        length="01:02",
    )
]
MIX = [
    video(
        "mix_001",
        "a kid watches a whale",
        [("Did anything unexpected happen?", "Yes.")],
        "unexpected",
        "the whale scares the kid",
    ),
    video(
        "mix_002",
        "a man rides a bike",
        [("Did the ride go smoothly?", "No.")],
        "unexpected",
        "the man falls off",
    ),
]


def write_eh(root, entire=ENTIRE, misleading=MISLEADING, mix=MIX, mix_name="mix_questions.json"):
    (root / "questions").mkdir(parents=True)
    (root / "questions" / "entire_questions.json").write_text(json.dumps(entire))
    (root / "questions" / "misleading_questions.json").write_text(json.dumps(misleading))
    (root / "questions" / mix_name).write_text(json.dumps(mix))
    for split in ("entire", "misleading", "interleave"):
        (root / "videos" / split).mkdir(parents=True)
    return root


@pytest.fixture
def root(tmp_path):
    return write_eh(tmp_path / "fine_grained_task" / "EventHallusion")


def test_load_items_ids_and_prompts(tmp_path, root):
    samples = get_benchmark("eventhallusion").load(
        resolve_root(tmp_path, "eventhallusion"), "reference"
    )
    assert [s.id for s in samples] == [
        "entire_001_q0",
        "entire_001_q1",
        "entire_001_desc",
        "misleading_001_q0",
        "interleave_001_q0",
        "interleave_001_desc",
        "interleave_002_q0",
        "interleave_002_desc",
    ]
    by_id = {s.id: s for s in samples}
    qa = by_id["entire_001_q0"]
    assert qa.prompt == "Is the cat sleeping?\nPlease answer yes or no:"
    assert qa.answer == "No."
    assert qa.video == root / "videos" / "entire" / "entire_001.mp4"
    assert by_id["interleave_001_q0"].video == root / "videos" / "interleave" / "interleave_001.mp4"
    assert by_id["interleave_001_desc"].prompt == DESC_PROMPT
    assert by_id["misleading_001_q0"].meta["duration"] == 62
    assert all(s.start is None and s.end is None for s in samples)


def test_interleave_desc_ground_truth_depends_on_protocol(root):
    bench = get_benchmark("eventhallusion")
    ref = {s.id: s for s in bench.load(root, "reference")}
    fixed = {s.id: s for s in bench.load(root, "fixed")}
    assert ref["interleave_001_desc"].answer == "a kid watches a whale"
    assert fixed["interleave_001_desc"].answer == "the whale scares the kid"
    assert ref["entire_001_desc"].answer == fixed["entire_001_desc"].answer == "the cat jumps"


@pytest.mark.parametrize(
    ("pred", "parsed"),
    [
        ("Yes", "yes"),
        ("No.", "no"),
        ("yes, the cat", "yes"),
        ("**Yes**", "**yes**"),
        ("\nNo, it is not", "no"),
        ("", ""),
    ],
)
def test_parse_yes_no(pred, parsed):
    assert parse_yes_no(pred) == parsed


def run(bench, samples, preds, judge, protocol):
    return [
        {
            "id": s.id,
            "pred": preds[s.id],
            "error": None,
            **bench.score(s, preds[s.id], judge, protocol),
        }
        for s in samples
    ]


PREDS = {
    "entire_001_q0": "No, it is jumping.",
    "entire_001_q1": "**No**",  # markdown bold: wrong under the first-word parser
    "entire_001_desc": "In the video the cat jumps onto a sofa.",
    "misleading_001_q0": "No.",
    "interleave_001_q0": "Yes.",
    "interleave_001_desc": "A kid watches a whale; then the whale scares the kid.",
    "interleave_002_q0": "Yes",
    "interleave_002_desc": "A man rides a bike along a road.",
}


def test_reference_scores_interleave_against_caption(root):
    bench = get_benchmark("eventhallusion")
    judge = FakeJudge()
    records = run(bench, bench.load(root, "reference"), PREDS, judge, "reference")
    by_id = {r["id"]: r for r in records}
    assert by_id["entire_001_q0"]["correct"] is True
    assert by_id["entire_001_q1"]["correct"] is False
    assert by_id["interleave_002_q0"]["correct"] is False
    # captions "a kid watches a whale" / "a man rides a bike" both appear in the descriptions
    assert by_id["interleave_001_desc"]["correct"] is True
    assert by_id["interleave_002_desc"]["correct"] is True
    assert by_id["interleave_002_desc"]["judge"] == ["Yes, it matches."]
    assert len(judge.calls) == 3 and {m for _, m in judge.calls} == {"gpt-5"}
    messages = judge.calls[1][0]
    assert len(messages) == 1 and messages[0]["role"] == "user"
    assert "a kid watches a whale" in messages[0]["content"]
    assert "judge" not in by_id["entire_001_q0"]  # QA items never call the judge
    metrics = bench.aggregate(records, "reference")
    assert metrics["binary_acc"] == pytest.approx(3 / 5)
    assert metrics["desc_acc"] == pytest.approx(1.0)
    assert metrics["overall_acc"] == pytest.approx(6 / 8)
    assert (metrics["n_qa"], metrics["n_desc"], metrics["errors"]) == (5, 3, 0)


def test_fixed_scores_interleave_against_unexpected(root):
    bench = get_benchmark("eventhallusion")
    judge = FakeJudge()
    records = run(bench, bench.load(root, "fixed"), PREDS, judge, "fixed")
    by_id = {r["id"]: r for r in records}
    assert by_id["interleave_001_desc"]["correct"] is True  # mentions the whale scaring the kid
    assert by_id["interleave_002_desc"]["correct"] is False  # never mentions the fall
    assert "the man falls off" in judge.calls[2][0][0]["content"]
    metrics = bench.aggregate(records, "fixed")
    assert metrics["desc_acc"] == pytest.approx(2 / 3)
    assert metrics["overall_acc"] == pytest.approx(5 / 8)


def test_desc_needs_a_judge_and_errors_are_counted(root):
    bench = get_benchmark("eventhallusion")
    samples = bench.load(root, "reference")
    with pytest.raises(ValueError, match="judge"):
        bench.score(samples[2], "a description", None, "reference")
    records = run(bench, samples[:2], PREDS, None, "reference")
    records.append({"id": samples[2].id, "pred": None, "error": "video not found"})
    metrics = bench.aggregate(records, "reference")
    assert metrics["errors"] == 1 and metrics["desc_acc"] is None
    assert metrics["binary_acc"] == pytest.approx(0.5)


def test_interleave_file_name_accepted(tmp_path):
    root = write_eh(
        tmp_path, mix=[dict(MIX[0], id="interleave_001")], mix_name="interleave_questions.json"
    )
    ids = [s.id for s in get_benchmark("eventhallusion").load(root, "fixed")]
    assert "interleave_001_desc" in ids


def test_malformed_records_named(tmp_path):
    broken = json.loads(json.dumps(MIX))
    del broken[1]["event_info"]["unexpected"]
    root = write_eh(tmp_path / "a", mix=broken)
    with pytest.raises(AnnotationError, match=r"mix_questions\.json: record 1 \(mix_002\)"):
        get_benchmark("eventhallusion").load(root, "reference")
    broken = json.loads(json.dumps(ENTIRE))
    broken[0]["questions"][1]["answer"] = "Maybe."
    root = write_eh(tmp_path / "b", entire=broken)
    with pytest.raises(AnnotationError, match=r"entire_001\) question 1: answer 'Maybe.'"):
        get_benchmark("eventhallusion").load(root, "reference")
    root = write_eh(tmp_path / "c")
    (root / "questions" / "misleading_questions.json").write_text("{not json")
    with pytest.raises(AnnotationError, match=r"misleading_questions\.json: not valid JSON"):
        get_benchmark("eventhallusion").load(root, "reference")
    broken = json.loads(json.dumps(MISLEADING))
    broken[0]["questions"] = "Is the dog flying?"
    root = write_eh(tmp_path / "d", misleading=broken)
    with pytest.raises(AnnotationError, match=r"record 0 \(misleading_001\): 'questions' has type"):
        get_benchmark("eventhallusion").load(root, "reference")
