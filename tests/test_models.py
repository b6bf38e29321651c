"""Whole-model tests: DS-CNN, RawCNN and a residual CNN exported from PyTorch.

- int8: the oracle equals the torch reference on EVERY tensor (both rounding modes).
- float32: the export agrees with the torch module (argmax on non-tie inputs, logits within tolerance).
- int8 vs float: every dequantized int8 tensor tracks the float module's activation at the same point
  (a wrong fold, scale or bias in the exporter shows up here, not in the oracle-vs-reference test).
"""
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from kwsnum.export import from_torch                     # noqa: E402
from kwsnum.models import DSCNN, RawCNN, ResBlockNet, randomize_  # noqa: E402
from tests.strategies import check_model                  # noqa: E402

N_CALIB = 128
N_TEST = 64


def make(cls, seed=0, **kw):
    """A seeded module with trained-looking parameters, its calibration set and a separate test set."""
    torch.manual_seed(seed)
    m = cls(**kw)
    g = torch.Generator().manual_seed(1000 + seed)
    calib = torch.randn((N_CALIB,) + m.in_shape, generator=g)
    test = torch.randn((N_TEST,) + m.in_shape, generator=g)
    randomize_(m, seed, calib)
    return m, calib, test


def float_activations(module, x):
    """Every fx node's value of the float module on x (by fx node name)."""
    acts = {}

    class Rec(torch.fx.Interpreter):
        def run_node(self, n):
            r = super().run_node(n)
            if isinstance(r, torch.Tensor):
                acts[n.name] = r.detach().numpy()
            return r

    with torch.no_grad():
        Rec(torch.fx.symbolic_trace(module)).run(x)
    return acts


def dequant(model, name, v):
    spec = model.tensors[name]
    v = np.asarray(v, dtype=np.float64)
    if spec.format == "int8":
        v = (v - spec.zero_point) * spec.scale
    return v


def non_tie(logits, margin):
    s = np.sort(logits, axis=1)
    return (s[:, -1] - s[:, -2]) > margin


def check_int8_tracks_float(module, model, x, layer_corr=0.98, logit_corr=0.95, agree=0.9, rel_err=0.3):
    """The exporter check: dequantized int8 tensors against the float module, layer by layer."""
    got = model.run(x.numpy(), trace=True)
    acts = float_activations(module, x)
    points = json.loads(model.meta["torch_nodes"])
    assert set(points) >= {t for t in model.tensors if model.tensors[t].format == "int8"}
    for t, fx_name in points.items():
        q = dequant(model, t, got[t])
        f = acts[fx_name].reshape(q.shape)
        c = np.corrcoef(q.ravel(), f.ravel())[0, 1]
        assert c > layer_corr, f"tensor {t} (fx {fx_name}): int8 vs float correlation {c:.4f}"
        # amplitude too (correlation misses a wrong scale): relative RMS error
        rel = np.sqrt(np.mean((q - f) ** 2) / np.mean(f.astype(np.float64) ** 2))
        assert rel < rel_err, f"tensor {t} (fx {fx_name}): int8 vs float relative RMS error {rel:.3f}"
    y = got[model.outputs[0]].astype(np.float64)
    with torch.no_grad():
        f = module(x).numpy().astype(np.float64)
    c = np.corrcoef(y.ravel(), f.ravel())[0, 1]
    assert c > logit_corr, f"logits: int8 vs float correlation {c:.4f}"
    ok = non_tie(f, 0.25 * f.std())
    assert ok.sum() >= 10
    a = float(np.mean(y[ok].argmax(1) == f[ok].argmax(1)))
    assert a >= agree, f"argmax agreement {a:.3f} on {ok.sum()} non-tie inputs"
    # not vacuous: the float module predicts many classes on these inputs
    assert len(set(f.argmax(1).tolist())) >= 6


# ------------------------------------------------------------------ fixtures (exported once per module)
@pytest.fixture(scope="module")
def dscnn():
    return make(DSCNN, seed=0, width=32)


@pytest.fixture(scope="module")
def rawcnn():
    return make(RawCNN, seed=1, in_len=4000)


@pytest.fixture(scope="module")
def resnet():
    return make(ResBlockNet, seed=2, width=16)


CASES = ["dscnn", "rawcnn", "resnet"]


# ------------------------------------------------------------------ int8: oracle == torch reference
@pytest.mark.parametrize("rounding", ["double", "single"])
@pytest.mark.parametrize("case", CASES)
def test_int8_oracle_equals_torch_reference(case, rounding, request):
    module, calib, test = request.getfixturevalue(case)
    model = from_torch(module, test[:1], calib, rounding=rounding)
    assert model.rounding == rounding
    got = check_model(model, test.numpy())     # every tensor, np.array_equal for int8
    assert set(got) == set(model.tensors)
    # the quantized path is really exercised: every int8 tensor uses more than a handful of codes
    for name, spec in model.tensors.items():
        if spec.format == "int8":
            assert len(np.unique(got[name])) > 8, name


def test_rawcnn_16000_int8_and_float():
    """The real input length (16000 samples: lengths 1000 -> 250 -> 62 -> 15)."""
    module, calib, test = make(RawCNN, seed=3, in_len=16000)
    calib, test = calib[:48], test[:16]
    model = from_torch(module, test[:1], calib, rounding="double")
    shapes = [model.tensors[n.outputs[0]].shape for n in model.nodes if n.op == "conv1d"]
    assert shapes == [(16, 1000), (32, 250), (64, 62)]
    check_model(model, test.numpy())
    got = model.run(test.numpy())
    with torch.no_grad():
        f = module(test).numpy()
    assert np.corrcoef(got.ravel(), f.ravel())[0, 1] > 0.95
    fmodel = from_torch(module, test[:1], None, precision="float32")
    y = fmodel.run(test.numpy())
    assert np.max(np.abs(y - f)) <= 1e-4 * max(1.0, np.abs(f).max())


# ------------------------------------------------------------------ float32 export vs the torch module
@pytest.mark.parametrize("case", CASES)
def test_float32_export_matches_module(case, request):
    module, calib, test = request.getfixturevalue(case)
    model = from_torch(module, test[:1], calib, precision="float32")
    assert all(model.tensors[t].format == "float32" for t in model.tensors)
    assert not any(n.op in ("quantize", "dequantize") for n in model.nodes)
    y = model.run(test.numpy())
    with torch.no_grad():
        f = module(test).numpy()
    assert y.dtype == np.float32 and y.shape == f.shape
    # folding BN changes the float32 rounding a little: a small tolerance, not equality
    assert np.max(np.abs(y - f)) <= 1e-4 * max(1.0, float(np.abs(f).max()))
    ok = non_tie(f, 1e-3)
    assert ok.sum() >= N_TEST // 2
    assert np.array_equal(y[ok].argmax(1), f[ok].argmax(1))
    # the oracle's float32 kernels agree with the torch reference within the spec tolerance too
    check_model(model, test.numpy())


# ------------------------------------------------------------------ int8 export tracks the float module
@pytest.mark.parametrize("case", CASES)
def test_int8_tracks_float_module(case, request):
    module, calib, test = request.getfixturevalue(case)
    model = from_torch(module, test[:1], calib)
    check_int8_tracks_float(module, model, test)


def test_dscnn_width64_percentile():
    """The MLPerf-size DS-CNN (width 64) with percentile calibration."""
    module, calib, test = make(DSCNN, seed=4, width=64)
    test = test[:32]
    model = from_torch(module, test[:1], calib, calibration=("percentile", 99.99), rounding="single")
    assert model.meta["calibration"] == "percentile:99.99"
    check_model(model, test.numpy())
    check_int8_tracks_float(module, model, test)
