"""``python -m stop_eval.cli``: the ``stop-eval`` command."""

from stop_eval.cli import main

main()
