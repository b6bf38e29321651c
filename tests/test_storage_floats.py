"""float16 / bfloat16 storage through every op, three ways: each op's own strategy (tests/ops/test_<op>.py)
draws a model, kwsnum.precision.to_storage_float stores its float32 tensors and arrays in 16 bits, and
- torch reference == oracle within the 16-bit tolerance (docs/numerics.md section 7; torch's own float16 /
  bfloat16 conversions, kwsnum's bit-level ones in the oracle);
- oracle == C bit for bit (the kernels' _f16 / _bf16 twins, cast and quantize bridges);
- the oracle's 16-bit result == its float32 kernel on the widened values, rounded once (the storage rule).
Also: whole exported models in float16 / bfloat16, and the model-level checks."""
import numpy as np
import pytest
from hypothesis import assume, given, strategies as st

from kwsnum import ops
from kwsnum.builder import GraphBuilder
from kwsnum.errors import ModelError
from kwsnum.float16 import narrow, widen
from tests.c_build import assert_same, run_c
from tests.strategies import check_model, in_format
from tests.ops.test_conv import conv_models
from tests.ops.test_global_avgpool import global_avgpool_models
from tests.ops.test_layernorm import layernorm_models
from tests.ops.test_linear import linear_models
from tests.ops.test_pool import pool_models
from tests.ops.test_quantize import quantize_models
from tests.ops.test_relu import relu_models
from tests.ops.test_reshape import reshape_models

FMTS = ["float16", "bfloat16"]
STRATEGIES = {
    "conv": lambda: conv_models(fmt="float32"),
    "linear": linear_models,
    "pool": pool_models,
    "global_avgpool": global_avgpool_models,
    "relu": relu_models,
    "reshape": reshape_models,
    "add": lambda: float_add_graphs(),
    "layernorm": lambda: layernorm_models(fmt="float32"),
    "quantize": quantize_models,
}


@st.composite
def float_add_graphs(draw):
    """x -> relu (a clamp) -> add(x, clamped x): add inside a one-input float graph."""
    from tests.strategies import float_array
    shape = tuple(draw(st.lists(st.integers(1, 6), min_size=1, max_size=3)))
    b = GraphBuilder()
    x = b.input("x", shape, "float32")
    lo, hi = draw(st.sampled_from([(0.0, np.inf), (-1.0, 2.0), (-np.inf, np.inf)]))
    r = b.add("relu", "r", [x], dict(act_min_f=lo, act_max_f=hi))
    act = draw(st.sampled_from([(-np.inf, np.inf), (0.0, np.inf), (0.0, 6.0)]))
    y = b.add("add", "add", [x, r], dict(act_min_f=act[0], act_max_f=act[1]))
    return b.build([y]), float_array(draw, (draw(st.integers(1, 3)),) + shape, scale=3.0)


def _same_after_one_rounding(m16, x16):
    """The storage rule, node by node: each 16-bit node's output == its float32 kernel on the widened inputs and
    widened arrays, rounded once (checked through a float32 single-node model built from the 16-bit one)."""
    from kwsnum.builder import GraphBuilder
    got = m16.run(x16, trace=True)
    for node in m16.nodes:
        op = ops.get(node.op, node)
        out = m16.tensors[node.outputs[0]]
        if op.storage_format(node, m16) is None or len(node.inputs) != 1:
            continue                          # (add: covered by torch and C)
        b = GraphBuilder(rounding=m16.rounding)
        names = [b.input(node.inputs[0], m16.tensors[node.inputs[0]].shape, "float32")]
        arrays = {k: (widen(a, out.format) if np.asarray(a).dtype == np.uint16 else a) for k, a in node.arrays.items()}
        y = b.add(node.op, node.name, names, dict(node.attrs), arrays)
        m32 = b.build([y])
        want = narrow(m32.run(widen(got[node.inputs[0]], m16.tensors[node.inputs[0]].format)), out.format)
        np.testing.assert_array_equal(got[node.outputs[0]], want, err_msg=node.name)


@pytest.mark.parametrize("fmt", FMTS)
@pytest.mark.parametrize("name", list(STRATEGIES))
@given(data=st.data())
def test_storage_float_op_three_way(name, fmt, data):
    model, x = data.draw(STRATEGIES[name]())
    assume(any(t.format == "float32" for t in model.tensors.values()))
    m16, x16 = in_format(model, x, fmt)
    ref = check_model(m16, x16)                        # torch == oracle within the 16-bit tolerance
    assert_same(run_c(m16, x16), ref)                  # C == oracle, bit for bit
    _same_after_one_rounding(m16, x16)


def test_cast_all_patterns_three_way():
    """cast between every pair of float formats on every 16-bit pattern (and float32 edge values)."""
    bits = np.arange(65536, dtype=np.uint16).reshape(256, 256)
    f32 = np.concatenate([widen(bits.reshape(-1), "float16"), widen(bits.reshape(-1), "bfloat16"),
                          np.float32([65504, 65520, 65519.996, 3.4e38, 1e-8, 5.96e-8, 2.98e-8, -0.0])]).astype(np.float32)
    pairs = [(a, b) for a in ["float32"] + FMTS for b in ["float32"] + FMTS if a != b]
    for fin, fout in pairs:
        b = GraphBuilder()
        n = 256 if fin != "float32" else 64
        xin = b.input("x", (n,), fin)
        y = b.add("cast", "c", [xin], format=fout)
        m = b.build([y])
        x = bits.astype(np.uint16) if fin != "float32" else \
            np.resize(f32, (len(f32) // 64 + 1) * 64).reshape(-1, 64)
        ref = check_model(m, x)
        got = run_c(m, x)
        assert_same(got, ref)
        want = narrow(widen(np.asarray(x), fin).astype(np.float32), fout)
        np.testing.assert_array_equal(ref["c"], want)


def test_storage_float_model_checks():
    b = GraphBuilder()
    x = b.input("x", (4,), "float16")
    y = b.add("linear", "fc", [x], dict(act_min_f=-np.inf, act_max_f=np.inf),
              dict(weight=np.zeros((3, 4), np.float32), bias=np.zeros(3, np.float32)))
    with pytest.raises(ModelError, match="dataset 'weight' has dtype float32, expected uint16 for float16"):
        b.build([y])
    b = GraphBuilder()
    x = b.input("x", (4,), "float16")
    y = b.add("cast", "c", [x], format="float16")
    with pytest.raises(ModelError, match="cast from float16 to the same format"):
        b.build([y])


@pytest.mark.parametrize("fmt", FMTS)
def test_exported_models_in_storage_floats(fmt):
    torch = pytest.importorskip("torch")
    from kwsnum.export import from_torch
    from tests.test_c_models import make
    for name in ("dscnn", "rawcnn", "resnet"):
        module, calib, test = make(name)
        m = from_torch(module, calib[:1], calib, precision=fmt)
        assert m.input.format == "float32" and m.output.format == "float32"
        assert m.nodes[0].op == "cast" and m.nodes[-1].op == "cast"
        assert {m.tensors[n.outputs[0]].format for n in m.nodes[:-1]} == {fmt}
        x = test.numpy()
        ref = check_model(m, x)
        assert_same(run_c(m, x), ref)
        with torch.no_grad():
            f = module(test).numpy()
        y = m.run(x)
        tol = {"float16": 2e-2, "bfloat16": 1.5e-1}[fmt] * max(1.0, float(np.abs(f).max()))
        assert np.abs(y - f).max() <= tol, (name, float(np.abs(y - f).max()), tol)
