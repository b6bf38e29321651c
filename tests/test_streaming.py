"""Streaming (kwsnum/streaming.py, the delay op, docs/numerics.md section 12): random streaming-capable 1-D nets
(strided / dilated / depthwise convolutions without time padding, strided average and max pooling, a classifier over
the last frames or a frame-wise output) are exported in every format and made streaming; then

- every step after the warm-up outputs, bit for bit, what the windowed model outputs on the step's window
  (integer formats, float32, float16, bfloat16: the operation order is the same);
- the torch reference, stepping the same streaming graph, equals the oracle's steps (integer formats exactly,
  float32 within the spec's tolerance);
- pushing the frames in random chunks gives the same outputs as one big push; reset restarts the streams.
Refusals name the layer and the reason."""
import numpy as np
import pytest
from hypothesis import event, given, settings, strategies as st

torch = pytest.importorskip("torch")
nn = torch.nn

import kwsnum                                    # noqa: E402
from kwsnum import streaming                     # noqa: E402
from kwsnum.compare import same_values           # noqa: E402
from kwsnum.errors import ExportError            # noqa: E402
from kwsnum.export import from_torch             # noqa: E402
from kwsnum.fixedpoint import OVERFLOW_MODES, QROUNDING_MODES   # noqa: E402
from kwsnum.models import TemporalConvNet, randomize_           # noqa: E402

PRECISIONS = [("int8", "double"), ("int8", "single"), ("int16", "double"), ("q8", "double"), ("q16", "single"),
              ("q32", "double"), ("float32", "double"), ("float16", "double"), ("bfloat16", "double")]
N_EXAMPLES = max(4, settings.default.max_examples // 8)


@pytest.fixture(autouse=True)
def one_torch_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)        # tiny tensors: a thread pool only adds overhead on a shared machine
    yield
    torch.set_num_threads(n)


class Net(nn.Module):
    def __init__(self, body, head, in_shape):
        super().__init__()
        self.body = nn.Sequential(*body)
        self.head = head
        self.in_shape = in_shape

    def forward(self, x):
        return self.head(self.body(x))


@st.composite
def streaming_nets(draw):
    c = c_in = draw(st.integers(1, 3))
    body, geo = [], []          # geo: (kernel extent, stride) of each windowed layer, in order
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["conv", "conv", "dw", "avg", "max"]))
        if kind in ("conv", "dw"):
            k, d = draw(st.integers(1, 4)), draw(st.integers(1, 3))
            span = d * (k - 1) + 1
            s = draw(st.integers(1, min(3, span)))
            o = draw(st.integers(1, 5)) if kind == "conv" else c
            body += [nn.Conv1d(c, o, k, stride=s, dilation=d, groups=1 if kind == "conv" else c,
                               bias=draw(st.booleans())), nn.BatchNorm1d(o),
                     draw(st.sampled_from([nn.ReLU(), nn.ReLU6(), nn.Identity()]))]
            c = o
        elif kind == "avg":
            k = draw(st.integers(1, 3))
            s = draw(st.integers(1, k))
            body.append(nn.AvgPool1d(k, stride=s))
            span = k
        else:
            k, d = draw(st.integers(1, 3)), draw(st.integers(1, 2))
            span = d * (k - 1) + 1
            s = draw(st.integers(1, min(2, span)))
            body.append(nn.MaxPool1d(k, stride=s, dilation=d))
        geo.append((span, s))
    framewise = draw(st.booleans())
    L = draw(st.integers(1, 3))                       # frames at the end of the body
    if framewise:
        head = nn.Identity()
    else:
        head = nn.Sequential(nn.Flatten(), nn.Linear(c * L, draw(st.integers(2, 4))))
    for span, s in reversed(geo):                     # the window whose frames every layer uses to the end
        L = span + (L - 1) * s
    net = Net(body, head, (c_in, L))
    precision, rounding = draw(st.sampled_from(PRECISIONS))
    qmodes = dict(qround=draw(st.sampled_from(sorted(QROUNDING_MODES))),
                  qoverflow=draw(st.sampled_from(sorted(OVERFLOW_MODES))))
    return net, precision, rounding, qmodes, framewise, draw(st.integers(0, 2 ** 16)), draw(st.integers(1, 6))


def _export(net, precision, rounding, qmodes, seed):
    g = torch.Generator().manual_seed(seed)
    calib = torch.randn((16,) + net.in_shape, generator=g)
    randomize_(net, seed, calib)
    return from_torch(net, calib[:1], calib, precision=precision, rounding=rounding, **qmodes), g


def windowed_outputs(model, x, window, step, framewise, frames_per_step):
    """The windowed model on every step's window (N, steps, ...) and the step indices (the last frames_per_step
    frames of a frame-wise output)."""
    w, ks = streaming.windows(x, window, step)
    y = model.run(w.reshape((-1,) + w.shape[2:]))
    y = y.reshape(w.shape[:2] + y.shape[1:])
    if framewise:
        y = y[..., y.shape[-1] - frames_per_step:]
    return y, ks


@settings(max_examples=N_EXAMPLES)
@given(streaming_nets(), st.data())
def test_stream_equals_windowed_model(case, data):
    net, precision, rounding, qmodes, framewise, seed, extra = case
    event(f"precision {precision}")
    model, g = _export(net, precision, rounding, qmodes, seed)
    sm = streaming.to_streaming(model)
    info = streaming.info(sm)
    R, W = info["step"], info["window"]
    assert W == net.in_shape[1] and info["warmup"] == -(-W // R) - 1
    T = (info["warmup"] + extra) * R + data.draw(st.integers(0, R - 1))
    x = (torch.randn((2, net.in_shape[0], T), generator=g) * 1.5).numpy()
    y = sm.stream(batch=2).push(x)
    assert y.shape == (2, T // R) + tuple(sm.output.shape)
    ref, ks = windowed_outputs(model, x, W, R, framewise, sm.output.shape[-1] if framewise else None)
    assert ks[0] == info["warmup"] and len(ks) == extra
    assert same_values(y[:, ks], ref).all(), f"{precision}: a step differs from the windowed model"

    # chunked pushes == one push; reset starts over
    cuts = sorted(data.draw(st.lists(st.integers(0, T), max_size=4)))
    s = sm.stream(batch=2)
    parts = [s.push(x[..., a:b]) for a, b in zip([0] + cuts, cuts + [T])]
    assert same_values(np.concatenate(parts, axis=1), y).all()
    s.reset()
    assert same_values(s.push(x), y).all()

    # the torch reference steps the same graph
    fmt = sm.output.format
    if precision in ("float16", "bfloat16"):
        return
    yt = sm.stream(batch=2, reference=True).push(x)
    if precision == "float32":
        np.testing.assert_allclose(yt, y, rtol=1e-4, atol=1e-4 * (1 + float(np.abs(y).max(initial=0))))
    else:
        assert fmt == "float32" or same_values(yt, y).all()
        # integer: every step's integer output (before the dequantize) is exact, hence the dequantized output
        assert same_values(yt, y).all(), f"{precision}: torch reference stream != oracle stream"


def _tcn(**kw):
    net = TemporalConvNet(n_classes=3, n_mels=6, first=(4, 3, 2), blocks=((4, 3, 1), (5, 3, 2)), final_frames=2, **kw)
    return net


def test_tcn_streams_and_saves(tmp_path):
    net = _tcn()
    model, g = _export(net, "int8", "double", {}, 3)
    sm = from_torch(net, None, torch.randn((16,) + net.in_shape, generator=g), precision="int8", streaming=True)
    assert sm.input.shape == (6, 2) and streaming.info(sm)["window"] == net.in_shape[1]
    rows = streaming.state_report(sm)
    assert [r[0] for r in rows] == [n.name for n in sm.nodes if n.op == "delay"] and len(rows) == 4
    assert streaming.state_bytes(sm) == sum(int(np.prod(r[1])) for r in rows)          # int8: 1 byte a value
    kwsnum.save(sm, tmp_path / "s.h5")
    back = kwsnum.load(tmp_path / "s.h5")
    assert streaming.info(back) == streaming.info(sm)
    x = torch.randn((1, 6, 60), generator=g).numpy()
    assert same_values(back.stream().push(x[0]), sm.stream().push(x[0])).all()


def _refused(net, match):
    g = torch.Generator().manual_seed(0)
    calib = torch.randn((4,) + net.in_shape, generator=g)
    randomize_(net, 0, calib)
    with pytest.raises(ExportError, match=match):
        from_torch(net, None, calib, precision="int8", streaming=True)


def test_refusals_name_the_layer():
    _refused(Net([nn.Conv1d(2, 3, 3, padding=1)], nn.Sequential(nn.Flatten(), nn.Linear(30, 2)), (2, 10)),
             r"layer 'body_0' cannot stream: padding \(1, 1\) along time")
    _refused(Net([nn.Conv1d(2, 3, 3)], nn.Sequential(nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(3, 2)),
                 (2, 10)), r"cannot stream: global pooling over time")
    _refused(Net([nn.Conv1d(2, 3, 3), nn.LayerNorm([3, 8])], nn.Sequential(nn.Flatten(), nn.Linear(24, 2)),
                 (2, 10)), r"'body_1' cannot stream: LayerNorm over a time axis")
    _refused(Net([nn.Conv1d(2, 3, 3, stride=2)], nn.Sequential(nn.Flatten(), nn.Linear(12, 2)), (2, 10)),
             r"'body_0' cannot stream: its last 1 input frame\(s\) are never used")


def test_push_checks_its_input():
    net = _tcn()
    sm, _ = _export(net, "float32", "double", {}, 1)
    sm = streaming.to_streaming(sm)
    s = sm.stream(batch=2)
    with pytest.raises(kwsnum.InputError, match="do not match"):
        s.push(np.zeros((1, 6, 4), np.float32))
    assert s.push(np.zeros((2, 6, 1), np.float32)).shape == (2, 0, 3)
    with pytest.raises(kwsnum.InputError, match="no state"):
        streaming.Stream(_export(_tcn(), "float32", "double", {}, 1)[0])


SANITIZE = ("-O1", "-g", "-fno-omit-frame-pointer", "-fsanitize=address,undefined", "-fno-sanitize-recover=all")


@pytest.mark.parametrize("precision", ["int8", "float32"])     # delay moves bytes: one integer, one float
def test_c_stream_three_way_under_sanitizers(tmp_path, precision):
    """C steps (NAME_step through the harness, from the static initial state) == the oracle's steps == the torch
    reference's steps over a long stream (the warm-up included), under ASan + UBSan; the header reports the
    state apart from the arena."""
    from tests import c_build
    from kwsnum.codegen import build, generate, verify
    if c_build.compiler() is None:
        pytest.skip("no C compiler found")
    net = _tcn()
    g = torch.Generator().manual_seed(7)
    calib = torch.randn((16,) + net.in_shape, generator=g)
    randomize_(net, 7, calib)
    sm = from_torch(net, None, calib, precision=precision, streaming=True)
    project = generate(sm, tmp_path / "c")
    assert project.state_bytes == streaming.state_bytes(sm) > 0
    header = (tmp_path / "c" / f"{project.name}.h").read_text()
    assert f"#define {project.name.upper()}_STATE_BYTES {project.state_bytes}" in header
    assert f"void {project.name}_reset(void);" in header
    build(project.path, werror=True, extra_cflags=SANITIZE)
    n = 400
    x = (torch.randn((1, 6, 2 * n), generator=g) * 1.5).numpy()
    steps = np.ascontiguousarray(x[0].reshape(6, n, 2).transpose(1, 0, 2))      # (steps, C, 2)
    res = verify(sm, project.path, steps)
    assert res.ok and res.n == n, str(res)
    y = sm.stream().push(x[0])
    yt = sm.stream(reference=True).push(x[0])
    if precision == "float32":
        np.testing.assert_allclose(yt, y, rtol=1e-4, atol=1e-4 * (1 + float(np.abs(y).max())))
    else:
        assert same_values(yt, y).all()


DETECT_MAIN = r"""
#include <stdio.h>
#include <stdlib.h>
#include "NAME.h"
/* reads int steps (raw, NAME_INPUT_BYTES each) from argv[1]; writes per step: int32 decision, int64 sum; resets
   the model and the detector halfway (the Python side does the same) */
int main(int argc, char **argv)
{
    static INT_T x[NAME_U_INPUT_SIZE];
    static OUT_T y[NAME_U_OUTPUT_SIZE];
    FILE *f = fopen(argv[1], "rb"), *g = fopen(argv[2], "wb");
    long k = 0, n = atol(argv[3]);
    if (argc != 4 || f == NULL || g == NULL)
        return 2;
    while (fread(x, 1, sizeof x, f) == sizeof x) {
        int64_t sum = 0;
        int32_t hit;
        if (k == n / 2)
            NAME_reset();
        if (NAME_step(x, y) != 0)
            return 3;
        hit = NAME_detect(y, &sum);
        fwrite(&hit, sizeof hit, 1, g);
        fwrite(&sum, sizeof sum, 1, g);
        k++;
    }
    fclose(f);
    return fclose(g) == 0 ? 0 : 4;
}
"""


def test_detector_python_equals_c(tmp_path):
    """Detections of the Python detector (on the oracle's integer step outputs) == those of NAME_detect on the C
    steps, over a long stream with a reset halfway; the parameters stored in the model survive save/load."""
    import re
    import subprocess
    from tests import c_build
    from kwsnum import detector
    from kwsnum.codegen import generate
    from kwsnum.model import INTEGER
    cc = c_build.compiler()
    if cc is None:
        pytest.skip("no C compiler found")
    net = _tcn()
    g = torch.Generator().manual_seed(11)
    calib = torch.randn((16,) + net.in_shape, generator=g)
    randomize_(net, 11, calib)
    sm = from_torch(net, None, calib, precision="int8", streaming=True)
    spec = detector.output_spec(sm)
    n = 600
    x = torch.randn((6, 2 * n), generator=g).numpy()
    x[:, 300:500] += 2.0                 # something to detect, now and then
    q = sm.stream().push(x, tensor=spec.name)                       # (n, classes) int8
    assert q.dtype == spec.dtype and spec.format in INTEGER
    warm = streaming.info(sm)["warmup"]
    score = q[:, 1].astype(np.int64) - q[:, 0]
    smooth = np.convolve(score[warm:], np.ones(4, np.int64), "valid")
    thr = float(np.quantile(smooth, 0.8)) * spec.scale / 4                        # real threshold on the mean
    p = detector.configure(sm, label=1, against=0, threshold=thr, window=4, refractory=7)
    assert abs(p.threshold_sum - float(np.quantile(smooth, 0.8))) <= 1
    p.threshold_sum = int(np.quantile(smooth, 0.8, method="lower"))      # a sum the stream reaches: ties decide
    sm.meta[detector.META_KEY] = p.to_meta()
    kwsnum.save(sm, tmp_path / "d.h5")
    sm = kwsnum.load(tmp_path / "d.h5")
    p = detector.params_of(sm)
    assert (p.window, p.refractory, p.label, p.against) == (4, 7, 1, 0)
    half = n // 2
    py = [(k, s) for k, s in detector.detect(p, q[:half], warm)]
    s2 = sm.stream()
    s2.push(x[:, :2 * half], tensor=spec.name)
    s2.reset()
    q2 = s2.push(x[:, 2 * half:], tensor=spec.name)
    py += [(k + half, s) for k, s in detector.detect(p, q2, warm)]
    assert 3 <= len(py) < n // 7 and all(b - a >= 7 for (a, _), (b, _) in zip(py, py[1:]) if b < half or a >= half)

    project = generate(sm, tmp_path / "c")
    d = tmp_path / "c"
    name = project.name
    main = DETECT_MAIN.replace("NAME_U", name.upper()).replace("NAME", name)
    from kwsnum.codegen.sanitize import CTYPE
    from kwsnum.codegen.api import split_io
    io = split_io(sm)
    main = main.replace("INT_T", CTYPE[io.in_spec.format]).replace("OUT_T", CTYPE[io.out_spec.format])
    (d / "detect_main.c").write_text(main)
    srcs = re.search(r"^SRCS = (.*)$", (d / "Makefile").read_text(), re.M).group(1).split()
    exe = d / "detect_main"
    subprocess.run([cc, "-std=c99", "-O1", "-Wall", "-Wextra", "-Werror", "-ffp-contract=off", "-I", str(d),
                    *[str(d / s) for s in srcs], str(d / "detect_main.c"), "-o", str(exe), "-lm"], check=True)
    steps = np.ascontiguousarray(x.reshape(6, n, 2).transpose(1, 0, 2))
    xq = np.ascontiguousarray(sm.run(steps, trace=True)[io.core.inputs[0]])      # quantize is stateless
    xq.tofile(d / "steps.bin")
    subprocess.run([str(exe), str(d / "steps.bin"), str(d / "out.bin"), str(n)], check=True)
    raw = np.fromfile(d / "out.bin", dtype=np.dtype([("hit", "<i4"), ("sum", "<i8")]))
    assert len(raw) == n
    c = [(int(k), int(raw["sum"][k])) for k in np.nonzero(raw["hit"])[0]]
    assert c == py


def test_delay_node_checks_its_init():
    from kwsnum.builder import GraphBuilder
    b = GraphBuilder()
    x = b.input("x", (2, 3), format="int16", scale=0.5, zero_point=0)
    y = b.add("delay", "d", [x], dict(frames=2), dict(init=np.zeros((2, 3), np.int16)), scale=0.5, zero_point=0)
    with pytest.raises(kwsnum.ModelError, match=r"/graph/0 \(delay\): init shape \(2, 3\) does not match the state "
                                                r"shape \(2, 2\)"):
        b.build([y])
    b.nodes[0].arrays["init"] = np.arange(4, dtype=np.int16).reshape(2, 2)
    m = b.build([y])
    assert m.tensors[y].shape == (2, 5)
    s = m.stream()
    out = s.push(np.arange(12, dtype=np.int16).reshape(2, 6))       # two steps of 3 frames
    assert out.tolist() == [[[0, 1, 0, 1, 2], [2, 3, 6, 7, 8]], [[1, 2, 3, 4, 5], [7, 8, 9, 10, 11]]]


def test_cli_verify_of_a_streaming_model_resets_c_each_sample(tmp_path, capsys):
    """kwsnum verify's samples are independent (Model.run: one step after a reset): the C harness resets the state
    before each sample (--reset), so C agrees with the oracle on every sample, not only the first."""
    from kwsnum.cli.main import main
    net = _tcn()
    _, g = _export(net, "int8", "double", {}, 3)
    sm = from_torch(net, None, torch.randn((16,) + net.in_shape, generator=g), precision="int8", streaming=True)
    kwsnum.save(sm, tmp_path / "s.h5")
    x = (3 * torch.randn((6,) + sm.input.shape, generator=g)).numpy().astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    assert not same_values(sm.stream().push(np.concatenate(list(x), axis=-1))[1:], sm.run(x)[1:]).all(), \
        "the samples must give different outputs as steps and as independent samples, or the test shows nothing"
    with pytest.raises(SystemExit) as e:
        main(["verify", str(tmp_path / "s.h5"), str(tmp_path / "x.npy"), "--no-torch"])
    out = capsys.readouterr().out
    assert e.value.code == 0, out
    assert "6/6 bit-exact" in out, out
