"""The built distributions: every package builds, no wheel ships tests, a wheel install runs.

``uv build --all-packages`` writes a wheel and an sdist per workspace package; the wheels hold
only the package's source (no tests, no goldens, no conftest). Installed into a fresh virtual
environment at the locked versions (uv takes what its cache holds, the rest from the package
index), they run the README's "Prune video tokens without a model" snippet, importing
``stop_core`` from that environment.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("stop-core", "stop-llava", "stop-qwen", "stop-eval")
SNIPPET_HEADING = "## Prune video tokens without a model"


def uv() -> str:
    """The uv executable that runs this test (``uv run`` sets ``UV``), else the one on PATH."""
    found = os.environ.get("UV") or shutil.which("uv")
    if not found:
        pytest.fail("uv is needed to build the distributions: run the tests with `uv run`")
    return found


def run(*args: str | Path, cwd: Path) -> str:
    """Run a command, failing the test with its output when it fails; returns stdout."""
    res = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True)
    assert res.returncode == 0, f"{' '.join(map(str, args))}:\n{res.stdout}\n{res.stderr}"
    return res.stdout


def readme_snippet() -> str:
    """The first ```python block after the README heading of the model-free example."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index(SNIPPET_HEADING) :]
    return re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    run(uv(), "build", "--all-packages", "--out-dir", out, cwd=ROOT)
    return out


@pytest.mark.slow
def test_every_package_builds_a_wheel_and_an_sdist(dist: Path) -> None:
    names = {p.replace("-", "_") for p in PACKAGES}
    assert {w.name.split("-")[0] for w in dist.glob("*.whl")} == names
    assert {s.name.split("-")[0] for s in dist.glob("*.tar.gz")} == names


@pytest.mark.slow
def test_no_wheel_ships_tests_or_goldens(dist: Path) -> None:
    for wheel in sorted(dist.glob("*.whl")):
        files = zipfile.ZipFile(wheel).namelist()
        package = wheel.name.split("-")[0]
        assert any(f.startswith(f"{package}/") and f.endswith(".py") for f in files), wheel.name
        # tests folders, their helpers and the reference outputs (stop-core's tests/golden/*.pt)
        shipped = [
            f
            for f in files
            if {"tests", "golden", "fixtures"} & set(Path(f).parts[:-1])
            or Path(f).suffix == ".pt"
            or Path(f).name == "conftest.py"
            or Path(f).name.startswith("test_")
        ]
        assert shipped == [], f"{wheel.name} ships {shipped}"


@pytest.mark.slow
def test_wheels_require_internal_packages_with_ranges(dist: Path) -> None:
    for wheel in sorted(dist.glob("*.whl")):
        archive = zipfile.ZipFile(wheel)
        meta = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        lines = archive.read(meta).decode().splitlines()
        required = [
            Requirement(line.split(":", 1)[1])
            for line in lines
            if line.startswith("Requires-Dist:")
        ]
        for req in required:
            if req.name in PACKAGES:
                assert req.specifier, f"{wheel.name} requires {req} without a range"


@pytest.mark.slow
def test_wheels_in_a_fresh_venv_run_the_readme_snippet(dist: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    run(uv(), "venv", "--python", sys.executable, venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    constraints = tmp_path / "constraints.txt"
    run(
        uv(),
        "export",
        "--frozen",
        "--all-packages",
        "--no-dev",
        "--no-emit-workspace",
        "--no-hashes",
        "--output-file",
        constraints,
        cwd=ROOT,
    )
    wheels = sorted(dist.glob("*.whl"))
    install = ["pip", "install", "--python", python, "-c", constraints, *wheels]
    run(uv(), *install, cwd=tmp_path)
    script = tmp_path / "snippet.py"
    script.write_text(readme_snippet() + "\nimport stop_core\nprint(stop_core.__file__)\n")
    out = run(python, script, cwd=tmp_path).strip().splitlines()
    requested, kept, shape = out[-2].split(" ", 2)
    assert int(requested) > 0 and int(kept) > 0 and shape.startswith("(")
    assert Path(out[-1]).is_relative_to(venv), out[-1]
