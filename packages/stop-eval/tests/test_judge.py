"""Judge client against a local OpenAI-compatible server running in a thread."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from stop_eval.benchmarks.judge import Judge, JudgeError, JudgeKeyError

KEY = "sk-test-SECRET-0123456789abcdef"
ENV = "STOP_TEST_JUDGE_KEY"
MESSAGES = [
    {"role": "system", "content": "You are a referee."},
    {"role": "user", "content": "Question: what happens?\nPredicted: a dog runs."},
]


@dataclass
class Step:
    """One scripted server reply."""

    status: int = 200
    content: str | None = "{'score': 4}"
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


def completion_body(content: str | None, model: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-abc123",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17},
    }


def error_body(message: str, kind: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


class FakeServer:
    """Serves POST /v1/chat/completions from a script; defaults to a normal reply."""

    def __init__(self) -> None:
        self.script: list[Step] = []
        self.received: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                payload = json.loads(self.rfile.read(length) or b"{}")
                with owner.lock:
                    owner.received.append(
                        {
                            "path": self.path,
                            "json": payload,
                            "auth": self.headers.get("Authorization"),
                        }
                    )
                    step = owner.script.pop(0) if owner.script else Step()
                if self.path != "/v1/chat/completions":
                    step = Step(status=404, body=error_body("not found", "invalid_request_error"))
                if step.delay:
                    time.sleep(step.delay)
                body = step.body
                if body is None:
                    body = completion_body(step.content, payload.get("model", "?"))
                data = json.dumps(body).encode()
                try:
                    self.send_response(step.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in step.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (timeout test)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    @property
    def count(self) -> int:
        with self.lock:
            return len(self.received)


@pytest.fixture
def server() -> Iterator[FakeServer]:
    srv = FakeServer()
    srv.thread.start()
    try:
        yield srv
    finally:
        srv.httpd.shutdown()
        srv.httpd.server_close()


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(ENV, KEY)
    return KEY


def make_judge(server: FakeServer, cache_dir: Path | None, **kw: Any) -> Judge:
    opts: dict[str, Any] = {
        "base_url": server.base_url,
        "api_key_env": ENV,
        "cache_dir": cache_dir,
        "max_retries": 3,
        "timeout": 5.0,
        "backoff": 0.001,
        "max_backoff": 0.01,
    }
    opts.update(kw)
    return Judge(**opts)


def cache_files(cache_dir: Path) -> list[Path]:
    return sorted(p for p in cache_dir.rglob("*") if p.is_file())


def test_normal_reply(server: FakeServer, key: str, tmp_path: Path) -> None:
    judge = make_judge(server, tmp_path / "cache")
    reply = judge.complete(MESSAGES, "gpt-5-mini")
    assert reply == "{'score': 4}"
    assert server.count == 1
    sent = server.received[0]
    assert sent["path"] == "/v1/chat/completions"
    assert sent["json"]["model"] == "gpt-5-mini"
    assert sent["json"]["messages"] == MESSAGES
    assert "temperature" not in sent["json"] and "seed" not in sent["json"]
    assert sent["auth"] == f"Bearer {key}"
    assert judge.stats() == {"requests": 1, "cache_hits": 0, "retries": 0, "failures": 0}
    files = cache_files(tmp_path / "cache")
    assert len(files) == 1
    record = json.loads(files[0].read_text())
    assert record["reply"] == reply
    assert record["request"]["messages"] == MESSAGES
    assert record["request"]["model"] == "gpt-5-mini"
    assert record["response"]["usage"]["total_tokens"] == 17


def test_model_override_and_params(server: FakeServer, key: str) -> None:
    judge = make_judge(server, None, model="my-judge", temperature=0.0, extra_body={"seed": 4})
    judge.complete(MESSAGES, "gpt-5")
    sent = server.received[0]["json"]
    assert sent["model"] == "my-judge"
    assert sent["temperature"] == 0.0
    assert sent["seed"] == 4


def test_cache_hit_same_and_new_instance(server: FakeServer, key: str, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    judge = make_judge(server, cache)
    first = judge.complete(MESSAGES, "gpt-5-mini")
    second = judge.complete(MESSAGES, "gpt-5-mini")
    assert first == second
    assert server.count == 1
    assert judge.cache_hits == 1 and judge.requests == 1

    fresh = make_judge(server, cache)
    assert fresh.complete(MESSAGES, "gpt-5-mini") == first
    assert server.count == 1
    assert fresh.cache_hits == 1 and fresh.requests == 0

    # A different model or message is a different request.
    fresh.complete(MESSAGES, "gpt-5")
    fresh.complete([{"role": "user", "content": "other"}], "gpt-5-mini")
    assert server.count == 3
    assert len(cache_files(cache)) == 3


def test_cache_hit_needs_no_key(
    server: FakeServer, key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    make_judge(server, cache).complete(MESSAGES, "gpt-5-mini")
    monkeypatch.delenv(ENV)
    assert make_judge(server, cache).complete(MESSAGES, "gpt-5-mini") == "{'score': 4}"
    assert server.count == 1


def test_429_with_retry_after_then_success(server: FakeServer, key: str) -> None:
    server.script = [
        Step(
            status=429,
            body=error_body("Rate limit reached", "rate_limit_error"),
            headers={"Retry-After": "0"},
        )
    ]
    judge = make_judge(server, None, backoff=30.0, max_backoff=30.0)  # Retry-After wins
    t0 = time.monotonic()
    assert judge.complete(MESSAGES, "gpt-5-mini") == "{'score': 4}"
    assert time.monotonic() - t0 < 5.0
    assert server.count == 2
    assert judge.retries == 1 and judge.requests == 2 and judge.failures == 0


def test_500_then_success(server: FakeServer, key: str) -> None:
    server.script = [Step(status=500, body=error_body("server error", "server_error"))]
    judge = make_judge(server, None)
    assert judge.complete(MESSAGES, "gpt-5-mini") == "{'score': 4}"
    assert server.count == 2 and judge.retries == 1


def test_timeout_then_success(server: FakeServer, key: str) -> None:
    server.script = [Step(delay=1.5)]
    judge = make_judge(server, None, timeout=0.3)
    assert judge.complete(MESSAGES, "gpt-5-mini") == "{'score': 4}"
    assert server.count == 2 and judge.retries == 1


@pytest.mark.parametrize("content", ["{''score': 4.8}", "Sure! Here is my score: four", ""])
def test_malformed_content_returned_as_is(server: FakeServer, key: str, content: str) -> None:
    server.script = [Step(content=content)]
    assert make_judge(server, None).complete(MESSAGES, "gpt-5-mini") == content


def test_null_content_is_empty_string(server: FakeServer, key: str) -> None:
    server.script = [Step(content=None)]
    assert make_judge(server, None).complete(MESSAGES, "gpt-5-mini") == ""


def test_retries_exhausted(server: FakeServer, key: str, tmp_path: Path) -> None:
    server.script = [Step(status=503, body=error_body("overloaded", "server_error"))] * 10
    judge = make_judge(server, tmp_path / "cache", max_retries=2)
    with pytest.raises(JudgeError, match=r"after 3 attempts.*HTTP 503") as info:
        judge.complete(MESSAGES, "gpt-5-mini")
    assert not isinstance(info.value, JudgeKeyError)
    assert server.count == 3
    assert judge.stats() == {"requests": 3, "cache_hits": 0, "retries": 2, "failures": 1}
    assert cache_files(tmp_path / "cache") == []  # failures are not cached


@pytest.mark.parametrize("status", [400, 401, 404])
def test_non_retryable_raises_at_once(server: FakeServer, key: str, status: int) -> None:
    server.script = [Step(status=status, body=error_body(f"bad {KEY}", "invalid_request_error"))]
    judge = make_judge(server, None)
    with pytest.raises(JudgeError, match=f"HTTP {status}") as info:
        judge.complete(MESSAGES, "gpt-5-mini")
    assert server.count == 1 and judge.retries == 0 and judge.failures == 1
    assert KEY not in str(info.value)


def test_connection_refused_retried_then_error(key: str) -> None:
    probe = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = probe.server_address[1]
    probe.server_close()  # nothing listens on this port now
    judge = Judge(
        base_url=f"http://127.0.0.1:{port}/v1",
        api_key_env=ENV,
        max_retries=1,
        timeout=2.0,
        backoff=0.001,
    )
    with pytest.raises(JudgeError, match="connection error"):
        judge.complete(MESSAGES, "gpt-5-mini")
    assert judge.requests == 2 and judge.retries == 1


def test_missing_key(server: FakeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)
    judge = make_judge(server, None)
    assert not judge.has_key()
    with pytest.raises(JudgeKeyError, match=ENV) as info:
        judge.check_key()
    assert "eventhallusion" in str(info.value) and "vcgbench" in str(info.value)
    with pytest.raises(JudgeKeyError, match="vcgbench"):
        judge.check_key(["vcgbench"])
    with pytest.raises(JudgeKeyError, match=ENV):
        judge.complete(MESSAGES, "gpt-5-mini")
    assert server.count == 0
    monkeypatch.setenv(ENV, "")
    with pytest.raises(JudgeKeyError):
        judge.check_key()
    monkeypatch.setenv(ENV, KEY)
    judge.check_key()


def test_key_never_leaks(
    server: FakeServer, key: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    cache = tmp_path / "cache"
    judge = make_judge(server, cache, max_retries=1)
    assert key not in repr(judge) and key not in str(vars(judge).get("_client"))
    server.script = [Step(status=429, body=error_body(f"slow down {KEY}", "rate_limit_error"))]
    judge.complete(MESSAGES, "gpt-5-mini")
    server.script = [Step(status=500, body=error_body(f"boom {KEY}", "server_error"))] * 2
    with pytest.raises(JudgeError) as exhausted:
        judge.complete([{"role": "user", "content": "x"}], "gpt-5-mini")
    server.script = [Step(status=401, body=error_body(f"Incorrect API key {KEY}", "auth"))]
    with pytest.raises(JudgeError) as denied:
        judge.complete([{"role": "user", "content": "y"}], "gpt-5-mini")
    assert "401" in str(denied.value) and ENV in str(denied.value)
    for exc in (exhausted.value, denied.value):
        assert KEY not in str(exc) and KEY not in repr(exc)
        assert exc.__cause__ is None or KEY not in str(exc.__cause__)
    files = cache_files(cache)
    assert files
    for path in files:
        assert KEY not in path.read_text()
    assert caplog.records  # the retries were logged
    assert KEY not in caplog.text
    for record in caplog.records:
        assert KEY not in record.getMessage()
