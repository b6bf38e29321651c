"""global_avgpool: oracle == torch reference, plus hand-computed values and validation."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from kwsnum.builder import GraphBuilder
from kwsnum.errors import ModelError
from kwsnum.quant import quantize_multiplier
from tests.strategies import (ROUNDINGS, FORMATS, int8_qparams, multipliers, act_clamp, int8_array, float_array,
                              check_model)
from tests.ops.int16_cases import int16_scale, int16_array, int16_clamp, multipliers16, bias64


@st.composite
def global_avgpool_models(draw, fmt=None):
    rank = draw(st.sampled_from([1, 2]))
    fmt = fmt or draw(FORMATS)
    C = draw(st.integers(1, 5))
    N = draw(st.integers(1, 3))
    spatial = tuple(draw(st.integers(1, 12)) for _ in range(rank))
    count = int(np.prod(spatial))
    b = GraphBuilder(rounding=draw(ROUNDINGS))
    if fmt == "int8":
        si, zi = draw(int8_qparams())
        how = draw(st.sampled_from(["export", "export", "same_scale", "random"]))
        if how == "random":
            so, zo = draw(int8_qparams())
            (mult,), (shift,) = draw(multipliers(1))
        else:
            if how == "same_scale":
                so = si
            else:  # an output scale near the input's, so the outputs are not all saturated
                so = float(np.float32(si * draw(st.floats(0.05, 4.0))))
            zo = draw(st.integers(-128, 127))
            mult, shift = quantize_multiplier(si / (so * count))  # the exporter's formula
        x = b.input("x", (C,) + spatial, "int8", si, zi)
        lo, hi = draw(act_clamp(zo))
        y = b.add("global_avgpool", "gap", [x], dict(multiplier=int(mult), shift=int(shift), act_min=lo, act_max=hi),
                  scale=so, zero_point=zo)
        data = int8_array(draw, (N, C) + spatial)
    elif fmt == "int16":   # kwsnum's rule with zero point 0 (docs/numerics.md 9.4)
        si = int16_scale(draw)
        how = draw(st.sampled_from(["export", "same_scale", "random"]))
        if how == "random":
            so = int16_scale(draw)
            (mult,), (shift,) = draw(multipliers(1))
        else:
            so = si if how == "same_scale" else float(np.float32(si * draw(st.floats(0.05, 4.0))))
            mult, shift = quantize_multiplier(si / (so * count))
        x = b.input("x", (C,) + spatial, "int16", si, 0)
        lo, hi = int16_clamp(draw)
        y = b.add("global_avgpool", "gap", [x], dict(multiplier=int(mult), shift=int(shift), act_min=lo, act_max=hi),
                  scale=so, zero_point=0)
        data = int16_array(draw, (N, C) + spatial)
    else:
        x = b.input("x", (C,) + spatial, "float32")
        act = draw(st.sampled_from([(-np.inf, np.inf), (0.0, np.inf), (0.0, 6.0), (-0.2, 0.2)]))
        y = b.add("global_avgpool", "gap", [x], dict(act_min_f=act[0], act_max_f=act[1]))
        data = float_array(draw, (N, C) + spatial, scale=3.0)
    return b.build([y]), data


@given(global_avgpool_models())
def test_global_avgpool_oracle_equals_torch(case):
    check_model(*case)


@given(global_avgpool_models("int16"))
def test_global_avgpool_int16_oracle_equals_torch(case):
    check_model(*case)


@pytest.mark.parametrize("rounding, expected", [
    ("double", [1, -1, 2, -2, 1, -1, 33]),
    ("single", [1, 0, 2, -1, 1, -1, 33]),
])
def test_global_avgpool_known_values(rounding, expected):
    """(C=7, L=4), zp_in = 3, s_out = s_in: real multiplier 1/4 -> (M, shift) = (2**30, -1).
    acc = sum(q - 3): 2, -2, 6, -6, 3, -3, 130 -> real 0.5, -0.5, 1.5, -1.5, 0.75, -0.75, 32.5.
    Double rounding: SRDHM gives acc/2 (ties toward +inf: -3/2 -> -1), then RDBPOT /2 with ties away from
    zero: 2 -> 1 -> 1, -2 -> -1 -> -1, 6 -> 3 -> 2, -6 -> -3 -> -2, 3 -> 2 -> 1, -3 -> -1 -> -1, 130 -> 65 -> 33.
    Single rounding floor((acc + 2) / 4), ties up: 1, 0, 2, -1, 1, -1, 33. Then + zp_out = 0."""
    b = GraphBuilder(rounding=rounding)
    x = b.input("x", (7, 4), "int8", 0.05, 3)
    m_, s_ = quantize_multiplier(0.05 / (0.05 * 4))
    assert (m_, s_) == (1 << 30, -1)
    y = b.add("global_avgpool", "g", [x], dict(multiplier=m_, shift=s_), scale=0.05, zero_point=0)
    m = b.build([y])
    data = np.array([[[4, 4, 3, 3], [2, 2, 3, 3], [6, 6, 3, 3], [0, 0, 3, 3], [4, 4, 4, 3], [2, 2, 2, 3],
                      [127, 3, 3, 9]]], np.int8)
    out = m.run(data)
    assert out.shape == (1, 7, 1)
    assert out.ravel().tolist() == expected
    check_model(m, data)


def test_global_avgpool_float_bit_exact_spec():
    """float32: the row-major float32 sum from +0.0, then one division by float32(count) (numpy-scalar emulation)."""
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((2, 3, 5, 7)) * 100).astype(np.float32)
    b = GraphBuilder()
    xi = b.input("x", x.shape[1:], "float32")
    m = b.build([b.add("global_avgpool", "g", [xi])])
    got = m.run(x)
    assert got.shape == (2, 3, 1, 1)
    for n in range(2):
        for c in range(3):
            acc = np.float32(0.0)
            for v in x[n, c].ravel():
                acc = np.float32(acc + v)
            assert got[n, c, 0, 0].tobytes() == np.float32(acc / np.float32(35)).tobytes()


@pytest.mark.parametrize("shape, msg", [((1, 4096, 2057), "exact int32 sum"), ((1, 2, 2, 2), r"\(C, L\) or")])
def test_global_avgpool_rejects(shape, msg):
    b = GraphBuilder()
    x = b.input("x", shape, "int8", 0.1, 0)
    with pytest.raises(ModelError, match=msg):
        b.build([b.add("global_avgpool", "g", [x], dict(multiplier=1 << 30, shift=0), scale=0.1, zero_point=0)])
