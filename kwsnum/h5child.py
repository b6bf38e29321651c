"""Reading a model file in a child process: libhdf5 itself may crash or loop forever on a malformed file.

kwsnum.h5safe checks structure, datatypes and sizes before it reads any value, but some corruptions are only
visible to libhdf5 while it reads: the fuzz campaign (tests/fuzz) found a byte flip in a global heap that made
``H5Aread`` of a variable-length string loop forever, and datatype flips that made it segfault. So on POSIX the
whole raw read runs in a forked child with a time limit (SIGALRM, default action: the child ends even inside C
code). The child sends back plain values (str, lists, dicts, tuples, bytes and numpy arrays / scalars), which the
parent unpickles with an allow-list of classes: a child whose memory libhdf5 corrupted cannot make the parent
run code. A crash or a timeout of the child is a ModelError naming what happened.

``KWSNUM_H5_INPROCESS=1`` (or a platform without fork) reads in-process.
"""
import faulthandler
import gc
import io
import os
import pickle
import signal
import struct

from .errors import KwsnumError, ModelError

__all__ = ["run_isolated", "time_limit"]

_ALLOWED = {("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "_reconstruct"),
            ("numpy._core.multiarray", "_reconstruct"), ("numpy.core.multiarray", "scalar"),
            ("numpy._core.multiarray", "scalar"), ("numpy._core.numeric", "_frombuffer"),
            ("numpy.core.numeric", "_frombuffer"), ("builtins", "bytearray"), ("_codecs", "encode")}


class _Restricted(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed")


def time_limit(nbytes):
    """Seconds the child may take for a file of ``nbytes`` (reading and hashing it is far faster than this)."""
    return int(5 + nbytes / 20e6)


def _read_all(fd):
    chunks = []
    while True:
        b = os.read(fd, 1 << 20)
        if not b:
            return b"".join(chunks)
        chunks.append(b)


def run_isolated(fn, path, seconds):
    """``fn(path)`` in a forked child; returns its result, re-raises its KwsnumError, and turns a crash, a
    timeout or anything else into ModelError."""
    if not hasattr(os, "fork") or os.environ.get("KWSNUM_H5_INPROCESS"):
        return fn(path)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:                                    # the child: read, send, exit without cleanup
        code = 0
        gc.disable()                                # a collection would touch (and copy) every page of the parent
        try:
            os.close(r)
            faulthandler.disable()                  # a crash here is the parent's to report, in one line
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1)
            os.dup2(null, 2)
            signal.signal(signal.SIGALRM, signal.SIG_DFL)
            signal.alarm(max(1, int(seconds)))
            try:
                msg = ("ok", fn(path))
            except KwsnumError as e:
                msg = ("error", type(e).__name__, e.message, e.where)
            except BaseException as e:              # noqa: BLE001 (reported to the parent, which decides)
                msg = ("error", "ModelError", f"cannot read: {type(e).__name__}: {str(e)[:200]}", "/")
            data = pickle.dumps(msg, protocol=4)
            view = memoryview(struct.pack("<Q", len(data)) + data)
            while view:
                n = os.write(w, view)
                view = view[n:]
        except BaseException:                       # noqa: BLE001
            code = 1
        finally:
            os._exit(code)
    os.close(w)
    try:
        data = _read_all(r)
    finally:
        os.close(r)
        _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig == signal.SIGALRM:
            raise ModelError(f"reading the file took more than {int(seconds)} s: a corrupt HDF5 structure made "
                             f"libhdf5 loop", where="/")
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        raise ModelError(f"libhdf5 crashed ({name}) while reading the file: a corrupt HDF5 structure", where="/")
    if len(data) < 8 or struct.unpack("<Q", data[:8])[0] != len(data) - 8:
        raise ModelError("the HDF5 reader ended without an answer (a corrupt HDF5 structure?)", where="/")
    try:
        msg = _Restricted(io.BytesIO(data[8:])).load()
    except Exception:                               # noqa: BLE001
        raise ModelError("the HDF5 reader sent an unreadable answer (a corrupt HDF5 structure?)", where="/") \
            from None
    if msg[0] == "ok":
        return msg[1]
    from . import errors
    cls = getattr(errors, msg[1], ModelError)
    if not (isinstance(cls, type) and issubclass(cls, KwsnumError)):
        cls = ModelError
    raise cls(msg[2], where=msg[3])
