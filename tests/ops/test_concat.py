"""concat (TFLite CONCATENATION, torch.cat): oracle == torch == C bit for bit in every storage format, 1 to 4
inputs along any axis; refusals of mismatched shapes and quantization."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from kwsnum.builder import GraphBuilder
from kwsnum.errors import ModelError
from tests.c_build import assert_same, run_c
from tests.strategies import check_model

DTYPES = {"int8": np.int8, "int16": np.int16, "float32": np.float32, "q8": np.int8, "q32": np.int32}


@given(st.sampled_from(sorted(DTYPES)), st.integers(1, 4), st.lists(st.integers(1, 5), min_size=1, max_size=3),
       st.data())
def test_concat_three_way(fmt, n, shape, data):
    rank = len(shape)
    axis = data.draw(st.integers(-rank, rank - 1))
    q = dict(int8=(0.1, 3), int16=(0.01, 0)).get(fmt, (None, None))
    frac = 5 if fmt.startswith("q") else None
    b = GraphBuilder()
    ins, shapes = [], []
    for i in range(n):
        sh = list(shape)
        sh[axis] = data.draw(st.integers(1, 4))
        ins.append(b.input(f"x{i}", sh, fmt, *q, frac_bits=frac))
        shapes.append(tuple(sh))
    y = b.add("concat", "cat", ins, dict(axis=axis), scale=q[0], zero_point=q[1], frac_bits=frac)
    model = b.build([y])
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1)))
    xs = tuple((rng.normal(size=(2,) + s) * 50).astype(DTYPES[fmt]) for s in shapes)
    x = xs if n > 1 else xs[0]
    ref = check_model(model, x)
    assert np.array_equal(ref["cat"], np.concatenate(xs, axis=1 + axis % rank))
    assert_same(run_c(model, x), ref)


def test_concat_refuses_mismatches():
    b = GraphBuilder()
    a, c = b.input("a", (2, 3), "int8", 0.1, 0), b.input("c", (2, 3), "int8", 0.2, 0)
    y = b.add("concat", "cat", [a, c], dict(axis=0), scale=0.1, zero_point=0)
    with pytest.raises(ModelError, match="quantization"):
        b.build([y])
    b = GraphBuilder()
    a, c = b.input("a", (2, 3), "float32"), b.input("c", (2, 4), "float32")
    with pytest.raises(ModelError, match="off axis 0"):
        b.build([b.add("concat", "cat", [a, c], dict(axis=0))])


@given(st.lists(st.integers(1, 4), min_size=1, max_size=3), st.data(), st.sampled_from(["int8", "int16"]),
       st.booleans())
def test_mul_three_way(shape, data, fmt, const):
    """mul (TFLM int8 and int16 MUL, broadcasting; the second operand an input or a constant b): oracle == torch
    == C."""
    from kwsnum.ops.mul import mul_params
    shb = tuple(d if data.draw(st.booleans()) else 1 for d in shape)
    if data.draw(st.booleans()):
        shape, shb = shb, tuple(shape)
    out = tuple(max(a, b) for a, b in zip(shape, shb))
    lo, hi = (-128, 127) if fmt == "int8" else (-32768, 32767)
    zp = (lambda: data.draw(st.integers(-128, 127))) if fmt == "int8" else (lambda: 0)
    sa, sb = (0.05, 0.02) if fmt == "int8" else (1e-3, 2e-4)
    so = float(np.float32(data.draw(st.floats(0.05, 2.0)) * (1.0 if fmt == "int8" else 6e-6)))
    g = GraphBuilder(rounding=data.draw(st.sampled_from(["double", "single"])))
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1)))
    dt = np.int8 if fmt == "int8" else np.int16
    a = g.input("a", tuple(shape), fmt, sa, zp())
    bq = rng.integers(lo, hi + 1, shb).astype(dt)
    zb = zp()
    if const:
        ins, arrays = [a], dict(b=bq, b_zero_point=np.array([zb], np.int32))
    else:
        ins, arrays = [a, g.input("b", shb, fmt, sb, zb)], None
    y = g.add("mul", "m", ins, dict(mul_params(sa, sb, so), act_min=data.draw(st.integers(lo, 0)), act_max=hi),
              arrays, scale=so, zero_point=zp())
    model = g.build([y])
    assert model.tensors[y].shape == out
    xa = rng.integers(lo, hi + 1, (2,) + tuple(shape)).astype(dt)
    x = xa if const else (xa, np.broadcast_to(bq, (2,) + shb).copy())
    ref = check_model(model, x)
    assert_same(run_c(model, x), ref)
    za = model.tensors[a].zero_point
    prod = (xa.astype(np.int64) - za) * (bq.astype(np.int64) - zb)   # the spec's product, by numpy broadcasting
    assert ref["m"].shape == (2,) + out and (np.abs(prod) <= (255 ** 2 if fmt == "int8" else 2 ** 30)).all()
    if const:   # the constant operand == the same values fed as a second input
        g2 = GraphBuilder(rounding=model.rounding)
        a2 = g2.input("a", tuple(shape), fmt, sa, za)
        b2 = g2.input("b", shb, fmt, sb, zb)
        y2 = g2.add("mul", "m", [a2, b2], dict(model.nodes[0].attrs), scale=so,
                    zero_point=model.tensors[y].zero_point)
        two = g2.build([y2]).run((xa, np.broadcast_to(bq, (2,) + shb).copy()))
        assert np.array_equal(two, ref["m"])
