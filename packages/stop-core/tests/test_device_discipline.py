"""Every tensor ``prune`` creates follows the input's device (checked without a GPU).

``FakeDevice`` makes all tensors report ``cuda:0`` while they stay on the CPU; a factory call
that would land on the CPU next to such an input (no ``device=``, or an explicit CPU) is
recorded. Random draws may follow their generator's device instead (a CPU generator gives
the same numbers on every device; a CUDA generator draws on CUDA).
"""

from __future__ import annotations

import pytest
import torch

from stop_core import PruningConfig, prune
from stop_core.ops import density_knn
from stop_core.registry import available_methods
from stop_core.testing import FakeDevice, synthetic_tokens

METHODS = available_methods()
# HoliTom's window DP runs on the host by design: one [T-1, T] count matrix per call.
ALLOWED_HOST_COPIES = ("stop_core/methods/holitom.py",)


def _tokens():
    return synthetic_tokens(8, (6, 6), 16, scenes=3)


@pytest.mark.parametrize("use_stop", [False, True], ids=["base", "stop"])
@pytest.mark.parametrize("variant", ["reference", "fixed"])
@pytest.mark.parametrize("method", METHODS)
def test_prune_creates_tensors_on_the_input_device(method, variant, use_stop) -> None:
    tokens = _tokens()
    cfg = PruningConfig.preset(method, retention_ratio=0.2, use_stop=use_stop, variant=variant)
    with FakeDevice() as fake:
        out = prune(tokens, cfg, generator=torch.Generator().manual_seed(0))
    assert out.kept > 0
    assert fake.factory_calls, "the probe saw no factory call at all"
    assert fake.off_device == [], f"tensors created off the input device: {fake.off_device}"
    stray = [c for c in fake.host_copies if not c.startswith(ALLOWED_HOST_COPIES)]
    assert stray == [], f"unexpected copies to the host: {stray}"


def test_probe_flags_a_tensor_created_without_device() -> None:
    """The probe itself: a bare factory next to an input is caught, a following one is not."""
    x = torch.ones(3)
    with FakeDevice() as fake:
        torch.zeros(3, device=x.device)
        x.new_zeros(2)
        torch.arange(3)
        torch.ones(2, device="cpu")
    assert [o.factory for o in fake.off_device] == ["arange", "ones"]
    assert all(o.caller.startswith("test_device_discipline.py:") for o in fake.off_device)


def test_random_draws_follow_the_generator_device() -> None:
    """The density noise is drawn on the generator's device (a CUDA generator works)."""
    dist = torch.rand(2, 5, 5, generator=torch.Generator().manual_seed(1))
    with FakeDevice() as fake:
        density_knn(dist, 2, torch.Generator().manual_seed(0))
    assert fake.off_device == []
    assert len(fake.factory_calls) == 1 and fake.factory_calls[0].startswith("stop_core/ops.py")


@pytest.mark.cuda
@pytest.mark.parametrize("method", METHODS)
def test_cuda_generator_is_accepted(method) -> None:
    tokens = synthetic_tokens(8, (6, 6), 16, scenes=3, device="cuda")
    for use_stop in (False, True):
        cfg = PruningConfig.preset(method, retention_ratio=0.2, use_stop=use_stop)
        out = prune(tokens, cfg, generator=torch.Generator(device="cuda").manual_seed(0))
        assert out.features.is_cuda and out.frame_index.is_cuda and out.position.is_cuda
