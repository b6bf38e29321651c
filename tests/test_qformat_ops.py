"""Q-format fixed point (docs/numerics.md 10), every op x container (q8, q16, q32) x rounding x overflow mode,
three ways: the torch reference == the oracle on every tensor, and C == the oracle (c_runtime through ctypes,
driven by each op's c_call). One Hypothesis strategy per op draws a single-op model and its input."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from kwsnum.builder import GraphBuilder
from kwsnum.fixedpoint import QROUNDING_MODES, OVERFLOW_MODES
from kwsnum.model import QBITS, QRANGE
from tests.c_build import run_c, assert_same
from tests.strategies import check_model

CONTAINERS = st.sampled_from(["q8", "q16", "q32"])
RMODES = st.sampled_from(sorted(QROUNDING_MODES))
OMODES = st.sampled_from(sorted(OVERFLOW_MODES))
WBITS = {"q8": 8, "q16": 16, "q32": 16}     # weight container (10.1)


def rng_of(draw):
    return np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))


def q_array(draw, shape, fmt):
    """Q activations: uniform over the container, its extremes, small values, or a narrow cluster."""
    lo, hi = QRANGE[fmt]
    dt = np.dtype({"q8": np.int8, "q16": np.int16, "q32": np.int32}[fmt])
    rng = rng_of(draw)
    kind = draw(st.sampled_from(["uniform", "extremes", "small", "narrow"]))
    if kind == "uniform":
        return rng.integers(lo, hi + 1, size=shape, dtype=np.int64).astype(dt)
    if kind == "extremes":
        return rng.choice(np.array([lo, lo + 1, -1, 0, 1, hi - 1, hi], dtype=dt), size=shape)
    if kind == "small":
        return rng.integers(-40, 41, size=shape).astype(dt)
    c = int(rng.integers(lo // 2, hi // 2))
    return np.clip(c + rng.integers(-64, 65, size=shape), lo, hi).astype(dt)


def q_weights(draw, shape, fmt):
    m = (1 << (WBITS[fmt] - 1)) - 1
    rng = rng_of(draw)
    w = rng.integers(-m, m + 1, size=shape)
    if draw(st.booleans()):            # sparse: zero taps (the kernels skip them)
        w[rng.random(size=shape) < 0.5] = 0
    return w.astype(np.int8 if WBITS[fmt] == 8 else np.int16)


def modes(draw):
    return dict(qround=draw(RMODES), qoverflow=draw(OMODES))


def clamp_attrs(draw, fmt):
    lo, hi = QRANGE[fmt]
    kind = draw(st.sampled_from(["none", "none", "relu", "random"]))
    if kind == "none":
        return dict(act_min=lo, act_max=hi)
    if kind == "relu":
        return dict(act_min=0, act_max=hi)
    a = draw(st.integers(lo, hi))
    return dict(act_min=a, act_max=draw(st.integers(a, hi)))


def single(op, ins, attrs=None, arrays=None, out_fmt=None, out_frac=None):
    """A one-node model: ``ins`` a list of (shape, format, frac_bits)."""
    b = GraphBuilder(name=op)
    names = [b.input(f"x{i}", shp, fmt, frac_bits=n) for i, (shp, fmt, n) in enumerate(ins)]
    y = b.add(op, op, names, attrs, arrays, format=out_fmt or ins[0][1], frac_bits=out_frac)
    return b.build([y])


def out_frac_for(draw, n_acc, typical, bits):
    """An output frac_bits that maps an accumulator of magnitude ``typical`` at frac n_acc near the top of a
    ``bits`` container, give or take a few bits (so rounding, saturation and wrap-around all happen)."""
    top = int(np.floor(np.log2(max(typical, 1.0))))
    return n_acc - (top - (bits - 2)) + draw(st.integers(-3, 3))


# ------------------------------------------------------------------ strategies, one per op
@st.composite
def conv_case(draw, fmt=None):
    fmt = fmt or draw(CONTAINERS)
    rank = draw(st.sampled_from([1, 2]))
    C = draw(st.integers(1, 6))
    groups = draw(st.sampled_from([1, "depthwise"] + ([2] if C % 2 == 0 else [])))
    g = C if groups == "depthwise" else groups
    O = g * draw(st.integers(1, 3))
    K = [draw(st.integers(1, 3)) for _ in range(rank)]
    L = [draw(st.integers(1, 9)) for _ in range(rank)]
    stride = [draw(st.integers(1, 3)) for _ in range(rank)]
    dil = [draw(st.integers(1, 2)) for _ in range(rank)]
    pad = [draw(st.integers(0, 2)) for _ in range(2 * rank)]
    for i in range(rank):                  # the padded input holds the dilated kernel
        L[i] = max(L[i], dil[i] * (K[i] - 1) + 1 - pad[2 * i] - pad[2 * i + 1])
    w = q_weights(draw, (O, C // g, *K), fmt)
    x = q_array(draw, (draw(st.integers(1, 3)), C, *L), fmt)
    n_in = draw(st.integers(-4, 30))
    wf = np.array([draw(st.integers(-2, 20)) for _ in range(O)], np.int32)
    bits = QBITS[fmt]
    typical = np.sqrt(np.prod(K) * C / g) * (1 << (bits - 2)) * (1 << (WBITS[fmt] - 2))
    n_out = out_frac_for(draw, n_in + int(wf.max()), typical, bits)
    bmax = 1 << (20 if fmt == "q8" else 40)
    bias = rng_of(draw).integers(-bmax, bmax + 1, size=O).astype(np.int32 if fmt == "q8" else np.int64)
    attrs = dict(stride=tuple(stride), dilation=tuple(dil), padding=tuple(pad), groups=g,
                 **clamp_attrs(draw, fmt), **modes(draw))
    op = "conv2d" if rank == 2 else "conv1d"
    arrays = dict(weight=w, bias=bias, weight_frac=wf)
    return single(op, [(x.shape[1:], fmt, n_in)], attrs, arrays, out_frac=n_out), x


@st.composite
def linear_case(draw, fmt=None):
    fmt = fmt or draw(CONTAINERS)
    F, O = draw(st.integers(1, 40)), draw(st.integers(1, 8))
    w = q_weights(draw, (O, F), fmt)
    x = q_array(draw, (draw(st.integers(1, 3)), F), fmt)
    n_in = draw(st.integers(-4, 30))
    wf = np.array([draw(st.integers(-2, 20)) for _ in range(O)], np.int32)
    bits = QBITS[fmt]
    n_out = out_frac_for(draw, n_in + int(wf.min()), np.sqrt(F) * (1 << (bits - 2)) * (1 << (WBITS[fmt] - 2)), bits)
    bmax = 1 << (20 if fmt == "q8" else 40)
    bias = rng_of(draw).integers(-bmax, bmax + 1, size=O).astype(np.int32 if fmt == "q8" else np.int64)
    arrays = dict(weight=w, bias=bias, weight_frac=wf)
    return single("linear", [((F,), fmt, n_in)], dict(**clamp_attrs(draw, fmt), **modes(draw)), arrays,
                  out_frac=n_out), x


@st.composite
def add_case(draw, fmt=None):
    fmt = fmt or draw(CONTAINERS)
    from tests.ops.test_add import shape_pairs, bshape
    sa, sb = draw(shape_pairs())      # broadcastable pairs, same shapes half the time (as tests/ops/test_add.py)
    n = draw(st.integers(0, 40))
    n1, n2 = n + draw(st.integers(-31, 0)), n + draw(st.integers(-31, 0))
    n_out = max(n1, n2) + draw(st.integers(-4, 3))
    a, b = q_array(draw, (2,) + sa, fmt), q_array(draw, (2,) + sb, fmt)
    m = single("add", [(sa, fmt, n1), (sb, fmt, n2)], dict(**clamp_attrs(draw, fmt), **modes(draw)),
               out_frac=n_out)
    assert m.output.shape == bshape(sa, sb)
    return m, (a, b)


@st.composite
def pool_case(draw, fmt=None, kind=None):
    fmt = fmt or draw(CONTAINERS)
    kind = kind or draw(st.sampled_from(["avg", "max"]))
    rank = draw(st.sampled_from([1, 2]))
    k = [draw(st.integers(1, 3)) for _ in range(rank)]
    s = [draw(st.integers(1, 3)) for _ in range(rank)]
    pad = []
    for i in range(rank):
        p = draw(st.integers(0, k[i] // 2))
        pad += [p, p]
    L = [draw(st.integers(k[i], 8)) for i in range(rank)]
    C = draw(st.integers(1, 4))
    x = q_array(draw, (draw(st.integers(1, 3)), C, *L), fmt)
    attrs = dict(kernel=tuple(k), stride=tuple(s), padding=tuple(pad), **clamp_attrs(draw, fmt))
    if kind == "avg":
        attrs.update(count_include_pad=draw(st.booleans()), qround=draw(RMODES))
    n = draw(st.integers(-8, 40))
    return single(f"{kind}pool{rank}d", [(x.shape[1:], fmt, n)], attrs, out_frac=n), x


@st.composite
def gap_case(draw, fmt=None):
    fmt = fmt or draw(CONTAINERS)
    shape = (draw(st.integers(1, 5)),) + tuple(draw(st.lists(st.integers(1, 7), min_size=1, max_size=2)))
    x = q_array(draw, (draw(st.integers(1, 3)),) + shape, fmt)
    n = draw(st.integers(-8, 40))
    attrs = dict(**clamp_attrs(draw, fmt), qround=draw(RMODES))
    return single("global_avgpool", [(shape, fmt, n)], attrs, out_frac=n), x


@st.composite
def relu_case(draw, fmt=None):
    fmt = fmt or draw(CONTAINERS)
    shape = tuple(draw(st.lists(st.integers(1, 6), min_size=1, max_size=3)))
    n = draw(st.integers(-8, 40))
    lo, hi = QRANGE[fmt]
    six = min(hi, 6 << n) if n >= 0 else min(hi, 6 >> -n)
    attrs = draw(st.sampled_from([dict(kind="relu", act_min=0, act_max=hi),
                                  dict(kind="relu6", act_min=0, act_max=six)]))
    return single("relu", [(shape, fmt, n)], attrs, out_frac=n), q_array(draw, (2,) + shape, fmt)


@st.composite
def reshape_case(draw, fmt=None):
    fmt = fmt or draw(CONTAINERS)
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=1, max_size=3)))
    n = draw(st.integers(-8, 40))
    return (single("reshape", [(shape, fmt, n)], dict(shape=(int(np.prod(shape)),)), out_frac=n),
            q_array(draw, (2,) + shape, fmt))


@st.composite
def layernorm_case(draw):
    from kwsnum.ops.layernorm import int8_params, MEAN_BITS
    fmt = draw(st.sampled_from(["q8", "q16"]))
    C, L = draw(st.integers(1, 6)), draw(st.integers(1, 12))
    axes = draw(st.sampled_from([1, 2]))
    norm = (L,) if axes == 1 else (C, L)
    rng = rng_of(draw)
    gamma = rng.normal(1.0, 0.5, size=norm)
    beta = rng.normal(0.0, 0.5, size=norm)
    top = QBITS[fmt] - 1
    n_in, n_out = draw(st.integers(0, top)), draw(st.integers(top - 4, top))
    arrays, extra = int8_params(gamma, beta, 1e-5, 2.0 ** -n_in, 2.0 ** -n_out, norm, f_bits=MEAN_BITS[fmt])
    attrs = dict(extra, **clamp_attrs(draw, fmt), **modes(draw))
    x = q_array(draw, (draw(st.integers(1, 3)), C, L), fmt)
    return single("layernorm", [((C, L), fmt, n_in)], attrs, arrays, out_frac=n_out), x


@st.composite
def quantize_case(draw):
    fin = draw(st.sampled_from(["float32", "float16", "bfloat16"]))
    fmt = draw(CONTAINERS)
    n = draw(st.sampled_from([-32, 62]) | st.integers(-6, 34))
    rng = rng_of(draw)
    size = draw(st.integers(1, 40))
    scale = 2.0 ** (QBITS[fmt] - 1 - n) * draw(st.sampled_from([0.01, 0.5, 1.0, 4.0]))
    x = (rng.standard_normal(size=(2, size)) * scale).astype(np.float32)
    # exact ties at the rounding step, +-0, infinities and NaN
    ties = ((rng.integers(-40, 40, size=(2, size)) + 0.5) * 2.0 ** -n).astype(np.float32)
    x = np.where(rng.random(size=x.shape) < 0.3, ties, x)
    x[0, 0] = draw(st.sampled_from([np.nan, np.inf, -np.inf, -0.0, 0.0, 3e38, -3e38]))
    m = single("quantize", [((size,), fin, None)], modes(draw), out_fmt=fmt, out_frac=n)
    if fin != "float32":
        from kwsnum.float16 import narrow
        x = narrow(x, fin)
    return m, x


@st.composite
def dequantize_case(draw):
    fmt = draw(CONTAINERS)
    fout = draw(st.sampled_from(["float32", "float16", "bfloat16"]))
    n = draw(st.sampled_from([-32, 62]) | st.integers(-6, 34))
    x = q_array(draw, (2, draw(st.integers(1, 30))), fmt)
    return single("dequantize", [(x.shape[1:], fmt, n)], out_fmt=fout), x


@st.composite
def requantize_case(draw):
    """affine int8 / int16 <-> Q (section 9's formula with the Q side's zero point 0)."""
    from kwsnum.ops.requantize import requantize_params
    affine = draw(st.sampled_from(["int8", "int16"]))
    fmt = draw(CONTAINERS)
    s = float(np.float32(draw(st.floats(1e-4, 1.0))))
    zp = draw(st.integers(-128, 127)) if affine == "int8" else 0
    to_q = draw(st.booleans())
    n = QBITS[fmt] - 1 - int(np.ceil(np.log2(128 * s if affine == "int8" else 32768 * s))) + draw(st.integers(-3, 3))
    if not to_q:
        n = draw(st.integers(-4, 30))
    sq = 2.0 ** -n
    size = draw(st.integers(1, 30))
    if to_q:
        m_, sh_ = requantize_params(s, sq)
        x = (rng_of(draw).integers(-128, 128, size=(2, size)).astype(np.int8) if affine == "int8"
             else rng_of(draw).integers(-32768, 32768, size=(2, size)).astype(np.int16))
        b = GraphBuilder()
        xi = b.input("x", (size,), affine, scale=s, zero_point=zp)
        y = b.add("requantize", "rq", [xi], dict(multiplier=m_, shift=sh_), format=fmt, frac_bits=n)
    else:
        m_, sh_ = requantize_params(sq, s)
        x = q_array(draw, (2, size), fmt)
        b = GraphBuilder()
        xi = b.input("x", (size,), fmt, frac_bits=n)
        y = b.add("requantize", "rq", [xi], dict(multiplier=m_, shift=sh_), format=affine, scale=s, zero_point=zp)
    b.rounding = draw(st.sampled_from(["double", "single"]))
    return b.build([y]), x


@st.composite
def qcast_case(draw):
    fa, fb = draw(CONTAINERS), draw(CONTAINERS)
    na = draw(st.integers(-8, 40))
    nb = na + draw(st.integers(-62, 62)) if draw(st.booleans()) else na + draw(st.integers(-20, 20))
    nb = int(np.clip(nb, -32, 62))
    if abs(na - nb) > 62:
        nb = na
    x = q_array(draw, (2, draw(st.integers(1, 30))), fa)
    return single("qcast", [(x.shape[1:], fa, na)], modes(draw), out_fmt=fb, out_frac=nb), x


CASES = {"conv": conv_case, "linear": linear_case, "add": add_case, "pool": pool_case, "gap": gap_case,
         "relu": relu_case, "reshape": reshape_case, "layernorm": layernorm_case, "quantize": quantize_case,
         "dequantize": dequantize_case, "requantize": requantize_case, "qcast": qcast_case}


@pytest.mark.parametrize("op", sorted(CASES))
@given(data=st.data())
def test_q_oracle_equals_torch(op, data):
    model, x = data.draw(CASES[op]())
    check_model(model, x)


@pytest.mark.parametrize("op", sorted(CASES))
@given(data=st.data())
def test_q_c_equals_oracle(op, data):
    model, x = data.draw(CASES[op]())
    assert_same(run_c(model, x), model.run(x, trace=True))


def test_q_model_roundtrip(tmp_path):
    """frac_bits and the mode attributes survive save / load; inspect names the Q format."""
    import kwsnum
    b = GraphBuilder()
    x = b.input("x", (4,), "float32")
    q = b.add("quantize", "q", [x], dict(qround="RND_CONV", qoverflow="WRAP"), format="q16", frac_bits=12)
    y = b.add("dequantize", "dq", [q], format="float32")
    m = b.build([y])
    kwsnum.save(m, tmp_path / "m.h5")
    m2 = kwsnum.load(tmp_path / "m.h5")
    assert m2.tensors[q].frac_bits == 12 and m2.tensors[q].describe() == "q16(Q4.12)"
    assert m2.nodes[0].attrs["qround"] == "RND_CONV" and m2.nodes[0].attrs["qoverflow"] == "WRAP"
    xs = np.float32([[0.1, -3.0, 1e9, 2.0 ** -13]])
    assert np.array_equal(m2.run(xs), m.run(xs))


def test_q_load_errors():
    """Out-of-range frac_bits, shifts and modes are refused naming the node or tensor."""
    from kwsnum.errors import ModelError
    with pytest.raises(ModelError, match="frac_bits"):
        single("relu", [((3,), "q8", 70)], dict(act_min=0, act_max=127), out_frac=70)
    with pytest.raises(ModelError, match="qround"):
        single("qcast", [((3,), "q8", 3)], dict(qround="NEAREST"), out_fmt="q16", out_frac=3)
    with pytest.raises(ModelError, match="only applies to an output in q8"):   # modes of a non-Q quantize output
        b = GraphBuilder()
        x = b.input("x", (3,), "float32")
        b.build([b.add("quantize", "q", [x], dict(qround="RND"), format="int8", scale=0.1, zero_point=0)])
    w = np.ones((2, 3), np.int8)
    with pytest.raises(ModelError, match="shift"):
        single("linear", [((3,), "q8", 60)], dict(act_min=-128, act_max=127),
               dict(weight=w, bias=np.zeros(2, np.int32), weight_frac=np.int32([62, 0])), out_frac=-30)
    with pytest.raises(ModelError, match="accumulator"):
        single("linear", [((3,), "q8", 0)], dict(act_min=-128, act_max=127),
               dict(weight=w, bias=np.int32([2 ** 31 - 10, 0]), weight_frac=np.int32([0, 0])), out_frac=0)
