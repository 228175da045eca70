"""The methods x backbones support table, generated from both registries and the adapters.

``python -m stop_eval.backbones.support`` prints it; the README embeds it between markers and a test
fails when the two differ.
"""

from __future__ import annotations

from stop_core import available_methods, get_method
from stop_eval.backbones import registered

START = "<!-- support-table:start -->"
END = "<!-- support-table:end -->"


def supported_backbones() -> dict[str, bool]:
    """Whether each registered backbone's adapter is installed and declares that backbone."""
    return {entry.name: entry.adapter_supports() for entry in registered()}


def support_table() -> str:
    """Markdown table: one row per registered method, one column per registered backbone."""
    backbones = supported_backbones()
    titles = [entry.title for entry in registered()]
    lines = [
        "| method | SToP | `stop-core` (reference / fixed) | " + " | ".join(titles) + " |",
        "|---" * (3 + len(titles)) + "|",
    ]
    for name in available_methods():
        spec = get_method(name)
        terms = " + ".join(spec.stop_terms) if spec.stop_terms else "—"
        cells = ["yes" if supported else "no" for supported in backbones.values()]
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
