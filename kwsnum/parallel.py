"""How the oracle uses threads: the whole graph runs on slices of the batch, each thread taking the next slice
when it is done with one. Every kernel is serial and releases the GIL (numba ``nogil``, numpy's BLAS).

Every op computes each sample independently (docs/numerics.md 1), so the split never changes a result, and the
choice depends only on the thread count, the batch size and the model's MACs (no timing): deterministic.
A batch is cut into slices of at least ``SLICE_WORK`` multiply-accumulates and output elements each (milliseconds of
work, so that waking a thread pays even on a machine busy with something else; the cut does not depend on the
thread count, and bounds the memory of a large batch on one thread too), and the calling thread takes slices
too: a helper thread that the operating system does not schedule cannot make a run slower than one thread would
be by more than the slice it holds. A batch of one sample is never split.

The thread count is numba's (``NUMBA_NUM_THREADS``, ``numba.set_num_threads``), which users of numba already know.
numpy's BLAS (OpenBLAS) would start threads of its own inside each matrix product of the GEMM paths
(kwsnum/ops/gemm.py), which on a busy machine makes a product many times slower; :func:`blas_single_thread`
holds it to one thread while the oracle runs, so that the slices above are the only parallelism.
"""
import contextlib
import os
import sys
import threading

SLICE_WORK = 48_000_000     # the least work per slice worth a thread (multiply-accumulates + output elements)
MAX_SLICE = 64              # samples per slice at most (so that threads can share uneven work)


def thread_count():
    """numba's thread count. Until numba's threading layer is launched (``numba.set_num_threads`` launches it) that is
    NUMBA_NUM_THREADS, read without launching it (a tenth of a second of start-up, and threads kwsnum never uses);
    until numba is imported, read as numba reads it (the environment variable, else the CPUs this process may run
    on), without importing it (kwsnum/_numba.py: a job of vector kernels never loads numba)."""
    if "numba" not in sys.modules:
        env = os.environ.get("NUMBA_NUM_THREADS", "").strip()
        if env:
            try:
                return max(1, int(env))
            except ValueError:
                pass
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except (AttributeError, OSError):  # pragma: no cover - not Linux
            return max(1, os.cpu_count() or 1)
    import numba
    try:
        from numba.np.ufunc import parallel as layer
        if not layer._is_initialized:
            return int(numba.config.NUMBA_NUM_THREADS)
    except (ImportError, AttributeError):  # pragma: no cover - another numba
        pass
    return int(numba.get_num_threads())


def slices(n, work_per_sample):
    """The (start, stop) slices a batch of ``n`` samples runs in, in order: about SLICE_WORK of work each (at most
    MAX_SLICE samples), whatever the thread count (so that large batches also stay in cache on one thread); one
    slice when the batch is smaller. ``work_per_sample``: multiply-accumulates plus output elements (Plan.work)."""
    size = max(1, min(MAX_SLICE, -(-SLICE_WORK // max(1, int(work_per_sample)))))
    if n <= size:
        return [(0, n)]
    return [(i, min(n, i + size)) for i in range(0, n, size)]


def run_slices(fn, n, bounds, threads=None):
    """[fn(start, stop) for (start, stop) in bounds], computed by up to ``threads`` threads (the caller's one
    included) taking the next slice in turn. Exceptions propagate (the first one, after every thread stopped)."""
    threads = thread_count() if threads is None else threads
    if len(bounds) == 1 or threads < 2:
        return [fn(a, b) for a, b in bounds]
    results = [None] * len(bounds)
    errors = []
    lock = threading.Lock()
    nxt = [0]

    def worker():
        while True:
            with lock:
                i = nxt[0]
                if i >= len(bounds) or errors:
                    return
                nxt[0] = i + 1
            try:
                results[i] = fn(*bounds[i])
            except BaseException as e:  # noqa: BLE001 - re-raised by the caller's thread below
                with lock:
                    errors.append(e)
                return

    helpers = [threading.Thread(target=worker, daemon=True) for _ in range(min(threads, len(bounds)) - 1)]
    for t in helpers:
        t.start()
    worker()
    for t in helpers:
        t.join()
    if errors:
        raise errors[0]
    return results


# ------------------------------------------------------------------ numpy's OpenBLAS, one thread while the oracle runs
_SETTERS = ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads", "openblas_set_num_threads64_",
            "openblas_set_num_threads")
_blas = None          # [(get, set)] of the OpenBLAS libraries loaded in this process, found once
_blas_lock = threading.Lock()
_blas_depth = 0
_blas_saved = []


def _openblas_libraries():
    """(get_num_threads, set_num_threads) ctypes functions of every OpenBLAS this process has loaded (Linux: from
    /proc/self/maps); [] elsewhere or when none is found (then nothing is changed)."""
    global _blas
    if _blas is not None:
        return _blas
    found = []
    if sys.platform.startswith("linux"):
        import ctypes
        try:
            with open("/proc/self/maps") as fh:
                paths = sorted({line.split()[-1] for line in fh if "openblas" in line.lower() and "/" in line})
        except OSError:
            paths = []
        for path in paths:
            try:
                lib = ctypes.CDLL(path)
            except OSError:
                continue
            for name in _SETTERS:
                getter = name.replace("set_num_threads", "get_num_threads")
                if hasattr(lib, name) and hasattr(lib, getter):
                    found.append((getattr(lib, getter), getattr(lib, name)))
                    break
    _blas = found
    return found


@contextlib.contextmanager
def blas_single_thread():
    """Hold numpy's OpenBLAS to one thread inside (re-entrant and thread-safe: the outermost exit restores)."""
    global _blas_depth, _blas_saved
    with _blas_lock:
        if _blas_depth == 0:
            libs = _openblas_libraries()
            _blas_saved = [(setter, int(getter())) for getter, setter in libs]
            for setter, _ in _blas_saved:
                setter(1)
        _blas_depth += 1
    try:
        yield
    finally:
        with _blas_lock:
            _blas_depth -= 1
            if _blas_depth == 0:
                for setter, n in _blas_saved:
                    setter(n)
                _blas_saved = []
