"""One error type for everything a user can get wrong.

The CLI prints ``kwsnum: error: <file>: <where>: <what>`` and exits with code 2;
the Python API raises :class:`KwsnumError` carrying the same parts.
"""


class KwsnumError(Exception):
    """A user-facing error: a bad model file, a bad input, an unsupported module."""

    def __init__(self, message, where=None, file=None):
        self.message = str(message)
        self.where = where  # e.g. "/graph/3 (conv2d)" or "/tensors/2"
        self.file = file
        super().__init__(self.__str__())

    def with_file(self, file):
        return type(self)(self.message, self.where, file)

    def __str__(self):
        parts = [p for p in (self.file, self.where, self.message) if p]
        return ": ".join(str(p) for p in parts)


class ModelError(KwsnumError):
    """The model (in memory or in an HDF5 file) is malformed."""


class InputError(KwsnumError):
    """An input given to the model is malformed (shape, dtype, file)."""


class ExportError(KwsnumError):
    """A PyTorch module cannot be exported."""


class ModelImportError(KwsnumError):
    """A model of another framework (a .tflite flatbuffer) cannot be imported exactly: malformed, or using what
    kwsnum cannot represent bit for bit. ``where`` names the operator (``operator 3 (CONV_2D)``) or the tensor."""

