"""Entry point of the ``lmms_eval.models`` group: registers ``--model stop`` with lmms-eval.

lmms-eval loads this when it builds its model registry; the model class itself is imported
only when a run asks for it.
"""

from __future__ import annotations

from typing import Any

MODEL_ID = "stop"
CLASS_PATH = "stop_eval.integrations.lmms.model.StopVideoLMM"


def manifests() -> list[Any]:
    """The manifest lmms-eval registers (needs the ``lmms`` extra, i.e. lmms-eval itself)."""
    try:
        from lmms_eval.models.registry_v2 import ModelManifest
    except ImportError as exc:
        raise ImportError(
            "the lmms-eval plugin of stop-eval needs lmms-eval: pip install 'stop-eval[lmms]'"
        ) from exc
    return [ModelManifest(model_id=MODEL_ID, simple_class_path=CLASS_PATH)]
