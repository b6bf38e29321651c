"""The float frontends in C (c_runtime/kws_logmel.c via codegen/frontend_emit.py): float32 C vs the float64
numpy frontend within the tolerance of docs/frontend.md ("The float frontends in C"), on adversarial signals and
several configurations; raw is exact; <name>_classify_pcm equals the oracle run on the C features."""
import subprocess

import numpy as np
import pytest

from kwsnum.builder import GraphBuilder
from kwsnum.frontend import Frontend, c_tolerance
from kwsnum.wav import write_wav


def tiny(fe):
    b = GraphBuilder(name="fe")
    x = b.input("features", fe.output_shape, "float32")
    q = b.add("quantize", "quant", [x], format="int8", scale=0.05, zero_point=0)
    g = b.add("reshape", "flat", [q], dict(shape=(int(np.prod(fe.output_shape)),)), scale=0.05, zero_point=0)
    y = b.add("dequantize", "deq", [g], format="float32")
    return b.build([y], frontend=fe)


def signals(n):
    rng = np.random.default_rng(3)
    t = np.arange(n) / 16000
    out = [rng.standard_normal(n) * 3000, np.sin(2 * np.pi * 1000 * t) * 30000, np.zeros(n),
           np.clip(rng.standard_normal(n) * 60000, -32768, 32767), np.where(np.arange(n) % 500 == 0, 32767, 0),
           np.sin(2 * np.pi * (100 + 3000 * t) * t) * 20000, rng.integers(-2, 3, n), np.full(n, -32768),
           np.sin(2 * np.pi * 7999 * t) * 32767 + rng.standard_normal(n), rng.standard_normal(n // 3) * 5000]
    return [np.clip(np.round(x), -32768, 32767).astype(np.int16) for x in out]


CONFIGS = {
    "logmel": Frontend.logmel(),
    "logmel_norm": Frontend.logmel(mean=-5.7, std=4.6),
    "mlperf_mfcc": Frontend.mlperf_mfcc(),
    "mfcc40": Frontend.mfcc(n_mels=40, n_mfcc=40, hop_length=160, center=True, layout="coeff_major",
                            channel_axis=False),
    "magnitude_short": Frontend.logmel(n_fft=256, win_length=200, hop_length=128, power=1.0, n_mels=32,
                                       clip_samples=8000),
    "raw": Frontend.raw(clip_samples=4000),
}


@pytest.mark.parametrize("key", sorted(CONFIGS))
def test_float_frontend_in_c(tmp_path, key):
    from kwsnum.codegen import build, generate
    fe = CONFIGS[key]
    m = tiny(fe)
    exe = build(generate(m, tmp_path / "c", name="kws").path, werror=True)
    worst = 0.0
    for i, x in enumerate(signals(fe.clip_samples)):
        write_wav(tmp_path / "x.wav", x, 16000)
        r = subprocess.run([exe, "--frames", tmp_path / "x.wav", tmp_path / "f.bin"], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        got = np.fromfile(tmp_path / "f.bin", "<f4").reshape(fe.output_shape)
        ref = fe.compute(x)
        if fe.kind == "raw":
            assert np.array_equal(got, ref)
        else:
            # in log units before the normalisation: (|c - numpy| - rtol |numpy|) * std <= atol
            atol, rtol = c_tolerance(fe)
            err = (np.abs(got.astype(np.float64) - ref) - rtol * np.abs(ref)) * fe.std
            worst = max(worst, float(err.max()))
            assert np.all(err <= atol), (key, i, float(np.abs(got - ref).max()))
        r = subprocess.run([exe, tmp_path / "x.wav", tmp_path / "y.bin"], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        assert np.array_equal(np.fromfile(tmp_path / "y.bin", "<f4"), m.run(got[None])[0])
    print(f"{key}: worst |C - numpy| - rtol |numpy| = {worst:.3g}")
