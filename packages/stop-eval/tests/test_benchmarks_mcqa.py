"""The MCQA matcher and option prompts shared by Video-MME, MVBench, MLVU and VideoComp."""

import pytest

from stop_eval.benchmarks.base import Sample
from stop_eval.benchmarks.mcqa import (
    first_standalone_letter,
    mcqa_match,
    option_letter,
    options_prompt,
    score_mcqa,
    videomme_prompt,
)


@pytest.mark.parametrize(
    ("pred", "letter"),
    [
        ("B", "B"),
        ("(C) a dog", "C"),
        ("D.", "D"),
        ("I think B", "I"),  # the documented quirk: the first standalone letter wins
        ("a man is walking", "A"),
        ("Answer: b", "B"),
        ("The answer", None),
        ("", None),
        ("42", None),
    ],
)
def test_first_standalone_letter(pred, letter):
    assert first_standalone_letter(pred) == letter


def test_letter_gt_uses_first_standalone_letter():
    assert mcqa_match("B", "I think B") == ("I", False)
    assert mcqa_match("A", "a man is walking") == ("A", True)
    assert mcqa_match("c", "(C) the red ball") == ("C", True)
    assert mcqa_match("B", "no letter here") == (None, False)


def test_text_and_int_ground_truths():
    assert mcqa_match("yes", " YES ") == ("YES", True)
    assert mcqa_match("yes", "yes, it is") == ("yes, it is", False)
    assert mcqa_match(3, " 3 ") == (3, True)
    assert mcqa_match(3, "4") == (4, False)
    assert mcqa_match(3, "three") == (None, False)


def test_option_letter_and_prompts():
    assert option_letter(["cat", "dog", "cow"], "cow") == "C"
    assert option_letter(["cat", "dog"], "emu") is None
    assert options_prompt("What runs?", ["cat", "dog"]) == (
        "Question: What runs?\nOptions:\n(A) cat\n(B) dog\nOnly give the best option."
    )
    prompt = videomme_prompt("Who sings?", ["A. a bird", "B. a man", "C. a cat", "D. no one"])
    lines = prompt.split("\n")
    assert lines[0].startswith("Select the best answer")
    assert "Respond with only the letter (A, B, C, or D)" in lines[0]
    assert lines[1:] == [
        "Who sings?",
        "A. a bird.",
        "B. a man.",
        "C. a cat.",
        "D. no one.",
        "The best answer is:",
    ]


def test_score_mcqa_copies_meta():
    sample = Sample("x", "videomme", None, "p", "B", meta={"duration": "short"})
    assert score_mcqa(sample, "B. a man") == {
        "parsed": "B",
        "correct": True,
        "meta": {"duration": "short"},
    }
