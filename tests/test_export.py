"""kwsnum.export.from_torch: BN folding, 'same' padding, ReLU fusion, add, the stored integers,
calibration, metadata and the errors for what cannot be exported."""
import json
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn                                       # noqa: E402
import torch.nn.functional as F                            # noqa: E402

import kwsnum                                              # noqa: E402
from kwsnum.errors import ExportError                      # noqa: E402
from kwsnum.export import from_torch                       # noqa: E402
from kwsnum.models import DSCNN, ResBlockNet, randomize_   # noqa: E402
from kwsnum.quant import (affine_params, quantize_bias, quantize_multiplier, quantize_multipliers,  # noqa: E402
                          quantize_weights, symmetric_weight_scales)
from tests.strategies import check_model                   # noqa: E402
from tests.test_models import check_int8_tracks_float, make  # noqa: E402


def data(shape, n=32, seed=0):
    return torch.randn((n,) + tuple(shape), generator=torch.Generator().manual_seed(seed))


def torch_out(module, x):
    with torch.no_grad():
        return module.eval()(x).numpy()


def ops_of(model):
    return [n.op for n in model.nodes]


def node(model, op, i=0):
    return [n for n in model.nodes if n.op == op][i]


class Seq(nn.Module):
    def __init__(self, *mods):
        super().__init__()
        self.body = nn.Sequential(*mods)

    def forward(self, x):
        return self.body(x)


# ------------------------------------------------------------------ BatchNorm folding
@pytest.mark.parametrize("kind", ["conv2d", "conv1d", "depthwise", "linear"])
def test_bn_folding(kind):
    torch.manual_seed(0)
    if kind == "conv2d":
        conv, bn, shape = nn.Conv2d(3, 5, 3, padding=1, bias=True), nn.BatchNorm2d(5), (3, 8, 6)
    elif kind == "depthwise":
        conv, bn, shape = nn.Conv2d(4, 4, 3, groups=4, bias=False), nn.BatchNorm2d(4), (4, 7, 7)
    elif kind == "conv1d":
        conv, bn, shape = nn.Conv1d(2, 6, 5, stride=2), nn.BatchNorm1d(6), (2, 30)
    else:
        conv, bn, shape = nn.Linear(7, 4), nn.BatchNorm1d(4), (7,)
    m = randomize_(Seq(conv, bn))  # random running statistics: folding must matter
    x = data(shape)
    fm = from_torch(m, x[:1], None, precision="float32")
    assert ops_of(fm) == [kind if kind in ("conv1d", "linear") else "conv2d"]
    n = fm.nodes[0]
    # the folded parameters: float64 fold of the float32 values, rounded once to float32
    w = conv.weight.detach().double().numpy()
    b = conv.bias.detach().double().numpy() if conv.bias is not None else np.zeros(w.shape[0])
    g, beta = bn.weight.detach().double().numpy(), bn.bias.detach().double().numpy()
    mu, var = bn.running_mean.double().numpy(), bn.running_var.double().numpy()
    s = g / np.sqrt(var + bn.eps)
    assert np.array_equal(n.arrays["weight"], (w * s.reshape((-1,) + (1,) * (w.ndim - 1))).astype(np.float32))
    assert np.array_equal(n.arrays["bias"], ((b - mu) * s + beta).astype(np.float32))
    assert not np.allclose(n.arrays["weight"], w.astype(np.float32))
    y, f = fm.run(x.numpy()), torch_out(m, x)
    assert np.allclose(y, f, rtol=1e-5, atol=1e-5)
    assert fm.meta["bn_folded"] == "body_1"
    # int8: still one node between quantize and dequantize, and close to the float module
    qm = from_torch(m, x[:1], x)
    assert ops_of(qm) == ["quantize", fm.nodes[0].op, "dequantize"]
    assert np.corrcoef(qm.run(x.numpy()).ravel(), f.ravel())[0, 1] > 0.99
    check_model(qm, x.numpy())


class TwoUsers(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)

    def forward(self, x):
        y = self.conv(x)
        return self.bn(y) + y


@pytest.mark.parametrize("module, bn_name", [
    (Seq(nn.BatchNorm2d(1), nn.Conv2d(1, 2, 3)), "body_0"),                    # no conv before it
    (Seq(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.BatchNorm2d(2)), "body_2"),          # activation in between
    (TwoUsers(), "bn"),                                                         # conv output used twice
    (Seq(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2, track_running_stats=False)), "body_1"),
])
def test_bn_that_cannot_be_folded_is_an_error(module, bn_name):
    x = data((1, 6, 6))
    with pytest.raises(ExportError, match=f"BatchNorm.*{bn_name}|{bn_name}.*BatchNorm") as e:
        from_torch(module, x[:1], x)
    assert "fold" in str(e.value)


# ------------------------------------------------------------------ 'same' padding
@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("k, d, pads", [(4, 1, (1, 2)), (3, 2, (2, 2)), (2, 3, (1, 2)), (5, 1, (2, 2))])
def test_same_padding_conv1d(k, d, pads):
    torch.manual_seed(k * 10 + d)
    m = Seq(nn.Conv1d(2, 3, k, padding="same", dilation=d))
    x = data((2, 17))
    fm = from_torch(m, x[:1], None, precision="float32")
    assert fm.nodes[0].attrs["padding"] == pads
    assert fm.output.shape == (3, 17)
    assert np.allclose(fm.run(x.numpy()), torch_out(m, x), rtol=1e-5, atol=1e-5)
    qm = from_torch(m, x[:1], x)
    assert node(qm, "conv1d").attrs["padding"] == pads
    check_model(qm, x.numpy())


def test_same_padding_conv2d_and_valid():
    torch.manual_seed(0)
    m = Seq(nn.Conv2d(1, 3, (4, 3), padding="same"), nn.Conv2d(3, 2, 2, padding="valid"),
            nn.Conv2d(2, 2, 3, padding=(2, 1)))
    x = data((1, 9, 7))
    fm = from_torch(m, x[:1], None, precision="float32")
    assert [n.attrs["padding"] for n in fm.nodes] == [(1, 2, 1, 1), (0, 0, 0, 0), (2, 2, 1, 1)]
    assert np.allclose(fm.run(x.numpy()), torch_out(m, x), rtol=1e-5, atol=1e-5)


def test_accumulator_overflow_is_refused_naming_the_layer():
    """A fan-in so large that the worst-case int32 accumulator could overflow: the exporter refuses and names
    the layer (docs/numerics.md 3.4); a fan-in just inside the bound exports, and inspect shows its headroom."""
    from kwsnum.report import summary
    for k, ok in ((140000, False), (60000, True)):
        m = nn.Sequential(nn.Linear(k, 2))
        with torch.no_grad():
            m[0].weight.fill_(0.01)
            m[0].bias.zero_()
        x = torch.randn(8, k)
        if ok:
            q = from_torch(m, x[:1], x)
            acc = [r["accumulator"] for r in summary(q)["layers"] if r["op"] == "linear"][0]
            assert acc["bits"] == 32 and 0 <= acc["headroom"] <= 2 and acc["worst"] < 2 ** 31
        else:
            with pytest.raises(ExportError, match=r"layer '_0'.*int32 accumulator could overflow"):
                from_torch(m, x[:1], x)


class FPad(nn.Module):
    def __init__(self, pad, value=0.0):
        super().__init__()
        self.pad, self.value = pad, value
        self.c = nn.Conv1d(2, 3, 3, padding=1)

    def forward(self, x):
        return self.c(F.pad(x, self.pad, value=self.value))


def test_zero_pad_folds_into_the_conv():
    """TF 'same' with stride (asymmetric pads) as PyTorch writes it: ZeroPad2d / ConstantPad / F.pad + conv."""
    torch.manual_seed(3)
    m = Seq(nn.ZeroPad2d((1, 1, 4, 5)), nn.Conv2d(1, 4, (10, 4), stride=2, bias=False), nn.BatchNorm2d(4),
            nn.ReLU(), nn.ConstantPad2d((0, 1, 2, 0), 0.0), nn.Conv2d(4, 4, 3, padding=1, groups=4))
    x = data((1, 49, 10))
    randomize_(m, 0, x)
    fm = from_torch(m, x[:1], None, precision="float32")
    assert [n.attrs["padding"] for n in fm.nodes if n.op == "conv2d"] == [(4, 5, 1, 1), (3, 1, 1, 2)]
    assert fm.output.shape == tuple(torch_out(m, x[:1]).shape[1:])
    assert np.allclose(fm.run(x.numpy()), torch_out(m, x), rtol=1e-4, atol=1e-4)
    qm = from_torch(m, x[:1], x)
    check_model(qm, x.numpy())
    q, f = qm.run(x.numpy()).ravel(), torch_out(m, x).ravel()
    assert np.corrcoef(q, f)[0, 1] > 0.98                  # int8 pads with the zero point: real 0
    f1 = FPad((2, 0))
    x1 = data((2, 11))
    fm1 = from_torch(f1, x1[:1], None, precision="float32")
    assert fm1.nodes[0].attrs["padding"] == (3, 1)
    assert np.allclose(fm1.run(x1.numpy()), torch_out(f1, x1), rtol=1e-5, atol=1e-5)
    check_model(from_torch(f1, x1[:1], x1), x1.numpy())


@pytest.mark.parametrize("module, shape, pattern", [     # a pad not before a conv is a pad layer (6.1)
    (Seq(nn.Conv1d(1, 2, 3), nn.ConstantPad1d(1, 0.5), nn.Conv1d(2, 2, 3)), (1, 8), r"value=0.5"),
    (Seq(nn.ZeroPad2d(1), nn.ReLU()), (8,), r"does not keep the batch dimension first"),
])
def test_zero_pad_errors(module, shape, pattern):
    x = data(shape, n=4)
    with pytest.raises(ExportError, match=pattern):
        from_torch(module, x[:1], x)


# ------------------------------------------------------------------ ReLU fusion
def test_relu_fusion_dscnn():
    module, calib, test = make(DSCNN, seed=5, width=16, n_blocks=2)
    qm = from_torch(module, test[:1], calib)
    fm = from_torch(module, test[:1], None, precision="float32")
    assert "relu" not in ops_of(qm) and "relu" not in ops_of(fm)
    assert "batchnorm" not in " ".join(ops_of(qm))
    assert ops_of(qm) == ["quantize"] + ["conv2d"] * 5 + ["global_avgpool", "reshape", "linear", "dequantize"]
    for n in qm.nodes:
        if n.op == "conv2d":  # fused ReLU = the clamp at the output zero point
            out = qm.tensors[n.outputs[0]]
            assert (n.attrs["act_min"], n.attrs["act_max"]) == (out.zero_point, 127)
            assert out.zero_point == -128  # calibrated after the ReLU: the range starts at 0
    for n in fm.nodes:
        if n.op == "conv2d":
            assert (n.attrs["act_min_f"], n.attrs["act_max_f"]) == (0.0, np.inf)
    assert node(qm, "linear").attrs["act_min"] == -128
    assert len(qm.meta["relu_fused"].split(",")) == 5


class Branchy(nn.Module):
    """relu where it cannot fuse: after a reshape, and on a conv output that has a second user; relu6 fused
    into a linear; functional relu fused into an add."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 4, 3, padding=1)
        self.c2 = nn.Conv2d(4, 4, 3, padding=1)
        self.fc = nn.Linear(4 * 6 * 5, 8)
        self.act6 = nn.ReLU6()

    def forward(self, x):
        a = self.c1(x)
        b = F.relu(a)               # a has two users: standalone relu
        c = self.c2(b)
        s = (a + c).relu()          # fused into the add
        h = s.view(s.size(0), -1)
        h = torch.relu(h)           # after a reshape: standalone relu
        return self.act6(self.fc(h))  # relu6 fused into the linear


def test_relu_fusion_rules_and_standalone_relu():
    torch.manual_seed(0)
    m = Branchy().eval()
    x = data((1, 6, 5), n=64)
    qm = from_torch(m, x[:1], x)
    assert ops_of(qm) == ["quantize", "conv2d", "relu", "conv2d", "add", "reshape", "relu", "linear", "dequantize"]
    r = node(qm, "relu")
    xin = qm.tensors[r.inputs[0]]
    assert (r.attrs["kind"], r.attrs["act_min"], r.attrs["act_max"]) == ("relu", xin.zero_point, 127)
    out = qm.tensors[r.outputs[0]]
    assert (out.scale, out.zero_point) == (xin.scale, xin.zero_point)
    add = node(qm, "add")
    assert add.attrs["act_min"] == qm.tensors[add.outputs[0]].zero_point
    lin = node(qm, "linear")
    lo = qm.tensors[lin.outputs[0]]
    assert lin.attrs["act_max"] == min(127, lo.zero_point + int(np.round(np.float32(6.0) / np.float32(lo.scale))))  # float32 quotient (3.5); np.round ties to even but a float32 quotient of a calibrated scale is no tie here
    check_model(qm, x.numpy())
    fm = from_torch(m, x[:1], None, precision="float32")
    assert node(fm, "linear").attrs["act_max_f"] == 6.0
    assert np.allclose(fm.run(x.numpy()), torch_out(m, x), rtol=1e-5, atol=1e-5)
    y, f = qm.run(x.numpy()), torch_out(m, x)
    assert np.corrcoef(y.ravel(), f.ravel())[0, 1] > 0.98


# ------------------------------------------------------------------ residual add
@pytest.mark.parametrize("rounding", ["double", "single"])
def test_residual_add(rounding):
    module, calib, test = make(ResBlockNet, seed=6, width=8, n_blocks=2)
    qm = from_torch(module, test[:1], calib, rounding=rounding)
    adds = [n for n in qm.nodes if n.op == "add"]
    assert len(adds) == 2 and "relu" not in ops_of(qm)
    for n in adds:
        s1, s2, so = (qm.tensors[t].scale for t in n.inputs + n.outputs)
        tm = 2.0 * max(s1, s2)
        a = n.attrs
        assert a["left_shift"] == 20
        assert (a["in1_multiplier"], a["in1_shift"]) == quantize_multiplier(s1 / tm)
        assert (a["in2_multiplier"], a["in2_shift"]) == quantize_multiplier(s2 / tm)
        assert (a["out_multiplier"], a["out_shift"]) == quantize_multiplier(tm / ((1 << 20) * so))
        assert a["act_min"] == qm.tensors[n.outputs[0]].zero_point  # the block's final ReLU is fused
    check_model(qm, test.numpy())
    check_int8_tracks_float(module, qm, test)
    fm = from_torch(module, test[:1], None, precision="float32")
    f = torch_out(module, test)
    assert np.max(np.abs(fm.run(test.numpy()) - f)) <= 1e-4 * max(1.0, np.abs(f).max())


# ------------------------------------------------------------------ the stored integers
def test_conv_linear_quantization_parameters():
    torch.manual_seed(0)
    m = Seq(nn.Conv2d(2, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 4 * 4, 5))
    x = data((2, 6, 6), n=40)
    qm = from_torch(m, x[:1], x)
    q = node(qm, "quantize")
    assert (qm.tensors[q.outputs[0]].scale, qm.tensors[q.outputs[0]].zero_point) == \
        affine_params(float(x.min()), float(x.max()))
    conv = m.body[0]
    acts = torch.relu(conv(x)).detach()
    c = node(qm, "conv2d")
    s_in = qm.tensors[c.inputs[0]].scale
    so, zo = qm.tensors[c.outputs[0]].scale, qm.tensors[c.outputs[0]].zero_point
    assert (so, zo) == affine_params(float(acts.min()), float(acts.max()))
    w = conv.weight.detach().double().numpy()
    sw = symmetric_weight_scales(w)
    assert np.array_equal(c.arrays["weight"], quantize_weights(w, sw))
    assert np.array_equal(c.arrays["bias"], quantize_bias(conv.bias.detach().double().numpy(), s_in, sw))
    mult, shift = quantize_multipliers(np.float64(s_in) * sw.astype(np.float64) / np.float64(so))
    assert np.array_equal(c.arrays["multiplier"], mult) and np.array_equal(c.arrays["shift"], shift)
    assert c.arrays["weight"].dtype == np.int8 and c.arrays["bias"].dtype == np.int32
    assert np.abs(c.arrays["weight"]).max(axis=(1, 2, 3)).tolist() == [127, 127, 127]
    r = node(qm, "reshape")
    assert r.attrs["shape"] == (48,)
    assert qm.tensors[r.outputs[0]].scale == so
    check_model(qm, x.numpy())


def test_global_avgpool_and_pools():
    torch.manual_seed(0)
    m = Seq(nn.AvgPool2d(2, stride=1, padding=1, count_include_pad=False), nn.Conv2d(2, 4, 3), nn.ReLU(),
            nn.MaxPool2d(2, padding=1, dilation=1), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3))
    x = data((2, 9, 8), n=48)
    qm = from_torch(m, x[:1], x)
    assert ops_of(qm) == ["quantize", "avgpool2d", "conv2d", "maxpool2d", "global_avgpool", "reshape", "linear",
                          "dequantize"]
    ap, mp, gp = node(qm, "avgpool2d"), node(qm, "maxpool2d"), node(qm, "global_avgpool")
    assert ap.attrs["padding"] == (1, 1, 1, 1) and ap.attrs["count_include_pad"] is False
    assert mp.attrs["kernel"] == (2, 2) and mp.attrs["stride"] == (2, 2)
    for n in (ap, mp):  # pools keep the input's quantization parameters
        a, b = qm.tensors[n.inputs[0]], qm.tensors[n.outputs[0]]
        assert (a.scale, a.zero_point) == (b.scale, b.zero_point)
    si, gi = qm.tensors[gp.inputs[0]], qm.tensors[gp.outputs[0]]
    count = int(np.prod(si.shape[1:]))
    assert (gp.attrs["multiplier"], gp.attrs["shift"]) == \
        quantize_multiplier(np.float64(si.scale) / (np.float64(gi.scale) * count))
    check_model(qm, x.numpy())
    y, f = qm.run(x.numpy()), torch_out(m, x)
    assert np.corrcoef(y.ravel(), f.ravel())[0, 1] > 0.98
    fm = from_torch(m, x[:1], None, precision="float32")
    assert np.allclose(fm.run(x.numpy()), f, rtol=1e-5, atol=1e-5)


# ------------------------------------------------------------------ calibration
def test_percentile_calibration_narrows_ranges():
    torch.manual_seed(0)
    m = Seq(nn.Conv1d(1, 4, 5), nn.Flatten(), nn.Linear(4 * 60, 3))
    x = data((1, 64), n=200)
    x[0, 0, 7] = 50.0  # an outlier that min/max calibration takes in full
    mm = from_torch(m, x[:1], x)
    pm = from_torch(m, x[:1], x, calibration=("percentile", 99.9))
    s_mm, s_pm = mm.tensors["quantize"].scale, pm.tensors["quantize"].scale
    assert s_mm == affine_params(float(x.min()), 50.0)[0]
    a = float(np.percentile(np.abs(x.numpy()).astype(np.float64), 99.9))
    assert (s_pm, pm.tensors["quantize"].zero_point) == affine_params(max(float(x.min()), -a), min(50.0, a))
    assert s_pm < s_mm / 5
    assert mm.meta["calibration"] == "minmax" and pm.meta["calibration"] == "percentile:99.9"
    assert pm.meta["calibration_samples"] == "200"
    check_model(pm, x.numpy())


def test_calibration_in_chunks_equals_one_pass():
    """Calibration batches through in chunks of 64: the result does not depend on the chunking."""
    from kwsnum.export import calibrate
    torch.manual_seed(0)
    m = Seq(nn.Conv1d(1, 4, 5), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 12, 3))
    x = data((1, 16), n=150)
    a = from_torch(m, x[:1], x)
    old = calibrate.CALIB_CHUNK
    try:
        calibrate.CALIB_CHUNK = 1000
        b = from_torch(m, x[:1], x)
    finally:
        calibrate.CALIB_CHUNK = old
    for t in a.tensors:
        assert (a.tensors[t].scale, a.tensors[t].zero_point) == (b.tensors[t].scale, b.tensors[t].zero_point)


# ------------------------------------------------------------------ API, metadata, I/O
def test_api_metadata_labels_and_numpy_inputs(tmp_path):
    torch.manual_seed(0)
    m = Seq(nn.Conv1d(1, 2, 3), nn.Flatten(), nn.Linear(2 * 8, 3))
    m.train()
    x = np.random.default_rng(0).standard_normal((20, 1, 10))  # float64 numpy works too
    qm = from_torch(m, x[:1], x, labels=["a", "b", "c"], name="tiny")
    assert m.training  # the module's mode is restored
    assert qm.name == "tiny" and qm.labels == ["a", "b", "c"]
    assert qm.meta["source"] == "torch" and qm.meta["precision"] == "int8" and qm.meta["module"] == "Seq"
    assert all(isinstance(v, str) for v in qm.meta.values())
    assert json.loads(qm.meta["torch_nodes"])["body_0"] == "body_0"
    assert qm.input.format == "float32" and qm.input.shape == (1, 10)
    assert qm.output.format == "float32" and qm.output.shape == (3,)
    y = qm.run(x.astype(np.float32))
    assert y.shape == (20, 3) and y.dtype == np.float32
    assert qm.run(x[0]).shape == (1, 3)  # one sample without the batch dimension
    path = tmp_path / "tiny.h5"
    kwsnum.save(qm, str(path))
    back = kwsnum.load(str(path))
    assert back.meta == qm.meta and back.labels == qm.labels
    assert np.array_equal(back.run(x), y)


def test_view_size_and_flatten_variants():
    class V(nn.Module):
        def __init__(self):
            super().__init__()
            self.c = nn.Conv2d(1, 2, 3)
            self.fc = nn.Linear(2 * 3 * 2, 4)
            self.drop = nn.Dropout(0.3)
            self.id = nn.Identity()

        def forward(self, x):
            y = self.id(self.c(x))
            a = y.view(y.size(0), -1)
            b = torch.flatten(y, 1)
            c = y.reshape(y.shape[0], 12)
            d = F.dropout(self.drop(a + b), 0.5, self.training)
            return self.fc(d + c)

    torch.manual_seed(0)
    m = V()
    x = data((1, 5, 4), n=40)
    fm = from_torch(m, x[:1], None, precision="float32")
    assert ops_of(fm) == ["conv2d", "reshape", "reshape", "reshape", "add", "add", "linear"]
    assert np.allclose(fm.run(x.numpy()), torch_out(m, x), rtol=1e-5, atol=1e-5)
    check_model(from_torch(m, x[:1], x), x.numpy())


def test_kwsnum_imports_without_torch():
    code = ("import sys; sys.modules['torch'] = None\n"
            "import kwsnum, kwsnum.export\n"
            "from kwsnum.export import from_torch\n"
            "print('ok')\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=str(
        __import__("pathlib").Path(__file__).resolve().parents[1]))
    assert r.returncode == 0 and "ok" in r.stdout, r.stderr


# ------------------------------------------------------------------ what cannot be exported
class WithLSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(4, 4, batch_first=True)

    def forward(self, x):
        return self.rnn(x)[0]


class WithExp(nn.Module):     # (sigmoid, which this case used, exports since issue 14)
    def __init__(self):
        super().__init__()
        self.c = nn.Conv1d(1, 2, 3)

    def forward(self, x):
        return torch.exp(self.c(x))


class BatchMixing(nn.Module):
    def __init__(self):
        super().__init__()
        self.c = nn.Conv1d(1, 2, 3)

    def forward(self, x):
        return self.c(x).view(-1)


class ScalarAdd(nn.Module):
    def __init__(self):
        super().__init__()
        self.c = nn.Conv1d(1, 2, 3)

    def forward(self, x):
        return self.c(x) + 1.0


@pytest.mark.parametrize("module, shape, pattern", [
    (Seq(nn.Conv1d(1, 2, 3), nn.GELU()), (1, 8), r"GELU.*'body_1'"),
    (WithLSTM(), (5, 4), r"LSTM.*'rnn'"),
    (WithExp(), (1, 8), r"exp.*'exp'"),
    (Seq(nn.Conv1d(1, 2, 3, padding=1, padding_mode="reflect")), (1, 8), r"padding_mode='reflect'"),
    (Seq(nn.MaxPool1d(2, ceil_mode=True)), (1, 9), r"MaxPool1d.*ceil_mode"),
    (Seq(nn.AvgPool2d(2, divisor_override=3)), (1, 4, 4), r"divisor_override"),
    (Seq(nn.AdaptiveAvgPool1d(2)), (1, 8), r"output_size=2"),
    (Seq(nn.LayerNorm([2, 3, 4])), (2, 3, 4), r"normalized_shape"),
    (BatchMixing(), (1, 8), r"batch dimension"),
    (ScalarAdd(), (1, 8), r"adding a constant is supported only as the divisor"),
    (Seq(nn.Conv1d(1, 2, 3), nn.Linear(6, 2)), (1, 8), r"Linear.*flatten first"),
])
def test_unsupported_raises_export_error(module, shape, pattern):
    x = data(shape, n=4)
    with pytest.raises(ExportError, match=pattern) as e:
        from_torch(module, x[:1], x)
    assert isinstance(e.value, kwsnum.KwsnumError)


def test_unsupported_error_lists_the_supported_set():
    x = data((1, 8), n=4)
    with pytest.raises(ExportError) as e:
        from_torch(Seq(nn.Conv1d(1, 2, 3), nn.GELU()), x[:1], x)
    msg = str(e.value)
    assert "fx node 'body_1'" in msg and "Supported:" in msg and "Conv1d" in msg and "LayerNorm" in msg


def test_bad_arguments():
    m = Seq(nn.Conv1d(1, 2, 3))
    x = data((1, 8), n=4)
    with pytest.raises(ExportError, match="precision"):
        from_torch(m, x[:1], x, precision="int4")
    with pytest.raises(ExportError, match="rounding"):
        from_torch(m, x[:1], x, rounding="nearest")
    with pytest.raises(ExportError, match="calibration"):
        from_torch(m, x[:1], x, calibration="entropy")
    with pytest.raises(ExportError, match="calibration_data"):
        from_torch(m, x[:1], None)
    with pytest.raises(ExportError, match="does not match"):
        from_torch(m, x[:1], data((1, 9), n=4))
    with pytest.raises(ExportError, match="nn.Module"):
        from_torch(lambda t: t, x[:1], x)
