"""requantize (int8 <-> int16, TFLite QUANTIZE between integer types; docs/numerics.md 9.4): oracle == torch
reference == a plain-Python-integer spec, plus hand-computed values."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from kwsnum.builder import GraphBuilder
from kwsnum.errors import ModelError
from kwsnum.ops.requantize import requantize_params
from tests.strategies import ROUNDINGS, int8_qparams, int8_array, check_model
from tests.ops.int16_cases import int16_scale, int16_array
from tests.test_fixedpoint import ref_double, ref_single

RANGE = {"int8": (-128, 127), "int16": (-32768, 32767), "uint8": (0, 255)}
PAIRS = [("int8", "int16"), ("int16", "int8"), ("int8", "int8"), ("int16", "int16"),
         ("int8", "uint8"), ("uint8", "int8")]     # uint8: the edge format, paired with int8 only (section 2)


@st.composite
def requantize_models(draw, pair=None):
    fin, fout = pair or draw(st.sampled_from(PAIRS))
    shape = tuple(draw(st.lists(st.integers(1, 6), min_size=1, max_size=3)))
    N = draw(st.integers(1, 3))
    b = GraphBuilder(rounding=draw(ROUNDINGS))
    def qparams(fmt):
        if fmt == "int16":
            return int16_scale(draw), 0
        s, z = draw(int8_qparams())
        return s, (z + 128 if fmt == "uint8" else z)
    si, zi = qparams(fin)
    how = draw(st.sampled_from(["same_range", "random", "pow2"] + (["xor"] if "uint8" in (fin, fout) else [])))
    so, zo = qparams(fout)
    if how == "xor":             # TFLM's q ^ 0x80 shortcut: equal scales, zero points 128 apart
        so, zo = si, (zi + 128 if fout == "uint8" else zi - 128)
    if how == "same_range":      # what the exporter does: about the same real range in both formats
        so = float(np.float32(si * (65535.0 if fin == "int16" else 255.0) / (65535.0 if fout == "int16" else 255.0)))
    elif how == "pow2":          # exact ties
        so = float(np.float32(si * 2.0 ** draw(st.integers(-9, 9))))
    m, sh = requantize_params(si, so)
    x = b.input("x", shape, fin, si, zi)
    y = b.add("requantize", "rq", [x], dict(multiplier=m, shift=sh), format=fout, scale=so, zero_point=zo)
    data = int16_array(draw, (N,) + shape) if fin == "int16" else int8_array(draw, (N,) + shape)
    if fin == "uint8":
        data = (data.astype(np.int16) + 128).astype(np.uint8)
    return b.build([y]), data


def spec_requantize(model, x):
    node = model.nodes[0]
    zi, zo = model.input.zero_point, model.output.zero_point
    m, s = node.attrs["multiplier"], node.attrs["shift"]
    ref = ref_double if model.rounding == "double" else ref_single
    lo, hi = RANGE[model.output.format]
    return np.array([min(hi, max(lo, ref(int(q) - zi, m, s) + zo)) for q in x.reshape(-1)]).reshape(x.shape)


@given(requantize_models())
def test_requantize_oracle_equals_torch_and_spec(case):
    model, x = case
    got = check_model(model, x)[model.outputs[0]]
    assert got.dtype == model.output.dtype
    assert np.array_equal(got, spec_requantize(model, x))


@given(requantize_models())
def test_requantize_tracks_the_real_value(case):
    """Within one output step of s_in (q - zp_in) / s_out + zp_out (clamped): the multiplier is a 31-bit one."""
    model, x = case
    got = model.run(x).astype(np.float64)
    si, zi = model.input.scale, model.input.zero_point
    so, zo = model.output.scale, model.output.zero_point
    lo, hi = RANGE[model.output.format]
    real = np.clip(np.float64(si) * (x.astype(np.float64) - zi) / np.float64(so) + zo, lo, hi)
    assert np.max(np.abs(got - real), initial=0) <= 1.0


@pytest.mark.parametrize("rounding", ["double", "single"])
def test_requantize_int8_to_int16_known_values(rounding):
    """s_out = s_in / 128 (real 128: M = 2**30, shift 8), zp_in = 1: y = (q - 1) * 128 exactly, both modes."""
    b = GraphBuilder(rounding=rounding)
    x = b.input("x", (7,), "int8", 0.5, 1)
    m, sh = requantize_params(0.5, 0.5 / 128)
    assert (m, sh) == (1 << 30, 8)
    y = b.add("requantize", "rq", [x], dict(multiplier=m, shift=sh), format="int16", scale=0.5 / 128, zero_point=0)
    model = b.build([y])
    data = np.array([[2, 0, 3, -1, 127, -128, 1]], np.int8)
    assert model.run(data).ravel().tolist() == [128, -128, 256, -256, 16128, -16512, 0]
    check_model(model, data)


@pytest.mark.parametrize("rounding, expected", [("double", [1, -1, 1, -1, 3]), ("single", [1, 0, 1, -1, 3])])
def test_requantize_int16_to_int8_ties(rounding, expected):
    """s_out = 4 s_in (real 0.25: M = 2**30, shift -1): 2 / 4 and -2 / 4 are ties; double rounding rounds
    -0.5 away from zero (via SRDHM then RDBPOT), single rounding rounds half up (3.2)."""
    b = GraphBuilder(rounding=rounding)
    x = b.input("x", (5,), "int16", 0.25, 0)
    y = b.add("requantize", "rq", [x], dict(multiplier=1 << 30, shift=-1), format="int8", scale=1.0, zero_point=0)
    m = b.build([y])
    data = np.array([[2, -2, 3, -3, 11]], np.int16)
    assert m.run(data).ravel().tolist() == expected
    check_model(m, data)


def test_requantize_rejects_bad_models():
    b = GraphBuilder()
    x = b.input("x", (3,), "int8", 0.5, 1)
    b.add("requantize", "rq", [x], dict(multiplier=1 << 30, shift=8), format="float32")
    with pytest.raises(ModelError, match="format"):
        b.build([b.nodes[-1].outputs[0]])
    b = GraphBuilder()
    x = b.input("x", (3,), "int8", 0.5, 1)
    y = b.add("requantize", "rq", [x], dict(multiplier=1 << 30, shift=8), format="int16", scale=0.1, zero_point=3)
    with pytest.raises(ModelError, match="int16 zero point must be 0"):
        b.build([y])


@pytest.mark.parametrize("rounding", ["double", "single"])
def test_requantize_uint8_xor_shortcut_known_values(rounding):
    """Equal scales, zero points 128 apart: TFLM writes q ^ 0x80; the formula gives the same (real 1: (2**30, 1))."""
    for fin, fout, zi, zo, data in [("int8", "uint8", -3, 125, np.arange(-128, 128, dtype=np.int8)),
                                    ("uint8", "int8", 200, 72, np.arange(0, 256, dtype=np.uint8))]:
        b = GraphBuilder(rounding=rounding)
        x = b.input("x", (256,), fin, 0.25, zi)
        m, sh = requantize_params(0.25, 0.25)
        assert (m, sh) == (1 << 30, 1)
        y = b.add("requantize", "rq", [x], dict(multiplier=m, shift=sh), format=fout, scale=0.25, zero_point=zo)
        model = b.build([y])
        got = model.run(data[None])[0]
        assert got.dtype == np.dtype(fout)
        assert np.array_equal(got.view(np.uint8), data.view(np.uint8) ^ 0x80)
        check_model(model, data[None])


def test_requantize_refuses_uint8_pairs_tflm_refuses():
    for fin, fout in [("uint8", "int16"), ("int16", "uint8"), ("uint8", "uint8")]:
        b = GraphBuilder()
        x = b.input("x", (3,), fin, 0.5, 0)
        y = b.add("requantize", "rq", [x], dict(multiplier=1 << 30, shift=1), format=fout, scale=0.5, zero_point=0)
        with pytest.raises(ModelError, match="format"):
            b.build([y])
    b = GraphBuilder()
    x = b.input("x", (3,), "uint8", 0.5, 256)
    y = b.add("requantize", "rq", [x], dict(multiplier=1 << 30, shift=1), format="int8", scale=0.5, zero_point=0)
    with pytest.raises(ModelError, match=r"uint8 zero point must be in \[0, 255\]"):
        b.build([y])
