"""Instrumentation for GPU readiness, usable without a GPU.

``OpCounter`` counts the aten operations of a call and the host synchronisations among them
(what would stall a CUDA stream: ``.item()``, ``.tolist()``, ``nonzero``, boolean-mask
indexing, ``torch.unique``, ...). ``FakeDevice`` makes every tensor report a non-CPU device
while the arithmetic runs on the CPU, and records each tensor created off that device.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode

aten = torch.ops.aten

# aten ops whose output size or value the host must read back (a stream synchronisation).
SYNC_OPS: frozenset[Any] = frozenset(
    {
        aten._local_scalar_dense.default,  # .item(), int(t), float(t), bool(t)
        aten.nonzero.default,
        aten.masked_select.default,
        aten._unique.default,
        aten._unique2.default,
        aten.unique_dim.default,
        aten.unique_consecutive.default,
        aten.repeat_interleave.Tensor,  # output size read from the repeats unless given
        aten.bincount.default,  # output size from the maximum value
        aten.equal.default,
        aten.is_nonzero.default,
        aten._coalesce.default,
    }
)
# aten ops that synchronise only when one of their index tensors is a boolean mask.
MASK_INDEX_OPS: frozenset[Any] = frozenset(
    {
        aten.index.Tensor,
        aten.index_put_.default,
        aten.index_put.default,
        aten._index_put_impl_.default,
    }
)
# Tensor methods that copy to the host without an aten op on CPU tensors (``numpy()`` only
# works on a host tensor, so the ``cpu()`` before it is the synchronisation).
HOST_COPY_METHODS: frozenset[str] = frozenset({"tolist", "cpu"})
# Factory functions: each creates a tensor on the device it is told (the default if not told).
FACTORIES: frozenset[str] = frozenset(
    {
        "arange",
        "empty",
        "empty_strided",
        "eye",
        "full",
        "linspace",
        "logspace",
        "ones",
        "rand",
        "randint",
        "randn",
        "randperm",
        "range",
        "scalar_tensor",
        "tensor",
        "as_tensor",
        "zeros",
        "from_numpy",
    }
)


def _has_mask_index(args: tuple[Any, ...]) -> bool:
    """Whether an index op's index list holds a boolean/uint8 tensor (needs a nonzero)."""
    indices = args[1] if len(args) > 1 else ()
    return any(
        isinstance(i, torch.Tensor) and i.dtype in (torch.bool, torch.uint8)
        for i in (indices or ())
    )


@dataclass
class OpCounts:
    """Aten ops and host synchronisations of one counted region, by name."""

    ops: Counter[str] = field(default_factory=Counter)
    syncs: Counter[str] = field(default_factory=Counter)

    @property
    def num_ops(self) -> int:
        """Total number of aten operations dispatched."""
        return sum(self.ops.values())

    @property
    def num_syncs(self) -> int:
        """Total number of host synchronisations."""
        return sum(self.syncs.values())


class _SyncDispatch(TorchDispatchMode):
    """Counts every aten op and the synchronising ones."""

    def __init__(self, counts: OpCounts) -> None:
        super().__init__()
        self.counts = counts

    def __torch_dispatch__(
        self,
        func: Any,
        types: Any,
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
    ) -> Any:
        name = str(func.overloadpacket.__name__)
        self.counts.ops[name] += 1
        if func in SYNC_OPS:
            if not (func is aten.repeat_interleave.Tensor and (kwargs or {}).get("output_size")):
                self.counts.syncs[name] += 1
        elif func in MASK_INDEX_OPS and _has_mask_index(args):
            self.counts.syncs[f"{name}[bool mask]"] += 1
        return func(*args, **(kwargs or {}))


class _HostCopyFunction(TorchFunctionMode):
    """Counts host copies that do not reach the dispatcher for CPU tensors."""

    def __init__(self, counts: OpCounts) -> None:
        super().__init__()
        self.counts = counts

    def __torch_function__(
        self,
        func: Callable[..., Any],
        types: Any,
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
    ) -> Any:
        name = getattr(func, "__name__", "")
        if name in HOST_COPY_METHODS:
            self.counts.syncs[name] += 1
        return func(*args, **(kwargs or {}))


class OpCounter:
    """``with OpCounter() as c: ...`` then ``c.counts.num_ops`` / ``c.counts.num_syncs``."""

    def __init__(self) -> None:
        self.counts = OpCounts()
        self._modes = (_HostCopyFunction(self.counts), _SyncDispatch(self.counts))

    def __enter__(self) -> OpCounter:
        for mode in self._modes:
            mode.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        for mode in reversed(self._modes):
            mode.__exit__(*exc)


def count_ops(fn: Callable[[], Any]) -> OpCounts:
    """Run ``fn()`` once and return its aten-op and host-sync counts."""
    with OpCounter() as counter:
        fn()
    return counter.counts


@dataclass(frozen=True)
class OffDeviceTensor:
    """A tensor created away from the input device: the factory and the code that called it."""

    factory: str
    device: str
    caller: str


class FakeDevice(TorchFunctionMode):
    """Every tensor reports ``device`` (default ``cuda:0``) while it stays on the CPU.

    Code under test then passes the fake device wherever it follows its inputs; those
    arguments are mapped back to the CPU. A factory call that lands anywhere else (no
    ``device=``, or an explicit CPU) is recorded in ``off_device`` unless it draws random
    numbers on the device of the generator it was given. ``.cpu()``/``.to("cpu")`` of a
    tensor is recorded in ``host_copies``; the caller of every factory in ``factory_calls``.
    """

    def __init__(self, device: str = "cuda:0") -> None:
        super().__init__()
        self.device = torch.device(device)
        self.off_device: list[OffDeviceTensor] = []
        self.factory_calls: list[str] = []  # the caller of every factory call seen
        self.host_copies: list[str] = []

    def _is_fake(self, value: object) -> bool:
        if isinstance(value, str):
            try:
                value = torch.device(value)
            except RuntimeError:  # a string argument that is not a device ("fro", ...)
                return False
        return isinstance(value, torch.device) and value.type == self.device.type

    def _real(self, value: Any) -> Any:
        """Map the fake device (as ``torch.device`` or string) back to the CPU, recursively."""
        if self._is_fake(value):
            return torch.device("cpu")
        if isinstance(value, (list, tuple)):
            return type(value)(self._real(v) for v in value)
        return value

    def __torch_function__(
        self,
        func: Callable[..., Any],
        types: Any,
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
    ) -> Any:
        kwargs = dict(kwargs or {})
        if func == torch.Tensor.device.__get__:
            return self.device
        if func == torch.Tensor.is_cuda.__get__:
            return self.device.type == "cuda"
        if func == torch.Tensor.is_cpu.__get__:
            return False
        name = getattr(func, "__name__", "")
        # as_tensor(t)/tensor(t) of a tensor keep its device: not a new placement
        wraps_tensor = name in ("as_tensor", "tensor") and isinstance(args[0], torch.Tensor)
        if name in FACTORIES and not wraps_tensor:
            self._check_factory(name, kwargs)
        elif name == "cpu" or (name == "to" and self._moves_to_cpu(args, kwargs)):
            self.host_copies.append(_caller())
        args = tuple(self._real(a) for a in args)
        kwargs = {k: self._real(v) for k, v in kwargs.items()}
        return func(*args, **kwargs)

    def _check_factory(self, name: str, kwargs: dict[str, Any]) -> None:
        device = kwargs.get("device")
        generator = kwargs.get("generator")
        self.factory_calls.append(_caller())
        if self._is_fake(device):
            return
        follows_generator = generator is not None and device is not None
        if follows_generator and torch.device(device) == generator.device:
            return  # random draws follow their generator (a CPU generator: same numbers anywhere)
        self.off_device.append(OffDeviceTensor(name, str(device), _caller()))

    def _moves_to_cpu(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
        targets = [*args[1:], kwargs.get("device")]
        return any(
            (isinstance(t, str) and t.startswith("cpu"))
            or (isinstance(t, torch.device) and t.type == "cpu")
            for t in targets
        )


def _caller() -> str:
    """``path:line`` of the innermost frame outside torch (who asked for the tensor).

    Package files are named from their ``src/`` folder, e.g. ``stop_core/ops.py:56``.
    """
    import sys

    frame = sys._getframe(2)
    while frame is not None:
        path = frame.f_code.co_filename
        if "/torch/" not in path and not path.endswith("probe.py"):
            where = path.rsplit("/src/", 1)[-1] if "/src/" in path else path.rsplit("/", 1)[-1]
            return f"{where}:{frame.f_lineno}"
        frame = frame.f_back
    return "unknown"
