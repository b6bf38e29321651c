"""Which form of its kernels a run of the oracle uses: numba's compiled loops, or whole-array numpy operations.

Spec: docs/numerics.md 3.7. Loading numba (importing it, setting up its CPU target, loading the cached machine code
of each kernel) costs about 0.8 s once per process: more than a small job's whole computation (a warm ``kwsnum
run`` of the bundled model on its 12 clips computes for a tenth of that with numba's kernels). The numpy forms of
the kernels (the "vector" kernels) need no start-up but are about ten times slower per element. So, as a JIT tiers
cold code: the first jobs of a process run the vector kernels where an op has them (an op without one runs its numba
kernel, which loads numba), until the process has spent VECTOR_WORK on them or numba is loaded; from then on, and
for any job that would pass VECTOR_WORK by itself, numba's kernels. That bounds what a process that goes on to run a
lot can lose to the slower kernels (about a third of numba's start-up), and a small job never loads numba.

The two forms of every kernel compute the same integer (or IEEE float32 / float64) operations on every element
(tests/ops/test_fast_paths.py runs both on the same inputs), so the choice never changes a result.
"""
import contextlib
import threading

VECTOR_WORK = 1 << 28      # the work (MACs + output elements, Plan.work) a process runs on vector kernels at most

_local = threading.local()
_forced = []
_lock = threading.Lock()
_spent = 0                 # the work run on vector kernels in this process so far


def vector():
    """Whether the kernels called now (in this thread) should take their vector (numpy) form."""
    return getattr(_local, "vector", False)


def vector_job(work):
    """Whether a job of ``work`` multiply-accumulates and output elements runs the vector kernels (counted), or
    numba's: vector while this process's vector work stays within VECTOR_WORK and numba is not loaded (or as
    forced)."""
    global _spent
    if _forced:
        return _forced[-1]
    from . import _numba
    with _lock:
        if _numba.loaded() or _spent + work > VECTOR_WORK:
            return False
        _spent += work
        return True


@contextlib.contextmanager
def use(on):
    """Kernels called inside, in this thread, take their vector form if ``on`` (re-entrant; restores on exit)."""
    before = vector()
    _local.vector = bool(on)
    try:
        yield
    finally:
        _local.vector = before


@contextlib.contextmanager
def forced(on):
    """For tests: every job started inside runs the vector kernels (``on``) or the numba ones, whatever its work."""
    _forced.append(bool(on))
    try:
        yield
    finally:
        _forced.pop()
