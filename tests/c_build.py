"""Build the C runtime (c_runtime/*.c) into a shared library once per test session and run models in C.

- :func:`lib` compiles every ``c_runtime/*.c`` with the strict flags below (warnings are errors, no FMA
  contraction, no fast-math, UBSan with no recovery) into a temp dir, cached by a hash of the sources and
  flags; it calls ``pytest.skip`` when no C compiler is found.
- :func:`run_c` executes a model node by node in C through ctypes, one sample at a time, driven only by each
  op's ``c_call(node, model)`` description, and returns the same trace dict as ``Model.run(x, trace=True)``.

UBSan runs inside the Python process (the runtime library is linked with ``-static-libubsan``, or against
libubsan.so which dlopen can load); a UB report terminates the process (``-fno-sanitize-recover=all``, exit
status 1). pytest's fd capture swallows the report: rerun with ``-s`` (or ``--capture=sys``) to see it
(UBSAN_OPTIONS set from Python is not read: the sanitizer reads the environment the process started with).
ASan cannot be loaded by dlopen into an unsanitized python (it must come first in the process), so
tests/test_c_sanitizers.py compiles a standalone program under ``-fsanitize=address,undefined`` instead.
"""
import ctypes
import glob
import hashlib
import os
import shutil
import subprocess
import tempfile

import numpy as np

import c_runtime

STRICT = ["-std=c99", "-Wall", "-Wextra", "-Wpedantic", "-Wshadow", "-Wconversion", "-Werror",
          "-ffp-contract=off", "-fno-fast-math"]
UBSAN = ["-fsanitize=undefined", "-fno-sanitize-recover=all"]
# tried in order: UBSan statically linked into the library, then the shared libubsan, then no sanitizer
SHARED_VARIANTS = [["-O1", "-fPIC", "-shared"] + UBSAN + ["-static-libubsan"],
                   ["-O1", "-fPIC", "-shared"] + UBSAN,
                   ["-O1", "-fPIC", "-shared"]]

_CACHE = {}

# Exported wrappers of the static inline primitives of kws_fixedpoint.h, for tests/test_c_fixedpoint.py
# (test-only: compiled into the test library, not part of c_runtime/). Each maps a primitive over arrays.
SHIM = r"""
#include <math.h>
#include "kws_fixedpoint.h"
void kws_t_sat_i32(const int64_t *x, int32_t *y, int32_t n)
{ int32_t i; for (i = 0; i < n; i++) y[i] = kws_sat_i32(x[i]); }
void kws_t_srdhm(const int32_t *a, const int32_t *b, int32_t *y, int32_t n)
{ int32_t i; for (i = 0; i < n; i++) y[i] = kws_srdhm(a[i], b[i]); }
void kws_t_rdbpot(const int32_t *x, const int32_t *e, int32_t *y, int32_t n)
{ int32_t i; for (i = 0; i < n; i++) y[i] = kws_rdbpot(x[i], (int)e[i]); }
void kws_t_requantize(const int32_t *x, const int32_t *m, const int32_t *s, int32_t mode, int32_t *y, int32_t n)
{ int32_t i; for (i = 0; i < n; i++) y[i] = kws_requantize(x[i], m[i], s[i], (int)mode); }
void kws_t_div_round_away(const int64_t *a, const int64_t *d, int64_t *y, int32_t n)
{ int32_t i; for (i = 0; i < n; i++) y[i] = kws_div_round_away(a[i], d[i]); }
void kws_t_udiv64_32(const uint64_t *n, const uint32_t *d, uint64_t *y, int32_t count) /* count = 2 * cases */
{ int32_t i; uint32_t r; for (i = 0; i < count / 2; i++) { y[2 * i] = kws_udiv64_32(n[i], d[i], &r); y[2 * i + 1] = r; } }
void kws_t_div_round_away_i32(const int32_t *a, const int32_t *d, int32_t *y, int32_t n)
{ int32_t i; for (i = 0; i < n; i++) y[i] = kws_div_round_away_i32(a[i], d[i]); }
void kws_t_shift_round_away(const int64_t *x, const int32_t *k, int64_t *y, int32_t n)
{ int32_t i; for (i = 0; i < n; i++) y[i] = kws_shift_round_away(x[i], (int)k[i]); }
void kws_t_isqrt(const uint64_t *v, uint64_t *y, int32_t n)
{ int32_t i; for (i = 0; i < n; i++) y[i] = kws_isqrt(v[i]); }
void kws_t_clamp(const int64_t *x, int64_t lo, int64_t hi, int64_t *y, int32_t n)
{ int32_t i; for (i = 0; i < n; i++) y[i] = kws_clamp(x[i], lo, hi); }
void kws_t_round_half_away_f32(const float *v, float *y, int32_t n)
{ int32_t i; for (i = 0; i < n; i++) y[i] = kws_round_half_away_f32(v[i]); }
void kws_t_roundf_libm(const float *v, float *y, int32_t n)
{ int32_t i; for (i = 0; i < n; i++) y[i] = roundf(v[i]); }
"""


def compiler():
    """The C compiler to use ($CC, else gcc, else clang, else cc), or None."""
    for cc in [os.environ.get("CC"), "gcc", "clang", "cc"]:
        if cc and shutil.which(cc):
            return cc
    return None


def runtime_dir():
    """c_runtime/, or $KWSNUM_C_RUNTIME_DIR (e.g. a perturbed copy, to prove the tests can fail without
    touching the tree)."""
    return os.environ.get("KWSNUM_C_RUNTIME_DIR") or c_runtime.path()


def sources():
    return sorted(glob.glob(os.path.join(runtime_dir(), "*.c")))


def headers():
    return sorted(glob.glob(os.path.join(runtime_dir(), "*.h")))


def _digest(files, extra):
    h = hashlib.sha256()
    for f in files:
        h.update(os.path.basename(f).encode())
        with open(f, "rb") as fh:
            h.update(fh.read())
    h.update(repr(extra).encode())
    return h.hexdigest()[:16]


def build_dir():
    d = os.path.join(tempfile.gettempdir(), f"kwsnum_c_{os.getuid()}")
    os.makedirs(d, exist_ok=True)
    return d


def build_shared():
    """Compile the runtime into a shared library; returns (path, flags used). Cached by the sources' hash."""
    import pytest
    cc = compiler()
    if cc is None:
        pytest.skip("no C compiler found")
    errors = []
    shim = os.path.join(build_dir(), f"kws_test_shim_{hashlib.sha256(SHIM.encode()).hexdigest()[:12]}.c")
    if not os.path.exists(shim):
        with open(shim + f".{os.getpid()}", "w") as fh:
            fh.write(SHIM)
        os.replace(shim + f".{os.getpid()}", shim)
    for variant in SHARED_VARIANTS:
        flags = STRICT + variant
        key = _digest(sources() + headers() + [shim], (cc, flags))
        out = os.path.join(build_dir(), f"libkws_{key}.so")
        if not os.path.exists(out):
            tmp = out + f".{os.getpid()}.tmp"
            r = subprocess.run([cc] + flags + ["-I", runtime_dir()] + sources() + [shim, "-o", tmp, "-lm"],
                               capture_output=True, text=True)
            if r.returncode != 0:
                errors.append((flags, r.stderr))
                if "error:" in r.stderr and "sanitize" not in r.stderr and "ubsan" not in r.stderr:
                    break  # a real compile error: do not hide it behind a weaker variant
                continue
            os.replace(tmp, out)
        return out, flags
    raise AssertionError("the C runtime does not compile:\n" + "\n".join(f"{f}\n{e}" for f, e in errors))


def lib():
    """The loaded runtime library (ctypes.CDLL), built once per process."""
    if "lib" not in _CACHE:
        path, flags = build_shared()
        _CACHE["lib"] = ctypes.CDLL(path)
        _CACHE["flags"] = flags
    return _CACHE["lib"]


def lib_flags():
    lib()
    return _CACHE["flags"]


# ------------------------------------------------------------------ running nodes and models
def _ptr(a):
    return ctypes.c_void_p(a.ctypes.data)


def call(fname, spec, ins, arrays, out):
    """Call C function ``fname`` with an Op.c_call argument list ``spec``: ``ins[i]`` for ("in", i), ``out``
    (contiguous, written in place) for ("out", 0), ``arrays[key]`` for ("array", key), a zeroed buffer for
    ("scratch", n), and the scalars as C int32 / int64 / float."""
    keep, args = [], []
    for kind, v in spec:
        if kind == "in":
            a = np.ascontiguousarray(ins[v])
            keep.append(a)
            args.append(_ptr(a))
        elif kind == "out":
            assert v == 0 and out.flags.c_contiguous, (fname, kind, v)
            args.append(_ptr(out))
        elif kind == "array":
            a = np.ascontiguousarray(arrays[v])
            keep.append(a)
            args.append(_ptr(a))
        elif kind == "scratch":
            a = np.zeros(max(int(v), 1), dtype=np.uint8)
            keep.append(a)
            args.append(_ptr(a))
        elif kind == "i32":
            assert -(2 ** 31) <= int(v) < 2 ** 31, (fname, v)
            args.append(ctypes.c_int32(int(v)))
        elif kind == "i64":
            args.append(ctypes.c_int64(int(v)))
        elif kind == "f32":
            args.append(ctypes.c_float(float(np.float32(v))))
        else:
            raise AssertionError(f"unknown c_call argument kind {kind!r}")
    fn = getattr(lib(), fname)
    fn.restype = None
    fn(*args)
    return out


def call_node(model, node, inputs, op=None):
    """Run one node on ONE sample in C. inputs: per-sample arrays (no batch dim). Returns the output array."""
    from kwsnum import ops
    op = op or ops.get(node.op, node)
    fname, spec = op.c_function(node, model)
    out_spec = model.tensors[node.outputs[0]]
    out = np.zeros(tuple(out_spec.shape), dtype=out_spec.dtype)
    ins = [np.ascontiguousarray(x, dtype=model.tensors[t].dtype) for x, t in zip(inputs, node.inputs)]
    return call(fname, spec, ins, node.arrays, out)


SANITIZE_FLAGS = ["-std=c99", "-O1", "-g", "-fno-omit-frame-pointer", "-ffp-contract=off", "-fno-fast-math",
                  "-Wall", "-Wextra", "-Wpedantic", "-Werror", "-Wno-overlength-strings",
                  "-fsanitize=address,undefined", "-fno-sanitize-recover=all"]


def run_sanitized(tmp_path, source, name="kws_sanitize"):
    """Compile ``source`` (a C program) with every runtime .c under ASan + UBSan, run it, check that no
    sanitizer fired, and return its stdout. Skips when the compiler cannot build with ASan."""
    import pytest
    cc = compiler()
    if cc is None:
        pytest.skip("no C compiler found")
    src = os.path.join(str(tmp_path), name + "_main.c")
    with open(src, "w") as fh:
        fh.write(source)
    exe = os.path.join(str(tmp_path), name)
    r = subprocess.run([cc] + SANITIZE_FLAGS + ["-I", runtime_dir()] + sources() + [src, "-o", exe, "-lm"],
                       capture_output=True, text=True)
    if r.returncode != 0 and "sanitize" in r.stderr and "error" in r.stderr and "kws_" not in r.stderr:
        pytest.skip(f"this compiler cannot build with ASan: {r.stderr[:500]}")
    assert r.returncode == 0, r.stderr[-4000:]
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=0", UBSAN_OPTIONS="print_stacktrace=1")
    r = subprocess.run([exe], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr[-4000:]
    assert "runtime error" not in r.stderr and "AddressSanitizer" not in r.stderr, r.stderr[-4000:]
    return r.stdout


def run_c(model, x):
    """Run the model in C, one sample at a time. ``x``: (N, *input_shape) (or one sample), or a tuple of such
    arrays for a model with several inputs. Returns a dict of every tensor (with batch dim), like
    ``Model.run(x, trace=True)``."""
    xs = list(x) if isinstance(x, tuple) else [x]
    assert len(xs) == len(model.inputs)
    batches = []
    for name, xi in zip(model.inputs, xs):
        spec = model.tensors[name]
        xi = np.asarray(xi)
        if xi.shape == tuple(spec.shape):
            xi = xi[None]
        assert xi.shape[1:] == tuple(spec.shape), (xi.shape, spec.shape)
        batches.append(np.ascontiguousarray(xi, dtype=spec.dtype))
    n = batches[0].shape[0]
    values = {name: b for name, b in zip(model.inputs, batches)}
    for name, spec in model.tensors.items():
        if name not in values:
            values[name] = np.zeros((n,) + tuple(spec.shape), dtype=spec.dtype)
    from kwsnum import ops
    steps = [(ops.get(node.op, node), node) for node in model.nodes]
    for i in range(n):
        for op, node in steps:
            out = call_node(model, node, [values[t][i] for t in node.inputs], op)
            values[node.outputs[0]][i] = out
    return values


def run_oracle(model, x):
    """The oracle's trace dict; like Model.run(x, trace=True) but also for models with several inputs."""
    from kwsnum import ops
    from kwsnum.fixedpoint import ROUNDING_MODES
    if not isinstance(x, tuple):
        return model.run(x, trace=True)
    values = {name: np.ascontiguousarray(xi, dtype=model.tensors[name].dtype) for name, xi in zip(model.inputs, x)}
    mode = ROUNDING_MODES[model.rounding]
    for node in model.nodes:
        op = ops.get(node.op, node)
        outs = op.run(op.prepare(node, model, mode), [values[t] for t in node.inputs])
        values[node.outputs[0]] = outs[0]
    return values


def assert_same(got, ref, names=None):
    """C trace == oracle trace on every tensor: int8 equal; float32 equal bit for bit except that NaN == NaN
    and -0.0 == 0.0 (docs/numerics.md section 5)."""
    for name in names or ref:
        a, b = np.asarray(got[name]), np.asarray(ref[name])
        assert a.shape == b.shape and a.dtype == b.dtype, (name, a.shape, b.shape, a.dtype, b.dtype)
        if a.dtype.kind == "f":
            same = (a == b) | (np.isnan(a) & np.isnan(b))
        else:
            same = a == b
        if not np.all(same):
            bad = np.argwhere(~same)
            i = tuple(bad[0])
            raise AssertionError(f"{name}: {len(bad)}/{a.size} elements differ between C and the oracle; "
                                 f"first at {i}: C {a[i]!r} oracle {b[i]!r}")
