"""The mutation fuzz campaign against hostile model files and inputs (issue 10).

``python -m tests.fuzz --mutants N --seed S [--workers 1] [--report out.json]`` mutates every kind of model kwsnum
writes (tests/fuzz/seeds.py) in the ways of tests/fuzz/mutators.py, runs ``inspect``, ``run`` and for a sample
``codegen`` (some with ``--build``) of the real CLI on each mutant in a long-lived worker (tests/fuzz/worker.py),
and classifies every outcome (tests/fuzz/runner.py). Exit code 1 if any operation failed.
"""
