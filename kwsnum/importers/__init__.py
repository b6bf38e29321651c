"""Import models of other frameworks as kwsnum models: ``kwsnum.importers.from_tflite(path)``.

The flatbuffer schema comes from the ``tflite-micro`` package (``pip install 'kwsnum[tflite]'``), imported only
when an import runs. Spec: docs/numerics.md section 11 (TFLite import).
"""


def from_tflite(source, labels=None, name=None):
    """A kwsnum :class:`~kwsnum.Model` from a .tflite file (path or bytes); see :mod:`kwsnum.importers.tflite`."""
    from .tflite import from_tflite as _f
    return _f(source, labels=labels, name=name)


__all__ = ["from_tflite"]
