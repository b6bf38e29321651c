"""fp16 / bf16 storage in the C runtime (docs/numerics.md section 7, "C runtime").

Every float32 kernel ``kws_<op>_f32`` has twins ``kws_<op>_f16`` / ``kws_<op>_bf16`` with the same arguments
(tensors and float arrays as uint16_t bit patterns). The contract tested here, per op, on the ops' own
Hypothesis strategies (float32 single-op models, tests/ops/test_<op>.py): with the input data and every float
array first rounded to 16-bit values,

    twin(bits) == round_to_16(kws_<op>_f32(the same values as float32))     bit for bit (NaN: both NaN)

i.e. the twin widens exactly, computes exactly the float32 kernel's arithmetic and rounds each output once.
fp16 rounding is numpy's float16 conversion (independent of kwsnum); bf16 is kwsnum.float16's. The float32
kernel is called on the SAME float32 description (``op.c_call``), so the check needs no oracle.

Then the bridges (quantize from / dequantize to 16 bits) against the float32 kernels, exhaustively over every
16-bit pattern / int8 value, and the six casts between float32, fp16 and bf16 over all 65,536 16-bit patterns
(and random and boundary float32 values) against numpy / torch (values) and kwsnum.float16 (every bit, NaN
payloads included). Finally the twins, the bridges and the casts run once in a standalone program under
AddressSanitizer + UBSan (exact-size arrays), as tests/test_c_sanitizers.py does for the int8 / float32 kernels.
"""
import ctypes

import numpy as np
import pytest
from hypothesis import given, strategies as st

from kwsnum import float16 as F
from kwsnum import ops
from tests import c_build
from tests.ops.test_add import add_models
from tests.ops.test_conv import conv_models
from tests.ops.test_global_avgpool import global_avgpool_models
from tests.ops.test_layernorm import layernorm_models
from tests.ops.test_linear import linear_models
from tests.ops.test_pool import pool_models
from tests.ops.test_quantize import quantize_models
from tests.ops.test_relu import relu_models

SUFFIX = {"float16": "_f16", "bfloat16": "_bf16"}
ALL16 = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16)


# ------------------------------------------------------------------ 16-bit values
def to16(x, fmt):
    """float32 values -> 16-bit patterns, rounded to nearest even (fp16: numpy; bf16: kwsnum.float16)."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    if fmt == "float16":
        with np.errstate(all="ignore"):
            return x.astype(np.float16).view(np.uint16)
    return F.f32_to_bf16_array(x)


def from16(bits, fmt):
    """16-bit patterns -> their exact float32 values."""
    bits = np.ascontiguousarray(bits, dtype=np.uint16)
    if fmt == "float16":
        return bits.view(np.float16).astype(np.float32)
    return F.bf16_to_f32_array(bits)


def assert_bits(got, want, fmt, what):
    """16-bit patterns equal; where ``want`` is a NaN, ``got`` must be a NaN (any payload)."""
    got, want = np.asarray(got, np.uint16), np.asarray(want, np.uint16)
    nan_w, nan_g = np.isnan(from16(want, fmt)), np.isnan(from16(got, fmt))
    ok = np.where(nan_w, nan_g, got == want)
    if not ok.all():
        i = tuple(int(k) for k in np.argwhere(~ok)[0])
        g, w = got[i], want[i]
        raise AssertionError(f"{what} ({fmt}): {int((~ok).sum())}/{ok.size} elements differ; first at {i}: "
                             f"twin 0x{int(g):04x} = {float(from16(np.array([g]), fmt)[0])!r}, "
                             f"expected 0x{int(w):04x} = {float(from16(np.array([w]), fmt)[0])!r}")


# ------------------------------------------------------------------ calling a kernel from a c_call description
call = c_build.call      # an Op.c_call argument list -> a ctypes call (shared with tests/c_build.py)


def twin_name(fname, fmt):
    """kws_conv2d_f32 -> kws_conv2d_f16; kws_quantize_f32_s8 -> kws_quantize_f16_s8; ..._s8_f32 -> ..._s8_f16."""
    assert fname.count("_f32") == 1, fname
    return fname.replace("_f32", SUFFIX[fmt])


def node_case(model, node, fmt, samples, scale_x=1.0, scale_w=1.0):
    """The twin check of one node on per-sample inputs ``samples`` (a list, per sample, of one array per input):
    returns nothing, raises on a mismatch."""
    op = ops.get(node.op, node)
    fname, spec = op.c_call(node, model)
    twin = twin_name(fname, fmt)
    arr32, arr16 = {}, {}
    for k, a in node.arrays.items():
        a = np.asarray(a)
        if a.dtype == np.float32:
            with np.errstate(all="ignore"):
                bits = to16(a * np.float32(scale_w), fmt)
            arr16[k], arr32[k] = bits, from16(bits, fmt)
        else:
            arr16[k] = arr32[k] = a
    out_spec = model.tensors[node.outputs[0]]
    in_fmts = [model.tensors[t].format for t in node.inputs]
    for xs in samples:
        x32, x16 = [], []
        for xi, f in zip(xs, in_fmts):
            if f == "float32":
                with np.errstate(all="ignore"):
                    bits = to16(np.asarray(xi, np.float32) * np.float32(scale_x), fmt)
                x16.append(bits)
                x32.append(from16(bits, fmt))
            else:
                x16.append(np.asarray(xi))
                x32.append(np.asarray(xi))
        ref = call(fname, spec, x32, arr32, np.zeros(tuple(out_spec.shape), out_spec.dtype))
        if out_spec.format == "float32":
            got = call(twin, spec, x16, arr16, np.full(tuple(out_spec.shape), 0xA5A5, np.uint16))
            assert_bits(got, to16(ref, fmt), fmt, f"{twin} ({node.op})")
        else:                                           # quantize: int8 output, exactly the float32 kernel's
            got = call(twin, spec, x16, arr16, np.zeros(tuple(out_spec.shape), out_spec.dtype))
            assert np.array_equal(got, ref), (twin, got, ref)


SPECIALS = np.array([np.nan, np.inf, -np.inf, -0.0, 0.0, 65504.0, 65520.0, -7e4, 6e-8, -3e-8, 1e-40, 3e38,
                     1.0, -1.0], np.float32)


@st.composite
def regimes(draw):
    """How to stretch the drawn float data so that 16-bit rounding, fp16 subnormals and overflow all occur:
    (scale of the inputs, scale of the float arrays, fraction of input elements replaced by specials, seed)."""
    sx = 2.0 ** draw(st.sampled_from([0, 0, 0, -16, -10, 6, 12, 15]))
    sw = 2.0 ** draw(st.sampled_from([0, 0, -8, 4]))
    frac = draw(st.sampled_from([0.0, 0.0, 0.1, 0.5]))
    return sx, sw, frac, draw(st.integers(0, 2 ** 32 - 1))


def check_model(model, x, regime):
    """The single node of a float32 model, on every sample of ``x``, for both storage formats."""
    sx, sw, frac, seed = regime
    assert len(model.nodes) == 1, [n.op for n in model.nodes]
    node = model.nodes[0]
    assert list(node.inputs) == list(model.inputs)
    rng = np.random.default_rng(seed)
    xs = list(x) if isinstance(x, tuple) else [x]
    xs = [np.array(xi, copy=True) for xi in xs]
    for xi, n in zip(xs, model.inputs):
        if frac and model.tensors[n].format == "float32":
            mask = rng.random(xi.shape) < frac
            with np.errstate(all="ignore"):
                xi[mask] = rng.choice(SPECIALS, size=int(mask.sum())) / np.float32(sx)
    samples = [[xi[i] for xi in xs] for i in range(xs[0].shape[0])]
    for fmt in SUFFIX:
        node_case(model, node, fmt, samples, scale_x=sx, scale_w=sw)


def is_float32(case):
    model = case[0]
    return all(model.tensors[t].format == "float32" for t in model.inputs)


# ------------------------------------------------------------------ the kernel twins, op by op
@pytest.mark.parametrize("rank", [1, 2])
@given(data=st.data())
def test_conv_twins(rank, data):
    model, x = data.draw(conv_models(rank, "float32"))
    check_model(model, x, data.draw(regimes()))


@given(linear_models().filter(is_float32), regimes())
def test_linear_twins(case, regime):
    check_model(*case, regime)


@pytest.mark.parametrize("kind", ["avg", "max"])
@given(data=st.data())
def test_pool_twins(kind, data):
    model, x = data.draw(pool_models(kind=kind).filter(is_float32))
    check_model(model, x, data.draw(regimes()))


@given(global_avgpool_models().filter(is_float32), regimes())
def test_global_avgpool_twins(case, regime):
    check_model(*case, regime)


@given(relu_models().filter(is_float32), regimes())
def test_relu_twins(case, regime):
    check_model(*case, regime)


@given(add_models().filter(is_float32), regimes())
def test_add_twins(case, regime):
    check_model(*case, regime)


@given(layernorm_models("float32"), regimes())
def test_layernorm_twins(case, regime):
    check_model(*case, regime)


@given(quantize_models(), regimes())
def test_quantize_dequantize_twins(case, regime):
    """quantize (float input: kws_quantize_f16_s8 / _bf16_s8) and dequantize (float output: kws_dequantize_s8_f16
    / _s8_bf16) on the quantize op's strategy."""
    check_model(*case, regime)


def test_every_float_kernel_has_twins():
    """Every kws_*_f32 function the runtime headers declare has both twins exported by the library."""
    import re
    names = set()
    for h in c_build.headers():
        with open(h) as fh:
            names.update(re.findall(r"^void (kws_\w*_f32\w*)\s*\(", fh.read(), re.M))
    names = {n for n in names if not n.startswith("kws_cast_")}
    assert len(names) >= 10, names
    for n in sorted(names):
        for fmt in SUFFIX:
            assert hasattr(c_build.lib(), twin_name(n, fmt)), twin_name(n, fmt)


# ------------------------------------------------------------------ bridges, exhaustively
def _bridge(name, x, out_dtype, scale, zp):
    x = np.ascontiguousarray(x)
    out = np.zeros(x.size, out_dtype)
    fn = getattr(c_build.lib(), name)
    fn.restype = None
    fn(ctypes.c_void_p(x.ctypes.data), ctypes.c_void_p(out.ctypes.data), ctypes.c_int32(x.size),
       ctypes.c_float(float(np.float32(scale))), ctypes.c_int32(zp))
    return out


SCALES = [1.0, 0.1, 0.0078125, 3e-3, 1e-7, 1e-30, 1e-44, 7.5, 1e4, 3.4e38]


@pytest.mark.parametrize("fmt", list(SUFFIX))
def test_quantize_from_16_bits_exhaustive(fmt):
    """kws_quantize_{f16,bf16}_s8 on every 16-bit pattern == kws_quantize_f32_s8 on its float32 value."""
    x32 = from16(ALL16, fmt)
    for scale in SCALES:
        for zp in (0, -128, 127, 13):
            want = _bridge("kws_quantize_f32_s8", x32, np.int8, scale, zp)
            got = _bridge(f"kws_quantize{SUFFIX[fmt]}_s8", ALL16, np.int8, scale, zp)
            assert np.array_equal(got, want), (fmt, scale, zp, np.argwhere(got != want)[:4])


@pytest.mark.parametrize("fmt", list(SUFFIX))
@given(scale=st.floats(float(np.float32(1e-45)), float(np.finfo(np.float32).max), width=32), zp=st.integers(-128, 127))
def test_dequantize_to_16_bits(fmt, scale, zp):
    """kws_dequantize_s8_{f16,bf16} on every int8 value == round_to_16(kws_dequantize_s8_f32), for any scale."""
    q = np.arange(-128, 128, dtype=np.int16).astype(np.int8)
    want = to16(_bridge("kws_dequantize_s8_f32", q, np.float32, scale, zp), fmt)
    got = _bridge(f"kws_dequantize_s8{SUFFIX[fmt]}", q, np.uint16, scale, zp)
    assert_bits(got, want, fmt, "dequantize")
    assert np.array_equal(got, want)                    # no NaN here: every bit


# ------------------------------------------------------------------ casts
def cast(name, x, out_dtype):
    x = np.ascontiguousarray(x)
    out = np.zeros(x.size, out_dtype)
    fn = getattr(c_build.lib(), name)
    fn.restype = None
    fn(ctypes.c_void_p(x.ctypes.data), ctypes.c_void_p(out.ctypes.data), ctypes.c_int32(x.size))
    return out


def torch_bf16_bits(x32):
    """bf16 patterns of float32 values by torch (round to nearest even; its NaN patterns are not compared)."""
    torch = pytest.importorskip("torch")
    return torch.from_numpy(np.ascontiguousarray(x32)).to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16)


def f32_probe():
    """float32 values around every fp16 / bf16 rounding boundary, plus random bit patterns and specials."""
    rng = np.random.default_rng(1234)
    rand = rng.integers(0, 2 ** 32, 200_000, dtype=np.uint64).astype(np.uint32)
    # every fp16 value and the float32 values next to every midpoint between neighbouring fp16 values
    v = F.f16_to_f32_array(ALL16).astype(np.float64)
    v = v[np.isfinite(v)]
    v = np.unique(v)
    mids = ((v[1:] + v[:-1]) / 2).astype(np.float32)    # exact in float32 (one bit more than fp16)
    m = mids.view(np.uint32)
    near = np.concatenate([m - np.uint32(1), m, m + np.uint32(1)])
    bfmid = (ALL16.astype(np.uint32) << 16) | np.uint32(0x8000)   # bf16 midpoints and neighbours
    bfnear = np.concatenate([bfmid - np.uint32(1), bfmid, bfmid + np.uint32(1)])
    special = np.array([0x7F800000, 0xFF800000, 0x7F800001, 0x7FC00000, 0xFFFFFFFF, 0x7F7FFFFF, 0x477FEFFF,
                        0x477FF000, 0x38800000, 0x387FFFFF, 0x33000000, 0x33000001, 0x00000001, 0x80000000,
                        0x7F7F8000, 0x7F7F7FFF], np.uint32)
    return np.concatenate([rand, near, bfnear, special]).view(np.float32)


def test_cast_widening_exhaustive():
    """kws_cast_f16_f32 / kws_cast_bf16_f32 on all 65,536 patterns: the exact value (numpy float16 / bits << 16)
    and kwsnum.float16's bits (NaN payloads and quiet bit included)."""
    got = cast("kws_cast_f16_f32", ALL16, np.float32)
    ref = ALL16.view(np.float16).astype(np.float32)
    nan = np.isnan(ref)
    assert np.array_equal(np.isnan(got), nan)
    assert np.array_equal(got[~nan].view(np.uint32), ref[~nan].view(np.uint32))
    assert np.array_equal(got.view(np.uint32), F.f16_to_f32_array(ALL16).view(np.uint32))
    got = cast("kws_cast_bf16_f32", ALL16, np.float32)
    ref = (ALL16.astype(np.uint32) << 16).view(np.float32)
    nan = np.isnan(ref)
    assert np.array_equal(np.isnan(got), nan)
    assert np.array_equal(got[~nan].view(np.uint32), ref[~nan].view(np.uint32))
    assert np.array_equal(got.view(np.uint32), F.bf16_to_f32_array(ALL16).view(np.uint32))


def test_cast_between_16_bit_formats_exhaustive():
    """fp16 -> bf16 and bf16 -> fp16 on all 65,536 patterns: one rounding of the exact value (numpy / torch for
    the value, kwsnum.float16 for every bit)."""
    x = ALL16.view(np.float16).astype(np.float32)                   # fp16 values, exact
    got = cast("kws_cast_f16_bf16", ALL16, np.uint16)
    nan = np.isnan(x)
    assert np.array_equal(np.isnan(from16(got, "bfloat16")), nan)
    assert np.array_equal(got[~nan], torch_bf16_bits(x)[~nan])
    assert np.array_equal(got, F.f32_to_bf16_array(F.f16_to_f32_array(ALL16)))
    x = (ALL16.astype(np.uint32) << 16).view(np.float32)            # bf16 values, exact
    got = cast("kws_cast_bf16_f16", ALL16, np.uint16)
    nan = np.isnan(x)
    assert np.array_equal(np.isnan(from16(got, "float16")), nan)
    with np.errstate(all="ignore"):
        assert np.array_equal(got[~nan], x[~nan].astype(np.float16).view(np.uint16))
    assert np.array_equal(got, F.f32_to_f16_array(F.bf16_to_f32_array(ALL16)))


def test_cast_narrowing():
    """kws_cast_f32_f16 / kws_cast_f32_bf16 on random float32 patterns and every rounding boundary."""
    x = f32_probe()
    nan = np.isnan(x)
    got = cast("kws_cast_f32_f16", x, np.uint16)
    with np.errstate(all="ignore"):
        assert np.array_equal(got[~nan], x[~nan].astype(np.float16).view(np.uint16))
    assert np.all(np.isnan(from16(got[nan], "float16")))
    assert np.array_equal(got, F.f32_to_f16_array(x))
    got = cast("kws_cast_f32_bf16", x, np.uint16)
    assert np.array_equal(got[~nan], torch_bf16_bits(x)[~nan])
    assert np.all(np.isnan(from16(got[nan], "bfloat16")))
    assert np.array_equal(got, F.f32_to_bf16_array(x))


@given(st.lists(st.floats(width=32, allow_subnormal=True), min_size=1, max_size=64))
def test_cast_roundtrip(values):
    """f32 -> 16 bits -> f32 -> 16 bits: the second narrowing is the identity (values are representable)."""
    x = np.array(values, np.float32)
    for fmt, a, b in (("float16", "kws_cast_f32_f16", "kws_cast_f16_f32"),
                      ("bfloat16", "kws_cast_f32_bf16", "kws_cast_bf16_f32")):
        h = cast(a, x, np.uint16)
        back = cast(b, h, np.float32)
        assert np.array_equal(cast(a, back, np.uint16), h)
        assert np.array_equal(h, to16(x, fmt)) or np.isnan(x).any()


# ------------------------------------------------------------------ the twins under AddressSanitizer + UBSan
def _sanitizer_cases():
    """Deterministic float32 single-op cases covering every twin (one drawn example of each strategy would tie
    this test to Hypothesis; a fixed generator keeps it reproducible)."""
    from kwsnum.builder import GraphBuilder
    rng = np.random.default_rng(7)
    cases = []

    def f(*shape):
        return rng.standard_normal(shape).astype(np.float32)

    b = GraphBuilder()
    x = b.input("x", (3, 6, 5), "float32")
    c = b.add("conv2d", "c", [x], dict(stride=(2, 1), dilation=(1, 2), padding=(1, 0, 2, 1), groups=3,
                                       act_min_f=-2.0, act_max_f=np.inf),
              dict(weight=f(6, 1, 3, 2), bias=f(6)))
    cases.append((b.build([c]), f(3, 6, 5)))
    b = GraphBuilder()
    x = b.input("x", (7,), "float32")
    cases.append((b.build([b.add("linear", "l", [x], dict(), dict(weight=f(4, 7), bias=f(4)))]), f(7)))
    b = GraphBuilder()
    x = b.input("x", (2, 5, 6), "float32")
    a = b.add("avgpool2d", "a", [x], dict(kernel=(3, 2), stride=(2, 1), padding=(1, 1, 1, 0),
                                          count_include_pad=False))
    cases.append((b.build([a]), f(2, 5, 6)))
    b = GraphBuilder()
    x = b.input("x", (2, 5, 6), "float32")
    m = b.add("maxpool2d", "m", [x], dict(kernel=(2, 3), stride=(1, 2), dilation=(2, 1), padding=(1, 0, 1, 1)))
    cases.append((b.build([m]), f(2, 5, 6)))
    b = GraphBuilder()
    x = b.input("x", (3, 4, 5), "float32")
    cases.append((b.build([b.add("global_avgpool", "g", [x], dict())]), f(3, 4, 5)))
    b = GraphBuilder()
    x = b.input("x", (9,), "float32")
    cases.append((b.build([b.add("relu", "r", [x], dict(act_min_f=0.0, act_max_f=6.0))]), f(9)))
    b = GraphBuilder()
    x1, x2 = b.input("x1", (2, 5), "float32"), b.input("x2", (2, 5), "float32")
    cases.append((b.build([b.add("add", "s", [x1, x2], dict())]), (f(2, 5), f(2, 5))))
    b = GraphBuilder()
    x = b.input("x", (3, 8), "float32")
    cases.append((b.build([b.add("layernorm", "n", [x], dict(axes=1, eps=1e-5), dict(gamma=f(8), beta=f(8)))]),
                  f(3, 8)))
    b = GraphBuilder()
    x = b.input("x", (11,), "float32")
    cases.append((b.build([b.add("quantize", "q", [x], format="int8", scale=0.05, zero_point=3)]), f(11)))
    b = GraphBuilder()
    x = b.input("x", (11,), "int8", 0.05, -3)
    cases.append((b.build([b.add("dequantize", "d", [x], format="float32")]),
                  rng.integers(-128, 128, 11).astype(np.int8)))
    return cases


def test_twins_under_asan_and_ubsan(tmp_path):
    if c_build.compiler() is None:
        pytest.skip("no C compiler found")
    decl, body, expect = [], [], {}

    def arr(name, a, const=True):
        ctype = {np.dtype(np.uint16): "uint16_t", np.dtype(np.int8): "int8_t", np.dtype(np.int32): "int32_t"}[a.dtype]
        vals = ", ".join(str(int(v)) for v in a.reshape(-1))
        decl.append(f"static {'const ' if const else ''}{ctype} {name}[{max(a.size, 1)}] = {{{vals}}};")
        return name

    for ci, (model, x) in enumerate(_sanitizer_cases()):
        node = model.nodes[0]
        fname, spec = ops.get(node.op, node).c_call(node, model)
        xs = list(x) if isinstance(x, tuple) else [x]
        out_spec = model.tensors[node.outputs[0]]
        for fmt in SUFFIX:
            tag = f"c{ci}{SUFFIX[fmt]}"
            ins16 = [to16(xi, fmt) if xi.dtype == np.float32 else xi for xi in xs]
            arr16 = {k: (to16(a, fmt) if np.asarray(a).dtype == np.float32 else np.asarray(a))
                     for k, a in node.arrays.items()}
            out_dt = np.uint16 if out_spec.format == "float32" else np.int8
            want = call(twin_name(fname, fmt), spec, ins16, arr16, np.zeros(tuple(out_spec.shape), out_dt))
            out = f"{tag}_out"
            decl.append(f"static {'uint16_t' if out_dt == np.uint16 else 'int8_t'} {out}[{out_spec.size}];")
            args = []
            for kind, v in spec:
                if kind == "in":
                    args.append(arr(f"{tag}_in{v}", ins16[v]))
                elif kind == "out":
                    args.append(out)
                elif kind == "array":
                    args.append(arr(f"{tag}_{v}", arr16[v]))
                elif kind == "i32":
                    args.append(f"(int32_t){int(v)}")
                elif kind == "f32":
                    u = int(np.array([v], np.float32).view(np.uint32)[0])
                    args.append(f"kws_t_f({u}u)")
                else:
                    raise AssertionError(kind)
            body.append(f"    {twin_name(fname, fmt)}({', '.join(args)});")
            body.append(f'    dump("{out}", {out}, sizeof {out});')
            expect[out] = want.tobytes()
    # the casts, on every 16-bit pattern and a few float32 values
    x32 = f32_probe()[-64:]
    arr("all16", ALL16)
    for name, src, n, dt in (("kws_cast_f16_f32", "all16", 65536, np.float32),
                             ("kws_cast_bf16_f32", "all16", 65536, np.float32),
                             ("kws_cast_f16_bf16", "all16", 65536, np.uint16),
                             ("kws_cast_bf16_f16", "all16", 65536, np.uint16)):
        decl.append(f"static {'float' if dt == np.float32 else 'uint16_t'} {name}_out[{n}];")
        body.append(f"    {name}({src}, {name}_out, {n}); dump(\"{name}_out\", {name}_out, sizeof {name}_out);")
        expect[f"{name}_out"] = cast(name, ALL16, dt).tobytes()
    decl.append(f"static const uint32_t f32bits[{x32.size}] = {{{', '.join(f'{int(v)}u' for v in x32.view(np.uint32))}}};")
    decl.append(f"static float f32in[{x32.size}];")
    body.append("    memcpy(f32in, f32bits, sizeof f32in);")
    for name in ("kws_cast_f32_f16", "kws_cast_f32_bf16"):
        decl.append(f"static uint16_t {name}_out[{x32.size}];")
        body.append(f"    {name}(f32in, {name}_out, {x32.size}); dump(\"{name}_out\", {name}_out, sizeof {name}_out);")
        expect[f"{name}_out"] = cast(name, x32, np.uint16).tobytes()
    src = "\n".join([
        "#include <stdio.h>", "#include <string.h>", "#include <stdint.h>", '#include "kws_runtime.h"',
        "static float kws_t_f(uint32_t u) { float f; memcpy(&f, &u, sizeof f); return f; }",
        "static void dump(const char *name, const void *p, size_t n)",
        "{ const unsigned char *b = (const unsigned char *)p; size_t i;",
        '  printf("%s ", name); for (i = 0; i < n; i++) printf("%02x", b[i]); printf("\\n"); }',
        *decl, "int main(void)", "{", *body, "    return 0;", "}", ""])
    stdout = c_build.run_sanitized(tmp_path, src, "kws_sanitize16")
    got = dict(line.split(" ") for line in stdout.splitlines())
    assert set(got) == set(expect)
    for k, v in expect.items():
        assert bytes.fromhex(got[k]) == v, k
