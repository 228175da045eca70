"""stop_eval: benchmarks and (to come) the evaluation package of SToP pruning."""

__version__ = "0.1.0"
