"""avgpool1d/2d, maxpool1d/2d: oracle == torch reference, plus hand-computed values and validation."""
import numpy as np
import pytest
from hypothesis import given, assume, strategies as st

from kwsnum.builder import GraphBuilder
from kwsnum.errors import ModelError
from kwsnum.ops.pool import dim_problem
from tests.strategies import ROUNDINGS, FORMATS, int8_qparams, act_clamp, int8_array, float_array, check_model
from tests.ops.int16_cases import int16_scale, int16_array, int16_clamp, multipliers16, bias64


@st.composite
def pool_models(draw, kind=None, rank=None, fmt=None):
    kind = kind or draw(st.sampled_from(["avg", "max"]))
    rank = rank or draw(st.sampled_from([1, 2]))
    fmt = fmt or draw(FORMATS)
    C = draw(st.integers(1, 4))
    N = draw(st.integers(1, 3))
    ks, stride, dil, pad, spatial = [], [], [], [], []
    for _ in range(rank):
        k = draw(st.integers(1, 5))
        d = draw(st.integers(1, 3)) if kind == "max" else 1
        pad_side = st.one_of(st.integers(0, k // 2), st.just(k // 2))  # the maximum padding often
        pa, pb = draw(pad_side), draw(pad_side)
        s = draw(st.integers(1, 4))
        eff = d * (k - 1) + 1
        need = max(1, eff - pa - pb)
        # sometimes the kernel covers the whole (unpadded) input
        n = draw(st.one_of(st.just(max(need, k)), st.integers(need, need + 9)))
        assume(dim_problem(n, k, s, d, pa, pb) is None)  # only dilated windows lying in the padding
        ks.append(k)
        stride.append(s)
        dil.append(d)
        pad += [pa, pb]
        spatial.append(n)
    op = f"{kind}pool{rank}d"
    attrs = dict(kernel=tuple(ks), stride=tuple(stride), padding=tuple(pad))
    if kind == "avg":
        attrs["count_include_pad"] = draw(st.booleans())
    else:
        attrs["dilation"] = tuple(dil)
    b = GraphBuilder(rounding=draw(ROUNDINGS))  # pooling does not requantize; both modes must agree
    if fmt == "int8":
        si, zi = draw(int8_qparams())
        x = b.input("x", (C,) + tuple(spatial), "int8", si, zi)
        lo, hi = draw(st.one_of(st.just((-128, 127)), act_clamp(zi)))  # a narrow clamp hides errors: not too often
        y = b.add(op, "pool", [x], dict(attrs, act_min=lo, act_max=hi), scale=si, zero_point=zi)
        data = int8_array(draw, (N, C) + tuple(spatial))
    elif fmt == "int16":   # docs/numerics.md 9.4: zero point 0, shared scale
        s = int16_scale(draw)
        x = b.input("x", (C,) + tuple(spatial), "int16", s, 0)
        lo, hi = int16_clamp(draw) if draw(st.integers(0, 3)) == 0 else (-32768, 32767)
        y = b.add(op, "pool", [x], dict(attrs, act_min=lo, act_max=hi), scale=s, zero_point=0)
        data = int16_array(draw, (N, C) + tuple(spatial))
    else:
        x = b.input("x", (C,) + tuple(spatial), "float32")
        act = draw(st.sampled_from([(-np.inf, np.inf), (0.0, np.inf), (0.0, 6.0), (-0.5, 0.5)]))
        y = b.add(op, "pool", [x], dict(attrs, act_min_f=act[0], act_max_f=act[1]))
        data = float_array(draw, (N, C) + tuple(spatial), scale=3.0)
    return b.build([y]), data


@pytest.mark.parametrize("kind", ["avg", "max"])
@given(data=st.data())
def test_pool_int16_oracle_equals_torch(kind, data):
    check_model(*data.draw(pool_models(kind=kind, fmt="int16")))


@given(pool_models(kind="avg"))
def test_avgpool_oracle_equals_torch(case):
    check_model(*case)


@given(pool_models(kind="max"))
def test_maxpool_oracle_equals_torch(case):
    check_model(*case)


def _pool1d(op, data, zp=0, **attrs):
    b = GraphBuilder()
    x = b.input("x", (1, len(data)), "int8", 0.1, zp)
    y = b.add(op, "p", [x], attrs, scale=0.1, zero_point=zp)
    m = b.build([y])
    xin = np.array([[data]], np.int8)
    check_model(m, xin)
    return m.run(xin).ravel().tolist()


def test_avgpool_ties_round_half_away():
    """Pairs sum to -3, 3, 1, -1, 5, -255 -> -1.5, 1.5, 0.5, -0.5, 2.5, -127.5 -> away from zero."""
    out = _pool1d("avgpool1d", [-1, -2, 1, 2, 0, 1, 0, -1, 2, 3, -128, -127], kernel=(2,), stride=(2,))
    assert out == [-2, 2, 1, -1, 3, -128]


def test_avgpool_count_include_pad():
    """kernel 3, stride 1, padding 1+1 on [11, 12] with zp 10 (real [0.1, 0.2]).
    Exclude pad: (11+12)/2 = 11.5 -> 12 both windows.  Include pad: q = zp for the padded tap:
    (10+11+12)/3 = 11 both windows."""
    kw = dict(kernel=(3,), stride=(1,), padding=(1, 1))
    assert _pool1d("avgpool1d", [11, 12], zp=10, count_include_pad=False, **kw) == [12, 12]
    assert _pool1d("avgpool1d", [11, 12], zp=10, count_include_pad=True, **kw) == [11, 11]
    # zp -5: include: (-5 + 0 + 1)/3 = -1.33 -> -1; exclude: 1/2 = 0.5 -> 1
    assert _pool1d("avgpool1d", [0, 1], zp=-5, count_include_pad=True, **kw) == [-1, -1]
    assert _pool1d("avgpool1d", [0, 1], zp=-5, count_include_pad=False, **kw) == [1, 1]


def test_avgpool_fused_clamp():
    out = _pool1d("avgpool1d", [-100, -50, 0, 10, 100, 120], kernel=(2,), stride=(2,), act_min=-20, act_max=60)
    assert out == [-20, 5, 60]


def test_maxpool_known_values():
    # kernel 2, dilation 2, stride 1, padding 1+1 over [1, -3, 7, 2]: windows taps (-1,1) (0,2) (1,3) (2,4)
    out = _pool1d("maxpool1d", [1, -3, 7, 2], kernel=(2,), stride=(1,), dilation=(2,), padding=(1, 1))
    assert out == [-3, 7, 2, 7]
    # padded taps never win, even with all-negative data
    out = _pool1d("maxpool1d", [-128, -100, -128], kernel=(3,), stride=(2,), padding=(1, 1))
    assert out == [-100, -100]


def test_float_avgpool_bit_exact_spec():
    """float32 avgpool is the ordered float32 sum then one float32 division (emulated with numpy scalars)."""
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((2, 3, 7, 6)) * 100).astype(np.float32)
    kh, kw, sh, sw, (pt, pb, pl, pr) = 3, 2, 2, 1, (1, 1, 1, 0)
    for include in (False, True):
        b = GraphBuilder()
        xi = b.input("x", x.shape[1:], "float32")
        y = b.add("avgpool2d", "p", [xi], dict(kernel=(kh, kw), stride=(sh, sw), padding=(pt, pb, pl, pr),
                                               count_include_pad=include))
        got = b.build([y]).run(x)
        H, W = x.shape[2:]
        for n in range(2):
            for c in range(3):
                for oh in range(got.shape[2]):
                    for ow in range(got.shape[3]):
                        acc, cnt = np.float32(0.0), 0
                        for i in range(kh):
                            for j in range(kw):
                                ih, iw = oh * sh - pt + i, ow * sw - pl + j
                                if 0 <= ih < H and 0 <= iw < W:
                                    acc = np.float32(acc + x[n, c, ih, iw])
                                    cnt += 1
                        want = np.float32(acc / np.float32(kh * kw if include else cnt))
                        assert got[n, c, oh, ow].tobytes() == want.tobytes()


@pytest.mark.parametrize("op, attrs, msg", [
    ("avgpool1d", dict(kernel=(3,), stride=(1,), padding=(2, 0)), "at most kernel // 2"),
    ("maxpool2d", dict(kernel=(2, 2), stride=(1, 1), padding=(0, 0, 0, 2)), "at most kernel // 2"),
    ("maxpool1d", dict(kernel=(2,), stride=(1,), dilation=(3,), padding=(1, 1)), "falls in the padding"),
    ("avgpool1d", dict(kernel=(5,), stride=(1,)), "positive|larger than the padded input"),
])
def test_pool_rejects_bad_geometry(op, attrs, msg):
    b = GraphBuilder()
    x = b.input("x", (1, 2, 2) if op.endswith("2d") else (1, 2), "int8", 0.1, 0)
    with pytest.raises((ModelError, ValueError), match=msg):
        y = b.add(op, "p", [x], attrs, scale=0.1, zero_point=0)
        b.build([y])


def test_pool_rejects_requantizing_output():
    b = GraphBuilder()
    x = b.input("x", (1, 4), "int8", 0.1, 0)
    y = b.add("avgpool1d", "p", [x], dict(kernel=(2,), stride=(2,)), scale=0.2, zero_point=0)
    with pytest.raises(ModelError, match="output quantization equal"):
        b.build([y])
