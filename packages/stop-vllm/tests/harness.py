"""Run one prompt with one video through vLLM (in-process) and through stop-qwen's adapter."""

from __future__ import annotations

import gc
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

QUESTION = "what happens?"
FPS = 2.0


RECORDED: list[torch.Tensor] = []  # positions the in-process language model received
EMBEDS: list[torch.Tensor] = []  # the hidden states its first layer received
SPANS: list[torch.Tensor] = []  # per video, what the model's pruning path handed vLLM


def install_recorder(model: torch.nn.Module) -> None:
    """Record the M-RoPE positions of every language-model call (runs inside the engine).

    The hook sits on the first decoder layer (the text model's own ``__call__`` is replaced
    by vLLM's compile wrapper, which skips hooks); engines here run uncompiled.
    """

    def pre(_module: torch.nn.Module, args: tuple, kwargs: dict[str, Any]) -> None:
        positions = kwargs.get("positions", args[0] if args else None)
        hidden = kwargs.get("hidden_states", args[1] if len(args) > 1 else None)
        if positions is not None:
            RECORDED.append(positions.detach().clone())
        if hidden is not None:
            EMBEDS.append(hidden.detach().clone())

    model.language_model.model.layers[0].register_forward_pre_hook(pre, with_kwargs=True)
    postprocess = model._postprocess_video_embeds_evs

    def spans(embeds: Any, video_input: Any) -> Any:  # noqa: ANN401
        out = postprocess(embeds, video_input)
        SPANS.extend(x.detach().clone() for x in out)
        return out

    model._postprocess_video_embeds_evs = spans


@dataclass
class Run:
    """What one engine did with the prompt: its ids, first-token log-probs, LLM positions."""

    prompt_ids: list[int]
    logprobs: dict[int, float]
    positions: torch.Tensor | None = None  # [3, N] M-RoPE ids the language model received
    kept: int | None = None
    embeds: torch.Tensor | None = None  # [N, D] what the first text layer received
    spans: list[torch.Tensor] | None = None  # vLLM: per video, the pruning path's output
    deepstack: list[torch.Tensor] | None = None  # transformers: per level, [kept, D]


def metadata(frames: np.ndarray) -> dict[str, Any]:
    """Video metadata as vLLM's loaders give it: every frame sampled at ``FPS``."""
    n = len(frames)
    return {
        "fps": FPS,
        "total_num_frames": n,
        "duration": n / FPS,
        "frames_indices": list(range(n)),
        "video_backend": "opencv",
    }


def prompt_of(path: Path) -> str:
    """The checkpoint's own chat template around one video and ``QUESTION``."""
    from transformers import AutoProcessor

    processor = AutoProcessor.from_pretrained(path)
    messages = [
        {"role": "user", "content": [{"type": "video"}, {"type": "text", "text": QUESTION}]}
    ]
    return processor.apply_chat_template(messages, add_generation_prompt=True)


def vllm_run(
    path: Path,
    frames: np.ndarray,
    stop: dict[str, Any] | None = None,
    rate: float | None = None,
    top: int = 8,
    **engine: Any,  # noqa: ANN401 - more engine arguments (e.g. max_num_batched_tokens)
) -> Run:
    """One greedy token through an in-process ``vllm.LLM`` (engine closed afterwards).

    The positions and embeddings are those of every forward pass of the prefill in order, so
    a prompt split into several chunks is put back together.
    """
    return vllm_runs(path, [frames], stop, rate, top, **engine)[0]


def vllm_runs(
    path: Path,
    videos: list[np.ndarray],
    stop: dict[str, Any] | None = None,
    rate: float | None = None,
    top: int = 8,
    **engine: Any,  # noqa: ANN401
) -> list[Run]:
    """One request per video, submitted together; positions/embeds only for a single one."""
    from vllm import LLM, SamplingParams
    from vllm.distributed import cleanup_dist_env_and_memory

    options: dict[str, Any] = dict(engine)
    if rate is not None:
        options["video_pruning_rate"] = rate
    if stop is not None:
        options["hf_overrides"] = {"stop_pruning": stop}
    llm = LLM(
        model=str(path),
        dtype="float32",
        max_model_len=4096,
        limit_mm_per_prompt={"video": 1, "image": 0},
        enforce_eager=True,
        compilation_config={"mode": 0},
        enable_prefix_caching=False,
        seed=0,
        **options,
    )
    try:
        for store in (RECORDED, EMBEDS, SPANS):
            store.clear()
        llm.apply_model(install_recorder)
        prompt = prompt_of(path)
        requests = [
            {
                "prompt": prompt,
                "multi_modal_data": {"video": (frames, metadata(frames))},
                "mm_processor_kwargs": {"do_sample_frames": False},
            }
            for frames in videos
        ]
        params = SamplingParams(max_tokens=1, logprobs=top, temperature=0.0)
        outs = llm.generate(requests, params, use_tqdm=False)
        single = len(videos) == 1
        runs = []
        for out in outs:
            first = out.outputs[0].logprobs[0]
            n = len(out.prompt_token_ids)
            runs.append(
                Run(
                    prompt_ids=list(out.prompt_token_ids),
                    logprobs={int(k): float(v.logprob) for k, v in first.items()},
                    positions=torch.cat(RECORDED, dim=-1)[..., :n].cpu() if single else None,
                    embeds=torch.cat(EMBEDS, dim=0)[:n].cpu() if single else None,
                    spans=[x.cpu() for x in SPANS],
                )
            )
        return runs
    finally:
        del llm
        gc.collect()
        cleanup_dist_env_and_memory()


def transformers_run(
    path: Path,
    frames: np.ndarray,
    cfg: Any = None,  # noqa: ANN401
    scorer: str = "attention",
    block: int | None = None,
) -> tuple[Run, dict[str, torch.Tensor]]:
    """The same request through transformers, pruned by ``stop_qwen.stop_pruning`` if ``cfg``.

    Returns the run (log-probs of every token) and the processor's unpruned inputs.
    """
    from transformers import AutoModelForImageTextToText, AutoProcessor

    from stop_qwen import stop_pruning

    processor = AutoProcessor.from_pretrained(path)
    model = AutoModelForImageTextToText.from_pretrained(path, dtype=torch.float32).eval()
    inputs = dict(
        processor(
            text=[prompt_of(path)],
            videos=[frames],
            return_tensors="pt",
            videos_kwargs={"video_metadata": [metadata(frames)], "do_sample_frames": False},
        )
    )
    seen: list[dict[str, Any]] = []

    def pre(_module: torch.nn.Module, args: tuple, kwargs: dict[str, Any]) -> None:
        deepstack = kwargs.get("deepstack_visual_embeds")
        seen.append(
            {
                "positions": kwargs["position_ids"].detach().clone(),
                "embeds": kwargs["inputs_embeds"].detach().clone(),
                "deepstack": None if deepstack is None else [d.detach().clone() for d in deepstack],
            }
        )

    handle = model.model.language_model.register_forward_pre_hook(pre, with_kwargs=True)
    kept = None
    try:
        with torch.no_grad():
            if cfg is None:
                logits = model(**inputs).logits[0, -1]
            else:
                with stop_pruning(model, cfg, scorer=scorer, block=block) as adapter:
                    logits = model(**inputs).logits[0, -1]
                    kept = sum(record.kept for record in adapter.accounting)
    finally:
        handle.remove()
    logprobs = torch.log_softmax(logits.float(), dim=-1)
    positions = seen[-1]["positions"]
    rows = positions[1:, 0] if positions.shape[0] == 4 else positions[:, 0]
    run = Run(
        prompt_ids=inputs["input_ids"][0].tolist(),
        logprobs={i: float(v) for i, v in enumerate(logprobs.tolist())},
        positions=rows,
        kept=kept,
        embeds=seen[-1]["embeds"][0],
        deepstack=seen[-1]["deepstack"],
    )
    return run, inputs


def processed_lengths(
    path: Path,
    videos: list[np.ndarray],
    stop: dict[str, Any] | None = None,
    rate: float | None = None,
) -> list[int]:
    """Prompt lengths vLLM's input processing gives each video (no model is run)."""
    from vllm import LLM, SamplingParams
    from vllm.distributed import cleanup_dist_env_and_memory

    options: dict[str, Any] = {}
    if rate is not None:
        options["video_pruning_rate"] = rate
    if stop is not None:
        options["hf_overrides"] = {"stop_pruning": stop}
    llm = LLM(
        model=str(path),
        dtype="float32",
        max_model_len=8192,
        limit_mm_per_prompt={"video": 1, "image": 0},
        enforce_eager=True,
        **options,
    )
    try:
        prompt = prompt_of(path)
        lengths = []
        for i, frames in enumerate(videos):
            request = {
                "prompt": prompt,
                "multi_modal_data": {"video": (frames, metadata(frames))},
                "mm_processor_kwargs": {"do_sample_frames": False},
            }
            processed = llm.llm_engine.input_processor.process_inputs(
                f"count-{i}", request, SamplingParams(max_tokens=1), supported_tasks=("generate",)
            )
            lengths.append(len(processed.prompt_token_ids))
        return lengths
    finally:
        del llm
        gc.collect()
        cleanup_dist_env_and_memory()


def unpruned_inputs(path: Path, frames: np.ndarray) -> dict[str, Any]:
    """The checkpoint's processor on the request: unpruned ids and the video grid."""
    from transformers import AutoProcessor

    processor = AutoProcessor.from_pretrained(path)
    return dict(
        processor(
            text=[prompt_of(path)],
            videos=[frames],
            return_tensors="pt",
            videos_kwargs={"video_metadata": [metadata(frames)], "do_sample_frames": False},
        )
    )
