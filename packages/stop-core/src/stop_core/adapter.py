"""The backbone-independent half of a model adapter: attach/detach, wrappers, accounting.

A backbone package subclasses ``StopAdapter`` with what is specific to it (where the vision
tower is, how attention is captured, pooling, layout) by implementing ``prepare_inputs``.
Attaching sets per-instance ``generate``/``forward`` wrappers on one model object (never on
its class) so that a pruned and an unpruned model can live in one process; ``detach``
restores exactly what was there.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

import torch

from stop_core.config import PruningConfig

ADAPTER_ATTRIBUTE = "_stop_adapter"
_WRAPPED = ("generate", "forward")


@dataclass
class SampleAccounting:
    """What pruning did to one video of one sample, with the time each stage took."""

    sample: int
    video: int
    frames: int
    tokens_before: int
    requested: int
    kept: int
    sequence_tokens: int
    attention_layer: int | None
    method: str
    use_stop: bool
    vision_seconds: float = 0.0
    capture_seconds: float = 0.0
    prune_seconds: float = 0.0
    notes: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly copy."""
        return asdict(self)


class StageTimer:
    """Accumulates wall time per named stage (synchronising CUDA around each stage)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def stage(self, name: str, device: torch.device | None = None) -> Iterator[None]:
        """Time the body of a ``with`` block under ``name``."""
        cuda = device is not None and device.type == "cuda"
        if cuda:
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        try:
            yield
        finally:
            if cuda:
                torch.cuda.synchronize(device)
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start


class StopAdapter:
    """Instance-scoped SToP pruning on one model; subclasses implement ``prepare_inputs``."""

    backbone: ClassVar[str] = ""
    video_input_key: ClassVar[str] = "pixel_values_videos"

    def __init__(self, model: torch.nn.Module, cfg: PruningConfig, *, seed: int = 0) -> None:
        if not isinstance(cfg, PruningConfig):
            raise TypeError(f"cfg must be a PruningConfig, got {type(cfg).__name__}")
        self.model = model
        self.cfg = cfg
        self.seed = seed
        self.accounting: list[SampleAccounting] = []
        self.last_input_length = 0
        self._saved: dict[str, Any] = {}
        self._attached = False

    # -- lifecycle ---------------------------------------------------------------------------
    def attach(self) -> StopAdapter:
        """Install the per-instance wrappers; a model holds at most one adapter."""
        current = self.model.__dict__.get(ADAPTER_ATTRIBUTE)
        if current is not None:
            raise RuntimeError(
                f"{type(self.model).__name__} already has SToP applied "
                f"({current.cfg.method}); call remove_stop(model) first"
            )
        for name in _WRAPPED:
            self._saved[name] = self.model.__dict__.get(name, _MISSING)
        self.model.__dict__["generate"] = self._wrap(self._saved["generate"], "generate")
        self.model.__dict__["forward"] = self._wrap(self._saved["forward"], "forward")
        self.model.__dict__[ADAPTER_ATTRIBUTE] = self
        self._attached = True
        return self

    def detach(self) -> None:
        """Restore the model's own ``generate``/``forward`` (instance attributes included)."""
        if not self._attached:
            return
        for name in _WRAPPED:
            saved = self._saved.pop(name)
            if saved is _MISSING:
                self.model.__dict__.pop(name, None)
            else:
                self.model.__dict__[name] = saved
        self.model.__dict__.pop(ADAPTER_ATTRIBUTE, None)
        self._attached = False

    def _wrap(self, saved: Any, name: str) -> Callable[..., Any]:  # noqa: ANN401
        """A replacement that prepares pruned inputs, then calls the original.

        The wrapper carries the original's signature (``functools.wraps``): ``generate``
        inspects ``forward``'s parameters to decide, e.g., whether to compute only the last
        logits, so a bare ``(*args, **kwargs)`` would change the numerics.
        """
        original = saved if saved is not _MISSING else getattr(self.model, name)

        @functools.wraps(original)
        def wrapper(*args: Any, **kwargs: Any) -> Any:  # noqa: ANN401
            if self.wants_pruning(name, args, kwargs):
                kwargs = self.prepare_inputs(self.collect_kwargs(name, args, kwargs))
                self.last_input_length = int(kwargs["input_ids"].shape[1])
                args = ()
            return original(*args, **kwargs)

        return wrapper

    # -- what subclasses provide --------------------------------------------------------------
    def wants_pruning(self, name: str, args: tuple, kwargs: dict[str, Any]) -> bool:
        """Prune when a video is given and this is a prefill (no cache content yet)."""
        if kwargs.get(self.video_input_key) is None:
            return False
        if kwargs.get("mm_encoder_outputs") is not None:
            return False
        cache = kwargs.get("past_key_values")
        return not (cache is not None and _cache_length(cache) > 0)

    def collect_kwargs(self, name: str, args: tuple, kwargs: dict[str, Any]) -> dict[str, Any]:
        """Fold positional arguments into keywords (``input_ids`` is the only positional one)."""
        if len(args) > 1:
            raise TypeError(f"{name}() with SToP applied takes keyword arguments after input_ids")
        if args:
            kwargs = {"input_ids": args[0], **kwargs}
        return dict(kwargs)

    def prepare_inputs(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        """Turn a call with raw video inputs into one with pruned ``mm_encoder_outputs``."""
        raise NotImplementedError

    def generator(self) -> torch.Generator:
        """A fresh CPU generator seeded with the adapter's seed (same result for every call)."""
        return torch.Generator().manual_seed(self.seed)


def _cache_length(cache: Any) -> int:  # noqa: ANN401 - any transformers Cache or legacy tuple
    if hasattr(cache, "get_seq_length"):
        return int(cache.get_seq_length())
    if isinstance(cache, (tuple, list)) and cache and cache[0] is not None:
        return int(cache[0][0].shape[-2])
    return 0


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING: Any = _Missing()


def pad_token_id(model: torch.nn.Module) -> int:
    """The pad id generation uses (generation config, then model configs, else 0)."""
    for source in (
        getattr(model, "generation_config", None),
        model.config,
        getattr(model.config, "text_config", None),
    ):
        value = getattr(source, "pad_token_id", None) if source is not None else None
        if value is not None:
            return int(value[0] if isinstance(value, (list, tuple)) else value)
    return 0


def get_adapter(model: torch.nn.Module) -> StopAdapter | None:
    """The adapter attached to ``model``, if any."""
    return model.__dict__.get(ADAPTER_ATTRIBUTE)


def remove_adapter(model: torch.nn.Module) -> bool:
    """Detach the adapter of ``model``; returns whether there was one."""
    adapter = get_adapter(model)
    if adapter is None:
        return False
    adapter.detach()
    return True


@contextlib.contextmanager
def adapter_context(adapter: StopAdapter) -> Iterator[StopAdapter]:
    """Attach ``adapter`` for the body of a ``with`` block and always detach it afterwards."""
    adapter.attach()
    try:
        yield adapter
    finally:
        adapter.detach()
