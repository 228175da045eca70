"""A ``--model`` that cannot load: one line naming the id and what to do, exit code 2, fast.

The hub is faked by ``HF_ENDPOINT`` pointing at a local socket with a port the OS picks: one
that refuses connections (closed), and one that accepts but never answers (listening, never
read). ``HF_HOME`` is an empty folder, so nothing is cached.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

MODEL = "someone/no-such-model"


def free_port() -> int:
    """A port the OS assigned and nobody listens on any more (connections are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def silent_hub() -> Iterator[str]:
    """A hub that accepts connections and never answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        yield f"http://127.0.0.1:{s.getsockname()[1]}"


def run_cli(
    args: list[str], tmp_path: Path, **env: str
) -> tuple[subprocess.CompletedProcess, float]:
    """``python -m stop_eval.cli ARGS`` with an empty hub cache and ``env``; (result, seconds)."""
    full = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HOME": str(tmp_path / "hf-home")}
    full.pop("HF_HUB_OFFLINE", None)
    full.update(env)
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "stop_eval.cli", *args],
        env=full,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return done, time.monotonic() - start


def assert_one_line(done: subprocess.CompletedProcess, prog: str, *needles: str) -> str:
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"{prog}: error: ")
    assert "Traceback" not in done.stderr
    for needle in needles:
        assert needle in lines[0]
    return lines[0]


def test_offline_missing_model_fails_at_once(tmp_path: Path) -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"
    done, seconds = run_cli(["--model", MODEL], tmp_path, HF_HUB_OFFLINE="1", HF_ENDPOINT=endpoint)
    line = assert_one_line(done, "stop-eval", MODEL, "HF_HUB_OFFLINE=1", "--model PATH")
    assert "not in the local cache" in line
    # no request is made offline: the refusing endpoint is never asked
    assert "cannot reach" not in line
    print(f"offline: {seconds:.1f} s")


def test_refusing_hub_is_one_line(tmp_path: Path) -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"
    done, _ = run_cli(["--model", MODEL], tmp_path, HF_ENDPOINT=endpoint)
    assert_one_line(done, "stop-eval", MODEL, endpoint, "HF_HUB_OFFLINE=1", "--model PATH")


def test_silent_hub_times_out_in_one_line(tmp_path: Path, silent_hub: str) -> None:
    done, _ = run_cli(["--model", MODEL], tmp_path, HF_ENDPOINT=silent_hub, HF_HUB_ETAG_TIMEOUT="1")
    line = assert_one_line(done, "stop-eval", MODEL, "timed out after 1 s", "HF_HUB_OFFLINE=1")
    assert silent_hub in line


@pytest.mark.parametrize("command", ["inspect", "visualize"])
def test_inspect_and_visualize_say_the_same(tmp_path: Path, command: str) -> None:
    from stop_eval.demo.data import moving_square, write_clip

    clip = tmp_path / "clip.mp4"
    write_clip(clip, moving_square, frames=4)
    endpoint = f"http://127.0.0.1:{free_port()}"
    args = [command, "--backbone", "llava_ov", "--video", str(clip), "--model", MODEL]
    done, _ = run_cli(args, tmp_path, HF_HUB_OFFLINE="1", HF_ENDPOINT=endpoint)
    assert_one_line(done, f"stop-eval {command}", MODEL, "HF_HUB_OFFLINE=1")


def test_local_folder_errors(tmp_path: Path) -> None:
    from stop_eval.media.hub import ModelLoadError, check_model_source

    with pytest.raises(ModelLoadError, match="not found"):
        check_model_source(str(tmp_path / "missing-checkpoint"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelLoadError, match="has no config.json"):
        check_model_source(str(tmp_path / "empty"))
    (tmp_path / "empty" / "config.json").write_text("{}")
    check_model_source(str(tmp_path / "empty"))  # a checkpoint folder passes


def test_missing_video_exit_code_agrees(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.mp4")
    for command in ("inspect", "visualize"):
        done, _ = run_cli([command, "--backbone", "llava_ov", "--video", missing], tmp_path)
        assert_one_line(done, f"stop-eval {command}", "video not found", missing)
