"""kwsnum import of .tflite models: the oracle and C equal TFLM (the tflite-micro interpreter) on every tensor.

The models are written by tests/tflite_builder.py (no converter, nothing downloaded): DS-CNN-shaped int8 and
int16x8 networks with Hypothesis-drawn geometry, padding, activations, scales and weights, and small models of
single operators. Each tensor of the kwsnum model is compared with the TFLite tensor it came from (`==`).
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from tests.tflite_builder import TFLiteBuilder, fb   # skips without flatbuffers / tflite-micro
from tests.c_build import run_c

from kwsnum.errors import ModelImportError
from kwsnum.importers import from_tflite
from kwsnum.importers.tflm import TFLM, tensor_map, to_tflite_layout


QMAX = {"int8": 127, "int16": 32767}
QLIM = {"int8": (-128, 128), "int16": (-32768, 32768), "uint8": (0, 256)}


def random_input(rng, model, n):
    xs = []
    for name in model.inputs:
        spec = model.tensors[name]
        if spec.format == "float32":
            xs.append(rng.normal(0, 2.0, (n,) + spec.shape).astype(np.float32))
        else:
            xs.append(rng.integers(*QLIM[spec.format], (n,) + spec.shape).astype(spec.dtype))
    return xs[0] if len(xs) == 1 else tuple(xs)


def compare_with_tflm(data, model, x, use_c=True):
    """Oracle (and C) == TFLM on every tensor of the kwsnum model that came from a TFLite tensor. Returns the
    number of tensors compared and the fraction of output elements strictly inside the output's clamp range."""
    ref = TFLM(data, model).run(x)
    got = model.run(x, trace=True)
    impls = [("oracle", got)] + ([("C", run_c(model, x))] if use_c else [])
    mapping = tensor_map(model)
    for impl, vals in impls:
        for name in mapping:
            a, b = vals[name], ref[name]
            assert a.shape == b.shape and a.dtype == b.dtype, (impl, name, a.shape, b.shape, a.dtype, b.dtype)
            if not np.array_equal(a, b):
                bad = np.argwhere(a != b)[0]
                raise AssertionError(f"{impl} != TFLM at tensor {name} (TFLite tensor {mapping[name][0]}), "
                                     f"element {tuple(bad)}: {a[tuple(bad)]} vs {b[tuple(bad)]}; "
                                     f"{int((a != b).sum())} of {a.size} differ")
    return len(mapping)


# ---------------------------------------------------------------------------------------------- DS-CNN models
class Net:
    """Builds a TFLite model layer by layer with scales chosen so that activations are neither all zero nor all
    saturated (an estimate of each accumulator's spread), in int8 or int16x8."""

    def __init__(self, draw, fmt):
        self.draw, self.fmt = draw, fmt
        self.rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
        self.b = TFLiteBuilder()
        self.spread = 60.0 if fmt == "int8" else 8000.0        # typical |q - zp| of an activation
        self.n = 0

    def name(self, what):
        self.n += 1
        return f"{what}{self.n}"

    def act_tensor(self, shape, scale, zp=None, name="t"):
        if self.fmt == "int16":
            zp = 0
        elif zp is None:
            zp = int(self.rng.integers(-20, 21))
        return self.b.tensor(self.name(name), shape, self.fmt, scale=scale, zero_point=zp), (scale, zp)

    def out_scale(self, real_spread):
        """A float32 output scale putting real_spread at about `spread` steps, times a drawn factor."""
        f = self.draw(st.sampled_from([0.3, 0.7, 1.0, 1.5, 3.0]))
        return float(np.float32(real_spread * f / self.spread))

    def floor_scale(self, s_out, s_in, s_w):
        """int16 layers: keep the real multiplier s_in * s_w / s_out below 64 (kwsnum's int16 requantization
        takes multipliers below 128, numerics 9.2; a larger one is refused at import)."""
        if self.fmt == "int16":
            s_out = max(s_out, float(np.float32(s_in * float(np.max(s_w)) / 64.0)))
        return s_out

    def weights(self, shape, axis, per_channel):
        w = self.rng.integers(-127, 128, shape).astype(np.int8)
        n = shape[axis]
        if per_channel:
            s = self.rng.uniform(0.002, 0.05, n).astype(np.float32)
        else:
            s = np.float32([self.rng.uniform(0.002, 0.05)])
        return w, s

    def bias(self, n, s_in, s_w, real_spread):
        s_b = np.float64(s_in) * np.asarray(np.broadcast_to(s_w, (n,)), np.float64)
        b = np.round(self.rng.normal(0, 0.3 * real_spread, n) / s_b)
        dt = "int64" if self.fmt == "int16" else "int32"
        lim = 2 ** 20 if self.fmt == "int8" else 2 ** 30
        return self.b.const(self.name("bias"), np.clip(b, -lim, lim), dt, scale=s_b.astype(np.float32))

    def act(self):
        return self.draw(st.sampled_from([None, "RELU", "RELU6", "RELU_N1_TO_1"] if self.draw(st.booleans())
                                         else [None, "RELU", "RELU6"]))

    def conv(self, x, xq, xshape, O, k, stride, depthwise=False, mult=1):
        _, H, W, C = xshape
        padding = self.draw(st.sampled_from(["SAME", "VALID"]))
        kh, kw = k
        if padding == "VALID" and (H < kh or W < kw):
            padding = "SAME"
        dil = (1, 1)
        if not depthwise and self.draw(st.integers(0, 4)) == 0 and H >= 2 * kh and W >= 2 * kw:
            dil = (2, 2)
        per_channel = self.draw(st.booleans())
        if depthwise:
            O = C * mult
            w, s_w = self.weights((1, kh, kw, O), 3, per_channel)
            fan = kh * kw
        else:
            w, s_w = self.weights((O, kh, kw, C), 0, per_channel)
            fan = kh * kw * C
        wt = self.b.const(self.name("w"), w, "int8", scale=s_w, quantized_dimension=3 if depthwise else 0)
        real = xq[0] * self.spread * float(np.mean(s_w)) * 73.0 * np.sqrt(fan)
        bias = self.bias(O, xq[0], s_w, real)
        dk = [(kk - 1) * d + 1 for kk, d in zip(k, dil)]
        if padding == "SAME":
            OH, OW = -(-H // stride[0]), -(-W // stride[1])
        else:
            OH, OW = (H - dk[0]) // stride[0] + 1, (W - dk[1]) // stride[1] + 1
        act = self.act()
        s_out = self.out_scale(real)
        if act == "RELU6" and self.draw(st.booleans()):
            s_out = float(np.float32(6.0 / (self.draw(st.integers(1, 100)) + 0.5)))   # 6 / s near a half-integer
        s_out = self.floor_scale(s_out, xq[0], s_w)
        y, yq = self.act_tensor((1, OH, OW, O), s_out)
        self.b.op("DEPTHWISE_CONV_2D" if depthwise else "CONV_2D", [x, wt, bias], [y], padding=padding,
                  stride=stride, dilation=dil, act=act, depth_multiplier=mult)
        return y, yq, (1, OH, OW, O)

    def fc(self, x, xq, F, O):
        per_channel = self.draw(st.booleans())
        w, s_w = self.weights((O, F), 0, per_channel)
        wt = self.b.const(self.name("fc_w"), w, "int8", scale=s_w, quantized_dimension=0)
        real = xq[0] * self.spread * float(np.mean(s_w)) * 73.0 * np.sqrt(F)
        bias = self.bias(O, xq[0], s_w, real)
        y, yq = self.act_tensor((1, O), self.floor_scale(self.out_scale(real), xq[0], s_w))
        self.b.op("FULLY_CONNECTED", [x, wt, bias], [y], act=self.draw(st.sampled_from([None, "RELU"])))
        return y, yq


@st.composite
def ds_cnn_tflite(draw, fmt):
    """A DS-CNN-shaped model: [QUANTIZE] -> conv (stride 2) -> blocks of depthwise + pointwise (+ residual ADD)
    -> [MAX_POOL_2D] -> AVERAGE_POOL_2D over the map -> RESHAPE -> FULLY_CONNECTED -> [SOFTMAX] -> [DEQUANTIZE]."""
    net = Net(draw, fmt)
    b = net.b
    H, W = draw(st.integers(6, 20)), draw(st.integers(4, 10))
    s_in = float(np.float32(draw(st.sampled_from([0.01, 0.05, 0.1, 0.37]))))
    float_in = draw(st.booleans())
    if float_in:
        xf = b.tensor("input_f", (1, H, W, 1), "float32")
        x, xq = net.act_tensor((1, H, W, 1), s_in, name="input_q")
        b.op("QUANTIZE", [xf], [x])
        first = xf
    else:
        x, xq = net.act_tensor((1, H, W, 1), s_in, name="input")
        first = x
    C = draw(st.integers(2, 8))
    shape = (1, H, W, 1)
    x, xq, shape = net.conv(x, xq, shape, C, (draw(st.integers(1, 4)), draw(st.integers(1, 3))),
                            (draw(st.integers(1, 2)), draw(st.integers(1, 2))))
    for _ in range(draw(st.integers(1, 3))):
        mult = draw(st.sampled_from([1, 1, 2]))
        stride = draw(st.sampled_from([(1, 1), (1, 1), (2, 2), (2, 1)]))
        d, dq, dshape = net.conv(x, xq, shape, None, (3, 3), stride, depthwise=True, mult=mult)
        O = draw(st.sampled_from([shape[3], shape[3], 2 * shape[3]]))
        p, pq, pshape = net.conv(d, dq, dshape, O, (1, 1), (1, 1))
        if pshape == shape and draw(st.booleans()):
            s_out = float(np.float32(max(xq[0], pq[0]) * draw(st.sampled_from([1.0, 1.3, 2.0]))))
            r, rq = net.act_tensor(shape, s_out, name="res")
            b.op("ADD", [x, p], [r], act=draw(st.sampled_from([None, "RELU"])))
            p, pq = r, rq
        x, xq, shape = p, pq, pshape
    if draw(st.booleans()) and shape[1] >= 2 and shape[2] >= 2:
        _, h, w, c = shape
        mp, _ = net.act_tensor((1, -(-h // 2), -(-w // 2), c), xq[0], xq[1], name="maxpool")
        b.op("MAX_POOL_2D", [x], [mp], filter=(2, 2), stride=(2, 2), padding="SAME")
        x, shape = mp, (1, -(-h // 2), -(-w // 2), c)
    _, h, w, c = shape
    ap, _ = net.act_tensor((1, 1, 1, c), xq[0], xq[1], name="avgpool")
    b.op("AVERAGE_POOL_2D", [x], [ap], filter=(h, w), stride=(h, w), padding="VALID")
    flat, _ = net.act_tensor((1, c), xq[0], xq[1], name="flat")
    shape_t = b.const("flat_shape", np.array([1, c]), "int32")
    b.op("RESHAPE", [ap, shape_t], [flat], new_shape=(1, c))
    n_cls = draw(st.integers(2, 12))
    logits, lq = net.fc(flat, xq, c, n_cls)
    out = logits
    if fmt == "int8" and lq[0] < 15.0 and draw(st.booleans()):
        out = b.tensor("probs", (1, n_cls), "int8", scale=1.0 / 256, zero_point=-128)
        b.op("SOFTMAX", [logits], [out], beta=1.0)
    if draw(st.booleans()):
        f = b.tensor("out_f", (1, n_cls), "float32")
        b.op("DEQUANTIZE", [out], [f])
        out = f
    return b.finish([first], [out]), net.rng


@settings(max_examples=40)
@given(ds_cnn_tflite("int8"))
def test_ds_cnn_int8_equals_tflm(built):
    data, rng = built
    model = from_tflite(data)
    compare_with_tflm(data, model, random_input(rng, model, 2))


@settings(max_examples=25)
@given(ds_cnn_tflite("int16"))
def test_ds_cnn_int16x8_equals_tflm(built):
    data, rng = built
    model = from_tflite(data)
    compare_with_tflm(data, model, random_input(rng, model, 2))


def test_ds_cnn_mlperf_shape():
    """The MLPerf Tiny KWS DS-CNN geometry (49x10 input, 10x4 stride-2 conv, 4 DS blocks, 64 channels scaled
    down to 16 here, softmax output) imports and equals TFLM on every tensor, with nondegenerate activations."""
    rng = np.random.default_rng(7)
    b = TFLiteBuilder()
    x = b.tensor("input", (1, 49, 10, 1), "int8", scale=0.25, zero_point=-10)
    C, s, zp = 16, 0.25, -10
    shape = (1, 49, 10, 1)

    def conv(x, s_in, O, k, stride, dw):
        _, H, W, Ci = shape
        w = rng.integers(-127, 128, (1, k[0], k[1], Ci) if dw else (O, k[0], k[1], Ci)).astype(np.int8)
        s_w = rng.uniform(0.003, 0.02, Ci if dw else O).astype(np.float32)
        wt = b.const(f"w{len(b.ops)}", w, "int8", scale=s_w, quantized_dimension=3 if dw else 0)
        fan = k[0] * k[1] * (1 if dw else Ci)
        real = s_in * 60 * float(s_w.mean()) * 73 * np.sqrt(fan)
        bias = b.const(f"b{len(b.ops)}", rng.integers(-2000, 2000, len(s_w)), "int32")
        OH, OW = -(-H // stride[0]), -(-W // stride[1])
        s_out = float(np.float32(real / 60))
        y = b.tensor(f"a{len(b.ops)}", (1, OH, OW, Ci if dw else O), "int8", scale=s_out, zero_point=-128)
        b.op("DEPTHWISE_CONV_2D" if dw else "CONV_2D", [x, wt, bias], [y], padding="SAME", stride=stride,
             act="RELU")
        return y, s_out, (1, OH, OW, Ci if dw else O)

    x1, s1, shape = conv(x, s, C, (10, 4), (2, 2), False)
    for _ in range(4):
        x1, s1, shape = conv(x1, s1, C, (3, 3), (1, 1), True)
        x1, s1, shape = conv(x1, s1, C, (1, 1), (1, 1), False)
    _, h, w, c = shape
    ap = b.tensor("pool", (1, 1, 1, c), "int8", scale=s1, zero_point=-128)
    b.op("AVERAGE_POOL_2D", [x1], [ap], filter=(h, w), stride=(h, w))
    fl = b.tensor("flat", (1, c), "int8", scale=s1, zero_point=-128)
    b.op("RESHAPE", [ap, b.const("shape", np.array([1, c]), "int32")], [fl], new_shape=(1, c))
    wq = rng.integers(-127, 128, (12, c))
    xin = rng.integers(-128, 128, (4, 1, 49, 10)).astype(np.int8)
    trunk = from_tflite(b.finish([x], [fl])).run(xin)                    # calibrate the logits on the trunk
    spread = float(np.abs((trunk.astype(np.float64) + 128) @ wq.T).max()) * s1
    s_fc = float(np.float32(4.0 / spread))                               # logits within about +-4
    wf = b.const("fc_w", wq, "int8", scale=s_fc)
    lg = b.tensor("logits", (1, 12), "int8", scale=float(np.float32(4.0 / 100)), zero_point=0)
    b.op("FULLY_CONNECTED", [fl, wf, b.const("fc_b", np.zeros(12), "int32", scale=np.float32(s1 * s_fc))], [lg])
    pr = b.tensor("probs", (1, 12), "int8", scale=1.0 / 256, zero_point=-128)
    b.op("SOFTMAX", [lg], [pr], beta=1.0)
    data = b.finish([x], [pr])
    model = from_tflite(data)
    assert [n.op for n in model.nodes] == ["conv2d"] + ["conv2d"] * 8 + ["avgpool2d", "reshape", "linear", "softmax"]
    x = xin
    n = compare_with_tflm(data, model, x)
    assert n == 14
    trace = model.run(x, trace=True)
    for name in model.tensors:          # every activation uses more than a handful of values
        assert len(np.unique(trace[name])) > 3, name


# ---------------------------------------------------------------------------------------------- single operators
def one_op(opname, x_shape, y_shape, xq, yq, consts=(), fmt="int8", y_fmt=None, x_fmt=None, **opts):
    b = TFLiteBuilder()
    x = b.tensor("x", x_shape, x_fmt or fmt, *(xq or (None, None)))
    ins = [x]
    for name, arr, dt, q in consts:
        ins.append(b.const(name, arr, dt, **(q or {})))
    y = b.tensor("y", y_shape, y_fmt or fmt, *(yq or (None, None)))
    b.op(opname, ins, [y], **opts)
    return b.finish([x], [y])


def test_relu6_clamp_at_float32_half_integer_equals_tflm():
    """s_out = float32(2.4): TFLM's ReLU6 bound is zp + 3 (6.0f / 2.4f = 2.5f, rounded away), float64 says zp + 2.
    The conv's outputs reach the clamp, and kwsnum equals TFLM."""
    rng = np.random.default_rng(1)
    s_out, zp = float(np.float32(2.4)), -5
    w = np.full((3, 1, 1, 4), 100, np.int8)
    data = one_op("CONV_2D", (1, 4, 4, 4), (1, 4, 4, 3), (0.1, 0), (s_out, zp),
                  consts=[("w", w, "int8", dict(scale=[0.1, 0.1, 0.1])), ("b", np.zeros(3), "int32", None)],
                  padding="VALID", act="RELU6")
    model = from_tflite(data)
    node = model.nodes[0]
    assert node.attrs["act_max"] == zp + 3 and zp + int(np.floor(6.0 / s_out + 0.5)) == zp + 2
    x = rng.integers(0, 128, (3, 4, 4, 4)).astype(np.int8)
    compare_with_tflm(data, model, x)
    assert (model.run(x) == zp + 3).any()


@given(st.integers(0, 2 ** 32 - 1), st.sampled_from(["int8", "int16"]))
def test_fully_connected_per_tensor_and_add(seed, fmt):
    """FULLY_CONNECTED with one weight scale (TFLM forms s_in * s_w in float32) and ADD of two computed
    tensors with different scales."""
    rng = np.random.default_rng(seed)
    b = TFLiteBuilder()
    F, O = int(rng.integers(1, 40)), int(rng.integers(1, 20))
    zp = (lambda: 0) if fmt == "int16" else (lambda: int(rng.integers(-128, 128)))
    spread = 60 if fmt == "int8" else 8000
    s_in = float(np.float32(rng.uniform(0.001, 1)))
    x = b.tensor("x", (1, F), fmt, scale=s_in, zero_point=zp())
    outs = []
    for j in range(2):
        s_w = float(np.float32(rng.uniform(0.001, 0.1)))
        w = b.const(f"w{j}", rng.integers(-127, 128, (O, F)), "int8", scale=s_w)
        bias = b.const(f"b{j}", rng.integers(-500, 500, O), "int64" if fmt == "int16" else "int32",
                       scale=np.float32(s_in) * np.float32(s_w))   # TFLM checks it against s_in * s_w
        real = s_in * spread * s_w * 73 * np.sqrt(F)
        y = b.tensor(f"y{j}", (1, O), fmt, scale=float(np.float32(real / spread * rng.uniform(0.3, 3))),
                     zero_point=zp())
        b.op("FULLY_CONNECTED", [x, w, bias], [y], act=["RELU", None][j])
        outs.append(y)
    s = [b.tensors[o].quantization.scale[0] for o in outs]
    z = b.tensor("sum", (1, O), fmt, scale=float(np.float32(max(s) * rng.uniform(1, 3))), zero_point=zp())
    b.op("ADD", outs, [z], act=rng.choice([None, "RELU6"]))
    data = b.finish([x], [z])
    model = from_tflite(data)
    compare_with_tflm(data, model, random_input(rng, model, 3))


@given(st.integers(0, 2 ** 32 - 1))
def test_quantize_requantize_dequantize(seed):
    """QUANTIZE float32 -> int8, QUANTIZE int8 -> int8 (other scale), int8 -> int16, int16 -> int8, DEQUANTIZE."""
    rng = np.random.default_rng(seed)
    b = TFLiteBuilder()
    H, W, C = (int(v) for v in rng.integers(1, 6, 3))
    sh = (1, H, W, C)
    f32 = lambda v: float(np.float32(v))   # noqa: E731
    x = b.tensor("x", sh, "float32")
    q1 = b.tensor("q1", sh, "int8", scale=f32(rng.uniform(0.005, 0.1)), zero_point=int(rng.integers(-128, 128)))
    q2 = b.tensor("q2", sh, "int8", scale=f32(rng.uniform(0.005, 0.1)), zero_point=int(rng.integers(-128, 128)))
    q3 = b.tensor("q3", sh, "int16", scale=f32(rng.uniform(1e-5, 1e-3)), zero_point=0)
    q4 = b.tensor("q4", sh, "int8", scale=f32(rng.uniform(0.005, 0.1)), zero_point=int(rng.integers(-128, 128)))
    y = b.tensor("y", sh, "float32")
    b.op("QUANTIZE", [x], [q1])
    b.op("QUANTIZE", [q1], [q2])
    b.op("QUANTIZE", [q2], [q3])
    b.op("QUANTIZE", [q3], [q4])
    b.op("DEQUANTIZE", [q4], [y])
    data = b.finish([x], [y])
    model = from_tflite(data)
    assert [n.op for n in model.nodes] == ["quantize", "requantize", "requantize", "requantize", "dequantize"]
    compare_with_tflm(data, model, random_input(rng, model, 2))


@given(st.integers(0, 2 ** 32 - 1), st.sampled_from(["AVERAGE_POOL_2D", "MAX_POOL_2D"]),
       st.sampled_from(["SAME", "VALID"]), st.sampled_from(["int8", "int16"]))
def test_pools(seed, opname, padding, fmt):
    rng = np.random.default_rng(seed)
    H, W, C = (int(v) for v in rng.integers(1, 9, 3))
    kh, kw = int(rng.integers(1, H + 1)), int(rng.integers(1, W + 1))
    sh, sw = (int(v) for v in rng.integers(1, 4, 2))
    if padding == "SAME":
        OH, OW = -(-H // sh), -(-W // sw)
    else:
        OH, OW = (H - kh) // sh + 1, (W - kw) // sw + 1
    q = (float(np.float32(rng.uniform(0.01, 1))), 0 if fmt == "int16" else int(rng.integers(-128, 128)))
    data = one_op(opname, (1, H, W, C), (1, OH, OW, C), q, q, fmt=fmt, filter=(kh, kw), stride=(sh, sw),
                  padding=padding, act=rng.choice([None, "RELU", "RELU6"]))
    model = from_tflite(data)
    compare_with_tflm(data, model, random_input(rng, model, 2))


# ---------------------------------------------------------------------------------------------- refusals
def _small_model():
    rng = np.random.default_rng(3)
    return one_op("CONV_2D", (1, 4, 4, 2), (1, 4, 4, 3), (0.1, 1), (0.2, -2),
                  consts=[("w", rng.integers(-127, 128, (3, 3, 3, 2)), "int8", dict(scale=[0.01])),
                          ("b", np.zeros(3), "int32", None)], padding="SAME")


def test_refuses_unsupported_op():
    data = one_op("GELU", (1, 4), (1, 4), (0.1, 0), (0.1, 0))
    with pytest.raises(ModelImportError, match=r"operator 0 \(GELU\): not supported \(supported: CONV_2D"):
        from_tflite(data)
    data = one_op("VAR_HANDLE", (1, 4), (1, 4), (0.1, 0), (0.1, 0))
    with pytest.raises(ModelImportError, match=r"operator 0 \(VAR_HANDLE\): a state variable without a CALL_ONCE"):
        from_tflite(data)


def test_refuses_float_model():
    rng = np.random.default_rng(0)
    data = one_op("CONV_2D", (1, 4, 4, 2), (1, 4, 4, 3), None, None, fmt="float32",
                  consts=[("w", rng.normal(size=(3, 3, 3, 2)), "float32", None),
                          ("b", np.zeros(3), "float32", None)], padding="SAME")
    with pytest.raises(ModelImportError, match=r"operator 0 \(CONV_2D\): a float32 operator"):
        from_tflite(data)


def test_refuses_uint8_pairs_tflm_refuses_and_bad_constants():
    """uint8 is an edge format (docs/numerics.md 11.2): QUANTIZE with int8 on the other side, DEQUANTIZE only."""
    for xf, yf in [("float32", "uint8"), ("int16", "uint8"), ("uint8", "int16"), ("uint8", "uint8")]:
        xq = None if xf == "float32" else (0.1, 0)
        with pytest.raises(ModelImportError, match=rf"operator 0 \(QUANTIZE\): QUANTIZE {xf} -> uint8|"
                                                   rf"operator 0 \(QUANTIZE\): QUANTIZE uint8 -> {yf}"):
            from_tflite(one_op("QUANTIZE", (1, 4), (1, 4), xq, (0.1, 0), x_fmt=xf, y_fmt=yf))
    with pytest.raises(ModelImportError, match=r"operator 0 \(MAX_POOL_2D\): a uint8 operator"):
        from_tflite(one_op("MAX_POOL_2D", (1, 4, 4, 1), (1, 2, 2, 1), (0.1, 3), (0.1, 3), fmt="uint8",
                           filter=(2, 2), stride=(2, 2)))
    with pytest.raises(ModelImportError, match=r"operator 0 \(RESHAPE\).*uint8"):
        from_tflite(one_op("RESHAPE", (1, 2, 2, 1), (1, 4), (0.1, 3), (0.1, 3), fmt="uint8", new_shape=(1, 4)))
    with pytest.raises(ModelImportError, match=r"zero point 300"):
        from_tflite(one_op("DEQUANTIZE", (1, 4), (1, 4), (0.1, 300), None, x_fmt="uint8", y_fmt="float32"))
    b = TFLiteBuilder()
    x = b.tensor("x", (1, 2, 2, 3), "int8", scale=0.1, zero_point=0)
    c = b.const("c", np.ones((1, 1, 1, 3)), "int8", scale=0.1, zero_point=0)
    c2 = b.const("c2", np.ones((1, 1, 1, 3)), "int8", scale=0.1, zero_point=0)
    t = b.tensor("t", (1, 1, 1, 3), "int8", scale=0.1, zero_point=0)
    y = b.tensor("y", (1, 2, 2, 3), "int8", scale=0.2, zero_point=0)
    b.op("ADD", [c, c2], [t])
    b.op("ADD", [x, t], [y])
    with pytest.raises(ModelImportError, match=r"operator 0 \(ADD\): ADD of two constants"):
        from_tflite(b.finish([x], [y]))
    b = TFLiteBuilder()
    x = b.tensor("x", (1, 2, 2, 3), "int8", scale=0.1, zero_point=0)
    c = b.const("c", np.ones((1, 1, 1, 3)), "int8", scale=[0.1, 0.2, 0.3], zero_point=0, quantized_dimension=3)
    y = b.tensor("y", (1, 2, 2, 3), "int8", scale=0.2, zero_point=0)
    b.op("MUL", [x, c], [y])
    with pytest.raises(ModelImportError, match=r"operator 0 \(MUL\): constant input tensor 1 .* needs one scale"):
        from_tflite(b.finish([x], [y]))


@given(st.integers(0, 2 ** 32 - 1))
def test_reshape_transpose_and_flatten_equal_tflm(seed):
    """RESHAPE in NHWC element order between ranks 2 to 4 (kwsnum transposes around it), TRANSPOSE with random
    permutations, and a Keras-style Flatten of an (H, W, C) map into FULLY_CONNECTED."""
    rng = np.random.default_rng(seed)
    H, W, C = (int(v) for v in rng.integers(1, 5, 3))
    n = H * W * C
    b = TFLiteBuilder()
    x = b.tensor("x", (1, H, W, C), "int8", scale=0.1, zero_point=3)
    dims = [d for d in range(1, n + 1) if n % d == 0]
    a = int(rng.choice(dims))
    shape2 = [(1, n), (1, a, n // a), (1, a, 1, n // a), (1, n // a, a, 1)][int(rng.integers(0, 4))]
    r = b.tensor("r", shape2, "int8", scale=0.1, zero_point=3)
    b.op("RESHAPE", [x, b.const("s1", np.array(shape2), "int32")], [r], new_shape=shape2)
    rank = len(shape2)
    perm = [0] + [1 + int(i) for i in rng.permutation(rank - 1)]
    t = b.tensor("t", tuple(shape2[i] for i in perm), "int8", scale=0.1, zero_point=3)
    b.op("TRANSPOSE", [r, b.const("perm", np.array(perm), "int32")], [t])
    f = b.tensor("f", (1, n), "int8", scale=0.1, zero_point=3)
    b.op("RESHAPE", [t, b.const("s2", np.array([1, n]), "int32")], [f], new_shape=(1, n))
    w = b.const("w", rng.integers(-127, 128, (3, n)), "int8", scale=0.01)
    y = b.tensor("y", (1, 3), "int8", scale=float(np.float32(0.1 * 0.01 * 60 * 73 * np.sqrt(n) / 60)), zero_point=0)
    b.op("FULLY_CONNECTED", [x if rng.integers(0, 2) else t, w, b.const("bias", np.zeros(3), "int32",
                                                                         scale=np.float32(0.001))], [y])
    data = b.finish([x], [y, f])
    model = from_tflite(data)
    compare_with_tflm(data, model, random_input(rng, model, 2))


def test_refuses_malformed_files():
    data = _small_model()
    from_tflite(data)                                     # the intact file imports
    with pytest.raises(ModelImportError, match="TFL3"):
        from_tflite(b"\x00" * 64)
    with pytest.raises(ModelImportError, match="flatbuffer"):
        from_tflite(data[:8])
    for cut in (len(data) // 3, len(data) // 2, len(data) - 40):
        with pytest.raises(ModelImportError):
            from_tflite(data[:cut])
    rng = np.random.default_rng(0)
    for _ in range(200):                                  # random corruption: an import error or a valid model
        d = bytearray(data)
        for i in rng.integers(8, len(d), 4):
            d[i] = int(rng.integers(0, 256))
        try:
            from_tflite(bytes(d))
        except ModelImportError:
            pass


def test_refuses_buffer_outside_file():
    m = fb.ModelT.InitFromObj(fb.Model.GetRootAs(_small_model(), 0))
    w = m.subgraphs[0].tensors[1]
    buf = m.buffers[w.buffer]
    buf.data, buf.offset, buf.size = None, 1 << 20, 54
    import flatbuffers
    bld = flatbuffers.Builder(1024)
    bld.Finish(m.Pack(bld), file_identifier=b"TFL3")
    with pytest.raises(ModelImportError, match=r"tensor 1: buffer \d+: offset 1048576 \+ size 54 lies outside"):
        from_tflite(bytes(bld.Output()))


def test_refuses_weight_minus_128_and_nonzero_weight_zero_point():
    w = np.zeros((3, 3, 3, 2), np.int8)
    w[0, 0, 0, 0] = -128
    data = one_op("CONV_2D", (1, 4, 4, 2), (1, 4, 4, 3), (0.1, 1), (0.2, -2),
                  consts=[("w", w, "int8", dict(scale=[0.01])), ("b", np.zeros(3), "int32", None)], padding="SAME")
    with pytest.raises(ModelImportError, match=r"operator 0 \(CONV_2D\): weight tensor 1 holds -128"):
        from_tflite(data)
    data = one_op("CONV_2D", (1, 4, 4, 2), (1, 4, 4, 3), (0.1, 1), (0.2, -2),
                  consts=[("w", w + 1, "int8", dict(scale=[0.01], zero_point=[3])), ("b", np.zeros(3), "int32", None)],
                  padding="SAME")
    with pytest.raises(ModelImportError, match="nonzero zero points"):
        from_tflite(data)


def test_tflm_layout_round_trip():
    x = np.arange(2 * 3 * 4 * 5).reshape(2, 5, 3, 4)      # kwsnum (N, C, H, W)
    t = to_tflite_layout(x, (2, 0, 1))
    assert t.shape == (2, 3, 4, 5) and t[1, 2, 3, 4] == x[1, 4, 2, 3]


def _requantize_np(x, m, shift):
    """TFLM's double-rounding MultiplyByQuantizedMultiplier for shift <= 0, vectorized (int64 numpy)."""
    ab = x.astype(np.int64) * np.int64(m)
    q = ab + np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    v = np.sign(q) * (np.abs(q) >> 31)
    e = -shift
    mask = (1 << e) - 1
    return (v >> e) + ((v & mask) > ((mask >> 1) + (v < 0)))


def test_fully_connected_per_tensor_multiplier_is_double():
    """TFLite's kernel_util GetQuantizedConvolutionMultipler (per-tensor weights) forms s_in * s_w in float32; the
    pinned TFLM computes double(s_in) * double(s_w) / double(s_out) as for per-channel weights. Find scales where
    the two multipliers differ and biases whose outputs differ between them, and check that kwsnum (the double
    rule) equals TFLM there (acc = bias: one feature, the input at its zero point)."""
    from kwsnum.quant import quantize_multiplier
    rng = np.random.default_rng(5)
    for _ in range(1000):
        s_in, s_w = (float(np.float32(v)) for v in rng.uniform(0.001, 0.1, 2))
        s_out = float(np.float32(s_in * s_w / rng.uniform(5e-6, 7e-6)))    # |acc| < 2**24 -> |y| <= 127
        m32, sh32 = quantize_multiplier(float(np.float32(np.float32(s_in) * np.float32(s_w))) / s_out)
        m64, sh64 = quantize_multiplier(s_in * s_w / s_out)
        if m32 != m64 and sh32 == sh64 and sh32 <= 0:
            break
    diff = []
    for lo in range(-(1 << 24), 1 << 24, 1 << 22):
        acc = np.arange(lo, lo + (1 << 22), dtype=np.int64)
        diff += list(acc[_requantize_np(acc, m32, sh32) != _requantize_np(acc, m64, sh64)])
    diff = np.array(diff[:20], np.int64)
    y64 = _requantize_np(diff, m64, sh64)
    assert len(diff) >= 2, "no distinguishing accumulator found"
    O = len(diff)
    b = TFLiteBuilder()
    x = b.tensor("x", (1, 1), "int8", scale=s_in, zero_point=7)
    w = b.const("w", np.ones((O, 1)), "int8", scale=s_w)
    bias = b.const("b", diff, "int32", scale=np.float32(s_in) * np.float32(s_w))
    y = b.tensor("y", (1, O), "int8", scale=s_out, zero_point=0)
    b.op("FULLY_CONNECTED", [x, w, bias], [y])
    data = b.finish([x], [y])
    model = from_tflite(data)
    xq = np.full((1, 1), 7, np.int8)
    compare_with_tflm(data, model, xq)
    assert np.array_equal(model.run(xq)[0], y64)
    assert not np.array_equal(y64, _requantize_np(diff, m32, sh32))


# ---------------------------------------------------------------------------------------------- command line
def _kw(*args):
    import subprocess
    import sys
    return subprocess.run([sys.executable, "-m", "kwsnum", *map(str, args)], capture_output=True, text=True,
                          timeout=600)


def _ds_cnn_file(tmp_path, n_out=4):
    """A small DS-CNN-shaped int8 .tflite ending in SOFTMAX and DEQUANTIZE, written to tmp_path."""
    rng = np.random.default_rng(11)
    b = TFLiteBuilder()
    x = b.tensor("input", (1, 10, 6, 1), "int8", scale=0.1, zero_point=3)
    w = b.const("w1", rng.integers(-127, 128, (6, 3, 3, 1)), "int8", scale=rng.uniform(0.01, 0.03, 6))
    h = b.tensor("conv1", (1, 5, 3, 6), "int8", scale=0.4, zero_point=-128)
    b.op("CONV_2D", [x, w, b.const("b1", rng.integers(-300, 300, 6), "int32")], [h], padding="SAME",
         stride=(2, 2), act="RELU")
    wd = b.const("wd", rng.integers(-127, 128, (1, 3, 3, 6)), "int8", scale=rng.uniform(0.01, 0.03, 6),
                 quantized_dimension=3)
    d = b.tensor("dw", (1, 5, 3, 6), "int8", scale=1.0, zero_point=-128)
    b.op("DEPTHWISE_CONV_2D", [h, wd, b.const("bd", np.zeros(6), "int32")], [d], padding="SAME", act="RELU")
    p = b.tensor("pool", (1, 1, 1, 6), "int8", scale=1.0, zero_point=-128)
    b.op("AVERAGE_POOL_2D", [d], [p], filter=(5, 3), stride=(5, 3))
    wf = b.const("fc", rng.integers(-127, 128, (n_out, 6)), "int8", scale=rng.uniform(0.01, 0.03, n_out))
    lg = b.tensor("logits", (1, n_out), "int8", scale=0.3, zero_point=0)
    b.op("FULLY_CONNECTED", [p, wf, b.const("bf", np.zeros(n_out), "int32")], [lg])
    pr = b.tensor("probs", (1, n_out), "int8", scale=1.0 / 256, zero_point=-128)
    b.op("SOFTMAX", [lg], [pr], beta=1.0)
    out = b.tensor("scores", (1, n_out), "float32")
    b.op("DEQUANTIZE", [pr], [out])
    path = tmp_path / "ds.tflite"
    path.write_bytes(b.finish([x], [out]))
    return path


def test_cli_import_and_verify_with_tflm(tmp_path):
    import kwsnum
    src = _ds_cnn_file(tmp_path)
    (tmp_path / "labels.txt").write_text("yes\nno\nup\ndown\n")
    r = _kw("import", src, "-o", tmp_path / "ds.h5", "--labels", tmp_path / "labels.txt")
    assert r.returncode == 0, r.stderr
    m = kwsnum.load(tmp_path / "ds.h5")
    assert m.labels == ["yes", "no", "up", "down"] and m.input.shape == (1, 10, 6)
    rng = np.random.default_rng(0)
    np.save(tmp_path / "x.npy", rng.integers(-128, 128, (16, 1, 10, 6)).astype(np.int8))
    r = _kw("verify", tmp_path / "ds.h5", tmp_path / "x.npy", "--tflm", src, "--trace")
    assert r.returncode == 0, r.stdout + r.stderr
    import re
    assert re.search(r"oracle vs TFLM +: 16/16 bit-exact  \(every tensor\)", r.stdout), r.stdout
    assert re.search(r"C vs TFLM +: 16/16 bit-exact  \(every tensor\)", r.stdout), r.stdout
    assert "PASS" in r.stdout and "warning: every input is predicted as one class" not in r.stdout, r.stdout


def test_verify_tflm_names_the_first_differing_layer(tmp_path):
    """A kwsnum model that differs from its .tflite in one layer: the gate names that layer."""
    from kwsnum.verify import Gate
    src = _ds_cnn_file(tmp_path)
    model = from_tflite(src)
    dw = model.nodes[1]
    dw.arrays["multiplier"] = (dw.arrays["multiplier"].astype(np.int64) * 9 // 8).astype(np.int32)
    model._plan = None
    x = np.random.default_rng(1).integers(-128, 128, (8, 1, 10, 6)).astype(np.int8)
    with Gate(model, use_torch=False, use_c=False, tflm=src.read_bytes()) as gate:
        res = gate.add(x).result()
    pair = [p for p in res.pairs if p.b == "tflm"][0]
    assert not pair.ok and pair.first_layer.layer == dw.name


def test_cli_import_errors_are_one_line(tmp_path):
    src = _ds_cnn_file(tmp_path)
    data = src.read_bytes()
    bad = tmp_path / "cut.tflite"
    bad.write_bytes(data[: len(data) // 2])
    mul = tmp_path / "gelu.tflite"
    mul.write_bytes(one_op("GELU", (1, 4), (1, 4), (0.1, 0), (0.1, 0)))
    for path, what in [(bad, "flatbuffer"), (mul, "operator 0 (GELU)"), (tmp_path / "none.tflite", "no such file")]:
        r = _kw("import", path, "-o", tmp_path / "out.h5")
        assert r.returncode == 2, r.stderr
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("kwsnum: error: ") and what in lines[0], r.stderr
    assert not (tmp_path / "out.h5").exists()
    (tmp_path / "two.txt").write_text("a\nb\n")
    r = _kw("import", src, "-o", tmp_path / "out.h5", "--labels", tmp_path / "two.txt")
    assert r.returncode == 2 and "2 labels for a model with 4 outputs" in r.stderr


@given(st.integers(0, 2 ** 32 - 1), st.sampled_from([2, 3, 4]))
def test_softmax_equals_tflm(seed, rank):
    """SOFTMAX along TFLite's last axis (kwsnum's axis 0 for NHWC): kwsnum's oracle and C equal TFLM."""
    rng = np.random.default_rng(seed)
    shape = (1,) + tuple(int(v) for v in rng.integers(1, 12, rank - 1))
    if rng.integers(0, 3) == 0:
        shape = shape[:-1] + (int(rng.integers(100, 512)),)
    s_in = float(np.float32(rng.choice([rng.uniform(0.002, 0.05), rng.uniform(0.05, 2.0)])))
    beta = float(np.float32(rng.choice([1.0, 0.5, 2.0, rng.uniform(0.1, 5)])))
    b = TFLiteBuilder()
    x = b.tensor("x", shape, "int8", scale=s_in, zero_point=int(rng.integers(-128, 128)))
    y = b.tensor("y", shape, "int8", scale=1.0 / 256, zero_point=-128)
    b.op("SOFTMAX", [x], [y], beta=beta)
    data = b.finish([x], [y])
    model = from_tflite(data)
    xq = rng.integers(int(rng.choice([-128, 0, 100])), 128, (2,) + model.input.shape).astype(np.int8)
    compare_with_tflm(data, model, xq)


@given(st.integers(0, 2 ** 32 - 1), st.sampled_from([2, 3, 4]))
def test_softmax16_equals_tflm(seed, rank):
    """int16 SOFTMAX (TFLM's exp and reciprocal tables, built in float32 at import): kwsnum's oracle and C equal
    TFLM, rows up to 3000 long, inputs spread over the whole int16 range or close to the row maximum."""
    rng = np.random.default_rng(seed)
    shape = (1,) + tuple(int(v) for v in rng.integers(1, 12, rank - 1))
    if rng.integers(0, 3) == 0:
        shape = shape[:-1] + (int(rng.integers(100, 3000)),)
    s_in = float(np.float32(rng.choice([rng.uniform(1e-5, 3e-4), rng.uniform(3e-4, 3e-3), 2.0 ** -12])))
    beta = float(np.float32(rng.choice([1.0, 0.5, 2.0, rng.uniform(0.1, 5)])))
    b = TFLiteBuilder()
    x = b.tensor("x", shape, "int16", scale=s_in, zero_point=0)
    y = b.tensor("y", shape, "int16", scale=1.0 / 32768, zero_point=0)
    b.op("SOFTMAX", [x], [y], beta=beta)
    data = b.finish([x], [y])
    model = from_tflite(data)
    xq = rng.integers(int(rng.choice([-32768, 0, 30000])), 32768, (2,) + model.input.shape).astype(np.int16)
    compare_with_tflm(data, model, xq)


@given(st.integers(0, 2 ** 32 - 1), st.sampled_from([2, 4]))
@pytest.mark.parametrize("opname", ["LOGISTIC", "TANH"])
def test_logistic_equals_tflm(opname, seed, rank):
    """LOGISTIC (microWakeWord's output op) and TANH on every int8 input value: kwsnum's oracle and C equal
    TFLM."""
    rng = np.random.default_rng(seed)
    shape = (1, 256) if rank == 2 else (1, 4, 8, 8)
    s_in = float(np.float32(rng.choice([rng.uniform(0.001, 0.05), rng.uniform(0.05, 3.0)])))
    b = TFLiteBuilder()
    x = b.tensor("x", shape, "int8", scale=s_in, zero_point=int(rng.integers(-128, 128)))
    y = b.tensor("y", shape, "int8", scale=1.0 / 256 if opname == "LOGISTIC" else 1.0 / 128,
                 zero_point=-128 if opname == "LOGISTIC" else 0)
    b.op(opname, [x], [y])
    data = b.finish([x], [y])
    model = from_tflite(data)
    xq = rng.permutation(np.arange(-128, 128, dtype=np.int8)).reshape((1,) + model.input.shape)
    compare_with_tflm(data, model, xq)


@given(st.integers(0, 2 ** 32 - 1), st.sampled_from([2, 4]))
@pytest.mark.parametrize("opname", ["LOGISTIC", "TANH"])
def test_sigmoid16_equals_tflm(opname, seed, rank):
    """int16 LOGISTIC and TANH (TFLM's sigmoid table): every int16 input value, at drawn scales and at the power-of-two
    scales of TFLM's multiplier-0 path; kwsnum's oracle and C equal TFLM."""
    rng = np.random.default_rng(seed)
    shape = (1, 65536) if rank == 2 else (1, 16, 64, 64)
    s_in = float(np.float32(rng.choice([rng.uniform(1e-5, 3e-4), rng.uniform(3e-4, 1.3),
                                        2.0 ** int(rng.integers(-16, -9))])))
    b = TFLiteBuilder()
    x = b.tensor("x", shape, "int16", scale=s_in, zero_point=0)
    y = b.tensor("y", shape, "int16", scale=2.0 ** -15, zero_point=0)
    b.op(opname, [x], [y])
    data = b.finish([x], [y])
    model = from_tflite(data)
    xq = rng.permutation(np.arange(-32768, 32768, dtype=np.int16)).reshape((1,) + model.input.shape)
    compare_with_tflm(data, model, xq)


@given(st.integers(0, 2 ** 32 - 1), st.sampled_from(["int8", "int16"]), st.booleans())
def test_mean_equals_tflm(seed, fmt, keep_dims):
    """MEAN over H, W (Keras GlobalAveragePooling2D): TFLM folds 1/count into the multiplier as (M << k) / count;
    kwsnum's oracle and C equal TFLM, with input and output scales drawn independently."""
    rng = np.random.default_rng(seed)
    H, W, C = int(rng.integers(1, 30)), int(rng.integers(1, 12)), int(rng.integers(1, 9))
    zp = (lambda: 0) if fmt == "int16" else (lambda: int(rng.integers(-128, 128)))
    s_in = float(np.float32(rng.uniform(0.001, 1.0)))
    s_out = float(np.float32(s_in * rng.choice([1.0, rng.uniform(0.1, 3.0)])))
    b = TFLiteBuilder()
    x = b.tensor("x", (1, H, W, C), fmt, scale=s_in, zero_point=zp())
    y = b.tensor("y", (1, 1, 1, C) if keep_dims else (1, C), fmt, scale=s_out, zero_point=zp())
    axes = b.const("axes", rng.permutation([1, 2]) - (4 if rng.integers(0, 2) else 0), "int32")
    b.op("MEAN", [x, axes], [y], keep_dims=keep_dims)
    data = b.finish([x], [y])
    model = from_tflite(data)
    assert model.nodes[0].op == "global_avgpool"
    compare_with_tflm(data, model, random_input(rng, model, 3))


@given(st.integers(0, 2 ** 32 - 1), st.sampled_from(["int8", "int16"]), st.sampled_from([1, 2, 3, -1]),
       st.integers(2, 4))
def test_concatenation_equals_tflm(seed, fmt, axis, n):
    """CONCATENATION of the input and 1x1-conv branches with the output's quantization, along H, W or C."""
    rng = np.random.default_rng(seed)
    H, W, C = (int(v) for v in rng.integers(1, 7, 3))
    zp = 0 if fmt == "int16" else int(rng.integers(-128, 128))
    s = float(np.float32(rng.uniform(0.01, 0.5)))
    b = TFLiteBuilder()
    x = b.tensor("x", (1, H, W, C), fmt, scale=s, zero_point=zp)
    parts, sizes = [x], [C]
    for j in range(n - 1):
        O = C if axis in (1, 2) else int(rng.integers(1, 5))
        w = b.const(f"w{j}", rng.integers(-127, 128, (O, 1, 1, C)), "int8", scale=float(np.float32(0.5 / 73 / C)))
        bias = b.const(f"b{j}", rng.integers(-100, 100, O), "int64" if fmt == "int16" else "int32",
                       scale=np.float32(s) * np.float32(0.5 / 73 / C))
        t = b.tensor(f"c{j}", (1, H, W, O), fmt, scale=s, zero_point=zp)
        b.op("CONV_2D", [x, w, bias], [t], padding="VALID")
        parts.append(t)
        sizes.append(O)
    a = axis % 4
    shape = [1, H, W, C]
    shape[a] = sum(sizes) if a == 3 else shape[a] * n
    y = b.tensor("y", shape, fmt, scale=s, zero_point=zp)
    b.op("CONCATENATION", parts, [y], axis=axis)
    data = b.finish([x], [y])
    model = from_tflite(data)
    assert model.nodes[-1].op == "concat"
    compare_with_tflm(data, model, random_input(rng, model, 2))


@given(st.integers(0, 2 ** 32 - 1), st.sampled_from(["int8", "int16"]), st.sampled_from(["PAD", "PADV2"]),
       st.sampled_from([2, 3, 4]))
def test_pad_equals_tflm(seed, fmt, opname, rank):
    """PAD (the output zero point fills) and PADV2 (a constant fills), NHWC paddings mapped to kwsnum's layout."""
    rng = np.random.default_rng(seed)
    shape = (1,) + tuple(int(v) for v in rng.integers(1, 6, rank - 1))
    pads = np.zeros((rank, 2), np.int32)
    pads[1:] = rng.integers(0, 4, (rank - 1, 2))
    zp = 0 if fmt == "int16" else int(rng.integers(-128, 128))
    s = float(np.float32(rng.uniform(0.01, 0.5)))
    b = TFLiteBuilder()
    x = b.tensor("x", shape, fmt, scale=s, zero_point=zp)
    ins = [x, b.const("paddings", pads, "int32")]
    if opname == "PADV2":
        ins.append(b.const("value", [int(rng.integers(-100, 100))], fmt, scale=s, zero_point=zp))
    y = b.tensor("y", tuple(int(d) + int(p.sum()) for d, p in zip(shape, pads)), fmt, scale=s, zero_point=zp)
    b.op(opname, ins, [y])
    data = b.finish([x], [y])
    model = from_tflite(data)
    compare_with_tflm(data, model, random_input(rng, model, 2))


@given(st.integers(0, 2 ** 32 - 1), st.sampled_from(["int8", "int16"]), st.sampled_from([2, 3, 4]))
def test_strided_slice_equals_tflm(seed, fmt, rank):
    """STRIDED_SLICE with positive strides, negative indices and begin / end masks (streaming models drop the
    oldest frames with it)."""
    rng = np.random.default_rng(seed)
    shape = (1,) + tuple(int(v) for v in rng.integers(1, 9, rank - 1))
    begin, end, strides = [0], [1], [1]
    bm = em = 0
    want = [1]
    for a, d in enumerate(shape[1:], start=1):
        s = int(rng.integers(1, 4))
        b = int(rng.integers(0, d))
        e = int(rng.integers(b + 1, d + 1))
        n = -(-(e - b) // s)
        if rng.integers(0, 2):
            b -= d                      # a negative begin counts from the end
        if rng.integers(0, 2):
            e = e - d if e < d else e
        if rng.integers(0, 4) == 0:
            bm |= 1 << a
            n = -(-(e % d if e < 0 else e) // s) if e != 0 else 0
        if rng.integers(0, 4) == 0:
            em |= 1 << a
            start = 0 if bm >> a & 1 else (b + d if b < 0 else b)
            n = -(-(d - start) // s)
        begin.append(b)
        end.append(e)
        strides.append(s)
        want.append(n)
    if min(want) < 1:
        return
    zp = 0 if fmt == "int16" else int(rng.integers(-128, 128))
    b_ = TFLiteBuilder()
    x = b_.tensor("x", shape, fmt, scale=0.1, zero_point=zp)
    y = b_.tensor("y", tuple(want), fmt, scale=0.1, zero_point=zp)
    b_.op("STRIDED_SLICE", [x, b_.const("b", begin, "int32"), b_.const("e", end, "int32"),
                            b_.const("s", strides, "int32")], [y], begin_mask=bm, end_mask=em)
    data = b_.finish([x], [y])
    model = from_tflite(data)
    compare_with_tflm(data, model, random_input(rng, model, 2))


@given(st.integers(0, 2 ** 32 - 1), st.sampled_from(["SPLIT", "SPLIT_V"]), st.sampled_from([1, 2, 3, -1]))
def test_split_equals_tflm(seed, opname, axis):
    """SPLIT / SPLIT_V (microWakeWord's mixed kernel sizes) as one kwsnum slice per output."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 4))
    shape = [1] + [int(v) for v in rng.integers(1, 5, 3)]
    a = axis % 4
    if opname == "SPLIT":
        shape[a] *= n
        sizes = [shape[a] // n] * n
    else:
        sizes = [int(v) for v in rng.integers(1, 4, n)]
        shape[a] = sum(sizes)
    b = TFLiteBuilder()
    x = b.tensor("x", tuple(shape), "int8", scale=0.1, zero_point=-5)
    outs = []
    for j, z in enumerate(sizes):
        sh = list(shape)
        sh[a] = z
        outs.append(b.tensor(f"y{j}", tuple(sh), "int8", scale=0.1, zero_point=-5))
    ax = b.const("axis", np.array([axis]), "int32")
    if opname == "SPLIT":
        b.op("SPLIT", [ax, x], outs)
    else:
        sz = list(sizes)
        if n > 1 and rng.integers(0, 2):
            sz[int(rng.integers(0, n))] = -1
        b.op("SPLIT_V", [x, b.const("sizes", np.array(sz), "int32"), ax], outs)
    data = b.finish([x], outs)
    model = from_tflite(data)
    assert [nd.op for nd in model.nodes] == ["slice"] * n
    compare_with_tflm(data, model, random_input(rng, model, 2))


def every_new_op_model():
    """(flatbuffer, imported model, 4 inputs) of a model using pad, strided slice, concat, tanh, logistic, MEAN,
    transpose, an NHWC flatten, FULLY_CONNECTED and SOFTMAX (also run under ASan by tests/test_c_sanitizers.py)."""
    rng = np.random.default_rng(2)
    b = TFLiteBuilder()
    q = dict(scale=0.05, zero_point=-3)
    x = b.tensor("x", (1, 6, 5, 4), "int8", **q)
    p = b.tensor("padded", (1, 8, 6, 4), "int8", **q)
    b.op("PAD", [x, b.const("pads", np.array([[0, 0], [1, 1], [0, 1], [0, 0]]), "int32")], [p])
    s = b.tensor("sliced", (1, 4, 6, 4), "int8", **q)
    b.op("STRIDED_SLICE", [p, b.const("b", [0, 0, 0, 0], "int32"), b.const("e", [1, 8, 6, 4], "int32"),
                           b.const("st", [1, 2, 1, 1], "int32")], [s])
    c = b.tensor("cat", (1, 4, 6, 8), "int8", **q)
    s2 = b.tensor("sliced2", (1, 4, 6, 4), "int8", **q)
    b.op("STRIDED_SLICE", [p, b.const("b2", [0, 1, 0, 0], "int32"), b.const("e2", [1, 8, 6, 4], "int32"),
                           b.const("st2", [1, 2, 1, 1], "int32")], [s2])
    b.op("CONCATENATION", [s, s2], [c], axis=3)
    th = b.tensor("tanh", (1, 4, 6, 8), "int8", scale=1.0 / 128, zero_point=0)
    b.op("TANH", [c], [th])
    lg = b.tensor("sig", (1, 4, 6, 8), "int8", scale=1.0 / 256, zero_point=-128)
    b.op("LOGISTIC", [th], [lg])
    mn = b.tensor("mean", (1, 8), "int8", scale=1.0 / 256, zero_point=-128)
    b.op("MEAN", [lg, b.const("axes", [1, 2], "int32")], [mn], keep_dims=False)
    tr = b.tensor("tr", (1, 6, 4, 8), "int8", scale=1.0 / 128, zero_point=0)
    b.op("TRANSPOSE", [th, b.const("perm", [0, 2, 1, 3], "int32")], [tr])
    fl = b.tensor("flat", (1, 192), "int8", scale=1.0 / 128, zero_point=0)
    b.op("RESHAPE", [tr, b.const("shape", [1, 192], "int32")], [fl], new_shape=(1, 192))
    w = b.const("w", rng.integers(-127, 128, (8, 192)), "int8", scale=0.002)
    lo = b.tensor("logits", (1, 8), "int8", scale=0.05, zero_point=0)
    b.op("FULLY_CONNECTED", [fl, w, b.const("bias", np.zeros(8), "int32", scale=np.float32(0.002 / 128))], [lo])
    sm = b.tensor("probs", (1, 8), "int8", scale=1.0 / 256, zero_point=-128)
    b.op("SOFTMAX", [lo], [sm], beta=1.0)
    data = b.finish([x], [sm])
    model = from_tflite(data)
    return data, model, random_input(rng, model, 4)


def test_codegen_of_an_imported_model_with_every_new_op(tmp_path):
    """`kwsnum codegen` of every_new_op_model(): the generated project (built with -Werror) equals the oracle,
    and the oracle equals TFLM."""
    from kwsnum.codegen import build, generate, verify
    data, model, xq = every_new_op_model()
    ops_used = {n.op for n in model.nodes}
    assert {"pad", "slice", "concat", "tanh", "logistic", "transpose", "softmax", "linear"} <= ops_used
    compare_with_tflm(data, model, xq)
    project = generate(model, tmp_path / "c", name="imported", overwrite=True)
    build(project.path, werror=True)
    res = verify(model, project.path, xq)
    assert res.ok, res


@given(st.integers(0, 2 ** 32 - 1), st.sampled_from(["same", "channel", "spatial"]))
def test_mul_equals_tflm(seed, kind):
    """MUL (squeeze-and-excitation style scaling) with equal-rank broadcasting: kwsnum's oracle and C equal TFLM."""
    rng = np.random.default_rng(seed)
    H, W, C = (int(v) for v in rng.integers(1, 6, 3))
    shb = {"same": (1, H, W, C), "channel": (1, 1, 1, C), "spatial": (1, H, W, 1)}[kind]
    if rng.integers(0, 2):
        shb = (1, H, W, C) if kind != "same" else shb
    sa, sb = (float(np.float32(v)) for v in rng.uniform(0.005, 0.2, 2))
    b = TFLiteBuilder()
    x1 = b.tensor("a", (1, H, W, C), "int8", scale=sa, zero_point=int(rng.integers(-128, 128)))
    x2 = b.tensor("b", shb, "int8", scale=sb, zero_point=int(rng.integers(-128, 128)))
    so = float(np.float32(sa * sb * 128 * 128 / 100 * rng.uniform(0.5, 2)))
    y = b.tensor("y", (1, H, W, C), "int8", scale=so, zero_point=int(rng.integers(-20, 20)))
    b.op("MUL", [x1, x2], [y], act=rng.choice([None, "RELU"]))
    data = b.finish([x1, x2], [y])
    model = from_tflite(data)
    compare_with_tflm(data, model, random_input(rng, model, 2))


@given(st.integers(0, 2 ** 32 - 1), st.sampled_from(["int8", "int16"]),
       st.sampled_from(["same", "channel", "spatial", "row", "both", "rank2", "rank3", "rank3_out"]))
def test_broadcast_add_equals_tflm(seed, fmt, kind):
    """ADD with TFLite's broadcasting (aligned from the last axis, size-1 axes broadcast, lower ranks padded with
    leading 1s) mapped to kwsnum's channel-first layout: kwsnum's oracle and C equal TFLM on every tensor."""
    rng = np.random.default_rng(seed)
    H, W, C = (int(v) for v in rng.integers(1, 6, 3))
    out = (1, W, C) if kind == "rank3_out" else (1, H, W, C)
    sha, shb = out, {"same": out, "channel": (1, 1, 1, C), "spatial": (1, H, W, 1), "row": (1, 1, W, C),
                     "both": (1, 1, W, 1), "rank2": (1, C), "rank3": (1, W, C), "rank3_out": (1, C)}[kind]
    if kind == "both":
        sha = (1, H, 1, C)
    if rng.integers(0, 2):
        sha, shb = shb, sha
    zp = (lambda: 0) if fmt == "int16" else (lambda: int(rng.integers(-128, 128)))
    sa, sb = (float(np.float32(v)) for v in rng.uniform(0.005, 0.2, 2))
    b = TFLiteBuilder()
    x1 = b.tensor("a", sha, fmt, scale=sa, zero_point=zp())
    x2 = b.tensor("b", shb, fmt, scale=sb, zero_point=zp())
    y = b.tensor("y", out, fmt, scale=float(np.float32(max(sa, sb) * rng.uniform(1, 3))), zero_point=zp())
    b.op("ADD", [x1, x2], [y], act=rng.choice([None, "RELU", "RELU6"]))
    data = b.finish([x1, x2], [y])
    model = from_tflite(data)
    assert [n.op for n in model.nodes].count("add") == 1
    compare_with_tflm(data, model, random_input(rng, model, 2))


def test_refuses_add_shapes_that_do_not_broadcast():
    b = TFLiteBuilder()
    x1 = b.tensor("a", (1, 2, 3, 4), "int8", scale=0.1, zero_point=0)
    x2 = b.tensor("b", (1, 2, 3, 2), "int8", scale=0.1, zero_point=0)
    y = b.tensor("y", (1, 2, 3, 4), "int8", scale=0.2, zero_point=0)
    b.op("ADD", [x1, x2], [y])
    with pytest.raises(ModelImportError, match=r"operator 0 \(ADD\).*do not broadcast"):
        from_tflite(b.finish([x1, x2], [y]))


# ---------------------------------------------------------------------------------------------- uint8 edges
def _uint8_edges_model(rng, tail, xor_in):
    """uint8 input -> QUANTIZE int8 -> FULLY_CONNECTED -> SOFTMAX -> QUANTIZE uint8 [-> DEQUANTIZE float32]:
    a uint8 input and a uint8 probability output as TFLite models write them."""
    b = TFLiteBuilder()
    F, O = int(rng.integers(1, 30)), int(rng.integers(2, 12))
    f32 = lambda v: float(np.float32(v))   # noqa: E731
    s_u, z_u = f32(rng.uniform(0.002, 0.2)), int(rng.integers(0, 256))
    x = b.tensor("x", (1, F), "uint8", scale=s_u, zero_point=z_u)
    if xor_in:      # TFLM's q ^ 0x80 shortcut: same scale, zero points 128 apart
        s_i, z_i = s_u, z_u - 128
    else:
        s_i, z_i = f32(s_u * rng.uniform(0.3, 3)), int(rng.integers(-128, 128))
    q = b.tensor("q", (1, F), "int8", scale=s_i, zero_point=z_i)
    b.op("QUANTIZE", [x], [q])
    s_w = f32(rng.uniform(0.005, 0.05))
    w = b.const("w", rng.integers(-127, 128, (O, F)), "int8", scale=s_w)
    bias = b.const("b", rng.integers(-300, 300, O), "int32", scale=np.float32(s_i) * np.float32(s_w))
    lg = b.tensor("logits", (1, O), "int8", scale=f32(s_i * s_w * 60 * np.sqrt(F) / 40), zero_point=0)
    b.op("FULLY_CONNECTED", [q, w, bias], [lg])
    pr = b.tensor("probs", (1, O), "int8", scale=1.0 / 256, zero_point=-128)
    b.op("SOFTMAX", [lg], [pr], beta=1.0)
    if rng.integers(0, 2):
        s_o, z_o = 1.0 / 256, 0                                  # the converter's uint8 softmax output: xor
    else:
        s_o, z_o = f32(rng.uniform(0.5, 2) / 256), int(rng.integers(0, 256))
    u = b.tensor("probs_u8", (1, O), "uint8", scale=s_o, zero_point=z_o)
    b.op("QUANTIZE", [pr], [u])
    out = u
    if tail == "dequantize":
        out = b.tensor("scores", (1, O), "float32")
        b.op("DEQUANTIZE", [u], [out])
    return b.finish([x], [out])


@settings(max_examples=30)
@given(st.integers(0, 2 ** 32 - 1), st.sampled_from(["uint8", "dequantize"]), st.booleans())
def test_uint8_edges_equal_tflm(seed, tail, xor_in):
    """uint8 model input and output (docs/numerics.md 2, 9.4, 11.2): oracle and C == TFLM on every tensor."""
    rng = np.random.default_rng(seed)
    data = _uint8_edges_model(rng, tail, xor_in)
    model = from_tflite(data)
    assert model.input.format == "uint8" and model.input.dtype == np.uint8
    assert [n.op for n in model.nodes][:1] == ["requantize"]
    assert model.output.format == ("uint8" if tail == "uint8" else "float32")
    compare_with_tflm(data, model, random_input(rng, model, 4))


def test_verify_and_codegen_with_uint8_io(tmp_path):
    """A model whose input and output are uint8, saved and loaded (HDF5 uint8 tensors), through kwsnum verify's
    gate with TFLM: the generated C project (uint8_t in, uint8_t out, every tensor traced) and the oracle == TFLM."""
    import kwsnum
    from kwsnum.verify import Gate
    data = _uint8_edges_model(np.random.default_rng(5), "uint8", False)
    kwsnum.save(from_tflite(data), tmp_path / "u8.h5")
    m = kwsnum.load(tmp_path / "u8.h5")
    assert (m.input.format, m.output.format) == ("uint8", "uint8")
    x = np.random.default_rng(0).integers(0, 256, (12,) + m.input.shape).astype(np.uint8)
    with Gate(m, use_torch=False, use_c=True, trace=True, tflm=data) as gate:
        assert "uint8_t" in open(f"{gate.c_dir}/kws_verify.h").read()
        res = gate.add(x).result()
    assert res.ok and res.n == 12 and {(p.a, p.b) for p in res.pairs} >= {("oracle", "tflm"), ("c", "tflm")}, \
        [(p.a, p.b, p.ok) for p in res.pairs]


# ---------------------------------------------------------------------------------------------- MUL int16, constants
@settings(max_examples=50)
@given(st.integers(0, 2 ** 32 - 1), st.sampled_from(["int8", "int16"]), st.sampled_from(["ADD", "MUL"]),
       st.sampled_from(["none", "same", "channel", "vector", "spatial", "scalar"]), st.booleans())
def test_mul16_and_constant_operands_equal_tflm(seed, fmt, opname, const, first):
    """int16 MUL (TFLM's int16x8 MUL) and ADD / MUL with a constant operand (TFLite's stored bias / scale tensors,
    of any rank TFLite broadcasts, in either position): kwsnum's oracle and C == TFLM on every tensor."""
    rng = np.random.default_rng(seed)
    H, W, C = (int(v) for v in rng.integers(1, 6, 3))
    zp = (lambda: 0) if fmt == "int16" else (lambda: int(rng.integers(-128, 128)))
    f32 = lambda v: float(np.float32(v))   # noqa: E731
    q = 127 if fmt == "int8" else 32767
    sa, sb = f32(rng.uniform(0.005, 0.2) / (1 if fmt == "int8" else 256)), f32(rng.uniform(0.005, 0.2) /
                                                                               (1 if fmt == "int8" else 256))
    if opname == "MUL":
        so = f32(sa * sb * q * q / (q * 0.8) * rng.uniform(0.5, 2))
    else:
        so = f32(max(sa, sb) * rng.uniform(1, 3))
    b = TFLiteBuilder()
    x = b.tensor("a", (1, H, W, C), fmt, scale=sa, zero_point=zp())
    shb = {"none": (1, H, W, C), "same": (1, H, W, C), "channel": (1, 1, 1, C), "vector": (C,),
           "spatial": (1, H, W, 1), "scalar": ()}[const]
    ins = [x]
    if const == "none":
        other = b.tensor("b", shb, fmt, scale=sb, zero_point=zp())
        ins.append(other)
    else:
        other = b.const("b", rng.integers(-q - 1, q + 1, shb), fmt, scale=sb, zero_point=zp())
    ins = ins[::-1] if first else ins
    if const != "none":
        ins = [other, x] if first else [x, other]
    y = b.tensor("y", (1, H, W, C), fmt, scale=so, zero_point=zp())
    b.op(opname, ins, [y], act=rng.choice([None, "RELU", "RELU6"]))
    data = b.finish([t for t in ins if t in (x,) or const == "none"], [y])
    model = from_tflite(data)
    node = [n for n in model.nodes if n.op == opname.lower()][0]
    assert ("b" in node.arrays) == (const != "none") and len(node.inputs) == (1 if const != "none" else 2)
    compare_with_tflm(data, model, random_input(rng, model, 2))


def mul16_const_model():
    """int16 (1, 3, 4, 5) -> MUL by a constant per-channel scale (C,) -> ADD of a constant bias (1, 1, 1, C), the
    constant first (tests/test_c_sanitizers.py runs it under ASan / UBSan)."""
    rng = np.random.default_rng(4)
    b = TFLiteBuilder()
    x = b.tensor("x", (1, 3, 4, 5), "int16", scale=1e-3, zero_point=0)
    g = b.const("gamma", rng.integers(-32768, 32768, (5,)), "int16", scale=1e-4, zero_point=0)
    h = b.tensor("h", (1, 3, 4, 5), "int16", scale=float(np.float32(1e-3 * 1e-4 * 32768)), zero_point=0)
    b.op("MUL", [x, g], [h])
    c = b.const("beta", rng.integers(-32768, 32768, (1, 1, 1, 5)), "int16", scale=2e-3, zero_point=0)
    y = b.tensor("y", (1, 3, 4, 5), "int16", scale=4e-3, zero_point=0)
    b.op("ADD", [c, h], [y], act="RELU")
    return b.finish([x], [y])


def test_mul16_const_model_equals_tflm():
    """The constant operands through kwsnum codegen (the arrays b in the generated C, every tensor traced) == TFLM."""
    from kwsnum.verify import Gate
    data = mul16_const_model()
    model = from_tflite(data)
    assert [(n.op, len(n.inputs), "b" in n.arrays) for n in model.nodes] == [("mul", 1, True), ("add", 1, True)]
    x = random_input(np.random.default_rng(0), model, 3)
    compare_with_tflm(data, model, x)
    with Gate(model, use_torch=False, use_c=True, trace=True, tflm=data) as gate:
        res = gate.add(x).result()
    assert res.ok and ("c", "tflm") in {(p.a, p.b) for p in res.pairs}
