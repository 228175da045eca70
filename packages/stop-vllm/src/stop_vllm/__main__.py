"""``python -m stop_vllm serve ...``: vLLM's command line (see ``stop_vllm.cli``)."""

from stop_vllm.cli import main

main()
