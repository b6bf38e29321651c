"""kwsnum's micro frontend == TFLM's microfrontend C code (pymicro-features, microWakeWord's settings) on every
value of every frame: espeak-ng speech at three levels (quiet, normal, clipped), white and pink-ish noise,
silence, tones and sweeps, full-scale square waves, DC offsets. pymicro-features returns uint16 * 0.0390625
as floats: the test checks every value is such an exact multiple and compares the integers."""
import shutil
import subprocess

import numpy as np
import pytest

pmf = pytest.importorskip("pymicro_features")

from kwsnum.micro import MicroFrontend, Stream   # noqa: E402

SCALE = 0.0390625
SENTENCES = ["Hey computer, turn on the kitchen lights and set a timer for ten minutes.",
             "Okay nabu, what is the weather like tomorrow morning in Amsterdam?",
             "Seven, yes, no, up, down, left, right, on, off, stop, go, zero, one, two.",
             "The quick brown fox jumps over the lazy dog while the radio plays quietly."]
VOICES = ["en", "en-us+f3", "en+m7", "en-gb-x-rp+f2"]


def reference(x):
    """pymicro-features frames of int16 signal x (a fresh frontend, 160-sample chunks): uint16 (F, 40)."""
    fr = pmf.MicroFrontend()
    out = []
    for i in range(0, x.shape[0] - 159, 160):
        o = fr.process_samples(x[i:i + 160].astype("<i2").tobytes())
        assert o.samples_read == 160
        if o.features:
            out.append(o.features)
    f = np.array(out, np.float64).reshape(-1, 40)
    q = np.round(f / SCALE)
    assert np.array_equal(q * SCALE, f), "pymicro-features values are not multiples of 10/256"
    return q.astype(np.int64)


def speech(seed):
    """espeak-ng sentences in four voices, or None without espeak-ng (the other signals still run)."""
    if shutil.which("espeak-ng") is None:
        return None
    parts = []
    for i, (s, v) in enumerate(zip(SENTENCES, VOICES)):
        r = subprocess.run(["espeak-ng", "-v", v, "-s", str(140 + 20 * i), "--stdout", s], capture_output=True,
                           check=True)
        wav = r.stdout
        # espeak-ng writes a 44-byte WAV header (its rate, 22050 Hz, at byte 24); resample linearly to 16 kHz
        rate = int.from_bytes(wav[24:28], "little")
        y = np.frombuffer(wav[44:44 + (len(wav) - 44) // 2 * 2], "<i2").astype(np.float64)
        t = np.arange(0, y.shape[0] - 1, rate / 16000)
        parts.append(np.interp(t, np.arange(y.shape[0]), y))
        parts.append(np.zeros(4000))
    return np.concatenate(parts)


def signals():
    rng = np.random.default_rng(12)
    n = 16000 * 30
    t = np.arange(n) / 16000
    out = {}
    sp = speech(0)
    for level, gain in (("quiet", 0.03), ("normal", 1.0), ("clipped", 6.0)) if sp is not None else ():
        out[f"speech_{level}"] = sp * gain + rng.standard_normal(sp.shape[0]) * 3 * gain
    out["white_noise"] = rng.standard_normal(n) * 4000
    out["loud_noise"] = rng.standard_normal(n) * 30000
    b = np.cumsum(rng.standard_normal(n))
    out["brown_noise"] = (b - np.convolve(b, np.ones(400) / 400, "same")) * 300
    out["silence"] = np.zeros(n)
    out["tones"] = sum(np.sin(2 * np.pi * f * t) * 5000 for f in (100, 440, 1000, 3000, 7000))
    out["sweep"] = np.sin(2 * np.pi * (50 + 7900 * t / 20) * t) * 20000
    out["square"] = np.where(np.sin(2 * np.pi * 250 * t) >= 0, 32767.0, -32768.0)
    out["dc_offset"] = 12000 + rng.standard_normal(n) * 500
    out["dc_negative_full"] = np.full(n, -32768.0)
    out["impulses"] = np.where(np.arange(n) % 777 == 0, 32767.0, 0.0)
    return {k: np.clip(np.round(v), -32768, 32767).astype(np.int16) for k, v in out.items()}


def test_micro_equals_pymicro_features():
    fe = MicroFrontend.microwakeword()
    total = 0
    for name, x in signals().items():
        ref = reference(x)
        ours = Stream(fe).push(x).astype(np.int64)
        assert ours.shape == ref.shape, name
        bad = np.argwhere(ours != ref)
        assert bad.size == 0, f"{name}: {bad.shape[0]} values differ, first at frame/channel {bad[0]}"
        total += x.shape[0]
    print(f"pymicro-features equality on {total / 16000 / 60:.2f} minutes of audio")
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed: checked every signal but the speech")


def test_micro_compute_matches_pymicro_floats():
    """MicroFrontend.compute gives pymicro-features' floats exactly (float32 uint16 * 0.0390625)."""
    fe = MicroFrontend.microwakeword()
    x = signals()["white_noise"][:16000]
    ref = reference(x) * SCALE
    got = fe.compute(x)
    assert got.shape == (1, 98, 40) and got.dtype == np.float32
    assert np.array_equal(got[0].astype(np.float64), ref)
