"""The README's support table is the generated one; the README names its two commands."""

from __future__ import annotations

from pathlib import Path

from stop_eval.backbones.support import END, START, embed, support_table

README = Path(__file__).resolve().parents[1] / "README.md"


def test_support_table_is_current() -> None:
    text = README.read_text()
    assert embed(text) == text, (
        "README support table is stale: run python -m stop_eval.backbones.support"
    )
    assert support_table() in text


def test_support_table_lists_every_method() -> None:
    from stop_core import available_methods

    table = support_table()
    for name in available_methods():
        assert f"| `{name}` |" in table
    assert START in README.read_text() and END in README.read_text()


def test_readme_mentions_prunevid_licence_and_citations() -> None:
    text = README.read_text()
    assert "CC BY-NC-SA" in text and "github.com/Visual-AI/PruneVid" in text
    for key in (
        "kim2026sink",
        "yang2025visionzip",
        "shen2025fastvid",
        "shao2025holitom",
        "fan2026flashvid",
    ):
        assert f"{{{key}," in text
