"""Test instruments for pruning code: op/sync counting, a fake device and synthetic videos.

``OpCounter`` / ``count_ops`` count the aten operations of a call and the host
synchronisations among them; ``FakeDevice`` makes tensors report a non-CPU device while the
arithmetic stays on the CPU; ``synthetic_tokens`` is a video with scenes and planted sinks.
Torch only, like the rest of stop_core.
"""

from stop_core.testing.probe import FakeDevice, OffDeviceTensor, OpCounter, OpCounts, count_ops
from stop_core.testing.synthetic import LAYOUTS, synthetic_tokens, with_layout

__all__ = [
    "LAYOUTS",
    "FakeDevice",
    "OffDeviceTensor",
    "OpCounter",
    "OpCounts",
    "count_ops",
    "synthetic_tokens",
    "with_layout",
]
