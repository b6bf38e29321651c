"""A micro frontend stored in the model (/frontend attributes + table datasets): round trip, validation with
errors naming the HDF5 path, `kwsnum run` / `inspect` on it, and `kwsnum features`."""
import json
import subprocess
import sys

import h5py
import numpy as np
import pytest

import kwsnum
from kwsnum.builder import GraphBuilder
from kwsnum.errors import ModelError
from kwsnum.micro import MicroFrontend, Stream
from kwsnum.wav import write_wav

CLIP = 3200   # 0.2 s: 18 frames of 40 channels


def micro_model():
    """micro frontend (1, 18, 40) -> quantize -> conv2d 3x3 stride 2 -> global average pool -> dequantize."""
    rng = np.random.default_rng(0)
    fe = MicroFrontend.microwakeword(clip_samples=CLIP)
    b = GraphBuilder(name="microtiny")
    x = b.input("features", fe.output_shape, "float32")
    q = b.add("quantize", "quant", [x], format="int8", scale=0.1, zero_point=-128)
    h = b.add("conv2d", "conv", [q], dict(stride=(2, 2), act_min=-128, act_max=127),
              dict(weight=rng.integers(-127, 128, (3, 1, 3, 3)).astype(np.int8), bias=np.zeros(3, np.int32),
                   multiplier=np.full(3, 1 << 30, np.int32), shift=np.full(3, -4, np.int32)),
              scale=0.05, zero_point=0)
    g = b.add("global_avgpool", "gap", [h], dict(multiplier=1 << 30, shift=0, act_min=-128, act_max=127),
              scale=0.05, zero_point=0)
    r = b.add("reshape", "flat", [g], dict(shape=(3,)), scale=0.05, zero_point=0)
    y = b.add("dequantize", "deq", [r], format="float32")
    return b.build([y], labels=["a", "b", "c"], frontend=fe)


def clip(seed=1, n=CLIP):
    return (np.random.default_rng(seed).standard_normal(n) * 4000).astype(np.int16)


def test_micro_frontend_round_trip(tmp_path):
    m = micro_model()
    kwsnum.save(m, tmp_path / "m.h5")
    m2 = kwsnum.load(tmp_path / "m.h5")
    assert isinstance(m2.frontend, MicroFrontend) and m2.frontend == m.frontend
    assert m2.frontend.tables == m.frontend.tables
    with h5py.File(tmp_path / "m.h5", "r") as f:
        assert f["frontend"].attrs["kind"] == "micro" and f["frontend/window"].dtype == np.int16
        assert f["frontend/log_lut"].shape == (130,)
    x = clip()
    assert np.array_equal(m2.frontend.compute(x), m.frontend.compute(x))
    assert np.array_equal(m2.frontend.features(x), Stream(m.frontend).push(x))
    from kwsnum.report import summary
    assert summary(m2)["frontend"].startswith("micro (TFLM microfrontend)")


def _edit(path, fn):
    """A deliberate edit of /frontend, re-signed so that it reaches the frontend's own validation."""
    with h5py.File(path, "r+") as f:
        fn(f["frontend"])
    import kwsnum.io
    try:
        kwsnum.io.sign(path)
    except kwsnum.errors.KwsnumError:
        pass


@pytest.mark.parametrize("edit, msg", [
    (lambda g: g.attrs.__setitem__("num_channels", 41), r"/frontend: fb_frequency_starts shape \(41,\) does not "
                                                        r"match \(42,\)"),
    (lambda g: g.attrs.__setitem__("sample_rate", 200000), r"/frontend: sample_rate must be in \[1000, 96000\]"),
    (lambda g: g.attrs.__setitem__("window_size_ms", 20), r"/frontend: window_size / window_step 480 / 160 do not"),
    (lambda g: g.attrs.__delitem__("fft_size"), r"/frontend: missing attribute 'fft_size' for kind 'micro'"),
    (lambda g: g.attrs.__setitem__("bogus", 1), r"/frontend: unknown attribute 'bogus' for kind 'micro'"),
    (lambda g: g.__delitem__("fb_weights"), r"/frontend: missing dataset 'fb_weights'"),
    (lambda g: g["fb_widths"].__setitem__(3, 2000), r"/frontend: fb_widths values must be in \[0, 257\]"),
    (lambda g: g["fb_widths"].__setitem__(40, 250), r"/frontend: a filterbank band reads past the 257 FFT bins"),
    (lambda g: g["fft_twiddles"].__setitem__((0, 0), -32768), r"/frontend: fft_twiddles values must be in"),
    (lambda g: g["fb_weights"].__setitem__(5, 5000), r"/frontend: fb_weights values must be in \[0, 4096\]"),
    (lambda g: g.attrs.__setitem__("pcan_snr_shift", 40), r"/frontend: pcan_snr_shift must be in \[0, 32\]"),
    (lambda g: g.attrs.__setitem__("enable_pcan", 2), r"/frontend: enable_pcan must be 0 or 1"),
    (lambda g: (g.__delitem__("window"), g.create_dataset("window", data=np.zeros(480, np.int32))),
     r"/frontend: dataset 'window' must be int16"),
    (lambda g: g.attrs.__setitem__("clip_samples", 4800), r"/frontend: the frontend produces \(1, 28, 40\)"),
])
def test_micro_frontend_load_errors(tmp_path, edit, msg):
    kwsnum.save(micro_model(), tmp_path / "m.h5")
    _edit(tmp_path / "m.h5", edit)
    with pytest.raises(ModelError, match=msg):
        kwsnum.load(tmp_path / "m.h5")


def test_datasets_only_for_micro(tmp_path):
    from tests.test_frontend_model import raw_model
    kwsnum.save(raw_model(), tmp_path / "r.h5")
    _edit(tmp_path / "r.h5", lambda g: g.create_dataset("window", data=np.zeros(4, np.int16)))
    with pytest.raises(ModelError, match="/frontend: unexpected dataset 'window' for kind 'raw'"):
        kwsnum.load(tmp_path / "r.h5")


class _Result:
    def __init__(self, returncode, stdout, stderr):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def kw(*args):
    """`kwsnum ARGS` in this process (kwsnum.cli.main.main: the same one-line errors and exit codes as the
    console script, without a new interpreter and numba load per call)."""
    import contextlib
    import io
    from kwsnum.cli.main import main
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main([str(a) for a in args])
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    return _Result(code, out.getvalue(), err.getvalue())


def kw_subprocess(*args):
    return subprocess.run([sys.executable, "-m", "kwsnum", *map(str, args)], capture_output=True, text=True,
                          timeout=600)


def test_cli_run_inspect_features(tmp_path):
    m = micro_model()
    kwsnum.save(m, tmp_path / "m.h5")
    clips = [clip(1), clip(2, 2000)]
    for i, c in enumerate(clips):
        write_wav(tmp_path / f"c{i}.wav", c, 16000)
    r = kw("run", tmp_path / "m.h5", tmp_path / "c0.wav", tmp_path / "c1.wav", "--json")
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    want = m.run(np.stack([m.frontend.compute(c) for c in clips]))
    assert [r_["output"] for r_ in got["results"]] == want.tolist()
    r = kw("inspect", tmp_path / "m.h5")
    assert r.returncode == 0 and "frontend: micro (TFLM microfrontend) 16000 Hz" in r.stdout, r.stdout + r.stderr
    # features: uint16 frames of the stored frontend; the default preset (microWakeWord) on a 1 s clip
    r = kw("features", tmp_path / "c0.wav", tmp_path / "c1.wav", "--model", tmp_path / "m.h5", "-o", tmp_path / "f.npy")
    assert r.returncode == 0, r.stderr
    f = np.load(tmp_path / "f.npy")
    assert f.dtype == np.uint16 and f.shape == (2, 18, 40)
    assert np.array_equal(f[0], Stream(m.frontend).push(clips[0])) and np.array_equal(f[1], m.frontend.features(clips[1]))
    write_wav(tmp_path / "long.wav", clip(3, 16000), 16000)
    r = kw("features", tmp_path / "long.wav", "--json")
    rec = json.loads(r.stdout)[0]
    assert rec["shape"] == [98, 40] and rec["dtype"] == "uint16"
    assert np.array_equal(np.array(rec["features"]), MicroFrontend.microwakeword().features(clip(3, 16000)))
    r = kw("features", tmp_path / "c0.wav", "--model", tmp_path / "m.h5", "--quantized", "-o", tmp_path / "q.npy")
    assert r.returncode == 0, r.stderr
    q = np.load(tmp_path / "q.npy")
    assert q.dtype == np.int8 and q.shape == (1, 1, 18, 40)
    assert np.array_equal(q[0], m.run(m.frontend.compute(clips[0])[None], trace=True)[m.nodes[0].outputs[0]][0])
    r = kw("features", tmp_path / "c0.wav", "--frontend", "logmel")
    assert r.returncode == 0 and "logmel" in r.stdout


@pytest.mark.parametrize("make, msg", [
    (lambda p: write_wav(p, np.zeros(100, np.int16), 8000), "sample rate 8000 Hz, expected 16000 Hz"),
    (lambda p: p.write_bytes(b""), "empty file"),
    (lambda p: p.write_bytes(b"RIFF\x00\x00"), "not a WAV file|truncated WAV header"),
])
def test_cli_features_bad_wav(tmp_path, make, msg):
    import re
    p = tmp_path / "bad.wav"
    make(p)
    r = kw("features", p) if "empty" not in msg else kw_subprocess("features", p)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert r.stderr.startswith("kwsnum: error: ") and re.search(msg, r.stderr), r.stderr


def test_codegen_frontend_and_verify(tmp_path):
    """The generated C frontend: WAV / raw PCM clips -> <name>_classify_pcm equals the oracle on the clip, the
    --frames output equals the oracle's frames, and `kwsnum verify` compares the frontend frame by frame."""
    from kwsnum.codegen import build, generate
    m = micro_model()
    kwsnum.save(m, tmp_path / "m.h5")
    p = generate(m, tmp_path / "c", name="kws")
    h = (tmp_path / "c" / "kws_frontend.h").read_text()
    assert "size_t kws_frontend_push(const int16_t *pcm, size_t n" in h and "int kws_classify_pcm(" in h
    exe = build(p.path, werror=True)
    clips = [clip(7), clip(8, 1000), np.full(CLIP, -32768, np.int16)]
    for i, x in enumerate(clips):
        write_wav(tmp_path / f"v{i}.wav", x, 16000)
        x.astype("<i2").tofile(tmp_path / f"v{i}.pcm")
        for ext in ("wav", "pcm"):
            r = subprocess.run([exe, tmp_path / f"v{i}.{ext}", tmp_path / "y.bin"], capture_output=True, text=True)
            assert r.returncode == 0, r.stderr
            assert np.array_equal(np.fromfile(tmp_path / "y.bin", "<f4"), m.run(m.frontend.compute(x)[None])[0])
        r = subprocess.run([exe, "--frames", tmp_path / f"v{i}.wav", tmp_path / "f.bin"], capture_output=True)
        assert r.returncode == 0
        assert np.array_equal(np.fromfile(tmp_path / "f.bin", "<u2").reshape(-1, 40), m.frontend.features(x))
    write_wav(tmp_path / "r8k.wav", clips[0], 8000)
    r = subprocess.run([exe, tmp_path / "r8k.wav", tmp_path / "y.bin"], capture_output=True, text=True)
    assert r.returncode == 1 and "sample rate" in r.stderr
    r = kw("verify", tmp_path / "m.h5", *[tmp_path / f"v{i}.wav" for i in range(3)])
    assert r.returncode == 0, r.stdout + r.stderr
    assert "frontend (C vs oracle): 3/3 clips, 54/54 frames bit-exact" in r.stdout, r.stdout
    assert "frontend (PyTorch reference vs oracle): 3/3 clips, 54/54 frames bit-exact" in r.stdout


def test_train_ds_cnn_on_micro_features_exports(tmp_path):
    """`kwsnum train --frontend micro`: the ds_cnn input is the micro frontend's (1, 98, 40); the int8 export
    carries the frontend, saves, loads, and runs on a clip's features."""
    torch = pytest.importorskip("torch")
    from kwsnum import train
    from kwsnum.data import LABELS
    from kwsnum.export import from_torch
    from kwsnum.models import randomize_
    assert train.parse_args(["d", "--frontend", "micro", "--out", "o"]).frontend == "micro"
    fe = train.make_frontend("ds_cnn", "micro")
    assert isinstance(fe, MicroFrontend) and fe.output_shape == (1, 98, 40) and train.time_axis(fe) == -2
    net = train.build_model("ds_cnn", train.model_args("ds_cnn", 8, fe.output_shape, len(LABELS)))
    x = torch.from_numpy(fe.compute_batch([clip(s, 16000) for s in range(6)]))
    randomize_(net, seed=1, data=x)
    m = from_torch(net.eval(), x[:1], x, precision="int8", labels=LABELS, frontend=fe)
    kwsnum.save(m, tmp_path / "m.h5")
    m2 = kwsnum.load(tmp_path / "m.h5")
    assert m2.frontend == fe and np.array_equal(m2.run(x.numpy()), m.run(x.numpy()))
