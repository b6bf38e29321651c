"""Mixed precision at export (docs/numerics.md 6.8): a precision config per model / op type / layer, bridges
(quantize, dequantize, cast) inserted where formats meet, three-way agreement (torch reference, oracle, C)
and the quantized model tracking the float module."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from kwsnum.errors import ExportError                  # noqa: E402
from kwsnum.export import from_torch                   # noqa: E402
from kwsnum.models import DSCNN, RawCNN, randomize_    # noqa: E402
from kwsnum.report import format_table, summary        # noqa: E402
from tests.c_build import assert_same, run_c           # noqa: E402
from tests.strategies import check_model               # noqa: E402


def _make(cls, seed=0, **kw):
    torch.manual_seed(seed)
    m = cls(**kw)
    g = torch.Generator().manual_seed(100 + seed)
    calib = torch.randn((32,) + m.in_shape, generator=g)
    test = torch.randn((6,) + m.in_shape, generator=g)
    randomize_(m, seed, calib)
    return m, calib, test


def _fmt(model, node):
    return model.tensors[node.outputs[0]].format


def _three_way(model, x):
    ref = check_model(model, x)
    assert_same(run_c(model, x), ref)
    return ref


def _close_to_float(model, module, test, rel):
    with torch.no_grad():
        f = module(test).numpy()
    y = model.run(test.numpy())
    err = float(np.abs(y - f).max() / max(1.0, np.abs(f).max()))
    assert err <= rel, err
    return err


@pytest.mark.parametrize("default, fmt", [("int8", "float16"), ("int8", "bfloat16"), ("int8", "float32"),
                                          ("int16", "float16")])
def test_integer_model_with_float_layernorm(default, fmt):
    module, calib, test = _make(RawCNN, in_len=2000, channels=(8, 16, 16))
    m = from_torch(module, calib[:1], calib, precision=dict(default=default, ops=dict(layernorm=fmt)))
    lns = [n for n in m.nodes if n.op == "layernorm"]
    assert len(lns) == 3 and all(_fmt(m, n) == fmt for n in lns)
    by_name = {n.outputs[0]: n for n in m.nodes}
    for n in lns:
        before = by_name[n.inputs[0]]
        assert before.op == "dequantize" and _fmt(m, before) == fmt
    after = [n for n in m.nodes if any(t in (ln.outputs[0] for ln in lns) for t in n.inputs)]
    assert all(n.op == "quantize" for n in after), [n.op for n in after]
    assert {_fmt(m, n) for n in m.nodes if n.op in ("conv1d", "linear", "maxpool1d")} == {default}
    _three_way(m, test.numpy())
    _close_to_float(m, module, test, 0.25)


def test_layer_override_and_float_classifier():
    module, calib, test = _make(DSCNN, width=8, in_shape=(1, 49, 10))
    cfg = dict(default="int8", layers={"fc": "float32", "features.3": "float16"})
    m = from_torch(module, calib[:1], calib, precision=cfg)
    nodes = {n.name: n for n in m.nodes}
    assert _fmt(m, nodes["fc"]) == "float32" and m.nodes[-1].name == "fc"      # no final dequantize
    assert _fmt(m, nodes["features_3"]) == "float16"                           # module path features.3
    assert m.meta["precision"].startswith("{")
    _three_way(m, test.numpy())
    _close_to_float(m, module, test, 0.25)
    table = format_table(summary(m))
    for word in ("int8->float16", "float16->int8", "int8->float32", "quantize", "dequantize"):
        assert word in table, word


def test_whole_model_storage_float_has_casts():
    module, calib, test = _make(DSCNN, width=8, in_shape=(1, 49, 10))
    m = from_torch(module, calib[:1], None, precision="float16")
    assert [n.op for n in m.nodes][0] == "cast" and m.nodes[-1].op == "cast"
    assert m.input.format == m.output.format == "float32"
    assert {_fmt(m, n) for n in m.nodes[:-1]} == {"float16"}
    _three_way(m, test.numpy())
    _close_to_float(m, module, test, 2e-2)


@pytest.mark.parametrize("cfg, pattern", [
    ("int4", "precision default must be one of"),
    (dict(default="int8", ops=dict(conv="int8")), "ops.*not op names"),
    (dict(default="int8", ops=dict(conv2d="q7")), r"ops\['conv2d'\] must be one of"),
    (dict(default="float32", layers=dict(nothere="float16")), "name no exported layer"),
    (dict(default="int8", extra=1), "dict with keys"),
])
def test_bad_precision_configs(cfg, pattern):
    module, calib, _ = _make(DSCNN, width=4, in_shape=(1, 49, 10))
    with pytest.raises(ExportError, match=pattern):
        from_torch(module, calib[:1], calib, precision=cfg)


# ------------------------------------------------------------------ the mixed-precision attention model
def test_attention_model_int8_float16_int8():
    """KwsAttention with its PRECISION: int8 frontend, float16 attention (matmul, div, residual add), int8
    classifier; bridges where the formats meet; torch == oracle on every node, C == oracle bit for bit."""
    from kwsnum.models import KwsAttention
    module, calib, test = _make(KwsAttention, channels=16, dim=8, frames=33)
    m = from_torch(module, calib[:1], calib, precision=KwsAttention.PRECISION)
    fmts = {n.name: _fmt(m, n) for n in m.nodes}
    ops_ = {n.name: n.op for n in m.nodes}
    assert {fmts[k] for k in fmts if ops_[k] in ("matmul", "div")} == {"float16"}
    assert fmts["front_0"] == fmts["front_3"] == fmts["fc"] == "int8"
    assert fmts["attn_o"] == "float16"
    bridges = [n for n in m.nodes if n.op in ("quantize", "dequantize")]
    assert [(n.op, _fmt(m, n)) for n in bridges] == [("quantize", "int8"), ("dequantize", "float16"),
                                                      ("quantize", "int8"), ("dequantize", "float32")]
    mm = [n for n in m.nodes if n.op == "matmul"]
    assert [(n.attrs["transpose_a"], n.attrs["transpose_b"]) for n in mm] == [(False, True), (False, False),
                                                                            (True, False)]
    assert [n.attrs["eps"] for n in m.nodes if n.op == "div"] == [pytest.approx(1e-3)]
    _three_way(m, test.numpy())
    _close_to_float(m, module, test, 0.25)
    table = format_table(summary(m))
    for word in ("int8->float16", "float16->int8", "matmul", "div"):
        assert word in table


class _TransposeOut(torch.nn.Module):
    def forward(self, x):
        return x.transpose(1, 2)


class _PlusOut(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.c = torch.nn.Conv1d(2, 2, 1)

    def forward(self, x):
        return self.c(x) + 1.0


class _Attn(torch.nn.Module):
    def forward(self, x):
        return torch.matmul(x, x.transpose(1, 2))


@pytest.mark.parametrize("module, precision, pattern", [
    (_TransposeOut(), "float32", "only as an operand of a matmul"),
    (_PlusOut(), "float32", r"only as the\s+divisor"),
    (_Attn(), "int8", "matmul has no int8 kernel"),
])
def test_attention_export_errors(module, precision, pattern):
    x = torch.randn(4, 2, 5)
    with pytest.raises(ExportError, match=pattern):
        from_torch(module, x[:1], x, precision=precision)
