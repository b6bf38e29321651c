"""kwsnum: one numeric contract for keyword-spotting networks, three implementations that agree.

The oracle (numba), generated C, and a PyTorch reference; see docs/numerics.md.
"""
from .errors import KwsnumError, ModelError, InputError, ExportError
from .model import Model, TensorSpec, Node

__version__ = "0.1.0"


def load(path):
    """Load and validate a model from an HDF5 file."""
    from .io import load as _load
    return _load(path)


def save(model, path):
    """Write a model to an HDF5 file (atomically: a temporary file moved into place)."""
    from .io import save as _save
    return _save(model, path)


__all__ = ["KwsnumError", "ModelError", "InputError", "ExportError", "Model", "TensorSpec", "Node", "load",
           "save", "__version__"]
