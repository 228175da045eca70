"""Workspace-level checks: stop-core stays torch+numpy only, versions and ranges move together."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("stop-core", "stop-llava", "stop-qwen", "stop-eval")


def project(pkg: str) -> dict:
    """The ``[project]`` table of a package's pyproject.toml."""
    return tomllib.loads((ROOT / "packages" / pkg / "pyproject.toml").read_text())["project"]


def module_version(pkg: str) -> str:
    """``__version__`` of the package's module, read from its source (nothing imported)."""
    init = ROOT / "packages" / pkg / "src" / pkg.replace("-", "_") / "__init__.py"
    match = re.search(r'^__version__ = "([^"]+)"', init.read_text(), re.MULTILINE)
    assert match, f"{init} sets no __version__"
    return match.group(1)


def test_stop_core_depends_only_on_torch_and_numpy() -> None:
    meta = tomllib.loads((ROOT / "packages/stop-core/pyproject.toml").read_text())
    names = sorted(
        dep.split(">")[0].split("=")[0].split("<")[0].strip()
        for dep in meta["project"]["dependencies"]
    )
    assert names == ["numpy", "torch"]


def test_stop_core_imports_and_prunes_without_other_packages() -> None:
    code = """
import sys, importlib.abc
BLOCKED = {"transformers", "torchvision", "av", "openai", "rich", "matplotlib", "stop_llava",
           "stop_qwen", "stop_eval", "huggingface_hub", "hypothesis", "pytest"}
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError("blocked: " + name)
sys.meta_path.insert(0, Block())
import torch, stop_core
from stop_core import PruningConfig, VideoTokens, prune
t = VideoTokens(features=torch.randn(4, 16, 8), attention=torch.rand(4, 16),
                keys=torch.randn(4, 16, 4), frame_embeddings=torch.randn(4, 3))
for m in stop_core.available_methods():
    prune(t, PruningConfig.preset(m, retention_ratio=0.25))
print("ok")
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "ok"


def test_every_package_has_src_layout_tests_and_license() -> None:
    for pkg in ("stop-core", "stop-llava", "stop-qwen", "stop-eval"):
        base = ROOT / "packages" / pkg
        module = pkg.replace("-", "_")
        assert (base / "src" / module / "__init__.py").is_file()
        assert any((base / "tests").glob("test_*.py")), f"{pkg} has no tests"
        assert (base / "LICENSE").read_text() == (ROOT / "LICENSE").read_text()


def test_lock_has_no_machine_paths() -> None:
    text = (ROOT / "uv.lock").read_text()
    markers = [f"/{folder}/" for folder in ("tmp", "work", "root", "home")] + ["file://"]
    for marker in markers:
        assert marker not in text, marker


def test_versions_are_bumped_together() -> None:
    versions = {pkg: (project(pkg)["version"], module_version(pkg)) for pkg in PACKAGES}
    assert len({v for pair in versions.values() for v in pair}) == 1, versions


def test_internal_dependencies_carry_a_range_holding_the_current_version() -> None:
    version = project("stop-core")["version"]
    internal = 0
    for pkg in PACKAGES:
        for text in project(pkg)["dependencies"]:
            req = Requirement(text)
            if req.name not in PACKAGES:
                continue
            internal += 1
            bounds = {spec.operator for spec in req.specifier}
            assert {">=", "<"} <= bounds, f"{pkg}: {text} needs a lower and an upper bound"
            assert req.specifier.contains(version), f"{pkg}: {text} excludes {version}"
    assert internal == 5  # llava, qwen -> core; eval -> core, llava, qwen


def test_every_package_declares_its_test_dependencies() -> None:
    for pkg in PACKAGES:
        meta = tomllib.loads((ROOT / "packages" / pkg / "pyproject.toml").read_text())
        dev = [Requirement(r).name for r in meta["dependency-groups"]["dev"]]
        assert "pytest" in dev, pkg
