"""numba as kwsnum loads it: lazily. Kernel modules write ``from .._numba import njit`` (and ``intrinsic``).

Importing numba and setting up its CPU target cost about 0.8 s of every process that calls a jitted kernel, which
is most of a warm ``kwsnum run`` (docs/numerics.md 3.7: small jobs run numpy kernels and never need numba). So
``njit`` and ``intrinsic`` here do not import numba: they return a :class:`Kernel` that stands for the numba object
and makes it the first time any kernel is called or looked into. Then :func:`load` imports numba, makes every
pending kernel, and puts the numba objects in place of the stand-ins in the namespaces of the kwsnum modules, so
that jitted code that calls another kernel compiles exactly as with eager ``numba.njit`` (numba resolves a kernel's
globals when it compiles it) and Python calls go straight to numba's dispatcher. A stand-in that is held elsewhere
(a dict, another package's module) keeps working: calls and attributes go to the numba object, and numba types it
as that object inside jitted code. Once numba is loaded, ``njit`` returns numba's dispatcher directly.

Also, numba's first compilation or cache load in a process imports ``numba.np.arraymath``, and that module, at
import, probes for BLAS by importing ``scipy.linalg.cython_blas`` when scipy is installed: a third of a second (scipy
.linalg pulls in numpy.f2py) for a probe whose answer only decides whether ``np.dot`` and ``np.vdot`` inside jitted
code may call BLAS. kwsnum's kernels call no BLAS inside numba (the GEMM paths call numpy's BLAS from Python,
kwsnum/ops/gemm.py), and numba still imports scipy for real when jitted code that needs BLAS is compiled. So here the
probe answers from whether scipy is installed, without importing it; everything else about numba is unchanged. If
numba's internals differ (another version), nothing is patched.
"""
import importlib.util
import sys
import threading

__all__ = ["njit", "intrinsic", "load", "loaded", "Kernel"]

_lock = threading.RLock()
_pending = []          # stand-ins not made yet
_loaded = False


class Kernel:
    """A stand-in for a numba dispatcher (or intrinsic) not made yet: calling it, or reading any attribute numba's
    object has, loads numba (:func:`load`) and forwards."""
    def __init__(self, make, fn):
        self._make, self._real, self.__wrapped__ = make, None, fn
        self.__name__, self.__qualname__ = fn.__name__, fn.__qualname__
        self.__module__, self.__doc__ = fn.__module__, fn.__doc__

    @property
    def real(self):
        if self._real is None:
            load()
        return self._real

    def __call__(self, *args, **kwargs):
        return self.real(*args, **kwargs)

    def __getattr__(self, name):            # only for names the stand-in lacks (py_func, signatures, ...)
        if name.startswith("__") or name in ("_make", "_real"):
            raise AttributeError(name)
        return getattr(self.real, name)

    def __repr__(self):
        state = "not loaded" if self._real is None else repr(self._real)
        return f"<kwsnum kernel {self.__module__}.{self.__qualname__}: {state}>"


def _stand_in(make, fn):
    with _lock:
        if _loaded:
            return make(fn)
        k = Kernel(make, fn)
        _pending.append(k)
        return k


def njit(*args, **options):
    """``numba.njit``, made when numba is first needed: ``@njit`` or ``@njit(cache=True, ...)``."""
    if len(args) == 1 and callable(args[0]) and not options:
        return _stand_in(lambda f: __import__("numba").njit(f), args[0])
    if args:
        raise TypeError("kwsnum's njit takes keyword options only (no signatures)")
    return lambda fn: _stand_in(lambda f: __import__("numba").njit(**options)(f), fn)


def intrinsic(fn):
    """``numba.extending.intrinsic``, made when numba is first needed."""
    def make(f):
        from numba.extending import intrinsic as real
        return real(f)
    return _stand_in(make, fn)


def loaded():
    """Whether numba has been loaded by kwsnum (a kernel was called or looked into)."""
    return _loaded


def load():
    """Import numba and make every pending kernel (once; thread-safe)."""
    global _loaded
    with _lock:
        if _loaded:
            return
        import numba
        from numba.extending import typeof_impl
        _import_arraymath_without_scipy()

        @typeof_impl.register(Kernel)
        def _typeof_kernel(val, c):
            return numba.typeof(val.real, c.purpose)

        for k in _pending:
            k._real = k._make(k.__wrapped__)
        _loaded = True
        done = {id(k): k._real for k in _pending}
        _pending.clear()
        for name, mod in list(sys.modules.items()):
            if mod is None or not (name == "kwsnum" or name.startswith("kwsnum.")):
                continue
            ns = vars(mod)
            for key, v in list(ns.items()):
                if type(v) is Kernel and id(v) in done:
                    ns[key] = done[id(v)]


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
