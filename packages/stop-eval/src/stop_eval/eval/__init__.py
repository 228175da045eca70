"""The evaluation: the model wrapper, run options, answering, the runner, records, prompts.

Built on the backbones and the benchmarks; nothing here imports the benches, the demo, the
visualisation or the CLI.
"""
