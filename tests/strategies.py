"""Shared Hypothesis strategies and checkers for the op property tests.

Each op's test module holds one strategy that draws a single-op model (shapes, op parameters,
quantization parameters) and its input data; ``check_model`` then compares the oracle with the
torch reference: exactly for int8, within docs/numerics.md's float tolerance for float32.
"""
import numpy as np
from hypothesis import strategies as st

# docs/numerics.md section 5: |oracle - torch| <= FLOAT_RTOL * max(1, max|torch|)
from kwsnum import backend
from kwsnum.compare import FLOAT_RTOL, STORAGE_RTOL, TOLERANCE, agreement, same_values
from kwsnum.quant import quantize_multiplier
from kwsnum.torchref import run_reference

ROUNDINGS = st.sampled_from(["double", "single"])
FORMATS = st.sampled_from(["int8", "float32"])



@st.composite
def int8_qparams(draw):
    """(scale, zero_point) of an int8 activation tensor."""
    scale = draw(st.floats(1e-4, 1.0, allow_nan=False, allow_infinity=False))
    zp = draw(st.integers(-128, 127))
    return float(np.float32(scale)), zp


@st.composite
def multipliers(draw, n, lo=1e-7, hi=0.99):
    """n (multiplier, shift) pairs from real multipliers drawn log-uniformly, plus edge cases."""
    reals = draw(st.lists(st.one_of(st.floats(lo, hi), st.sampled_from([lo, hi, 0.5, 0.25, 2 ** -20])),
                          min_size=n, max_size=n))
    ms, ss = zip(*(quantize_multiplier(r) for r in reals))
    return np.array(ms, dtype=np.int32), np.array(ss, dtype=np.int32)


@st.composite
def calibrated_multipliers(draw, O, K):
    """Real multipliers that map a typical accumulator (about sqrt(K) * 127 * 74) onto about +-2**k output
    steps, k in [-1, 7]: outputs that mostly neither saturate nor vanish, so rounding differences show."""
    reals = [2.0 ** draw(st.floats(-1, 7)) / (np.sqrt(K) * 127 * 74) for _ in range(O)]
    ms, ss = zip(*(quantize_multiplier(r) for r in reals))
    return np.array(ms, dtype=np.int32), np.array(ss, dtype=np.int32)


@st.composite
def act_clamp(draw, zp):
    kind = draw(st.sampled_from(["none", "relu", "relu6", "random"]))
    if kind == "none":
        return -128, 127
    if kind == "relu":
        return zp, 127
    lo = draw(st.integers(-128, 127))
    hi = draw(st.integers(lo, 127))
    return lo, hi


def int8_array(draw, shape):
    seed = draw(st.integers(0, 2 ** 32 - 1))
    rng = np.random.default_rng(seed)
    kind = draw(st.sampled_from(["uniform", "extremes", "narrow"]))
    if kind == "uniform":
        return rng.integers(-128, 128, size=shape).astype(np.int8)
    if kind == "extremes":
        return rng.choice(np.array([-128, -127, 0, 126, 127], dtype=np.int8), size=shape)
    c = int(rng.integers(-100, 100))
    return np.clip(c + rng.integers(-8, 9, size=shape), -128, 127).astype(np.int8)


def float_array(draw, shape, scale=1.0):
    seed = draw(st.integers(0, 2 ** 32 - 1))
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(size=shape) * scale).astype(np.float32)


def int8_weights(draw, shape):
    seed = draw(st.integers(0, 2 ** 32 - 1))
    rng = np.random.default_rng(seed)
    return rng.integers(-127, 128, size=shape).astype(np.int8)


def in_format(model, x, fmt):
    """(model, x) with the model's float32 tensors and arrays stored as ``fmt`` (kwsnum.precision
    .to_storage_float) and its float32 input data rounded to it (x: an array, or a tuple for several inputs).
    fmt "float32" returns them unchanged."""
    if fmt == "float32":
        return model, x
    from kwsnum.float16 import narrow
    from kwsnum.precision import to_storage_float
    conv = [model.tensors[t].format == "float32" for t in model.inputs]
    xs = x if isinstance(x, tuple) else (x,)
    xs = tuple(narrow(np.asarray(d, np.float32), fmt) if c else d for d, c in zip(xs, conv))
    return to_storage_float(model, fmt), (xs if isinstance(x, tuple) else xs[0])


def check_model(model, x):
    """Oracle vs torch reference on every tensor of the model: == for integers, the spec tolerance for floats.
    Every node's reference runs on the oracle's inputs (run_reference feed), so each op is checked on
    identical inputs; for an integer-only model this is the same as chaining the reference.

    The oracle runs twice, on numba's kernels and on the vector (numpy) ones (kwsnum/backend.py): every tensor of
    the two runs must be identical (bit for bit: the same operations)."""
    with backend.forced(False):
        got = model.run(x, trace=True)
    with backend.forced(True):
        vec = model.run(x, trace=True)
    for name in model.tensors:
        a, b = got[name], vec[name]
        assert a.dtype == b.dtype and a.shape == b.shape, (name, "vector kernels", a.dtype, b.dtype)
        if not np.array_equal(np.ascontiguousarray(a).view(np.uint8), np.ascontiguousarray(b).view(np.uint8)):
            bad = np.argwhere(a != b) if a.dtype.kind != "f" else np.argwhere(~same_values(a, b))
            raise AssertionError(f"{name}: the vector kernels differ from numba's at {len(bad)}/{a.size} elements")
    ref = run_reference(model, x, trace=True, feed=got)
    for name in model.tensors:
        a, b = got[name], ref[name]
        assert a.shape == b.shape, (name, a.shape, b.shape)
        assert a.dtype == b.dtype, (name, a.dtype, b.dtype)
        fmt = model.tensors[name].format
        if fmt in STORAGE_RTOL:       # float16 / bfloat16 bit patterns: values within the 16-bit tolerance
            ok = agreement(a, b, TOLERANCE, fmt)
            assert ok.all(), (name, fmt, int((~ok).sum()), a[~ok][:4], b[~ok][:4])
        elif a.dtype.kind == "f":
            finite = np.abs(b[np.isfinite(b)])
            tol = FLOAT_RTOL * max(1.0, float(np.max(finite, initial=0.0)))
            with np.errstate(invalid="ignore"):
                ok = (np.abs(a.astype(np.float64) - b) <= tol) | same_values(a, b)
            assert ok.all(), (name, float(np.nanmax(np.abs(a.astype(np.float64) - b)[~ok])), tol)
        else:
            if not np.array_equal(a, b):
                bad = np.argwhere(a != b)
                i = tuple(bad[0])
                raise AssertionError(f"{name}: {len(bad)}/{a.size} elements differ; first at {i}: "
                                     f"oracle {a[i]} torch {b[i]}")
    return got
