"""Progress bars go to stderr (stdout stays clean) for runs, benches and downloads."""

from __future__ import annotations

import http.server
import io
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from stop_eval.benchmarks.base import Sample
from stop_eval.eval.runner import Shard, run_shard
from stop_eval.media.download import http_get
from stop_eval.progress import copy_stream, track


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """rich draws its bars as in a terminal (stderr is a pipe under pytest)."""
    monkeypatch.setenv("TTY_COMPATIBLE", "1")


def test_run_progress_is_on_stderr_with_every_record_written(tmp_path, capsys, terminal) -> None:
    samples = [Sample(f"s{i}", "fake", None, f"q{i}", "a") for i in range(5)]

    def answer(batch: list[Sample]) -> list[dict]:
        return [{"id": s.id, "pred": s.prompt.upper(), "error": None} for s in batch]

    done = run_shard(samples, answer, tmp_path, Shard(), batch_size=2)
    captured = capsys.readouterr()
    assert done == 5
    assert "samples (rank 0)" in captured.err and "5/5" in captured.err
    assert "samples" not in captured.out
    records = [json.loads(x) for x in (tmp_path / "records.jsonl").read_text().splitlines()]
    assert [r["pred"] for r in records] == [f"Q{i}" for i in range(5)]


def test_track_yields_every_item_in_order(capsys, terminal) -> None:
    assert list(track(["a", "b", "c"], "bench", str)) == ["a", "b", "c"]
    captured = capsys.readouterr()
    assert "bench: c" in captured.err and "3/3" in captured.err
    assert captured.out == ""


def test_copy_stream_copies_every_byte(capsys, terminal) -> None:
    data = bytes(range(256)) * 5000  # 1.28 MB: more than one chunk
    target = io.BytesIO()
    assert copy_stream(io.BytesIO(data), target, len(data), "download x", chunk=1 << 16) == len(
        data
    )
    assert target.getvalue() == data
    assert capsys.readouterr().out == ""


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, bytes]]:
    """A local HTTP server (port chosen by the OS) serving one file."""
    payload = b"annotation," * 50000
    (tmp_path / "file.csv").write_bytes(payload)

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, directory=str(tmp_path), **kwargs)

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/file.csv", payload
    finally:
        server.shutdown()
        server.server_close()


def test_download_shows_its_progress(served, tmp_path, capsys, terminal) -> None:
    url, payload = served
    dest = tmp_path / "out" / "file.csv"
    http_get(url, dest)
    assert dest.read_bytes() == payload
    captured = capsys.readouterr()
    assert "download file.csv" in captured.err
    assert captured.out == ""
