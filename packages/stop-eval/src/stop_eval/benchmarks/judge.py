"""LLM judge: an OpenAI-compatible chat-completions client with a disk cache and retries.

Benchmarks call :meth:`Judge.complete` and parse the raw reply themselves. Every reply is
saved under ``cache_dir`` (one JSON file per request, keyed by a hash of model, endpoint,
messages and parameters), so re-scoring the same predictions makes no new requests.

The API key is read from one environment variable when the first request is made. It is
never stored on the instance, logged, written to the cache or put in an exception message.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import logging
import os
import random
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported on the first request: runs without a judge never load the SDK
    import openai

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.openai.com/v1"
JUDGED_BENCHMARKS: tuple[str, ...] = ("eventhallusion", "vcgbench")
CACHE_VERSION = 1
RETRYABLE_STATUS = frozenset({408, 409, 429})
MAX_RETRY_AFTER = 300.0


class JudgeError(RuntimeError):
    """A judge request failed for good (non-retryable error or retries exhausted)."""


class JudgeKeyError(JudgeError):
    """The API key environment variable is not set, so no judge request can be made."""


def _key_message(api_key_env: str, benchmarks: tuple[str, ...] | list[str]) -> str:
    names = ", ".join(benchmarks) if benchmarks else "judged benchmarks"
    return (
        f"the judge API key is read from the environment variable {api_key_env}, which is not "
        f"set or empty; it is needed by the judged benchmarks ({names}). Set {api_key_env} "
        "(and --judge-base-url for a non-OpenAI endpoint) or run only benchmarks without a judge."
    )


class Judge:
    """OpenAI-compatible chat judge with an on-disk reply cache, retries and counters.

    ``model`` (when set) overrides every benchmark's default judge model. ``base_url`` falls
    back to ``$OPENAI_BASE_URL`` and then the OpenAI endpoint. ``max_retries`` counts retries
    after the first attempt; the delay doubles from ``backoff`` up to ``max_backoff`` seconds
    (with jitter) unless the server sends ``Retry-After``. ``temperature`` and ``extra_body``
    are sent only when given (the GPT-5 family accepts only the default temperature).

    Counters: ``requests`` (HTTP attempts sent), ``cache_hits``, ``retries`` (attempts after a
    retryable error) and ``failures`` (``complete`` calls that raised).
    """

    def __init__(
        self,
        model: str | None = None,
        base_url: str | None = None,
        api_key_env: str = "OPENAI_API_KEY",
        cache_dir: Path | None = None,
        max_retries: int = 5,
        timeout: float = 60.0,
        backoff: float = 1.0,
        max_backoff: float = 30.0,
        *,
        temperature: float | None = None,
        extra_body: dict[str, Any] | None = None,
    ) -> None:
        if max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {max_retries}")
        self.model = model or None
        resolved = base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL
        self.base_url = resolved.rstrip("/")
        self.api_key_env = api_key_env
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.max_retries = max_retries
        self.timeout = timeout
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.temperature = temperature
        self.extra_body = dict(extra_body) if extra_body else None
        self.requests = 0
        self.cache_hits = 0
        self.retries = 0
        self.failures = 0
        self._lock = threading.Lock()
        self._client: openai.OpenAI | None = None

    def __repr__(self) -> str:
        return (
            f"Judge(model={self.model!r}, base_url={self.base_url!r}, "
            f"api_key_env={self.api_key_env!r}, cache_dir={self.cache_dir!r})"
        )

    # ------------------------------------------------------------------ key
    def has_key(self) -> bool:
        """Whether the key environment variable is set (non-empty); makes no request."""
        return bool(os.environ.get(self.api_key_env))

    def check_key(self, benchmarks: tuple[str, ...] | list[str] = JUDGED_BENCHMARKS) -> None:
        """Raise JudgeKeyError unless the key variable is set, so a CLI can fail before a run.

        ``benchmarks`` are the judged benchmarks named in the message (those about to run).
        """
        if not self.has_key():
            raise JudgeKeyError(_key_message(self.api_key_env, benchmarks))

    # ---------------------------------------------------------------- cache
    def params(self) -> dict[str, Any]:
        """The optional request parameters sent with every request (part of the cache key)."""
        out: dict[str, Any] = {}
        if self.temperature is not None:
            out["temperature"] = self.temperature
        if self.extra_body:
            out["extra_body"] = self.extra_body
        return out

    def cache_key(self, messages: list[dict[str, Any]], model: str) -> str:
        """SHA-256 over (judge model actually used, endpoint, messages, parameters)."""
        payload = {
            "v": CACHE_VERSION,
            "model": self.model or model,
            "base_url": self.base_url,
            "messages": messages,
            "params": self.params(),
        }
        text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def _cache_path(self, key: str) -> Path | None:
        if self.cache_dir is None:
            return None
        return self.cache_dir / key[:2] / f"{key}.json"

    def _cache_read(self, key: str) -> str | None:
        path = self._cache_path(key)
        if path is None or not path.is_file():
            return None
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            logger.warning("ignoring unreadable judge cache file %s: %s", path, exc)
            return None
        reply = record.get("reply") if isinstance(record, dict) else None
        if not isinstance(reply, str):
            logger.warning("ignoring judge cache file without a reply: %s", path)
            return None
        return reply

    def _cache_write(self, key: str, record: dict[str, Any]) -> None:
        path = self._cache_path(key)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{key[:8]}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(record, fh, ensure_ascii=False, indent=1)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def cached(self, messages: list[dict[str, Any]], model: str) -> str | None:
        """The cached reply for this request, or None; never makes a request."""
        return self._cache_read(self.cache_key(messages, model))

    # -------------------------------------------------------------- request
    def complete(self, messages: list[dict[str, Any]], model: str) -> str:
        """Raw reply text for ``messages`` from the cache or the endpoint (``self.model or model``).

        Raises JudgeKeyError without a key (only when a request is needed) and JudgeError when
        the request fails for good. The reply is returned as-is; parsing is the caller's job.
        """
        use_model = self.model or model
        key = self.cache_key(messages, model)
        reply = self._cache_read(key)
        if reply is not None:
            with self._lock:
                self.cache_hits += 1
            return reply
        try:
            reply, info = self._request(messages, use_model)
        except JudgeError:
            with self._lock:
                self.failures += 1
            raise
        self._cache_write(
            key,
            {
                "key": key,
                "request": {
                    "model": use_model,
                    "base_url": self.base_url,
                    "messages": messages,
                    "params": self.params(),
                },
                "reply": reply,
                "response": info,
                "created": datetime.now(UTC).isoformat(timespec="seconds"),
            },
        )
        return reply

    def stats(self) -> dict[str, int]:
        """Counters for a run summary."""
        with self._lock:
            return {
                "requests": self.requests,
                "cache_hits": self.cache_hits,
                "retries": self.retries,
                "failures": self.failures,
            }

    def _get_client(self) -> openai.OpenAI:
        import openai

        with self._lock:
            if self._client is None:
                key = os.environ.get(self.api_key_env)
                if not key:
                    raise JudgeKeyError(_key_message(self.api_key_env, JUDGED_BENCHMARKS))
                # The SDK's own retries are off: retries (and their counting) happen here.
                self._client = openai.OpenAI(
                    api_key=key, base_url=self.base_url, timeout=self.timeout, max_retries=0
                )
            return self._client

    def _redact(self, text: str) -> str:
        key = os.environ.get(self.api_key_env)
        if key and key in text:
            text = text.replace(key, "***")
        return text

    def _delay(self, retry: int, exc: Exception) -> float:
        """Seconds to wait before retry number ``retry`` (1-based): Retry-After or backoff."""
        retry_after = _retry_after(exc)
        if retry_after is not None:
            return min(max(retry_after, 0.0), MAX_RETRY_AFTER)
        base = min(self.max_backoff, self.backoff * 2 ** (retry - 1))
        return base / 2 + random.uniform(0.0, base / 2)

    def _request(self, messages: list[dict[str, Any]], model: str) -> tuple[str, dict[str, Any]]:
        import openai

        client = self._get_client()
        kwargs: dict[str, Any] = {}
        if self.temperature is not None:
            kwargs["temperature"] = self.temperature
        if self.extra_body:
            kwargs["extra_body"] = self.extra_body
        last = ""
        for attempt in range(self.max_retries + 1):
            if attempt:
                with self._lock:
                    self.retries += 1
            with self._lock:
                self.requests += 1
            try:
                completion = client.chat.completions.create(
                    model=model, messages=messages, **kwargs
                )
            except openai.APIStatusError as exc:
                status = exc.status_code
                if status in (401, 403):
                    raise JudgeError(
                        f"judge authentication failed (HTTP {status}) at {self.base_url}; "
                        f"check the key in ${self.api_key_env}"
                    ) from None
                detail = self._redact(_status_detail(exc))
                if status not in RETRYABLE_STATUS and status < 500:
                    raise JudgeError(
                        f"judge request to {self.base_url} (model {model}) was rejected: "
                        f"HTTP {status}: {detail}"
                    ) from None
                last = f"HTTP {status}: {detail}"
                error: Exception = exc
            except openai.APITimeoutError as exc:
                last = f"timed out after {self.timeout:g}s"
                error = exc
            except openai.APIConnectionError as exc:
                last = f"connection error: {self._redact(str(exc))}"
                error = exc
            except openai.OpenAIError as exc:
                raise JudgeError(
                    f"judge request to {self.base_url} (model {model}) failed: "
                    f"{type(exc).__name__}: {self._redact(str(exc))}"
                ) from None
            else:
                return _reply_of(completion, self.base_url, model)
            if attempt < self.max_retries:
                delay = self._delay(attempt + 1, error)
                logger.warning(
                    "judge request (model %s) failed: %s; retry %d/%d in %.2fs",
                    model,
                    last,
                    attempt + 1,
                    self.max_retries,
                    delay,
                )
                time.sleep(delay)
        raise JudgeError(
            f"judge request to {self.base_url} (model {model}) failed after "
            f"{self.max_retries + 1} attempts; last error: {last}"
        )


def _status_detail(exc: openai.APIStatusError) -> str:
    """A short message from an error response body (the ``error.message`` field if present)."""
    body = exc.body
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict) and isinstance(err.get("message"), str):
            return err["message"][:300]
    return str(exc.message)[:300]


def _retry_after(exc: Exception) -> float | None:
    """Seconds from ``retry-after-ms`` / ``Retry-After`` (seconds or HTTP date), else None."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    value = headers.get("retry-after-ms")
    if value is not None:
        try:
            return float(value) / 1000.0
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _reply_of(completion: Any, base_url: str, model: str) -> tuple[str, dict[str, Any]]:
    """Reply text and a small response summary; a body without choices is a JudgeError."""
    try:
        choice = completion.choices[0]
        content = choice.message.content
    except (AttributeError, IndexError, TypeError):
        raise JudgeError(
            f"judge endpoint {base_url} (model {model}) returned a response without choices"
        ) from None
    usage = getattr(completion, "usage", None)
    info = {
        "id": getattr(completion, "id", None),
        "model": getattr(completion, "model", None),
        "finish_reason": getattr(choice, "finish_reason", None),
        "usage": usage.model_dump() if hasattr(usage, "model_dump") else None,
    }
    if content is None:
        refusal = getattr(choice.message, "refusal", None)
        logger.warning("judge reply (model %s) has no content (refusal: %r)", model, refusal)
        content = ""
    return str(content), info
