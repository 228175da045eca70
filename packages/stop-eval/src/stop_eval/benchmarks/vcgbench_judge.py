"""VCGBench judge rubrics (0-5 scores per aspect) and the tolerant score-reply parser."""

from __future__ import annotations

import ast
import math
import re

from stop_eval.benchmarks.base import Protocol

# The reference prompt shows the malformed example inherited from the original benchmark;
# the fixed protocol shows a well-formed one.
SCORE_EXAMPLES = {"reference": "{''score': 4.8}", "fixed": "{'score': 4}"}

ASPECT_RUBRICS: dict[str, tuple[str, tuple[str, ...]]] = {
    "correct": (
        "the factual accuracy",
        (
            "Check whether the predicted answer agrees with the facts in the correct answer.",
            "Treat any statement that contradicts or misrepresents the correct answer as an error.",
            "Accept synonyms and paraphrases that keep the meaning.",
            "Judge only factual correctness; style and length do not matter.",
        ),
    ),
    "orientation": (
        "the detail orientation",
        (
            "Check whether the predicted answer covers every main point of the correct answer.",
            "Reward specific details that are drawn from the video over generic statements.",
            "Penalise omissions of details that the correct answer contains.",
            "Accept synonyms and paraphrases that keep the meaning.",
        ),
    ),
    "context": (
        "the contextual understanding",
        (
            "Check whether the predicted answer fits the overall context of the video content.",
            "Penalise statements that are out of context or inconsistent with the video.",
            "Accept synonyms and paraphrases that keep the meaning.",
        ),
    ),
    "temporal": (
        "the temporal understanding",
        (
            "Check whether the predicted answer gets the order of events right.",
            "Penalise swapped, missing or invented steps in the sequence of events.",
            "Accept synonyms and paraphrases that keep the meaning.",
        ),
    ),
    "consistency": (
        "the consistency",
        (
            "Two differently worded questions ask for the same information about one video.",
            "Check whether both predicted answers agree with each other and with the correct "
            "answer.",
            "Penalise any contradiction between the two predicted answers.",
            "Accept synonyms and paraphrases that keep the meaning.",
        ),
    ),
}


def system_message(aspect: str) -> str:
    """The evaluator role and the aspect-specific instruction list."""
    what, rules = ASPECT_RUBRICS[aspect]
    listed = "\n".join(f"- {rule}" for rule in rules)
    return (
        f"You are an intelligent chatbot that rates {what} of generative answers to questions "
        "about videos. Compare the predicted answer with the correct answer.\n"
        f"INSTRUCTIONS:\n{listed}"
    )


def reply_format(aspect: str, protocol: Protocol) -> str:
    """The request for a 0-5 integer as a Python dict string with key 'score'."""
    what = ASPECT_RUBRICS[aspect][0]
    return (
        f"Rate {what} of the prediction with an INTEGER from 0 to 5, where 5 is the best. "
        "Reply only with a Python dictionary string with the key 'score', for example "
        f"{SCORE_EXAMPLES[protocol]}. Do not write anything else."
    )


def single_messages(
    aspect: str, question: str, answer: str, pred: str, protocol: Protocol
) -> list[dict[str, str]]:
    """System + user messages for one question/answer/prediction triple."""
    user = (
        "Evaluate this question-answer pair about a video:\n\n"
        f"Question: {question}\n"
        f"Correct Answer: {answer}\n"
        f"Predicted Answer: {pred}\n\n" + reply_format(aspect, protocol)
    )
    return [
        {"role": "system", "content": system_message(aspect)},
        {"role": "user", "content": user},
    ]


def consistency_messages(
    question_1: str, question_2: str, answer: str, pred_1: str, pred_2: str, protocol: Protocol
) -> list[dict[str, str]]:
    """System + user messages for a pair of paraphrased questions about one video."""
    user = (
        "Evaluate these two answers to paraphrased questions about a video:\n\n"
        f"Question 1: {question_1}\n"
        f"Question 2: {question_2}\n"
        f"Correct Answer: {answer}\n"
        f"Predicted Answer to Question 1: {pred_1}\n"
        f"Predicted Answer to Question 2: {pred_2}\n\n" + reply_format("consistency", protocol)
    )
    return [
        {"role": "system", "content": system_message("consistency")},
        {"role": "user", "content": user},
    ]


_FENCE = re.compile(r"^```[a-zA-Z]*\s*|\s*```$")
_BRACES = re.compile(r"\{[^{}]*\}")
# Only the quoting of the key may be broken ("{''score': 4.8}"); the value must be a number.
_REPAIRABLE = re.compile(r"""^\{\s*['"]*score['"]*\s*:\s*(-?\d+(?:\.\d+)?)\s*\}$""")


def _literal_score(text: str) -> float | None:
    try:
        value = ast.literal_eval(text)
        return float(value["score"])
    except Exception:  # any malformed reply: syntax, type, key, conversion errors
        return None


def parse_score(reply: str, protocol: Protocol) -> float | None:
    """The ``score`` of a judge reply, or None if unparseable.

    Reference: the whole reply must be a dict literal (as the original ``eval`` required).
    Fixed: also the first ``{...}`` in the reply, a broken key quoting, and a 0-5 range check.
    """
    score = _literal_score(reply.strip())
    if protocol == "reference":
        return score
    if score is None:
        text = _FENCE.sub("", reply.strip())
        braces = _BRACES.search(text)
        if braces is not None:
            score = _literal_score(braces.group(0))
            if score is None:
                repaired = _REPAIRABLE.match(braces.group(0))
                score = float(repaired.group(1)) if repaired else None
    if score is None or not math.isfinite(score) or not 0 <= score <= 5:
        return None
    return score
