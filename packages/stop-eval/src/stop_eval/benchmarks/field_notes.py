"""Strict readers for what scores, liberal readers for the rest, and the warnings they collect.

Ids, questions, answers, options and video references must be usable as they are (else an
:class:`AnnotationError` names the file, the record and the value). Every other field is read
liberally: normalised where harmless or left out, and each oddity is counted in :class:`Notes`,
which reports one line per file, field and kind of oddity ("13 records: `length` is an
integer, read as seconds"), never dropping the sample.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stop_eval.benchmarks.base import AnnotationError


def describe(value: Any) -> str:  # noqa: ANN401 - any JSON / parquet value
    """What a value is, in words for a warning: ``"an integer"``, ``"null"``, ``"empty"``..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        if not value.strip():
            return "empty"
        return "padded with spaces" if value != value.strip() else "a string"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


@dataclass
class Notes:
    """Oddities found while loading, counted per (file, message) in order of first sight."""

    root: Path
    _seen: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    def add(self, path: Path, message: str, where: int | str) -> None:
        """Count one record of ``path`` (``where`` names it) showing the oddity ``message``."""
        self._seen.setdefault((self._name(path), message), []).append(str(where))

    def _name(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)

    def lines(self) -> list[str]:
        """One line per file and oddity: ``"<file>: <n> record(s): <message> (first: <where>)"``."""
        out = []
        for (name, message), where in self._seen.items():
            count = f"{len(where)} record{'s' if len(where) != 1 else ''}"
            out.append(f"{name}: {count}: {message} (first: record {where[0]})")
        return out


def strict_text(
    record: dict[str, Any],
    key: str,
    path: Path,
    where: int | str,
    *,
    notes: Notes | None = None,
    strip: bool = False,
) -> str:
    """A non-empty string field that scores (id, question, answer, video reference).

    Missing, null, empty or non-string values raise AnnotationError naming file, record and
    value. ``strip`` (ids, file names): surrounding spaces are removed and counted in ``notes``.
    """
    value = record.get(key)
    if not isinstance(value, str) or not value.strip():
        shown = "missing" if key not in record else f"{describe(value)} ({value!r})"
        raise AnnotationError(f"{path}: record {where}: {key!r} is {shown}; expected a string")
    if strip and value != value.strip():
        if notes is not None:
            notes.add(path, f"`{key}` has surrounding spaces, stripped", where)
        value = value.strip()
    return value


def option_text(
    value: Any,  # noqa: ANN401 - a JSON option
    key: str,
    path: Path,
    where: int | str,
    notes: Notes,
) -> str:
    """An option (or an answer naming one) as text; anything but a string or number is an error.

    Numbers become the text the official prompt prints (counted in ``notes``).
    """
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        notes.add(path, f"`{key}` holds {describe(value)}, read as text", where)
        return str(value)
    raise AnnotationError(f"{path}: record {where}: {key!r} holds {describe(value)} ({value!r})")


def liberal_text(
    record: dict[str, Any], key: str, path: Path, where: int | str, notes: Notes
) -> str | None:
    """A side field as text: spaces stripped, numbers as text, null/empty/other as None; noted."""
    if key not in record:
        notes.add(path, f"`{key}` is missing, left out", where)
        return None
    value = record[key]
    if isinstance(value, str):
        if not value.strip():
            notes.add(path, f"`{key}` is empty, left out", where)
            return None
        if value != value.strip():
            notes.add(path, f"`{key}` has surrounding spaces, stripped", where)
        return value.strip()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        notes.add(path, f"`{key}` is {describe(value)}, read as text", where)
        return str(value)
    notes.add(path, f"`{key}` is {describe(value)}, left out", where)
    return None


def liberal_number(
    record: dict[str, Any], key: str, path: Path, where: int | str, notes: Notes
) -> float | None:
    """A side field as a number: numeric strings converted, anything else None; noted.

    An absent key is None without a note (the field is optional); a null one is noted.
    """
    if key not in record:
        return None
    value = record[key]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            pass
        else:
            notes.add(path, f"`{key}` is a string, read as a number", where)
            return number
    shown = describe(value) if value is None else f"{describe(value)} ({value!r})"
    notes.add(path, f"`{key}` is {shown}, left out", where)
    return None


class Duplicates:
    """Unique sample ids for records the official code enumerates twice, and a note for each."""

    def __init__(self, notes: Notes) -> None:
        self.notes = notes
        self._ids: dict[str, int] = {}
        self._keys: set[Hashable] = set()

    def unique_id(self, sample_id: str, path: Path, where: int | str, what: str = "id") -> str:
        """``sample_id``, or ``<sample_id>#<n>`` for its n-th occurrence (the record is kept)."""
        seen = self._ids.get(sample_id, 0)
        self._ids[sample_id] = seen + 1
        if not seen:
            return sample_id
        self.notes.add(path, f"duplicate {what}, kept as a separate item", where)
        return f"{sample_id}#{seen + 1}"

    def check(self, key: Hashable, path: Path, where: int | str, what: str) -> None:
        """Note a record whose ``key`` (e.g. video and question) an earlier record had."""
        if key in self._keys:
            self.notes.add(path, f"duplicate of an earlier record ({what}), kept", where)
        self._keys.add(key)
