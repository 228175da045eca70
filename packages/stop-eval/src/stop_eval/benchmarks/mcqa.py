"""Multiple-choice prompts and the answer matcher shared by Video-MME, MVBench, MLVU, VideoComp.

The matcher reproduces the reference harness (EVAL.md §1.8) in both protocols: a single-letter
ground truth is compared with the *first standalone letter* of the answer, so "I think B" reads
as "I" and "a man ..." as "A"; other ground truths need an exact case-insensitive match.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from typing import Any

from stop_eval.benchmarks.base import Benchmark, Protocol, Sample

OPTION_LETTERS = string.ascii_uppercase

# A letter with no letter directly before or after it.
_STANDALONE_LETTER = re.compile(r"(?<![A-Za-z])[A-Za-z](?![A-Za-z])")

VIDEOMME_INSTRUCTION = (
    "Select the best answer to the following multiple-choice question based on the video. "
    "Respond with only the letter (A, B, C, or D) of the correct option."
)
VIDEOMME_SUFFIX = "The best answer is:"


def first_standalone_letter(text: str) -> str | None:
    """The first letter in ``text`` not adjacent to another letter, uppercased."""
    match = _STANDALONE_LETTER.search(text)
    return match.group(0).upper() if match else None


def mcqa_match(gt: Any, pred: str) -> tuple[Any, bool]:
    """``(parsed, correct)`` for one answer; unparseable answers give ``(None, False)``."""
    if isinstance(gt, bool):
        gt = str(gt)
    if isinstance(gt, int):
        try:
            value = int(pred.strip())
        except ValueError:
            return None, False
        return value, value == gt
    gt_text = str(gt)
    if len(gt_text) == 1 and gt_text.isalpha():
        letter = first_standalone_letter(pred)
        return letter, letter is not None and letter == gt_text.upper()
    parsed = pred.strip()
    return parsed, parsed.lower() == gt_text.strip().lower()


def option_letter(candidates: Sequence[str], answer: str) -> str | None:
    """The letter of ``answer`` among ``candidates`` (A for the first), or None if absent."""
    if answer not in candidates or len(candidates) > len(OPTION_LETTERS):
        return None
    return OPTION_LETTERS[list(candidates).index(answer)]


def options_prompt(question: str, candidates: Sequence[str]) -> str:
    """The MVBench/MLVU prompt: question, lettered options, and the best-option request."""
    options = "\n".join(f"({OPTION_LETTERS[i]}) {c}" for i, c in enumerate(candidates))
    return f"Question: {question}\nOptions:\n{options}\nOnly give the best option."


def videomme_prompt(question: str, options: Sequence[str]) -> str:
    """The Video-MME prompt without subtitles: instruction, question, options, answer cue."""
    lines = [VIDEOMME_INSTRUCTION, question, *(f"{option}." for option in options)]
    return "\n".join([*lines, VIDEOMME_SUFFIX])


def score_mcqa(sample: Sample, pred: str) -> dict[str, Any]:
    """Record fields for an MCQA sample: the parsed answer, correctness and the sample meta."""
    parsed, correct = mcqa_match(sample.answer, pred)
    return {"parsed": parsed, "correct": correct, "meta": dict(sample.meta)}


class MultipleChoiceBenchmark(Benchmark):
    """A benchmark scored by the MCQA matcher alone (no judge)."""

    def score(self, sample: Sample, pred: str, judge: object, protocol: Protocol) -> dict[str, Any]:
        """First-standalone-letter (or exact) match against the answer."""
        return score_mcqa(sample, pred)
