"""conv1d / conv2d (incl. depthwise and grouped): oracle == torch reference."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from kwsnum.builder import GraphBuilder
from tests.strategies import (ROUNDINGS, FORMATS, int8_qparams, multipliers, act_clamp, int8_array,
                              float_array, int8_weights, check_model, calibrated_multipliers)
from tests.ops.int16_cases import int16_scale, int16_array, int16_clamp, multipliers16, bias64


@st.composite
def conv_models(draw, rank=None, fmt=None, groups=None):
    rank = rank or draw(st.sampled_from([1, 2]))
    fmt = fmt or draw(FORMATS)
    groups = groups or draw(st.sampled_from([1, 1, 2, "depthwise"]))
    cg = draw(st.integers(1, 4))
    g = draw(st.integers(2, 6)) if groups == "depthwise" else groups
    C = cg * g if groups != "depthwise" else g
    cg = 1 if groups == "depthwise" else cg
    O = g * draw(st.integers(1, 3))
    N = draw(st.integers(1, 3))
    ks = tuple(draw(st.integers(1, 5)) for _ in range(rank))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    dil = tuple(draw(st.integers(1, 2)) for _ in range(rank))
    pad = tuple(draw(st.integers(0, 3)) for _ in range(2 * rank))
    spatial = []
    for i in range(rank):
        need = dil[i] * (ks[i] - 1) + 1 - pad[2 * i] - pad[2 * i + 1]
        spatial.append(draw(st.integers(max(1, need), max(1, need) + 9)))
    wshape = (O, cg) + ks
    b = GraphBuilder(rounding=draw(ROUNDINGS))
    op = "conv2d" if rank == 2 else "conv1d"
    attrs = dict(stride=stride, dilation=dil, padding=pad, groups=g)
    if fmt == "int8":
        si, zi = draw(int8_qparams())
        so, zo = draw(int8_qparams())
        x = b.input("x", (C,) + tuple(spatial), "int8", si, zi)
        K = cg * int(np.prod(ks))
        if draw(st.booleans()):  # outputs spread over the int8 range: rounding and indexing differences show
            mult, shift = draw(calibrated_multipliers(O, K))
            bias = np.asarray(draw(st.lists(st.integers(-4096, 4096), min_size=O, max_size=O)), np.int32)
        else:                    # anything goes, saturation included
            mult, shift = draw(multipliers(O))
            bias = np.asarray(draw(st.lists(st.integers(-(2 ** 20), 2 ** 20), min_size=O, max_size=O)), np.int32)
        lo, hi = draw(act_clamp(zo))
        arrays = dict(weight=int8_weights(draw, wshape), bias=bias, multiplier=mult, shift=shift)
        y = b.add(op, "conv", [x], dict(attrs, act_min=lo, act_max=hi), arrays, scale=so, zero_point=zo)
        data = int8_array(draw, (N, C) + tuple(spatial))
    elif fmt == "int16":   # TFLite 16x8 (docs/numerics.md 9.4)
        x = b.input("x", (C,) + tuple(spatial), "int16", int16_scale(draw), 0)
        K = cg * int(np.prod(ks))
        calibrated = draw(st.booleans())
        mult, shift = multipliers16(draw, O, K, calibrated)
        lo, hi = int16_clamp(draw)
        arrays = dict(weight=int8_weights(draw, wshape), bias=bias64(draw, O, not calibrated), multiplier=mult,
                      shift=shift)
        y = b.add(op, "conv", [x], dict(attrs, act_min=lo, act_max=hi), arrays, scale=int16_scale(draw),
                  zero_point=0)
        data = int16_array(draw, (N, C) + tuple(spatial))
    else:
        x = b.input("x", (C,) + tuple(spatial), "float32")
        act = draw(st.sampled_from([(-np.inf, np.inf), (0.0, np.inf), (0.0, 6.0)]))
        arrays = dict(weight=float_array(draw, wshape), bias=float_array(draw, (O,)))
        y = b.add(op, "conv", [x], dict(attrs, act_min_f=act[0], act_max_f=act[1]), arrays)
        data = float_array(draw, (N, C) + tuple(spatial), scale=3.0)
    return b.build([y]), data


# Every structural combination gets its own examples (Hypothesis favours the first choices of a draw).
@pytest.mark.parametrize("groups", [1, 2, "depthwise"])
@pytest.mark.parametrize("fmt", ["int8", "float32", "int16"])
@pytest.mark.parametrize("rank", [1, 2])
@given(data=st.data())
def test_conv_oracle_equals_torch(rank, fmt, groups, data):
    model, x = data.draw(conv_models(rank, fmt, groups))
    check_model(model, x)


@pytest.mark.parametrize("rounding, expected", [("double", [1, 0, 1, -1, 1, -1]), ("single", [0, 0, 1, -1, 1, 0])])
def test_conv_known_values(rounding, expected):
    """Hand-computed: 1x1 conv by 1, real multiplier 0.25 (M=2**30, shift=-1). Double rounding rounds twice
    (1 -> 0.5 -> 1, -2 -> -1 -> -0.5 -> -1); single rounding rounds once, half up."""
    b = GraphBuilder(rounding=rounding)
    x = b.input("x", (1, 1, 6), "int8", 0.1, 0)
    y = b.add("conv2d", "c", [x], dict(stride=(1, 1), act_min=-128, act_max=127),
              dict(weight=np.array([[[[1]]]], np.int8), bias=np.zeros(1, np.int32),
                   multiplier=np.array([1 << 30], np.int32), shift=np.array([-1], np.int32)),
              scale=0.1, zero_point=0)
    m = b.build([y])
    out = m.run(np.array([[[[1, -1, 3, -3, 2, -2]]]], np.int8))
    assert out.ravel().tolist() == expected
    check_model(m, np.array([[[[1, -1, 3, -3, 2, -2]]]], np.int8))
