"""numba as kwsnum loads it: ``from ._numba import njit`` in the modules that define kernels.

numba's first compilation or cache load in a process imports ``numba.np.arraymath``, and that module, at import,
probes for BLAS by importing ``scipy.linalg.cython_blas`` when scipy is installed: a third of a second of a warm
``kwsnum run`` (scipy.linalg pulls in numpy.f2py) for a probe whose answer only decides whether ``np.dot`` and
``np.vdot`` inside jitted code may call BLAS. kwsnum's kernels call no BLAS inside numba (the GEMM paths call numpy's
BLAS from Python, kwsnum/ops/gemm.py), and numba still imports scipy for real when jitted code that needs BLAS is
compiled. So here the probe answers from whether scipy is installed, without importing it; everything else about
numba is unchanged. If numba's internals differ (another version), nothing is patched.
"""
import importlib.util
import sys

from numba import njit  # noqa: F401  (re-exported)


def _import_arraymath_without_scipy():
    if "numba.np.arraymath" in sys.modules:
        return
    try:
        from numba.np import linalg
        real = linalg.ensure_blas
    except (ImportError, AttributeError):  # pragma: no cover - another numba
        return

    def probe():
        if importlib.util.find_spec("scipy") is None:
            raise ImportError("scipy 0.16+ is required for linear algebra")

    linalg.ensure_blas = probe
    try:
        import numba.np.arraymath as arraymath
    except ImportError:  # pragma: no cover - another numba
        return
    finally:
        linalg.ensure_blas = real
    if getattr(arraymath, "ensure_blas", None) is probe:
        arraymath.ensure_blas = real


_import_arraymath_without_scipy()
