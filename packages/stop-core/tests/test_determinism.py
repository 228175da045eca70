"""Determinism: repeated ``prune`` calls are bit-identical, and no method sums with an
order-dependent scatter (``index_add_`` and kin are atomic on CUDA, so their rounding changes
from run to run)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import torch

import stop_core
from stop_core import PruningConfig, VideoTokens, available_methods, prune

SOURCE_ROOT = Path(stop_core.__file__).parent
REPEATS = 5
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])

# calls whose floating-point result depends on the order the additions run in
ORDER_DEPENDENT = frozenset(
    {
        "index_add",
        "index_add_",
        "scatter_add",
        "scatter_add_",
        "scatter_reduce",
        "scatter_reduce_",
        "index_reduce",
        "index_reduce_",
        "histc",
    }
)
ACCUMULATE_ARG = frozenset({"index_put", "index_put_", "put", "put_"})  # accumulate is 3rd


def _name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return None


def _is_false(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is False


def order_dependent_calls(
    source: str, allowed: frozenset[str] = frozenset()
) -> list[tuple[int, str]]:
    """``(line, call)`` of every order-dependent accumulation in ``source`` (code only).

    The dtype is unknown to a source scan, so every form is refused, integer ones included
    (counts use ``bincount`` without weights, which is exact). Calls inside the functions
    named in ``allowed`` are left out.
    """
    tree = ast.parse(source)
    exempt = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and node.name in allowed
        for inner in ast.walk(node)
    }
    hits = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or id(node) in exempt:
            continue
        name = _name(node.func)
        if name in ORDER_DEPENDENT:
            hits.append((node.lineno, name))
        elif name in ACCUMULATE_ARG:
            kw = [k.value for k in node.keywords if k.arg == "accumulate"]
            third = node.args[2:3]
            if any(not _is_false(v) for v in kw + third):
                hits.append((node.lineno, f"{name}(accumulate=True)"))
        elif name == "bincount":
            # torch.bincount(input, weights) or input.bincount(weights)
            is_function = isinstance(node.func, ast.Attribute) and _name(node.func.value) == "torch"
            weights_at = 1 if is_function else 0
            if any(k.arg == "weights" for k in node.keywords) or len(node.args) > weights_at:
                hits.append((node.lineno, "bincount(weights=...)"))
    return sorted(hits)


def test_the_scan_finds_every_form():
    source = "\n".join(
        [
            "import torch",
            "# index_add_ in a comment is fine",
            '"""so is scatter_add_ in a docstring"""',
            "a.index_add_(0, i, v)",  # 4
            "torch.index_add(a, 0, i, v)",  # 5
            "a.scatter_add_(1, i, v)",  # 6
            "b = a.scatter_add(1, i, v)",  # 7
            "a.scatter_reduce_(0, i, v, 'sum')",  # 8
            "a.index_put_((i,), v, accumulate=True)",  # 9
            "a.index_put_((i,), v, True)",  # 10
            "a.put_(i, v, accumulate=True)",  # 11
            "torch.bincount(i, w)",  # 12
            "torch.bincount(i, weights=w)",  # 13
            "i.bincount(w)",  # 14
            "torch.histc(a)",  # 15
            "a.index_reduce_(0, i, v, 'mean')",  # 16
            "a.index_put_((i,), v)",
            "a.index_put_((i,), v, accumulate=False)",
            "torch.bincount(i, minlength=3)",
            "i.bincount(minlength=3)",
            "a.scatter_(1, i, 1.0)",
            "a.index_select(0, i)",
        ]
    )
    assert [line for line, _ in order_dependent_calls(source)] == list(range(4, 17))


# the one sanctioned accumulation: ``ops.add_rows_`` picks the deterministic kernel per device
SANCTIONED = {"ops.py": frozenset({"add_rows_"})}


def test_stop_core_source_has_no_order_dependent_accumulation():
    files = sorted(SOURCE_ROOT.rglob("*.py"))
    assert len(files) > 10  # the package itself, not an empty folder
    found = [
        f"{path.relative_to(SOURCE_ROOT)}:{line}: {call}"
        for path in files
        for line, call in order_dependent_calls(
            path.read_text(), SANCTIONED.get(str(path.relative_to(SOURCE_ROOT)), frozenset())
        )
    ]
    assert not found, (
        "order-dependent accumulation (use ops.group_sum / ops.add_rows_):\n" + "\n".join(found)
    )


def test_the_scan_exempts_only_the_named_function():
    source = "def group_sum(a, i, v):\n    a.index_add_(0, i, v)\n\ndef other(a, i, v):\n"
    source += "    a.index_add_(0, i, v)\n"
    assert order_dependent_calls(source, frozenset({"group_sum"})) == [(5, "index_add_")]


@pytest.mark.parametrize("device", DEVICES)
def test_group_sum_is_bit_identical_across_runs_and_threads(device):
    """Many rows per group, in shuffled order: the same bits every run, and the sums of a loop."""
    from stop_core.ops import group_sum

    g = torch.Generator().manual_seed(3)
    values = torch.randn(4000, 257, generator=g, dtype=torch.float64).float()
    group = torch.randint(0, 9, (4000,), generator=g)  # 9 >= 8 groups: some rows dropped
    loop = torch.zeros(8, 257, dtype=torch.float64)
    for row, grp in zip(values.double(), group.tolist(), strict=True):
        if grp < 8:
            loop[grp] += row
    previous = torch.get_num_threads()
    runs = []
    try:
        for threads in (1, 2, 1, 2):
            torch.set_num_threads(threads)
            runs.append(group_sum(values.to(device), group.to(device), 8).cpu())
    finally:
        torch.set_num_threads(previous)
    assert all(torch.equal(runs[0], r) for r in runs[1:])
    assert torch.allclose(runs[0].double(), loop, rtol=0, atol=1e-3)


def _tokens(device: str) -> VideoTokens:
    """A redundant video with exact ties: frames repeat, so similarities and densities tie."""
    g = torch.Generator().manual_seed(5)
    t, s, d = 12, 196, 48
    base = torch.randn(3, s, d, generator=g)
    feats = base.repeat_interleave(4, dim=0) + 0.2 * torch.randn(t, s, d, generator=g)
    feats[5] = feats[4]  # an exact repeat
    feats[:, 10] = feats[:, 11]  # two identical positions in every frame
    att = torch.softmax(torch.randn(t, s, generator=g) * 2, dim=-1)
    att[:, 3] += 0.5
    return VideoTokens(
        features=feats.to(device),
        attention=att.to(device),
        keys=torch.randn(t, s, 16, generator=g).to(device),
        frame_embeddings=feats.mean(1).to(device),
        grid=(14, 14),
    )


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("method", available_methods())
@pytest.mark.parametrize("variant", ["reference", "fixed"])
@pytest.mark.parametrize("use_stop", [False, True])
def test_repeated_runs_are_bit_identical(device, method, variant, use_stop):
    tokens = _tokens(device)
    cfg = PruningConfig.preset(
        method, backbone="llava_ov", retention_ratio=0.2, use_stop=use_stop, variant=variant
    )
    runs = []
    for _ in range(REPEATS):
        out = prune(tokens, cfg, generator=torch.Generator(device=device).manual_seed(0))
        comb = out.combination
        runs.append((out.features, out.frame_index, out.position, comb.row, comb.col, comb.weight))
    first = runs[0]
    for n, run in enumerate(runs[1:], start=2):
        for name, a, b in zip(
            ("features", "frame_index", "position", "row", "col", "weight"), first, run, strict=True
        ):
            assert a.shape == b.shape and torch.equal(a, b), f"run {n}: {name} differs"
