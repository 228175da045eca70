"""JSONL records survive a kill mid-write; config mismatches are refused on resume."""

from __future__ import annotations

import json

import pytest

from stop_eval.eval.records import RecordWriter, read_records
from stop_eval.eval.runner import RunSettings, check_config


def _settings(**kw) -> RunSettings:
    base = dict(
        backbone="llava_ov",
        model="demo",
        method="holitom",
        retention=0.1,
        use_stop=True,
        mu_s=0.04,
        mu_t=0.07,
        gamma=1.1,
        variant="reference",
        benchmark="mvbench",
        protocol="reference",
        frames=8,
        seed=4,
        max_new_tokens=4,
        judge_model=None,
        judge_base_url=None,
    )
    base.update(kw)
    return RunSettings(**base)


def test_torn_last_line_is_dropped_and_appends_stay_valid(tmp_path) -> None:
    path = tmp_path / "records.jsonl"
    writer = RecordWriter(path)
    writer.write({"id": "a", "x": 1})
    writer.write({"id": "b", "x": 2})
    writer.close()
    with path.open("a") as handle:
        handle.write('{"id": "c", "x"')  # killed mid-write
    assert [r["id"] for r in read_records(path)] == ["a", "b"]
    writer = RecordWriter(path)
    writer.write({"id": "c", "x": 3})
    writer.close()
    assert [r["id"] for r in read_records(path)] == ["a", "b", "c"]


def test_corrupt_middle_line_names_the_line(tmp_path) -> None:
    path = tmp_path / "records.jsonl"
    path.write_text('{"id": "a"}\nnot json\n{"id": "b"}\n')
    with pytest.raises(ValueError, match="line 2 is not valid JSON"):
        read_records(path)


def test_resume_refuses_a_different_configuration(tmp_path) -> None:
    check_config(tmp_path, _settings())
    check_config(tmp_path, _settings(limit=5, batch_size=2))  # not part of the identity
    with pytest.raises(ValueError, match="different configuration.*retention"):
        check_config(tmp_path, _settings(retention=0.2))
    assert json.loads((tmp_path / "config.json").read_text())["retention"] == 0.1


def test_each_record_is_on_disk_when_fsync_runs(tmp_path, monkeypatch) -> None:
    """``write`` fsyncs the record's file after the line reached the OS, before returning."""
    import os

    path = tmp_path / "records.jsonl"
    seen: list[tuple[int, bytes]] = []
    real_fsync = os.fsync

    def spy(fd: int) -> None:
        seen.append((fd, path.read_bytes()))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", spy)
    writer = RecordWriter(path)
    writer.write({"id": "a"})
    assert seen == [(writer.handle.fileno(), b'{"id": "a"}\n')]
    writer.write({"id": "b", "x": [1, 2]})
    assert len(seen) == 2 and seen[1][0] == writer.handle.fileno()
    assert seen[1][1] == b'{"id": "a"}\n{"id": "b", "x": [1, 2]}\n'
    writer.close()
