"""The LLaVA adapter creates every tensor on the model's device (checked without a GPU).

All tensors report ``cuda:0`` under ``FakeDevice`` while they stay on the CPU; a factory call
from stop_llava or stop_core that would land on the CPU is recorded. CUDA synchronisation of
the stage timer is stubbed out (there is no driver).
"""

from __future__ import annotations

import pytest
import torch
from llava_testkit import make_inputs

from stop_core import PruningConfig
from stop_core.testing import FakeDevice
from stop_llava import stop_pruning

OURS = ("stop_llava/", "stop_core/")


@pytest.mark.parametrize("backbone", ["llava_ov", "llava_video"])
@pytest.mark.parametrize("method", ["visionzip", "fastvid", "holitom", "flashvid"])
def test_adapter_tensors_follow_the_model_device(model, processor, monkeypatch, method, backbone):
    monkeypatch.setattr(torch.cuda, "synchronize", lambda *a, **k: None)
    inputs = make_inputs(processor, 2)
    cfg = PruningConfig.preset(method, retention_ratio=0.3, backbone=backbone)
    with stop_pruning(model, cfg, backbone=backbone) as adapter, torch.no_grad():
        with FakeDevice() as fake:
            model(**inputs)
    assert len(adapter.accounting) == 2
    ours = [c for c in fake.factory_calls if c.startswith(OURS)]
    assert any(c.startswith("stop_llava/") for c in ours), "the probe did not see the adapter"
    off = [o for o in fake.off_device if o.caller.startswith(OURS)]
    assert off == [], f"tensors created off the model's device: {off}"
    stray = [c for c in fake.host_copies if not c.startswith("stop_core/methods/holitom.py")]
    assert stray == [], f"unexpected copies to the host: {stray}"
