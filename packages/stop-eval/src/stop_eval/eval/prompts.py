"""The official prompt text: the checkpoint's chat template on the official messages.

The official evaluation renders ``[system "You are a helpful assistant.", user [video, question]]``
with ``processor.apply_chat_template(..., tokenize=False, add_generation_prompt=True)`` (Qwen) or
the equivalent ChatML conversation (LLaVA ``qwen_1_5``). A processor without a chat template gets
the official ChatML string instead, and the caller is told so (``"fallback"``).
"""

from __future__ import annotations

from typing import Any

SYSTEM = "You are a helpful assistant."
VIDEO_KINDS = ("llava", "qwen")
# The placeholder each backbone family's processor expands into the video's tokens.
VIDEO_PLACEHOLDER = {
    "qwen": "<|vision_start|><|video_pad|><|vision_end|>",
    "llava": "<video>\n",
}


def official_messages(question: str) -> list[dict[str, Any]]:
    """The official conversation: the system prompt, then one user turn with the video first."""
    return [
        {"role": "system", "content": [{"type": "text", "text": SYSTEM}]},
        {"role": "user", "content": [{"type": "video"}, {"type": "text", "text": question}]},
    ]


def fallback_text(question: str, video_kind: str) -> str:
    """The official ChatML prompt written out, for processors that ship no chat template."""
    _check_kind(video_kind)
    return (
        f"<|im_start|>system\n{SYSTEM}<|im_end|>\n<|im_start|>user\n"
        f"{VIDEO_PLACEHOLDER[video_kind]}{question}<|im_end|>\n<|im_start|>assistant\n"
    )


def _check_kind(video_kind: str) -> None:
    if video_kind not in VIDEO_KINDS:
        raise ValueError(f"video_kind must be one of {VIDEO_KINDS}, got {video_kind!r}")


def _template_owner(processor: Any) -> Any | None:
    """The processor, else its tokenizer, whichever carries a chat template (None if neither)."""
    for owner in (processor, getattr(processor, "tokenizer", None)):
        if (
            owner is not None
            and getattr(owner, "chat_template", None)
            and hasattr(owner, "apply_chat_template")
        ):
            return owner
    return None


def chat_text(processor: Any, question: str, *, video_kind: str) -> tuple[str, str]:
    """``(text, source)``: the official messages through the processor's own chat template.

    ``source`` is ``"chat_template"``, or ``"fallback"`` when neither the processor nor its
    tokenizer has a template (the text is then the official ChatML string).
    """
    _check_kind(video_kind)
    owner = _template_owner(processor)
    if owner is None:
        return fallback_text(question, video_kind), "fallback"
    text = owner.apply_chat_template(
        official_messages(question), tokenize=False, add_generation_prompt=True
    )
    if not isinstance(text, str):
        raise TypeError(f"apply_chat_template returned {type(text).__name__}, expected str")
    return text, "chat_template"
