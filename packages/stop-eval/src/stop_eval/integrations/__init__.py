"""stop-eval plugged into other evaluation frameworks through their own entry points."""
