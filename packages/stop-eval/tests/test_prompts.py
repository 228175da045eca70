"""Prompts rendered by the checkpoints' real chat templates equal the official evaluation's text."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from transformers import (
    AutoProcessor,
    Qwen2_5_VLProcessor,
    Qwen2VLImageProcessor,
    Qwen2VLVideoProcessor,
)

from stop_eval.backbones.demo import DEMO_TOKENIZER
from stop_eval.eval.prompts import SYSTEM, chat_text
from stop_qwen.checkpoints import checkpoint_dir
from stop_qwen.testing import train_tokenizer

FIXTURES = Path(__file__).parent / "fixtures" / "hf-configs"
QUESTION = "Question: what moves?\nOptions:\n(A) a circle\n(B) a square\nOnly give the best option."

# What the official __getitemQwen2VL__ renders (system prompt, video first, then the question),
# written out from the template's rules.
OFFICIAL_QWEN = (
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
    "<|im_start|>user\n<|vision_start|><|video_pad|><|vision_end|>" + QUESTION + "<|im_end|>\n"
    "<|im_start|>assistant\n"
)
# The LLaVA conv template qwen_1_5 with the video placeholder of transformers' processors.
OFFICIAL_LLAVA = (
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
    "<|im_start|>user\n<video>\n" + QUESTION + "<|im_end|>\n<|im_start|>assistant\n"
)


def real_processor(tmp_path: Path, name: str):
    target = tmp_path / name
    shutil.copytree(checkpoint_dir(name), target)
    for file in target.iterdir():
        file.chmod(0o644)
    train_tokenizer(**DEMO_TOKENIZER).save_pretrained(target)
    return AutoProcessor.from_pretrained(target)


@pytest.mark.parametrize("name", ["Qwen2.5-VL-7B-Instruct", "Qwen3-VL-8B-Instruct"])
def test_real_chat_template_gives_the_official_text(name: str, tmp_path: Path) -> None:
    processor = real_processor(tmp_path, name)
    assert processor.chat_template  # loaded from the checkpoint's chat_template.json
    text, source = chat_text(processor, QUESTION, video_kind="qwen")
    assert source == "chat_template"
    assert text == OFFICIAL_QWEN


def test_template_is_what_renders(tmp_path: Path) -> None:
    """The text follows the processor's template, not a hard-coded string."""
    processor = real_processor(tmp_path, "Qwen2.5-VL-7B-Instruct")
    processor.chat_template = processor.chat_template.replace(
        "<|im_start|>assistant\n", "<|im_start|>model\n"
    )
    text, source = chat_text(processor, QUESTION, video_kind="qwen")
    assert source == "chat_template"
    assert text == OFFICIAL_QWEN.replace("<|im_start|>assistant\n", "<|im_start|>model\n")


def test_without_template_falls_back_to_the_official_string() -> None:
    tokenizer = train_tokenizer(**DEMO_TOKENIZER)
    assert not getattr(tokenizer, "chat_template", None)
    processor = Qwen2_5_VLProcessor(
        image_processor=Qwen2VLImageProcessor(),
        video_processor=Qwen2VLVideoProcessor(),
        tokenizer=tokenizer,
    )
    assert not processor.chat_template
    text, source = chat_text(processor, QUESTION, video_kind="qwen")
    assert (text, source) == (OFFICIAL_QWEN, "fallback")
    text, source = chat_text(processor, QUESTION, video_kind="llava")
    assert (text, source) == (OFFICIAL_LLAVA, "fallback")
    assert SYSTEM in text


def test_tokenizer_template_is_used_when_the_processor_has_none() -> None:
    tokenizer = train_tokenizer(**DEMO_TOKENIZER)
    tokenizer.chat_template = (
        "{% for m in messages %}[{{ m['role'] }}]{% for c in m['content'] %}"
        "{% if c['type'] == 'video' %}<video>{% else %}{{ c['text'] }}{% endif %}"
        "{% endfor %}{% endfor %}{% if add_generation_prompt %}[assistant]{% endif %}"
    )
    text, source = chat_text(tokenizer, "why?", video_kind="llava")
    assert (text, source) == (f"[system]{SYSTEM}[user]<video>why?[assistant]", "chat_template")


def test_unknown_video_kind() -> None:
    with pytest.raises(ValueError, match="video_kind"):
        chat_text(train_tokenizer(**DEMO_TOKENIZER), QUESTION, video_kind="gemma")


def test_llava_onevision_chat_template_gives_the_official_text() -> None:
    """The llava-hf LLaVA-OneVision template (video first, then the text) renders qwen_1_5's text.

    Without ``add_generation_prompt`` the assistant header is missing, so a wrong flag fails here.
    """
    import json

    from transformers import (
        LlavaOnevisionImageProcessor,
        LlavaOnevisionProcessor,
        LlavaOnevisionVideoProcessor,
    )

    template_file = FIXTURES / "llava-onevision-qwen2-7b-ov-hf" / "chat_template.json"
    template = json.loads(template_file.read_text())["chat_template"]
    tokenizer = train_tokenizer(**DEMO_TOKENIZER)
    processor = LlavaOnevisionProcessor(
        image_processor=LlavaOnevisionImageProcessor(),
        video_processor=LlavaOnevisionVideoProcessor(size={"height": 384, "width": 384}),
        tokenizer=tokenizer,
        chat_template=template,
        num_image_tokens=729,
        vision_feature_select_strategy="full",
    )
    text, source = chat_text(processor, QUESTION, video_kind="llava")
    assert source == "chat_template"
    assert text == OFFICIAL_LLAVA
    without = processor.apply_chat_template(
        [
            {"role": "system", "content": [{"type": "text", "text": SYSTEM}]},
            {"role": "user", "content": [{"type": "video"}, {"type": "text", "text": QUESTION}]},
        ],
        tokenize=False,
        add_generation_prompt=False,
    )
    assert text == without + "<|im_start|>assistant\n"
