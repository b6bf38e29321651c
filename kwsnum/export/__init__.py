"""Export from PyTorch: ``kwsnum.export.from_torch(module, example_input, calibration_data, ...)``.

torch is imported only when an export runs (kwsnum itself imports without torch).
Spec: docs/numerics.md, "Export from PyTorch".
"""
from .torch_export import from_torch

__all__ = ["from_torch"]
