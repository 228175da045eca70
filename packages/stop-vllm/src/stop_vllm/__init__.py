"""stop_vllm: SToP pruning where video LLMs are served, as a vLLM plugin.

Installed = available, inert unless asked: ``--video-pruning-rate 0.9 --hf-overrides
'{"stop_pruning": {"method": "holitom"}}'`` prunes each video with SToP (see
``stop_vllm.settings``). Importing this package does not import vLLM.
"""

__version__ = "0.1.0"
