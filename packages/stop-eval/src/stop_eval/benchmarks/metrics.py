"""Shared metric helpers: error exclusion, means and grouped accuracies over records."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def split_errors(records: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """Records without an error, and how many had one (those are counted, never scored)."""
    ok = [r for r in records if r.get("error") is None]
    return ok, len(records) - len(ok)


def mean(values: Iterable[float]) -> float | None:
    """Arithmetic mean, or None for an empty sequence (a metric with no items)."""
    items = list(values)
    return sum(items) / len(items) if items else None


def meta(record: dict[str, Any]) -> dict[str, Any]:
    """The sample metadata copied into the record by ``score`` (empty if absent)."""
    value = record.get("meta")
    return value if isinstance(value, dict) else {}


def accuracy(records: Iterable[dict[str, Any]]) -> float | None:
    """Fraction of records with ``correct`` true; unparsed answers count as wrong."""
    return mean(1.0 if r.get("correct") else 0.0 for r in records)


def grouped_accuracy(records: list[dict[str, Any]], key: str) -> dict[str, float | None]:
    """Accuracy per value of ``meta[key]``, in first-seen order."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        groups.setdefault(str(meta(record).get(key)), []).append(record)
    return {name: accuracy(group) for name, group in groups.items()}
