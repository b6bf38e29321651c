"""int16 activations with int8 weights (TFLite 16x8, docs/numerics.md section 9) on whole exported models: DS-CNN and
the residual CNN in precision "int16", mixed int8 / int16 configs (requantize bridges), each checked three ways
(torch reference == oracle exactly, C == oracle exactly) and measured against the float module: the int16 model
tracks it better than the int8 one."""
import functools

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from kwsnum.export import from_torch                           # noqa: E402
from kwsnum.models import DSCNN, RawCNN, ResBlockNet             # noqa: E402
from tests.c_build import assert_same, run_c                   # noqa: E402
from tests.models_small import random_module                   # noqa: E402
from tests.strategies import check_model                       # noqa: E402

CASES = {
    "dscnn": lambda: DSCNN(width=16, in_shape=(1, 49, 10)),
    "resnet": lambda: ResBlockNet(width=8, n_blocks=1),
}
MIXED = {
    "dscnn": dict(default="int8", layers={"fc": "int16", "features.3": "int16"}),
    "resnet": dict(default="int16", ops={"add": "int8"}),
}


@functools.lru_cache(maxsize=None)
def _module(name, seed=0):
    return random_module(CASES[name], seed, data_seed=2000)


@functools.lru_cache(maxsize=None)
def exported16(name, precision="int16", rounding="double"):
    """(model, float32 test batch of 4); shared with tests/test_c_sanitizers.py."""
    module, calib, test = _module(name)
    p = MIXED[name] if precision == "mixed" else precision
    return from_torch(module, calib[:1], calib, precision=p, rounding=rounding), test[:4].numpy()


def _formats(model):
    return {model.tensors[n.outputs[0]].format for n in model.nodes}


@pytest.mark.parametrize("rounding", ["double", "single"])
@pytest.mark.parametrize("name", list(CASES))
def test_int16_model_three_way(name, rounding):
    model, x = exported16(name, "int16", rounding)
    assert model.tensors[model.nodes[0].outputs[0]].format == "int16"           # quantize float32 -> int16
    assert {n.op for n in model.nodes} >= {"quantize", "dequantize", "conv2d", "linear", "global_avgpool"}
    assert "int8" not in _formats(model)
    for n in model.nodes:                                   # 16x8: int8 weights, int64 bias, zero points 0
        if n.op in ("conv2d", "linear"):
            assert n.arrays["weight"].dtype == np.int8 and n.arrays["bias"].dtype == np.int64
    assert all(t.zero_point == 0 for t in model.tensors.values() if t.format == "int16")
    ref = check_model(model, x)
    assert_same(run_c(model, x), ref)


@pytest.mark.parametrize("name", list(CASES))
def test_mixed_int8_int16_three_way(name):
    model, x = exported16(name, "mixed")
    assert {"int8", "int16"} <= _formats(model)
    rq = [n for n in model.nodes if n.op == "requantize"]
    assert rq, [n.op for n in model.nodes]
    pairs = {(model.tensors[n.inputs[0]].format, model.tensors[n.outputs[0]].format) for n in rq}
    assert pairs == {("int8", "int16"), ("int16", "int8")}, pairs
    ref = check_model(model, x)
    assert_same(run_c(model, x), ref)


def _rel_rms(y, f):
    y, f = np.asarray(y, np.float64), np.asarray(f, np.float64)
    return float(np.sqrt(np.mean((y - f) ** 2)) / np.sqrt(np.mean(f ** 2)))


def _weights_only_model(module, calib):
    """The float32 export with every conv / linear weight replaced by its int8 per-channel value (as float): the
    float model both integer models share; what differs from it is activation rounding only."""
    from kwsnum.quant import quantize_weights, symmetric_weight_scales
    m = from_torch(module, calib[:1], None, precision="float32")
    for n in m.nodes:
        if n.op in ("conv1d", "conv2d", "linear"):
            w = n.arrays["weight"]
            sw = symmetric_weight_scales(w.astype(np.float64), axis=0)
            q = quantize_weights(w.astype(np.float64), sw, axis=0).astype(np.float64)
            n.arrays["weight"] = (q * sw.astype(np.float64).reshape((-1,) + (1,) * (w.ndim - 1))).astype(np.float32)
    return m


@pytest.mark.parametrize("name", list(CASES))
def test_int16_tracks_float_better_than_int8(name):
    """Relative RMS logit error, int8 vs int16 exports of the same module:
    - against the float module on 64 held-out inputs: int16 is closer (both keep int8 weights, and held-out inputs
      beyond the calibrated ranges are clipped in both);
    - against the float model with the same int8 weights, on the calibration inputs (inside the calibrated ranges,
      so only activation rounding differs): int16 removes at least 90 % of int8's error."""
    module, calib, test = _module(name)
    fw = _weights_only_model(module, calib)
    with torch.no_grad():
        f = module(test).numpy()
    errs = {}
    for prec in ("int8", "int16"):
        m = from_torch(module, calib[:1], calib, precision=prec)
        errs[prec] = (_rel_rms(m.run(test.numpy()), f), _rel_rms(m.run(calib.numpy()), fw.run(calib.numpy())))
    print(f"{name}: relative RMS logit error vs float module (held-out) / vs float with int8 weights (calib): "
          f"int8 {errs['int8'][0]:.4f} / {errs['int8'][1]:.4f}; int16 {errs['int16'][0]:.4f} / {errs['int16'][1]:.4f}")
    assert errs["int16"][0] < errs["int8"][0], errs
    assert errs["int16"][1] < 0.1 * errs["int8"][1], errs


def test_layernorm_int16_model_three_way():
    """The raw-waveform CNN (LayerNorm over [C, L]) all in int16 (numerics 9.4 layernorm, F = 6), and with its
    LayerNorms in int8 (requantize bridges): both three ways."""
    torch.manual_seed(0)
    m = RawCNN(in_len=2000, channels=(8, 16, 16))
    calib = torch.randn(8, *m.in_shape)
    x = calib[:2].numpy()
    model = from_torch(m, calib[:1], calib, precision="int16")
    assert "layernorm" in {n.op for n in model.nodes} and "int8" not in _formats(model)
    assert_same(run_c(model, x), check_model(model, x))
    model = from_torch(m, calib[:1], calib, precision=dict(default="int16", ops=dict(layernorm="int8")))
    assert {"requantize"} <= {n.op for n in model.nodes}
    assert_same(run_c(model, x), check_model(model, x))


def test_int16_model_saves_loads_and_generates_c(tmp_path):
    """An int16 model through HDF5 (scale and zero point stored) and through the C generator (bit-exact)."""
    import kwsnum
    from kwsnum.codegen import build, generate, verify
    from tests import c_build
    from tests.test_c_models import make
    from kwsnum.export import from_torch
    module, calib, test = make("dscnn")
    m = from_torch(module, calib[:1], calib, precision="int16")
    kwsnum.save(m, tmp_path / "m16.h5")
    m2 = kwsnum.load(tmp_path / "m16.h5")
    assert {t.format for t in m2.tensors.values()} >= {"int16"}
    np.testing.assert_array_equal(m2.run(test.numpy()), m.run(test.numpy()))
    if c_build.compiler() is not None:
        p = generate(m2, tmp_path / "c", name="m16")
        build(p.path, werror=True)
        assert verify(m2, p.path, test.numpy()).ok
