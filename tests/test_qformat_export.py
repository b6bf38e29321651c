"""Q-format fixed point on whole exported models (docs/numerics.md 10.4): DS-CNN, the residual CNN and the raw
waveform CNN (LayerNorm) in q8 / q16 / q32 with several rounding / overflow modes, mixed with affine int8, int16 and
float16 (requantize, qcast, quantize / dequantize bridges), each checked three ways (torch reference == oracle,
C == oracle, exactly); the fractional bits the exporter chooses; q16 tracking the float module closer than q8."""
import functools

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from kwsnum.errors import ExportError                          # noqa: E402
from kwsnum.export import from_torch                           # noqa: E402
from kwsnum.models import DSCNN, RawCNN, ResBlockNet             # noqa: E402
from kwsnum.model import QFORMATS                               # noqa: E402
from tests.c_build import assert_same, run_c                   # noqa: E402
from tests.models_small import random_module                   # noqa: E402
from tests.strategies import check_model                       # noqa: E402

CASES = {
    "dscnn": lambda: DSCNN(width=16, in_shape=(1, 49, 10)),
    "resnet": lambda: ResBlockNet(width=8, n_blocks=1),
    "raw": lambda: RawCNN(in_len=2000, channels=(8, 16, 16)),
}


@functools.lru_cache(maxsize=None)
def _module(name, seed=0):
    return random_module(CASES[name], seed, data_seed=3000)


def export(name, precision, **kw):
    module, calib, test = _module(name)
    return from_torch(module, calib[:1], calib, precision=precision, **kw), test[:4].numpy()


def _formats(model):
    return {model.tensors[t].format for t in model.tensors}


@pytest.mark.parametrize("modes", [("RND", "SAT"), ("TRN", "WRAP"), ("RND_CONV", "SAT_SYM")])
@pytest.mark.parametrize("fmt", ["q8", "q16", "q32"])
@pytest.mark.parametrize("name", ["dscnn", "resnet"])
def test_q_model_three_way(name, fmt, modes):
    model, x = export(name, fmt, qround=modes[0], qoverflow=modes[1])
    assert _formats(model) == {"float32", fmt}
    for n in model.nodes:
        if n.op in ("conv2d", "linear"):      # weights int8 (q8) / int16, bias int32 (q8) / int64, per channel frac
            assert n.arrays["weight"].dtype == (np.int8 if fmt == "q8" else np.int16)
            assert n.arrays["bias"].dtype == (np.int32 if fmt == "q8" else np.int64)
            assert n.arrays["weight_frac"].shape == (n.arrays["weight"].shape[0],)
        if model.tensors[n.outputs[0]].format in QFORMATS and "qround" in n.attrs:
            assert n.attrs["qround"] == modes[0]
    ref = check_model(model, x)
    assert_same(run_c(model, x), ref)


def test_q_frac_bits_follow_the_calibrated_ranges():
    """Every Q tensor's n is the largest with max|calibrated value| * 2**n <= 2**(bits-1) - 1 (10.4), and the
    weights of every channel use their container: max |wq| > 2**(wbits-2) unless a bias forced a lower n."""
    module, calib, _ = _module("dscnn")
    model = from_torch(module, calib[:1], calib, precision="q16")
    trace = model.run(calib.numpy(), trace=True)
    checked = 0
    for n in model.nodes:
        t = model.tensors[n.outputs[0]]
        if t.format != "q16" or n.op not in ("conv2d", "linear", "quantize"):
            continue
        peak = int(np.abs(trace[t.name].astype(np.int64)).max())
        assert peak <= 32767 and peak > 32767 // 4, (n.name, t.frac_bits, peak)   # uses the top two bits
        checked += 1
        if n.op != "quantize":
            w = n.arrays["weight"].reshape(n.arrays["weight"].shape[0], -1)
            assert (np.abs(w.astype(np.int64)).max(axis=1) > (1 << 14)).all(), n.name
    assert checked >= 5


def test_q16_tracks_float_better_than_q8():
    module, calib, test = _module("dscnn")
    with torch.no_grad():
        f = module(test).numpy().astype(np.float64)
    err = {}
    for fmt in ("q8", "q16", "q32"):
        y = from_torch(module, calib[:1], calib, precision=fmt).run(test.numpy()).astype(np.float64)
        err[fmt] = float(np.sqrt(np.mean((y - f) ** 2)) / np.sqrt(np.mean(f ** 2)))
    print("relative RMS logit error vs the float module:", err)
    assert err["q32"] < err["q16"] < 0.1 * err["q8"], err


def test_layernorm_q8_q16_not_q32():
    with pytest.raises(ExportError, match=r"no q32 kernel for layernorm"):
        export("raw", "q32")
    for fmt in ("q8", "q16"):
        model, x = export("raw", fmt)
        assert "layernorm" in {n.op for n in model.nodes}
        assert_same(run_c(model, x), check_model(model, x))
    # q32 everywhere else, the LayerNorms in q16: qcast bridges both ways
    model, x = export("raw", dict(default="q32", ops=dict(layernorm="q16")))
    pairs = {(model.tensors[n.inputs[0]].format, model.tensors[n.outputs[0]].format)
             for n in model.nodes if n.op == "qcast"}
    assert pairs == {("q32", "q16"), ("q16", "q32")}, pairs
    assert_same(run_c(model, x), check_model(model, x))


@pytest.mark.parametrize("config, bridges", [
    (dict(default="int8", layers={"fc": "q16", "features.3": "q16"}), {("int8", "q16"), ("q16", "int8")}),
    (dict(default="q16", layers={"features.3": "float16"}), {("q16", "float16"), ("float16", "q16")}),
    (dict(default="q8", layers={"fc": "q32"}), {("q8", "q32")}),
])
def test_mixed_q_bridges_three_way(config, bridges):
    """affine <-> Q (requantize), Q <-> fp16 (dequantize / quantize), Q <-> Q (qcast) bridges inside a model."""
    model, x = export("dscnn", config)
    got = {(model.tensors[n.inputs[0]].format, model.tensors[n.outputs[0]].format)
           for n in model.nodes if n.op in ("requantize", "qcast", "quantize", "dequantize")}
    assert bridges <= got, got
    ref = check_model(model, x)
    assert_same(run_c(model, x), ref)


def test_q_model_saves_loads_and_builds(tmp_path):
    """A q16 model through HDF5 and through the generated C project (bit-exact with the oracle)."""
    import kwsnum
    from kwsnum.codegen import build, generate, verify
    from tests import c_build
    if c_build.compiler() is None:
        pytest.skip("no C compiler")
    model, x = export("dscnn", "q16", qround="RND_INF", qoverflow="SAT_SYM")
    kwsnum.save(model, tmp_path / "q16.h5")
    m2 = kwsnum.load(tmp_path / "q16.h5")
    assert np.array_equal(m2.run(x), model.run(x))
    assert m2.meta["qround"] == "RND_INF"
    import subprocess
    import sys
    r = subprocess.run([sys.executable, "-m", "kwsnum", "inspect", str(tmp_path / "q16.h5")], capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert "q16(Q" in r.stdout and "quantize" in r.stdout, r.stdout        # every tensor's Q format is listed
    p = generate(m2, tmp_path / "c", name="kws")
    header = (tmp_path / "c" / "kws.h").read_text()
    assert "q16(Q" in (tmp_path / "c" / "kws.c").read_text()        # the layer comments name the Q formats
    assert "KWS_INPUT_FORMAT" in header
    build(p.path, werror=True)
    assert verify(m2, p.path, x).ok
