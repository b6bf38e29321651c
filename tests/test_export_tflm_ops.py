"""from_torch with softmax, sigmoid and tanh (TFLM's ops, docs/numerics.md 11.4, 11.5, 11.9): the exported layers
use kwsnum's softmax / logistic / tanh with the output quantization TFLite's converter fixes for them, the oracle
equals the torch integer reference on every tensor, the result tracks the float module, and what kwsnum cannot
represent (softmax over the batch axis, a float layer) is refused naming the node."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn                                       # noqa: E402
import torch.nn.functional as F                            # noqa: E402

from kwsnum.errors import ExportError                      # noqa: E402
from kwsnum.export import from_torch                       # noqa: E402
from tests.strategies import check_model                   # noqa: E402


class Heads(nn.Module):
    """conv -> tanh (method) -> sigmoid over a feature map; linear -> softmax (function, last dim)."""

    def __init__(self, classes=6, gate=nn.Sigmoid):
        super().__init__()
        self.conv = nn.Conv1d(4, 8, 3, padding=1)
        self.gate = gate()
        self.fc = nn.Linear(8 * 10, classes)

    def forward(self, x):
        h = self.conv(x).tanh()
        h = self.gate(h)
        return F.softmax(self.fc(torch.flatten(h, 1)), dim=-1)


class MidSoftmax(nn.Module):
    """softmax over the channel axis of a (C, T) map (nn.Softmax(dim=1)), then torch.sigmoid, torch.tanh."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(3, 5, 3)
        self.sm = nn.Softmax(dim=1)

    def forward(self, x):
        return torch.tanh(torch.sigmoid(self.sm(self.conv(x))))


def _data(shape, n, seed):
    return torch.randn((n,) + shape, generator=torch.Generator().manual_seed(seed))


FIXED = {"int8": {"softmax": (1 / 256, -128), "logistic": (1 / 256, -128), "tanh": (1 / 128, 0)},
         "int16": {"softmax": (1 / 32768, 0), "logistic": (2.0 ** -15, 0), "tanh": (2.0 ** -15, 0)}}


@pytest.mark.parametrize("precision", ["int8", "int16"])
@pytest.mark.parametrize("build", [Heads, MidSoftmax])
def test_export_uses_the_tflm_ops(precision, build):
    torch.manual_seed(3)
    m = build().eval()
    shape = (4, 10) if build is Heads else (3, 12)
    calib, test = _data(shape, 64, 1), _data(shape, 16, 2)
    model = from_torch(m, calib[:1], calib, precision=precision)
    used = {n.op for n in model.nodes}
    assert {"softmax", "logistic", "tanh"} <= used, used
    for n in model.nodes:
        if n.op in FIXED[precision]:
            spec = model.tensors[n.outputs[0]]
            assert spec.format == precision
            assert (np.float32(spec.scale), int(spec.zero_point)) == \
                (np.float32(FIXED[precision][n.op][0]), FIXED[precision][n.op][1]), n.name
    if build is MidSoftmax:
        assert [n for n in model.nodes if n.op == "softmax"][0].attrs["axis"] == 0
    x = test.numpy()
    check_model(model, x)                          # oracle == torch integer reference on every tensor
    with torch.no_grad():
        want = m(test).numpy()
    got = model.run(x)
    # int8: the output step (1/256) plus the input quantization carried through three activations
    tol = 0.06 if precision == "int8" else 0.01
    assert np.abs(got - want).max() <= tol, np.abs(got - want).max()


@pytest.mark.parametrize("module, pattern", [
    (lambda: _Lambda(lambda x: F.softmax(x, dim=0)), "batch axis"),
    (lambda: _Lambda(lambda x: x.softmax(-3)), "batch axis"),
    (lambda: _Lambda(lambda x: F.softmax(x, dim=1, dtype=torch.float64)), "dtype"),
])
def test_export_refuses_what_kwsnum_cannot_represent(module, pattern):
    calib = _data((3, 12), 8, 1)
    with pytest.raises(ExportError, match=pattern) as e:
        from_torch(module(), calib[:1], calib)
    assert "softmax" in str(e.value)


def test_export_refuses_a_float_activation_layer_naming_it():
    m = nn.Sequential(nn.Linear(6, 4), nn.Sigmoid())
    calib = _data((6,), 8, 1)
    with pytest.raises(ExportError, match=r"1.*logistic.*float32.*int8 and int16"):
        from_torch(m, calib[:1], calib, precision="float32")


class _Lambda(nn.Module):
    def __init__(self, f):
        super().__init__()
        self.f = f

    def forward(self, x):
        return self.f(nn.functional.relu(x))


class Slices(nn.Module):
    """x[:, 1:4] (channels), x[..., 2:9:2] (time, a step), .narrow, torch.narrow, then sigmoid of a slice."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(3, 6, 3)

    def forward(self, x):
        h = self.conv(x)                      # (N, 6, 10)
        a = h[:, 1:4]                         # (N, 3, 10)
        b = a[..., 2:9:2]                     # (N, 3, 4)
        c = torch.narrow(h, 2, 3, 4).narrow(1, -3, 3)    # (N, 3, 4)
        return torch.sigmoid(b) + c


@pytest.mark.parametrize("precision", ["int8", "int16", "float32", "q16"])
def test_export_slicing(precision):
    torch.manual_seed(4)
    m = Slices().eval()
    calib, test = _data((3, 12), 64, 1), _data((3, 12), 16, 2)
    if precision in ("float32", "q16"):          # no float / Q kernel for sigmoid: that layer in int8
        precision = dict(default=precision, ops={"logistic": "int8"})
    model = from_torch(m, calib[:1], calib, precision=precision)
    sl = [n for n in model.nodes if n.op == "slice"]
    assert len(sl) == 4
    assert [tuple(n.attrs["stride"]) for n in sl].count((1, 2)) == 1
    x = test.numpy()
    check_model(model, x)
    with torch.no_grad():
        want = m(test).numpy()
    err = np.abs(model.run(x) - want).max()
    assert err <= (1e-5 if precision == "float32" else 0.1), err
    for n in sl:                                  # a copy: the output keeps the input's quantization
        a, b = model.tensors[n.inputs[0]], model.tensors[n.outputs[0]]
        assert (a.format, a.scale, a.zero_point, a.frac_bits) == (b.format, b.scale, b.zero_point, b.frac_bits)


@pytest.mark.parametrize("f, pattern", [
    (lambda x: x[1:], "batch"),
    (lambda x: x[:, 0], "integer"),
    (lambda x: x[:, None], "None"),
    (lambda x: x.narrow(0, 0, 1), "batch"),
    (lambda x: x[:, 2:2], "empty"),
])
def test_export_refuses_slices_it_cannot_represent(f, pattern):
    calib = _data((3, 12), 8, 1)
    with pytest.raises(ExportError, match=pattern) as e:
        from_torch(_Lambda(f), calib[:1], calib)
    assert "getitem" in str(e.value) or "narrow" in str(e.value)        # the fx node is named


class Cat(nn.Module):
    """two conv branches of different ranges concatenated on channels, a slice of one concatenated in time."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv1d(3, 4, 3)
        self.b = nn.Conv1d(3, 2, 3)

    def forward(self, x):
        a, b = self.a(x), self.b(x)
        h = torch.cat([a, b], dim=1)                            # (N, 6, 10)
        return torch.cat((h, h[..., :2]), -1)                   # (N, 6, 12)


@pytest.mark.parametrize("precision", ["int8", "int16", "float32"])
def test_export_cat(precision):
    torch.manual_seed(5)
    m = Cat().eval()
    with torch.no_grad():
        m.b.weight.mul_(4.0)                                    # a branch with a wider range than the other
    calib, test = _data((3, 12), 64, 1), _data((3, 12), 16, 2)
    model = from_torch(m, calib[:1], calib, precision=precision)
    cats = [n for n in model.nodes if n.op == "concat"]
    assert len(cats) == 2
    if precision != "float32":                                  # inputs share the output's quantization
        assert any(n.op == "requantize" for n in model.nodes)
        for n in cats:
            o = model.tensors[n.outputs[0]]
            assert all((model.tensors[t].scale, model.tensors[t].zero_point) == (o.scale, o.zero_point)
                       for t in n.inputs)
    x = test.numpy()
    check_model(model, x)
    with torch.no_grad():
        want = m(test).numpy()
    err = np.abs(model.run(x) - want).max()
    assert err <= (1e-5 if precision == "float32" else 0.05 * np.abs(want).max()), err


def test_export_refuses_cat_over_the_batch_axis():
    calib = _data((3, 12), 8, 1)
    with pytest.raises(ExportError, match="batch") as e:
        from_torch(_Lambda(lambda x: torch.cat([x, x], 0)), calib[:1], calib)
    assert "cat" in str(e.value)


@pytest.mark.parametrize("precision", ["int8", "int16"])
def test_codegen_of_the_tflm_ops_is_bit_exact(precision, tmp_path):
    """The generated C project (the int16 tables as constant arrays) equals the oracle on every sample."""
    import shutil
    from kwsnum.codegen import build, generate, verify
    if not (shutil.which("cc") or shutil.which("gcc")):
        pytest.skip("no C compiler")
    torch.manual_seed(3)
    m = Heads().eval()
    calib, test = _data((4, 10), 64, 1), _data((4, 10), 8, 2)
    model = from_torch(m, calib[:1], calib, precision=precision)
    project = generate(model, tmp_path / "proj", name="heads")
    build(project.path, werror=True)
    result = verify(model, project.path, test.numpy())
    assert result.ok and result.n == 8, str(result)


class Copies(nn.Module):
    """A standalone F.pad, torch.chunk, a broadcasting add (a + pool(b), (C, L) + (C, 1)), .split into sizes,
    a standalone ConstantPad1d(0) before a flatten, torch.cat -> linear."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(3, 6, 3, padding=1)
        self.pool = nn.AdaptiveAvgPool1d(1)
        self.pad2 = nn.ConstantPad1d((0, 2), 0.0)
        self.fc = nn.Linear(13 + 2 * 15, 4)

    def forward(self, x):
        h = F.pad(self.conv(x), (2, 1))
        a, b = torch.chunk(h, 2, dim=1)
        y = a + self.pool(b)
        p, q = y.split([1, 2], dim=1)
        return self.fc(torch.cat([p.flatten(1), self.pad2(q).flatten(1)], 1))


class Pad2d(nn.Module):
    """ZeroPad2d (asymmetric) before a max pool (not a conv: a pad layer), torch.split(x, 2, dim=2), a sum of the
    pieces, and a (C, H, W) + (C, 1, W) broadcasting add."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.pad = nn.ZeroPad2d((1, 0, 2, 1))
        self.mp = nn.MaxPool2d(2)
        self.fc = nn.Linear(4 * 2 * 3, 3)

    def forward(self, x):
        h = self.mp(self.pad(torch.relu(self.conv(x))))          # (4, 5, 3)
        a, b, c = torch.split(h, 2, dim=2)[0], torch.split(h, 2, dim=2)[1], h[:, :, 4:5, :]
        return self.fc(torch.flatten(a + b + c, 1))


@pytest.mark.parametrize("precision", ["int8", "int16", "float32"])
@pytest.mark.parametrize("build, shape", [(Copies, (3, 10)), (Pad2d, (1, 7, 5))])
def test_export_pad_chunk_split_and_broadcast_add(precision, build, shape):
    """6.1: a pad not folded into a conv is a pad layer (real 0: the zero point), chunk / split pieces are slices,
    x + y of broadcasting shapes is one broadcasting add; the oracle == the torch reference on every tensor and the
    model tracks the float module."""
    torch.manual_seed(6)
    m = build().eval()
    calib, test = _data(shape, 64, 3), _data(shape, 16, 4)
    model = from_torch(m, calib[:1], calib, precision=precision)
    ops = [n.op for n in model.nodes]
    assert "pad" in ops and ops.count("slice") >= 3 and "add" in ops, ops
    adds = [n for n in model.nodes if n.op == "add"]
    assert any(model.tensors[n.inputs[0]].shape != model.tensors[n.inputs[1]].shape for n in adds)
    for n in model.nodes:
        if n.op == "pad":       # a copy: the input's quantization; the fill is real 0
            a, b = model.tensors[n.inputs[0]], model.tensors[n.outputs[0]]
            assert (a.format, a.scale, a.zero_point) == (b.format, b.scale, b.zero_point)
            if a.format != "float32":
                assert n.attrs["value"] == a.zero_point
    x = test.numpy()
    check_model(model, x)
    with torch.no_grad():
        want = m(test).numpy()
    got = model.run(x)
    if precision == "float32":
        assert np.abs(got - want).max() <= 1e-5
    else:
        assert np.corrcoef(got.ravel(), want.ravel())[0, 1] > 0.98


@pytest.mark.parametrize("f, pattern", [
    (lambda x: torch.chunk(x, 2, dim=0)[0], r"getitem.*does not keep the batch dimension first"),
    (lambda x: torch.split(x, [6, 0], dim=2)[1], r"getitem' produces an empty tensor"),
    (lambda x: F.pad(torch.relu(x), (1, 1), value=0.5), r"value=0.5: an integer pad fills with real 0"),
    (lambda x: x[:, :1, :] + x.flatten(1)[:, :6], r"kwsnum broadcasts tensors of equal rank"),   # torch: (N, N, 6)
    (lambda x: F.pad(x, (1, 1), mode="reflect"), r"only constant padding"),
])
def test_export_refuses_pads_splits_and_adds_it_cannot_represent(f, pattern):
    """(A pad of the float model input itself stays float32, where any fill is exact: the value test pads a ReLU.)"""
    class M(nn.Module):
        def forward(self, x):
            return f(x)
    x = _data((2, 6), 8, 5)
    with pytest.raises(ExportError, match=pattern):
        from_torch(M(), x[:1], x)
