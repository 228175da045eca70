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
        get_benchmark("eventhallusion").load(root, "fixed")
    bench = get_benchmark("eventhallusion")  # the reference judge never reads `unexpected`
    assert len(bench.load(root, "reference")) == 8
    assert bench.warnings == [
        "questions/mix_questions.json: 1 record: `event_info.unexpected` is null (read under "
        "fixed) (first: record 1 (mix_002))"
    ]
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
    with pytest.raises(
        AnnotationError, match=r"record 0 \(misleading_001\): 'questions' is a string"
    ):
        get_benchmark("eventhallusion").load(root, "reference")


# ------------------------------------------------------------- real files as they come
def official_enumeration(root):
    """The official loop, written out: every question of every record, then a description
    item per entire / interleave record, file by file (side fields never read)."""
    items = []
    for split, name in (("entire", "entire"), ("misleading", "misleading"), ("mix", "mix")):
        for record in json.loads((root / "questions" / f"{name}_questions.json").read_text()):
            vid = record["id"].strip().replace("mix_", "interleave_")
            items += [(vid, q["question"]) for q in record["questions"]]
            if split != "misleading":
                items.append((vid, "desc"))
    return items


def messy_root(tmp_path):
    """The shapes of the published files: integer lengths in `entire`, an empty and a padded
    length in `interleave`, a null category, an id with a trailing space, a repeated record."""
    entire = [
        video(
            f"entire_{i:03d}", f"event {i}", [(f"Q{i}?", "No.")], "bias", "b", length=f"00:{i:02d}"
        )
        for i in range(1, 16)
    ]
    for i in range(2, 15):
        entire[i]["length"] = 8 + i  # 13 records carry an integer
    entire[0]["category"] = None
    misleading = [
        video("misleading_001", "a dog runs", [("Is the dog flying?", "No.")], "bias", "b")
    ]
    misleading.append(json.loads(json.dumps(misleading[0])))  # listed twice
    mix = [
        video(f"mix_{i:03d}", f"caption {i}", [(f"M{i}?", "Yes.")], "unexpected", f"u {i}")
        for i in range(1, 5)
    ]
    mix[1]["length"] = ""
    mix[2]["length"] = "00:23 "
    mix[3]["id"] = "mix_004 "
    return write_eh(tmp_path / "EventHallusion", entire=entire, misleading=misleading, mix=mix)


def test_messy_real_shapes_load_with_one_warning_per_oddity(tmp_path):
    root = messy_root(tmp_path)
    bench = get_benchmark("eventhallusion")
    samples = bench.load(root, "reference")
    want = official_enumeration(root)
    assert len(samples) == len(want) == 15 * 2 + 2 + 4 * 2
    got = [
        (
            s.meta["video_id"],
            "desc" if s.meta["kind"] == "desc" else s.prompt[: -len("\nPlease answer yes or no:")],
        )
        for s in samples
    ]
    assert got == want
    assert len({s.id for s in samples}) == len(samples)
    assert [s.id for s in samples if s.meta["split"] == "misleading"] == [
        "misleading_001_q0",
        "misleading_001#2_q0",
    ]
    by_id = {s.id: s for s in samples}
    assert by_id["entire_003_q0"].meta["duration"] == 10  # an integer length is seconds
    assert by_id["interleave_003_q0"].meta["duration"] == 23
    assert by_id["interleave_002_q0"].meta["duration"] is None
    assert by_id["interleave_004_desc"].video == root / "videos/interleave/interleave_004.mp4"
    assert bench.warnings == [
        "questions/entire_questions.json: 1 record: `category` is null, left out "
        "(first: record 0 (entire_001))",
        "questions/entire_questions.json: 13 records: `length` is an integer, read as seconds "
        "(first: record 2 (entire_003))",
        "questions/misleading_questions.json: 1 record: duplicate id, kept as a separate item "
        "(first: record 1 (misleading_001))",
        "questions/mix_questions.json: 1 record: `length` is empty, left out "
        "(first: record 1 (mix_002))",
        "questions/mix_questions.json: 1 record: `length` has surrounding spaces, stripped "
        "(first: record 2 (mix_003))",
        "questions/mix_questions.json: 1 record: `id` has surrounding spaces, stripped "
        "(first: record 3)",
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r.update(id=7), r"'id' is an integer \(7\)"),
        (lambda r: r.update(id=""), r"'id' is empty"),
        (lambda r: r["questions"][0].update(question=None), r"question 0: 'question' is null"),
        (lambda r: r["questions"][0].update(answer=" "), r"question 0: 'answer' is empty"),
        (lambda r: r["event_info"].update(caption=3), r"event_info: 'caption' is an integer"),
    ],
)
def test_scoring_fields_stay_strict(tmp_path, change, message):
    entire = json.loads(json.dumps(ENTIRE))
    change(entire[0])
    root = write_eh(tmp_path / "eh", entire=entire)
    with pytest.raises(AnnotationError, match=r"entire_questions\.json: record 0.*" + message):
        get_benchmark("eventhallusion").load(root, "reference")
