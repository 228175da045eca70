"""The ``vllm.general_plugins`` entry point: register the SToP-aware model classes.

vLLM calls ``register`` in every process it starts. The classes replace vLLM's own for the
architectures below and act exactly as them unless the config carries ``stop_pruning``.
"""

from __future__ import annotations

from typing import Any

MODELS: dict[str, str] = {
    "Qwen2_5_VLForConditionalGeneration": (
        "stop_vllm.qwen2_5_vl:StopQwen2_5_VLForConditionalGeneration"
    ),
    "Qwen3VLForConditionalGeneration": "stop_vllm.qwen3_vl:StopQwen3VLForConditionalGeneration",
}


def register() -> None:
    """Register the model classes (lazily, by name) and the CPU build's fixes."""
    from vllm import ModelRegistry

    from stop_vllm.distribution import alias_cpu_build

    alias_cpu_build()
    for architecture, target in MODELS.items():
        ModelRegistry.register_model(architecture, target)
    _fix_cpu_runner_pruning_flag()


def _fix_cpu_runner_pruning_flag() -> None:
    """Set the CPU runner's ``is_multimodal_pruning_enabled`` as the GPU runner does.

    vLLM 0.32's CPU runner never sets it, so pruned embeddings would reach the language model
    without re-computed M-RoPE positions. Only for SToP-configured models on the CPU runner,
    after ``load_model``; other models (vLLM's own EVS included) are left as they are.
    """
    try:
        from vllm.v1.worker.cpu_model_runner import CPUModelRunner
    except ImportError:  # a build without the CPU runner
        return
    original = CPUModelRunner.load_model
    if getattr(original, "_stop_sets_pruning_flag", False):
        return

    def load_model(self: Any, *args: Any, **kwargs: Any) -> None:  # noqa: ANN401
        original(self, *args, **kwargs)
        model = self.get_model()
        mm_config = self.model_config.multimodal_config
        if (
            getattr(model, "stop_settings", None) is not None
            and not getattr(self, "is_multimodal_pruning_enabled", False)
            and mm_config is not None
            and mm_config.is_multimodal_pruning_enabled()
        ):
            self.is_multimodal_pruning_enabled = True

    load_model._stop_sets_pruning_flag = True  # type: ignore[attr-defined]
    CPUModelRunner.load_model = load_model  # type: ignore[method-assign]
