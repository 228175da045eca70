"""``stop-eval list``, ``--help`` and error paths import only what they need.

No timing here (that depends on the machine): the test checks which heavy modules a command
loads, in a fresh interpreter. ``transformers`` (and the torchvision it pulls in) is only for
commands that build a processor or a model; ``openai`` only for a judged run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

HEAVY = ("transformers", "torchvision", "openai", "matplotlib", "stop_llava.adapter")
PROBE = """
import json, sys
from stop_eval.cli import main
try:
    main({argv!r})
except SystemExit as exc:
    code = exc.code
else:
    code = 0
print(json.dumps({{"code": code, "loaded": [m for m in {heavy!r} if m in sys.modules]}}))
"""


def loaded_by(argv: list[str]) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    code = PROBE.format(argv=argv, heavy=HEAVY)
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["list"], 0),
        (["--help"], 0),
        (["--method", "prunevid"], 2),
        (["--benchmark", "mvbench"], 2),
        (["inspect", "--help"], 0),
        (["inspect", "--backbone", "llava_ov", "--video", "missing.mp4"], 2),
        (["visualize", "--backbone", "llava_ov", "--video", "missing.mp4"], 2),
    ],
)
def test_light_commands_skip_heavy_imports(argv: list[str], code: int) -> None:
    result = loaded_by(argv)
    assert result["code"] == code
    assert result["loaded"] == []


def test_list_still_reports_every_adapter() -> None:
    from stop_eval.backbones.support import supported_backbones

    assert all(supported_backbones().values())
