"""Reading annotation files with errors that name the file and the record."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from stop_eval.benchmarks.base import AnnotationError, Protocol
from stop_eval.benchmarks.field_notes import Notes, describe, option_text, strict_text


def check_protocol(protocol: str) -> Protocol:
    """The protocol name, or ValueError; every adapter accepts exactly ``PROTOCOLS``."""
    if protocol not in ("reference", "fixed"):
        raise ValueError(f"unknown protocol {protocol!r}; expected 'reference' or 'fixed'")
    return protocol  # type: ignore[return-value]


def require_file(path: Path) -> Path:
    """``path`` if it is a file, else FileNotFoundError naming it (a partial download)."""
    if not path.is_file():
        raise FileNotFoundError(f"annotation file missing: {path}")
    return path


def read_json_list(path: Path) -> list[dict[str, Any]]:
    """A JSON file holding a list of objects; anything else raises AnnotationError."""
    require_file(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise AnnotationError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(data, list):
        raise AnnotationError(f"{path}: expected a JSON list of records, got {type(data).__name__}")
    for index, record in enumerate(data):
        if not isinstance(record, dict):
            raise AnnotationError(
                f"{path}: record {index} is {type(record).__name__}, not an object"
            )
    return data


def read_parquet_rows(
    path: Path, columns: Sequence[str], optional: Sequence[str] = ()
) -> tuple[list[dict[str, Any]], list[str]]:
    """Rows of a parquet file as dicts, and the ``optional`` columns the file lacks.

    Unreadable files or missing required ``columns``: AnnotationError. A missing optional column
    is None in every row.
    """
    import pyarrow.parquet as pq

    require_file(path)
    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several unrelated types for corrupt files
        raise AnnotationError(f"{path}: not a readable parquet file ({exc})") from exc
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise AnnotationError(f"{path}: missing column(s) {missing}; has {table.column_names}")
    present = [c for c in optional if c in table.column_names]
    absent = [c for c in optional if c not in table.column_names]
    rows = table.select([*columns, *present]).to_pylist()
    for row in rows:
        row.update(dict.fromkeys(absent))
    return rows, absent


def first_existing(candidates: Sequence[Path]) -> Path:
    """The first candidate that exists, else the first one (a missing video is reported later)."""
    for candidate in candidates:
        if candidate.exists():
            return candidate
    return candidates[0]


def read_choice_record(
    record: dict[str, Any], path: Path, where: int | str, notes: Notes
) -> tuple[str, str, list[str], str]:
    """``(video, question, candidates, answer letter)`` of an MVBench/MLVU-style record.

    All four score, so each is checked (AnnotationError naming file, record and value); numeric
    candidates and answers are read as the text the official prompt prints (and noted).
    """
    from stop_eval.benchmarks.mcqa import option_letter

    video = strict_text(record, "video", path, where, notes=notes, strip=True)
    question = strict_text(record, "question", path, where)
    raw = record.get("candidates")
    if not isinstance(raw, list) or not raw:
        shown = "missing" if "candidates" not in record else f"{describe(raw)} ({raw!r})"
        raise AnnotationError(
            f"{path}: record {where}: 'candidates' is {shown}; expected a non-empty list"
        )
    candidates = [option_text(c, "candidates", path, where, notes) for c in raw]
    if "answer" not in record or record["answer"] is None:
        raise AnnotationError(f"{path}: record {where}: 'answer' is missing")
    answer = option_text(record["answer"], "answer", path, where, notes)
    letter = option_letter(candidates, answer)
    if letter is None:
        raise AnnotationError(
            f"{path}: record {where}: answer {answer!r} is not among the candidates {candidates}"
        )
    return video, question, candidates, letter
