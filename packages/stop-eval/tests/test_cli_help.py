"""``--help`` shows every option's default; ``stop-bench prune --quick`` and its column legend."""

from __future__ import annotations

import argparse
import json
import re

import pytest

from stop_eval import cli
from stop_eval.cli import bench as bench_cli
from stop_eval.cli import download, inspect, run, visualize

PARSERS = {
    "stop-eval": run.build_parser,
    "stop-eval inspect": inspect.build_parser,
    "stop-eval visualize": visualize.build_parser,
}


def documented_defaults(parser: argparse.ArgumentParser) -> dict[str, object]:
    """Option -> default, for options with a value to show (not None, not a plain flag)."""
    out = {}
    for action in parser._actions:
        if not action.option_strings or action.default in (None, argparse.SUPPRESS):
            continue
        if isinstance(action, argparse._StoreTrueAction | argparse._StoreFalseAction):
            continue
        out[action.option_strings[0]] = action.default
    return out


def option_help(help_text: str, option: str) -> str:
    """The help lines of ``option`` (its line and the indented lines that follow)."""
    lines = help_text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith(option))
    block = [lines[start]]
    for line in lines[start + 1 :]:
        if line.startswith("  ") and not line.strip().startswith("-"):
            block.append(line)
        else:
            break
    return " ".join(" ".join(block).split())


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_help_shows_every_default(name: str) -> None:
    parser = PARSERS[name]()
    text = parser.format_help()
    defaults = documented_defaults(parser)
    assert defaults, name
    for option, default in defaults.items():
        shown = option_help(text, option)
        assert f"default: {default}" in shown, (option, shown)


def test_stop_eval_help_names_retention_default(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["--help"])
    assert exc.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "--retention RETENTION default: 0.1" in out
    assert "--frames FRAMES default: 32" in out


def test_subcommand_help_shows_defaults(capsys) -> None:
    with pytest.raises(SystemExit):
        bench_cli.main(["prune", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert re.search(r"--repeats REPEATS default: 5", out)
    with pytest.raises(SystemExit):
        download.main(["--help"])


def test_prune_quick_is_one_width_one_thread_two_repeats(tmp_path, capsys) -> None:
    out = tmp_path / "quick.json"
    bench_cli.main(
        ["prune", "--quick", "--methods", "visionzip", "--frames", "4", "--out", str(out)]
    )
    printed = capsys.readouterr().out
    rows = json.loads(out.read_text())["results"]
    assert len(rows) == 2  # SToP off and on
    assert {r["hidden"] for r in rows} == {896}  # the smaller of the default widths 3584, 896
    assert {r["threads"] for r in rows} == {1}
    assert all(len(r["runs_ms"]) == 2 for r in rows)
    legend = next(line for line in printed.splitlines() if line.startswith("columns:"))
    for column in ("syncs", "ops", "kept", "median/min ms", "thr", "D "):
        assert column in legend


def test_bad_bench_option_is_a_usage_error(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        bench_cli.main(["prune", "--repeats", "0"])
    assert exc.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == ["stop-bench prune: error: --repeats must be >= 1, got 0"]
