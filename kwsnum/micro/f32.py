"""float32 arithmetic as TFLM's ``*_util.c`` does it when it builds the microfrontend's integer tables.

The tables (window coefficients, filterbank weights, the PCAN gain LUT) are computed in C ``float`` with
``cosf``, ``log1pf`` and ``powf``. To get the same integers we evaluate the same expressions, operation by
operation, on numpy float32 scalars, and call the C library's own float functions through ctypes (the
functions TFLM links against). Without a C math library (not glibc, musl, macOS, Windows), the float64
function rounded once to float32 is used instead: correctly rounded, which the C library almost always is
too; the stored tables record the result either way, so the runtimes never depend on this.
"""
import ctypes
import ctypes.util
import math

import numpy as np

F = np.float32

_LIBM = None


def _libm():
    global _LIBM
    if _LIBM is None:
        name = ctypes.util.find_library("m")
        lib = None
        if name:
            try:
                lib = ctypes.CDLL(name)
                for fn, nargs in (("cosf", 1), ("log1pf", 1), ("powf", 2)):
                    f = getattr(lib, fn)
                    f.restype = ctypes.c_float
                    f.argtypes = [ctypes.c_float] * nargs
            except (OSError, AttributeError):
                lib = None
        _LIBM = lib if lib is not None else False
    return _LIBM or None


def cosf(x):
    lib = _libm()
    return F(lib.cosf(F(x))) if lib else F(math.cos(float(F(x))))


def log1pf(x):
    lib = _libm()
    return F(lib.log1pf(F(x))) if lib else F(math.log1p(float(F(x))))


def powf(x, y):
    lib = _libm()
    return F(lib.powf(F(x), F(y))) if lib else F(math.pow(float(F(x)), float(F(y))))


def floorf(x):
    return F(math.floor(float(F(x))))
