"""Export from PyTorch: ``kwsnum.export.from_torch(module, example_input, calibration_data, ...)``.

torch is imported only when an export runs (kwsnum itself imports without torch).
Spec: docs/numerics.md, "Export from PyTorch".
"""


def from_torch(module, example_input, calibration_data, precision="int8", rounding="double",
               calibration="minmax", labels=None, name=None):
    """Export a torch.nn.Module to a :class:`kwsnum.Model`; see :func:`kwsnum.export.torch_export.from_torch`."""
    from .torch_export import from_torch as _from_torch
    return _from_torch(module, example_input, calibration_data, precision=precision, rounding=rounding,
                       calibration=calibration, labels=labels, name=name)


__all__ = ["from_torch"]
