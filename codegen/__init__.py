"""C code generation: a model -> a standalone C99 project (static arena, const weights, the kwsnum C runtime).

- :func:`generate` (codegen/emit.py) writes the project atomically; :func:`build` compiles it; :func:`verify`
  runs its host harness and compares every output element with the oracle.
- :mod:`kwsnum.codegen.planner` plans the activation arena (tensor lifetimes + TFLM-style greedy placement).

See docs/codegen.md.
"""
from .emit import CodegenError, Project, VerifyResult, build, generate, run_harness, verify
from .planner import MemoryPlan, plan_c_model, plan_model

__all__ = ["generate", "build", "verify", "run_harness", "Project", "VerifyResult", "CodegenError", "MemoryPlan", "plan_c_model",
           "plan_model"]
