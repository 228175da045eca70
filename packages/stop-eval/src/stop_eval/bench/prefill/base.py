"""What ``stop-bench prefill`` asks of a backbone: a spec, a session that feeds it, its sizes.

Each backbone with a prefill benchmark has a session module named after it in this folder;
``registry`` lists them and ``run`` times what they feed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import torch

if TYPE_CHECKING:
    from stop_core import PruningConfig
    from stop_core.adapter import SampleAccounting


class PrefillSession(Protocol):
    """One model and one random video, ready for ``stop-bench prefill``'s timed stages.

    ``inputs`` describes the video as fed (frame size, visual tokens, ...) for the table and
    the JSON; ``capture_gflops`` is the analytic cost of the attention capture.
    """

    model: torch.nn.Module
    inputs: dict[str, Any]
    capture_gflops: float

    def vision(self) -> Any:  # noqa: ANN401
        """One plain pass of the vision tower (no hooks)."""

    def encode(self) -> tuple[Any, float]:  # noqa: ANN401
        """One tower pass with every capture hook: (encoded video, seconds spent in the hooks)."""

    def pruner(
        self, cfg: PruningConfig
    ) -> Callable[[Any], tuple[dict[str, Any], SampleAccounting]]:
        """For ``cfg``: encoded video -> (LLM inputs with the pruned video, its accounting)."""


@dataclass(frozen=True)
class PrefillSpec:
    """What ``stop-bench prefill`` asks of a backbone: model size, video length, prompt, dtypes.

    ``backbone`` is the entry's name (the adapter's backbone); ``capture_dtype`` None: the
    attention reduction runs in the tower's dtype.
    """

    backbone: str
    size: str
    frames: int
    text_tokens: int
    device: torch.device
    dtype: torch.dtype
    capture_dtype: torch.dtype | None = None


# (spec, a prebuilt model or None to build the size preset) -> a ready session
PrefillSessionFactory = Callable[[PrefillSpec, "torch.nn.Module | None"], PrefillSession]


@dataclass(frozen=True)
class PrefillBench:
    """A backbone's ``stop-bench prefill``: its size presets and the session that feeds them."""

    backbone: str
    sizes: tuple[str, ...]
    session: PrefillSessionFactory
