"""A frontend stored in the model: HDF5 round trip, validation, and `kwsnum run model.h5 clip.wav`."""
import subprocess
import sys

import h5py
import numpy as np
import pytest

import kwsnum
import kwsnum.io
from kwsnum.builder import GraphBuilder
from kwsnum.errors import ModelError
from kwsnum.frontend import Frontend
from kwsnum.wav import write_wav


def raw_model(clip=256, frontend=True):
    """raw frontend (1, clip) -> quantize -> conv1d stride 8 -> global average pool -> reshape -> dequantize."""
    rng = np.random.default_rng(0)
    b = GraphBuilder(name="rawtiny")
    x = b.input("audio", (1, clip), "float32")
    q = b.add("quantize", "quant", [x], format="int8", scale=1 / 128, zero_point=0)
    h = b.add("conv1d", "conv", [q], dict(stride=(8,), act_min=-128, act_max=127),
              dict(weight=rng.integers(-127, 128, (3, 1, 8)).astype(np.int8), bias=np.zeros(3, np.int32),
                   multiplier=np.full(3, 1 << 30, np.int32), shift=np.full(3, -3, np.int32)),
              scale=0.05, zero_point=0)
    g = b.add("global_avgpool", "gap", [h], dict(multiplier=1 << 30, shift=0, act_min=-128, act_max=127),
              scale=0.05, zero_point=0)
    r = b.add("reshape", "flat", [g], dict(shape=(3,)), scale=0.05, zero_point=0)
    y = b.add("dequantize", "deq", [r], format="float32")
    fe = Frontend.raw(clip_samples=clip) if frontend else None
    return b.build([y], labels=["lo", "mid", "hi"], frontend=fe)


def test_frontend_round_trip_and_run_on_a_clip(tmp_path):
    m = raw_model()
    kwsnum.save(m, tmp_path / "m.h5")
    m2 = kwsnum.load(tmp_path / "m.h5")
    assert m2.frontend == m.frontend
    from kwsnum.report import summary
    assert summary(m2)["frontend"] == m.frontend.describe()
    clip = (np.random.default_rng(1).standard_normal(300) * 8000).astype(np.int16)
    feats = m2.frontend.compute(clip)
    assert feats.shape == (1, 256) and np.array_equal(feats[0], clip[:256] / np.float32(32768))
    assert np.array_equal(m.run(feats[None]), m2.run(feats[None]))


def test_frontend_shape_must_match_the_input(tmp_path):
    m = raw_model()
    kwsnum.save(m, tmp_path / "m.h5")
    with h5py.File(tmp_path / "m.h5", "r+") as f:
        f["frontend"].attrs["clip_samples"] = 300
    kwsnum.io.sign(tmp_path / "m.h5")
    with pytest.raises(ModelError, match=r"/frontend: the frontend produces \(1, 300\)"):
        kwsnum.load(tmp_path / "m.h5")


def test_frontend_bad_attribute_names_frontend(tmp_path):
    kwsnum.save(raw_model(), tmp_path / "m.h5")
    with h5py.File(tmp_path / "m.h5", "r+") as f:
        f["frontend"].attrs["kind"] = "spectrogram"
    kwsnum.io.sign(tmp_path / "m.h5")
    with pytest.raises(ModelError, match="/frontend"):
        kwsnum.load(tmp_path / "m.h5")


def kw(*args):
    return subprocess.run([sys.executable, "-m", "kwsnum", *map(str, args)], capture_output=True, text=True,
                          timeout=600)


def test_cli_runs_wav_clips(tmp_path):
    m = raw_model()
    kwsnum.save(m, tmp_path / "m.h5")
    rng = np.random.default_rng(2)
    clips = [(rng.standard_normal(256) * 3000 * (i + 1)).astype(np.int16) for i in range(2)]
    for i, c in enumerate(clips):
        write_wav(tmp_path / f"c{i}.wav", c, 16000)
    r = kw("run", tmp_path / "m.h5", tmp_path / "c0.wav", tmp_path / "c1.wav")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    want = m.run(np.stack([m.frontend.compute(c) for c in clips]))
    for line, row in zip(lines, want):
        assert line.split("\t")[1].split()[0] == m.labels[int(np.argmax(row))]


def test_cli_wav_errors(tmp_path):
    kwsnum.save(raw_model(frontend=False), tmp_path / "nofe.h5")
    kwsnum.save(raw_model(), tmp_path / "m.h5")
    write_wav(tmp_path / "c.wav", np.zeros(256, np.int16), 16000)
    write_wav(tmp_path / "c8k.wav", np.zeros(256, np.int16), 8000)
    r = kw("run", tmp_path / "nofe.h5", tmp_path / "c.wav")
    assert r.returncode == 2 and "stores no audio frontend" in r.stderr and "Traceback" not in r.stderr
    r = kw("run", tmp_path / "m.h5", tmp_path / "c8k.wav")
    assert r.returncode == 2 and "c8k.wav" in r.stderr and "8000" in r.stderr and "Traceback" not in r.stderr


def test_from_torch_stores_the_frontend(tmp_path):
    import torch
    from kwsnum.export import from_torch
    net = torch.nn.Sequential(torch.nn.Conv1d(1, 4, 8, stride=8), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool1d(1),
                              torch.nn.Flatten(), torch.nn.Linear(4, 3)).eval()
    fe = Frontend.raw(clip_samples=256)
    m = from_torch(net, None, torch.randn(8, 1, 256) * 0.3, frontend=fe, labels=["a", "b", "c"])
    kwsnum.save(m, tmp_path / "m.h5")
    assert kwsnum.load(tmp_path / "m.h5").frontend == fe
    with pytest.raises(kwsnum.ExportError, match="/frontend"):
        from_torch(net, None, torch.randn(8, 1, 256), frontend=Frontend.raw(clip_samples=300))
