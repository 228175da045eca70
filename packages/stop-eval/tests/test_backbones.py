"""The backbone registry: the one place backbone names live; CLI, support table, presets read it."""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import replace
from pathlib import Path

import pytest
import torch

import stop_eval
from stop_eval.backbones import available_backbones, get_backbone, register_backbone, registry
from stop_eval.backbones.support import support_table
from stop_eval.cli.run import build_parser
from stop_eval.cli.visualize import build_parser as visualize_parser
from stop_eval.eval.run_config import default_max_new_tokens, make_config

SOURCE = Path(stop_eval.__file__).parent
KNOWN = (
    "llava_ov",
    "llava_video",
    "qwen2_5_vl",
    "qwen3_vl",
)  # the built-in backbones, as users type them
# the backbone modules (backbones/<family>/<name>.py) and their registration are the only
# files that may name a backbone
ALLOWED = {
    str(p.relative_to(SOURCE)) for p in (SOURCE / "backbones").rglob("*.py") if p.stem in KNOWN
} | {"backbones/__init__.py"}


def literal_mentions(text: str, names: tuple[str, ...]) -> list[tuple[int, str]]:
    """(line, token) of the string literals and comments that contain one of ``names``."""
    words = "|".join(map(re.escape, names))
    pattern = re.compile(rf"(?<![A-Za-z0-9_])({words})(?![A-Za-z0-9_])")
    return [
        (tok.start[0], tok.string)
        for tok in tokenize.generate_tokens(io.StringIO(text).readline)
        if tok.type in (tokenize.STRING, tokenize.COMMENT) and pattern.search(tok.string)
    ]


def test_builtin_backbones_are_registered_in_order() -> None:
    assert available_backbones()[: len(KNOWN)] == KNOWN
    assert len(ALLOWED) == len(KNOWN) + 1  # every built-in entry has its own module


def test_no_backbone_name_literal_outside_the_backbone_modules() -> None:
    names = tuple(dict.fromkeys(KNOWN + available_backbones()))
    files = [p for p in sorted(SOURCE.rglob("*.py")) if str(p.relative_to(SOURCE)) not in ALLOWED]
    assert len(files) > 20  # the scan really covers the package
    hits = [
        f"{path.relative_to(SOURCE)}:{line}: {token.strip()[:70]}"
        for path in files
        for line, token in literal_mentions(path.read_text(), names)
    ]
    assert hits == [], "backbone names outside stop_eval/backbones:\n" + "\n".join(hits)


def test_the_literal_scan_finds_planted_names_but_not_identifiers() -> None:
    text = (SOURCE / "cli" / "run.py").read_text()
    end = len(text.splitlines())
    planted = text + 'X = "qwen2_5_vl"  # see llava_video\nllava_ov = f"{y}_qwen2_5_vlx"\n'
    assert literal_mentions(text, KNOWN) == []
    assert literal_mentions(planted, KNOWN) == [
        (end + 1, '"qwen2_5_vl"'),
        (end + 1, "# see llava_video"),
    ]


def test_unknown_backbone_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown backbone 'nope'.*llava_ov"):
        get_backbone("nope")


def test_a_second_entry_with_the_same_name_is_refused() -> None:
    entry = get_backbone("llava_video")
    assert register_backbone(entry) is entry  # the same entry again is fine
    with pytest.raises(ValueError, match="already registered"):
        register_backbone(replace(entry, title="Other"))


@pytest.fixture
def extra_backbone(monkeypatch: pytest.MonkeyPatch) -> str:
    """A registered ``toy_vl`` entry (Qwen2.5-VL's rules, an adapter that is not installed)."""
    toy = replace(
        get_backbone("qwen2_5_vl"), name="toy_vl", title="Toy-VL", adapter="no_such_adapter_pkg"
    )
    monkeypatch.setitem(registry._REGISTRY, "toy_vl", toy)
    return "toy_vl"


def test_cli_choices_come_from_the_registry(extra_backbone: str) -> None:
    actions = {a.dest: a for a in build_parser()._actions}
    assert list(actions["backbone"].choices) == list(KNOWN) + [extra_backbone]
    assert build_parser().parse_args(["--backbone", extra_backbone]).backbone == extra_backbone
    visualize = {a.dest: a for a in visualize_parser()._actions}
    assert extra_backbone in visualize["backbone"].choices
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--backbone", "unregistered_vl"])


def test_cli_choices_without_extras_are_the_builtins() -> None:
    actions = {a.dest: a for a in build_parser()._actions}
    assert tuple(actions["backbone"].choices) == KNOWN
    assert actions["backbone"].default == "llava_ov"


def test_support_table_has_one_column_per_registered_backbone(extra_backbone: str) -> None:
    header, _, *rows = support_table().splitlines()
    titles = [c.strip() for c in header.strip("|").split("|")][3:]
    assert titles == ["LLaVA-OneVision", "LLaVA-Video", "Qwen2.5-VL", "Qwen3-VL", "Toy-VL"]
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")][3:]
        # the installed adapters declare their backbones; the toy's adapter is missing
        assert cells == ["yes", "yes", "yes", "yes", "no"], row


def test_presets_are_looked_up_under_the_entrys_presets_name(extra_backbone: str) -> None:
    # the toy entry inherits Qwen2.5-VL's presets name, so its mu equal Qwen2.5-VL's
    toy = make_config(extra_backbone, "visionzip", 0.1, scorer="norm")
    qwen = make_config("qwen2_5_vl", "visionzip", 0.1, scorer="norm")
    assert (toy.mu_s, toy.mu_t) == (qwen.mu_s, qwen.mu_t) == (3.7, 0.0)
    assert default_max_new_tokens(extra_backbone) == 1024


def test_entries_say_their_model_class_and_adapter() -> None:
    from transformers import (
        LlavaOnevisionForConditionalGeneration,
        Qwen2_5_VLForConditionalGeneration,
        Qwen3VLForConditionalGeneration,
    )

    import stop_llava
    import stop_qwen

    assert get_backbone("llava_ov").model_cls() is LlavaOnevisionForConditionalGeneration
    assert get_backbone("llava_video").model_cls() is LlavaOnevisionForConditionalGeneration
    assert get_backbone("qwen2_5_vl").model_cls() is Qwen2_5_VLForConditionalGeneration
    assert get_backbone("qwen3_vl").model_cls() is Qwen3VLForConditionalGeneration
    assert get_backbone("llava_ov").adapter_module() is stop_llava
    assert get_backbone("qwen2_5_vl").adapter_module() is stop_qwen
    assert get_backbone("qwen2_5_vl").adapter_options("norm") == {"scorer": "norm"}
    assert get_backbone("llava_ov").adapter_options("norm") == {}
    assert get_backbone("qwen3_vl").adapter_module() is stop_qwen
    assert [default_max_new_tokens(b) for b in KNOWN] == [4096, 4096, 1024, 1024]


def test_qwen3_vl_borrows_the_qwen2_5_vl_presets() -> None:
    for method in ("visionzip", "fastvid", "holitom", "flashvid"):
        for scorer in ("attention", "norm"):
            new = make_config("qwen3_vl", method, 0.1, scorer=scorer)
            old = make_config("qwen2_5_vl", method, 0.1, scorer=scorer)
            assert (new.mu_s, new.mu_t, new.params) == (old.mu_s, old.mu_t, old.params)


def test_qwen3_vl_offline_demo_runs(capsys: pytest.CaptureFixture[str]) -> None:
    from stop_eval.cli import main

    main(["--backbone", "qwen3_vl", "--frames", "4", "--max-new-tokens", "2"])
    out = capsys.readouterr().out
    assert "SToP demo on qwen3_vl" in out and "random-weight" in out
    rows = [line for line in out.splitlines() if line.startswith("│")]
    methods = [row.split("│")[1].strip() for row in rows]
    assert methods == ["none"] + [
        m for m in ("visionzip", "fastvid", "holitom", "flashvid") for _ in "ab"
    ]
    header = next(line for line in out.splitlines() if line.startswith("┃"))
    kept_col = [c.strip() for c in header.split("┃")].index("kept")
    before = int(rows[0].split("│")[kept_col])  # `none` keeps every video token
    for row in rows[1:]:
        kept = int(row.split("│")[kept_col])
        assert 0 < kept < before


def test_capture_bench_towers_are_named_after_registered_backbones() -> None:
    from stop_eval.bench.capture import run_variant
    from stop_eval.bench.towers import tower_bench, towers

    assert towers() == ("siglip", "qwen2_5_vl", "qwen3_vl")
    assert set(towers()[1:]) <= set(available_backbones())
    bench = tower_bench("qwen3_vl")
    assert (bench.hidden, bench.layers) == (1152, 27)  # Qwen3-VL-8B
    for variant in ("tower", "hooks"):
        row = run_variant("qwen3_vl", variant, 2, 2, 1, "cpu", torch.float32)
        assert (row.tower, row.variant, row.hidden, len(row.runs_s)) == (
            "qwen3_vl",
            variant,
            1152,
            1,
        )
    with pytest.raises(ValueError, match="no eager variant"):
        run_variant("qwen3_vl", "eager", 2, 2, 1, "cpu", torch.float32)
