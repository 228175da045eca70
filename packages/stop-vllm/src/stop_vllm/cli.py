"""``stop-vllm``: vLLM's own command line (``stop-vllm serve ...`` = ``vllm serve ...``).

Identical to ``vllm`` except that it also runs on the CPU build, whose ``vllm`` command stops
at start-up (see ``stop_vllm.distribution``). The plugin loads either way.
"""

from __future__ import annotations

from stop_vllm.distribution import alias_cpu_build


def main() -> None:
    """Run vLLM's CLI with the CPU build's distribution name resolved."""
    alias_cpu_build()
    from vllm.entrypoints.cli.main import main as vllm_main

    vllm_main()


if __name__ == "__main__":
    main()
