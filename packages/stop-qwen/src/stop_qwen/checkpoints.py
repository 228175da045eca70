"""The configuration files of the reference Qwen checkpoints, bundled verbatim (no weights).

``Qwen2.5-VL-7B-Instruct`` and ``Qwen3-VL-8B-Instruct`` as published (Apache-2.0): the model
config, the processor configs and the chat template (folder ``hf_configs``, README there).
``stop_qwen.testing`` scales them down to tiny random models of the same structure;
stop-eval reads the real processor settings from them. One copy for the whole workspace.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FOLDER = Path(__file__).resolve().parent / "hf_configs"
QWEN2_5_VL_7B = "Qwen2.5-VL-7B-Instruct"
QWEN3_VL_8B = "Qwen3-VL-8B-Instruct"


def checkpoint_dir(name: str) -> Path:
    """The folder of checkpoint ``name``'s configuration files, or ``FileNotFoundError``."""
    folder = FOLDER / name
    if not (folder / "config.json").is_file():
        known = sorted(p.name for p in FOLDER.iterdir() if p.is_dir())
        raise FileNotFoundError(f"no bundled configuration folder {folder} (known: {known})")
    return folder


def load_json(name: str, file: str) -> dict[str, Any]:
    """One JSON file of checkpoint ``name`` (e.g. ``config.json``)."""
    return json.loads((checkpoint_dir(name) / file).read_text(encoding="utf-8"))
