"""vLLM's real ``serve`` command (multiprocess engine) with the plugin, driven by ``openai``.

``python -m stop_vllm serve`` is vLLM's own CLI; it only resolves the CPU build's
distribution name, without which ``vllm serve`` stops at start-up on that build.

Eight concurrent chat completions with different .mp4 videos are all answered with the pruned
prompt length; a corrupt video gets an error response and the server keeps serving.
"""

from __future__ import annotations

import base64
import concurrent.futures
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import checkpoints
import numpy as np
import pytest
from harness import prompt_of

from stop_core import PruningConfig, planned_tokens

RATE = 0.75
STOP = {"method": "holitom", "scorer": "norm"}
FRAMES, FPS = 8, 2.0
SIDE = checkpoints.KINDS["qwen2_5_vl"].side
START_TIMEOUT = 600


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_mp4(path: Path, frames: np.ndarray, fps: float) -> Path:
    """Encode RGB frames as an MPEG-4 .mp4 with OpenCV (what vLLM's loader decodes)."""
    import cv2

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, frames.shape[2:0:-1])
    for frame in frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def data_url(path: Path) -> str:
    return "data:video/mp4;base64," + base64.b64encode(path.read_bytes()).decode()


@pytest.fixture(scope="module")
def server(qwen2_5_vl_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory):
    port = free_port()
    log = tmp_path_factory.mktemp("serve") / "server.log"
    env = {**os.environ, "VLLM_ENABLE_V1_MULTIPROCESSING": "1", "HF_HUB_OFFLINE": "1"}
    command = [
        sys.executable, "-m", "stop_vllm", "serve", str(qwen2_5_vl_checkpoint),
        "--host", "127.0.0.1", "--port", str(port), "--dtype", "float32",
        "--max-model-len", "4096", "--enforce-eager", "--max-num-seqs", "8",
        "--limit-mm-per-prompt", json.dumps({"video": 1, "image": 0}),
        "--video-pruning-rate", str(RATE),
        "--hf-overrides", json.dumps({"stop_pruning": STOP}),
    ]  # fmt: skip
    with log.open("w") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, env=env)
    import openai

    client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="none", timeout=300)
    deadline = time.monotonic() + START_TIMEOUT
    try:
        while True:
            if process.poll() is not None:
                pytest.fail(
                    f"vllm serve exited with {process.returncode}:\n{log.read_text()[-4000:]}"
                )
            try:
                client.models.list()
                break
            except openai.APIConnectionError:
                if time.monotonic() > deadline:
                    pytest.fail(
                        f"vllm serve did not start in {START_TIMEOUT} s:\n{log.read_text()[-4000:]}"
                    )
                time.sleep(2)
        yield client
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()


def ask(client, url: str):
    return client.chat.completions.create(
        model=client.models.list().data[0].id,
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "video_url", "video_url": {"url": url}},
                    {"type": "text", "text": "what happens?"},
                ],
            }
        ],
        max_tokens=2,
        temperature=0.0,
    )


def expected_prompt_tokens(checkpoint: Path) -> int:
    """The chat prompt's text tokens plus the planned count of an 8-frame 224 x 224 video."""
    from transformers import AutoProcessor

    processor = AutoProcessor.from_pretrained(checkpoint)
    ids = processor.tokenizer(prompt_of(checkpoint))["input_ids"]
    groups, merged = FRAMES // 2, SIDE // 28
    cfg = PruningConfig.preset(
        STOP["method"], backbone="qwen2_5_vl", retention_ratio=1 - RATE, scorer=STOP["scorer"]
    ).replace(exact_count=True)
    return len(ids) - 1 + planned_tokens(cfg, groups, (merged, merged))


@pytest.mark.slow
def test_serve_prunes_concurrent_requests_and_survives_a_corrupt_video(
    server, qwen2_5_vl_checkpoint: Path, tmp_path: Path
) -> None:
    import openai

    expected = expected_prompt_tokens(qwen2_5_vl_checkpoint)
    urls = [
        data_url(write_mp4(tmp_path / f"v{i}.mp4", checkpoints.video(i, FRAMES, SIDE), FPS))
        for i in range(8)
    ]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda url: ask(server, url), urls))
    assert [a.usage.prompt_tokens for a in answers] == [expected] * 8
    assert all(a.choices[0].message.content is not None for a in answers)

    corrupt = "data:video/mp4;base64," + base64.b64encode(b"not a video" * 100).decode()
    with pytest.raises(openai.APIStatusError) as error:
        ask(server, corrupt)
    assert 400 <= error.value.status_code < 600
    assert ask(server, urls[0]).usage.prompt_tokens == expected
