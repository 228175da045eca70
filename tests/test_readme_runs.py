"""Every ```python block of the README runs as written.

Hub ids in a block are replaced by a tiny local checkpoint written with ``save_pretrained``
(the demo's random-weight LLaVA-OneVision, its processor and a ChatML chat template), so a
block that loads from the hub runs offline; nothing else in the text is changed.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)
HUB_ID = re.compile(r"\"([A-Za-z0-9][\w.-]*/[\w.-]+)\"")
# the LLaVA conversation template the official evaluation uses (qwen_1_5), as a chat template
CHATML = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
    "{% for part in message['content'] %}{% if part['type'] == 'video' %}<video>\n"
    "{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}{% endfor %}{% endif %}"
    "<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def python_blocks() -> list[str]:
    return BLOCK.findall(README.read_text())


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny LLaVA-OneVision on disk: config, weights, processor with a chat template."""
    from stop_eval.backbones.llava.demo import build_demo_llava

    model, processor = build_demo_llava(0)
    processor.chat_template = CHATML
    folder = tmp_path_factory.mktemp("ckpt") / "tiny-llava-onevision"
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


def test_readme_has_python_blocks() -> None:
    blocks = python_blocks()
    assert len(blocks) >= 2
    assert any("from_pretrained" in b for b in blocks)  # the hub-loading example is covered


@pytest.mark.parametrize("index", range(len(python_blocks())))
def test_python_block_runs(index: int, checkpoint: Path, monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    code = python_blocks()[index]
    ids = set(HUB_ID.findall(code))
    if "from_pretrained" in code:
        assert ids, "a block that loads a checkpoint names its hub id"
    for hub_id in ids:
        code = code.replace(f'"{hub_id}"', repr(str(checkpoint)))
    torch.manual_seed(0)
    namespace: dict[str, object] = {"__name__": f"readme_block_{index}"}
    exec(compile(code, f"README.md python block {index}", "exec"), namespace)  # noqa: S102
