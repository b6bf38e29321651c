"""Random small networks from the zoo's building blocks, end to end: a PyTorch module is drawn (conv / depthwise
conv with BatchNorm and ReLU or ReLU6, average and max pooling, LayerNorm over [C, L], residual adds, linear
attention blocks, global average pool, Linear), given trained-looking parameters, exported (int8 in both
roundings, int16, q8 / q16 / q32 with random rounding and overflow modes, float32, float16, bfloat16, or mixed:
int8 with the attention blocks and maybe the LayerNorms in a 16-bit float format; an integer draw with attention
is made mixed, matmul having no integer kernel; q32 runs its LayerNorms in q16), turned
into a C project by kwsnum.codegen, built with -fsanitize=address,undefined, and run through the three-way gate
(torch reference == oracle on every tensor, C == oracle on every tensor through the trace build)."""
import os

import numpy as np
import pytest
from hypothesis import event, given, settings, strategies as st

torch = pytest.importorskip("torch")
nn = torch.nn

from kwsnum.export import from_torch           # noqa: E402
from kwsnum.fixedpoint import OVERFLOW_MODES, QROUNDING_MODES   # noqa: E402
from kwsnum.models import LinearAttention, randomize_   # noqa: E402
from kwsnum.verify import Gate                 # noqa: E402
from tests import c_build                      # noqa: E402

SANITIZE = ("-O1", "-g", "-fno-omit-frame-pointer", "-fsanitize=address,undefined", "-fno-sanitize-recover=all")
# a whole build per example: a fraction of the profile's examples (dev 3, ci 12, deep 125)
N_EXAMPLES = max(3, settings.default.max_examples // 8)


class Residual(nn.Module):
    """x + BN(conv(x)) (shape-preserving), then ReLU: the ResBlockNet pattern."""

    def __init__(self, conv, bn):
        super().__init__()
        self.conv, self.bn = conv, bn

    def forward(self, x):
        return torch.relu(x + self.bn(self.conv(x)))


class Net(nn.Module):
    def __init__(self, blocks, head, in_shape):
        super().__init__()
        self.blocks = nn.Sequential(*blocks)
        self.head = head
        self.in_shape = in_shape

    def forward(self, x):
        return self.head(self.blocks(x))


@st.composite
def networks(draw):
    rank = draw(st.sampled_from([1, 1, 2]))
    Conv, BN = (nn.Conv1d, nn.BatchNorm1d) if rank == 1 else (nn.Conv2d, nn.BatchNorm2d)
    Avg, Max = (nn.AvgPool1d, nn.MaxPool1d) if rank == 1 else (nn.AvgPool2d, nn.MaxPool2d)
    c = draw(st.integers(1, 3))
    spatial = tuple(draw(st.integers(6, 14)) for _ in range(rank))
    in_shape = (c,) + spatial
    blocks, shape = [], list(spatial)
    kinds = draw(st.lists(st.sampled_from(["conv", "dw", "avg", "max", "res", "ln", "attn"]), min_size=1, max_size=4))
    if rank == 1 and "attn" not in kinds and draw(st.booleans()):     # attention in about half the 1-D nets
        kinds.insert(draw(st.integers(0, len(kinds))), "attn")
    attn_scopes = []
    for kind in kinds:
        if kind in ("avg", "max") and min(shape) < 4:
            kind = "conv"
        if kind in ("ln", "attn") and rank == 2:
            kind = "dw"
        if kind == "conv":
            o = draw(st.integers(2, 6))
            k = draw(st.integers(1, 3))
            s = draw(st.integers(1, 2))
            blocks += [Conv(c, o, k, stride=s, padding=k // 2, bias=draw(st.booleans())), BN(o),
                       draw(st.sampled_from([nn.ReLU(), nn.ReLU6(), nn.Identity()]))]
            shape = [(n + 2 * (k // 2) - k) // s + 1 for n in shape]
            c = o
        elif kind == "dw":
            blocks += [Conv(c, c, 3, padding=1, groups=c, bias=False), BN(c), nn.ReLU()]
        elif kind == "avg":
            k = draw(st.integers(2, 3))
            blocks.append(Avg(k, stride=k, padding=draw(st.sampled_from([0, 1])) if k == 3 else 0,
                              count_include_pad=draw(st.booleans())))
            p = blocks[-1].padding if isinstance(blocks[-1].padding, int) else blocks[-1].padding[0]
            shape = [(n + 2 * p - k) // k + 1 for n in shape]
        elif kind == "max":
            blocks.append(Max(2))
            shape = [n // 2 for n in shape]
        elif kind == "res":
            blocks.append(Residual(Conv(c, c, 3, padding=1, bias=False), BN(c)))
        elif kind == "attn":
            attn_scopes.append(f"blocks.{len(blocks)}")
            blocks.append(LinearAttention(c, dim=draw(st.integers(1, 4))))
        else:
            blocks += [nn.LayerNorm([c] + shape), nn.ReLU()]
        assert min(shape) >= 1
    pool = nn.AdaptiveAvgPool1d(1) if rank == 1 else nn.AdaptiveAvgPool2d(1)
    head = nn.Sequential(pool, nn.Flatten(), nn.Dropout(0.1), nn.Linear(c, draw(st.integers(2, 5))))
    net = Net(blocks, head, in_shape)
    precision, rounding = draw(st.sampled_from([("int8", "double"), ("int8", "single"), ("float32", "double"),
                                                ("float16", "double"), ("bfloat16", "double"),
                                                ("mixed", "double"), ("int16", "double"), ("q8", "double"),
                                                ("q16", "single"), ("q32", "double")]))
    float16 = draw(st.sampled_from(["float16", "bfloat16"]))
    if precision == "mixed":
        # int8 with the attention blocks and (sometimes) the LayerNorms in a 16-bit float format
        precision = dict(default="int8", layers={sc: float16 for sc in attn_scopes},
                         ops=dict(layernorm=float16) if draw(st.booleans()) else {})
    elif precision not in ("float32", "float16", "bfloat16") and (attn_scopes or precision == "q32"):
        # an integer format: attention (matmul, div) in a 16-bit float format; q32 has no LayerNorm kernel
        precision = dict(default=precision, layers={sc: float16 for sc in attn_scopes},
                         ops=dict(layernorm="q16") if precision == "q32" else {})
    qmodes = dict(qround=draw(st.sampled_from(sorted(QROUNDING_MODES))),
                  qoverflow=draw(st.sampled_from(sorted(OVERFLOW_MODES))))
    return net, precision, rounding, kinds, draw(st.integers(0, 2 ** 16)), qmodes


@settings(max_examples=N_EXAMPLES)
@given(networks())
def test_random_network_three_way_under_sanitizers(tmp_path_factory, case):
    if c_build.compiler() is None:
        pytest.skip("no C compiler found")
    net, precision, rounding, kinds, seed, qmodes = case
    event(f"precision {precision if isinstance(precision, str) else precision['default'] + ' mixed'}")
    event(f"attention: {any(isinstance(m, LinearAttention) for m in net.modules())}")
    g = torch.Generator().manual_seed(seed)
    calib = torch.randn((24,) + net.in_shape, generator=g) * 1.5
    test = torch.randn((6,) + net.in_shape, generator=g) * 1.5
    randomize_(net, seed, calib)
    model = from_torch(net, calib[:1], calib, precision=precision, rounding=rounding, **qmodes)
    env_asan = os.environ.get("ASAN_OPTIONS")
    os.environ["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=0"
    try:
        with Gate(model, trace=True, c_dir=tmp_path_factory.mktemp("rnd") / "c", cflags=SANITIZE) as gate:
            gate.add(test.numpy())
            res = gate.result()
    finally:
        if env_asan is None:
            os.environ.pop("ASAN_OPTIONS", None)
        else:
            os.environ["ASAN_OPTIONS"] = env_asan
    for p in res.pairs:
        assert p.ok and p.n == 6, (kinds, precision, rounding, p.title(), p.first_layer and p.first_layer.describe())
