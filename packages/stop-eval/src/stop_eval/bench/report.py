"""What every ``stop-bench`` benchmark writes: plain-text tables and one JSON layout.

``text_table`` lays out rows under a header and a rule of dashes, one ``Column`` per field;
``write_json`` writes ``{"environment", "settings", ...}`` (the machine, the options run and
the benchmark's own sections, dataclass rows as objects).
"""

from __future__ import annotations

import dataclasses
import json
import platform
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch


@dataclass(frozen=True)
class Column:
    """A table column: its ``title``, a format spec (``"<10"``, ``">8.2f"``) and the row's value."""

    title: str
    spec: str
    value: Callable[[Any], object]

    @property
    def head_spec(self) -> str:
        """The spec's alignment and width only (titles are text)."""
        match = re.match(r"[<>^]?\d*", self.spec)
        return match.group(0) if match else ""


def text_row(columns: Sequence[Column], row: Any) -> str:  # noqa: ANN401 - any row object
    """One table line: each column's value in its format, separated by one space."""
    return " ".join(format(c.value(row), c.spec) for c in columns)


def text_table(columns: Sequence[Column], rows: Iterable[Any]) -> str:
    """A header line, a rule of dashes as long as it, and one line per row."""
    head = " ".join(format(c.title, c.head_spec) for c in columns)
    return "\n".join([head, "-" * len(head), *(text_row(columns, row) for row in rows)])


def environment() -> dict[str, str | int]:
    """Versions and machine facts stored next to every benchmark result."""
    return {
        "torch": torch.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "processor": platform.processor() or "unknown",
        "cpu_threads_available": torch.get_num_threads(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none",
    }


def plain(value: Any) -> Any:  # noqa: ANN401 - any JSON-able value or dataclass
    """``value`` with dataclass instances (also inside lists and dicts) turned into dicts."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def write_json(path: Path, settings: dict[str, Any], **sections: Any) -> None:  # noqa: ANN401
    """Write ``{"environment", "settings", **sections}`` to ``path`` as indented JSON."""
    payload = {"environment": environment(), "settings": settings, **plain(sections)}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2) + "\n")
