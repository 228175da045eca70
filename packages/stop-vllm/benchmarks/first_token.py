"""Prompt tokens and time to first token: plain vLLM vs SToP, on tiny random checkpoints.

Run from packages/stop-vllm: ``uv run --locked python benchmarks/first_token.py``. Each
setting gets its own in-process engine; every request carries a different video (no cache
hits) and asks for one token, so its wall time is the time to first token. Prints a
Markdown table and writes JSON next to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import checkpoints  # noqa: E402
from harness import metadata, prompt_of  # noqa: E402

METHODS = ("visionzip", "fastvid", "holitom", "flashvid")


def measure(
    path: Path, side: int, frames: int, repeats: int, stop: dict | None, rate: float | None
) -> dict:
    """Median time to first token and the prompt length of one engine setting."""
    import gc

    from vllm import LLM, SamplingParams
    from vllm.distributed import cleanup_dist_env_and_memory

    options = {}
    if stop is not None:
        options = {"video_pruning_rate": rate, "hf_overrides": {"stop_pruning": stop}}
    llm = LLM(
        model=str(path), dtype="float32", max_model_len=8192, enforce_eager=True,
        limit_mm_per_prompt={"video": 1, "image": 0}, enable_prefix_caching=False, seed=0,
        **options,
    )  # fmt: skip
    prompt = prompt_of(path)
    params = SamplingParams(max_tokens=1, temperature=0.0)
    times, lengths = [], []
    for i in range(repeats + 1):  # the first request warms the engine up
        video = checkpoints.video(100 + i, frames, side)
        request = {
            "prompt": prompt,
            "multi_modal_data": {"video": (video, metadata(video))},
            "mm_processor_kwargs": {"do_sample_frames": False},
        }
        start = time.perf_counter()
        out = llm.generate(request, params, use_tqdm=False)[0]
        if i:
            times.append(time.perf_counter() - start)
            lengths.append(len(out.prompt_token_ids))
    del llm
    gc.collect()
    cleanup_dist_env_and_memory()
    return {"ttft_ms": 1000 * statistics.median(times), "prompt_tokens": lengths[0]}


def main() -> None:
    """Measure every backbone x (plain, each method with SToP) and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=32, help="frames per video (default 32)")
    parser.add_argument("--repeats", type=int, default=5, help="timed requests (default 5)")
    parser.add_argument("--rate", type=float, default=0.9, help="video pruning rate (default 0.9)")
    parser.add_argument("--out", type=Path, default=Path("first_token.json"), help="JSON output")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, kind in checkpoints.KINDS.items():
            path = checkpoints.save_checkpoint(name, Path(tmp) / name)
            plain = measure(path, kind.side, args.frames, args.repeats, None, None)
            rows.append({"backbone": name, "setting": "plain vLLM", **plain})
            for method in METHODS:
                stop = {"method": method, "scorer": "attention"}
                got = measure(path, kind.side, args.frames, args.repeats, stop, args.rate)
                rows.append({"backbone": name, "setting": f"{method} + SToP", **got})
    args.out.write_text(
        json.dumps({"frames": args.frames, "rate": args.rate, "rows": rows}, indent=2)
    )
    print("| backbone | setting | prompt tokens | time to first token |")
    print("|---|---|---|---|")
    for row in rows:
        cells = [row["backbone"], row["setting"], row["prompt_tokens"], f"{row['ttft_ms']:.0f} ms"]
        print("| " + " | ".join(str(cell) for cell in cells) + " |")


if __name__ == "__main__":
    main()
