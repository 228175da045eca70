"""The methods x backbones support table, generated from the registry and the adapters.

``python -m stop_eval.support`` prints it; the README embeds it between markers and a test
fails when the two differ.
"""

from __future__ import annotations

import importlib

from stop_core import available_methods, get_method

ADAPTERS: dict[str, tuple[str, str]] = {
    # backbone -> (adapter package, column title)
    "llava_ov": ("stop_llava", "LLaVA-OneVision"),
    "llava_video": ("stop_llava", "LLaVA-Video"),
    "qwen2_5_vl": ("stop_qwen", "Qwen2.5-VL"),
}
START = "<!-- support-table:start -->"
END = "<!-- support-table:end -->"


def supported_backbones() -> dict[str, bool]:
    """Whether each backbone's adapter is installed and declares that backbone."""
    out: dict[str, bool] = {}
    for backbone, (package, _) in ADAPTERS.items():
        try:
            module = importlib.import_module(package)
        except ImportError:
            out[backbone] = False
            continue
        out[backbone] = backbone in getattr(module, "BACKBONES", ())
    return out


def support_table() -> str:
    """Markdown table: one row per registered method, one column per backbone."""
    backbones = supported_backbones()
    titles = [ADAPTERS[b][1] for b in ADAPTERS]
    lines = [
        "| method | SToP | `stop-core` (reference / fixed) | " + " | ".join(titles) + " |",
        "|---" * (3 + len(titles)) + "|",
    ]
    for name in available_methods():
        spec = get_method(name)
        terms = " + ".join(spec.stop_terms) if spec.stop_terms else "—"
        cells = ["yes" if backbones[b] else "no" for b in ADAPTERS]
        lines.append(f"| `{name}` | {terms} | yes | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def embed(readme: str) -> str:
    """``readme`` with the text between the markers replaced by the current table."""
    if START not in readme or END not in readme:
        raise ValueError(f"README has no {START} ... {END} markers")
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{support_table()}\n{END}{tail}"


if __name__ == "__main__":
    print(support_table())
