"""The wake-word trainer's entry point on a tiny fabricated folder (tones for the wake phrase, noise for the rest:
no speech synthesis, one epoch), the frontend context of its features, and the vectorized detector == the
step-by-step integer Detector (a property over random scores)."""
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kwsnum import detector as kdet
from kwsnum.wav import write_wav


def _folder(root, seed=0):
    """A kwsnum.data.wakeword-style folder: speakers.txt, hey_kiwi/ (chirps), hey/ (a confusable: a short tone),
    bed/ (noise bursts), _background_noise_/."""
    rng = np.random.default_rng(seed)
    t = np.arange(16000) / 16000
    splits = ["training"] * 4 + ["validation", "testing"]
    with open(root / "speakers.txt", "w") as f:
        for i, s in enumerate(splits):
            f.write(f"s{i:07x} espeak/en+m{i} {s}\n")
    for d in ("hey_kiwi", "hey", "bed", "_background_noise_"):
        (root / d).mkdir()
    write_wav(root / "_background_noise_" / "noise.wav", (rng.standard_normal(48000) * 200).astype(np.int16))
    for i in range(len(splits)):
        for k in range(3):
            chirp = np.sin(2 * np.pi * (500 + 1500 * t) * t) * (np.abs(t - 0.5) < 0.3)
            write_wav(root / "hey_kiwi" / f"s{i:07x}_nohash_{k}.wav",
                      (chirp * 8000 + rng.standard_normal(16000) * 100).astype(np.int16))
            tone = np.sin(2 * np.pi * 700 * t) * (np.abs(t - 0.5) < 0.1)
            write_wav(root / "hey" / f"s{i:07x}_nohash_{k}.wav", (tone * 8000).astype(np.int16))
            write_wav(root / "bed" / f"s{i:07x}_nohash_{k}.wav",
                      (rng.standard_normal(16000) * 1500 * (np.abs(t - 0.5) < 0.2)).astype(np.int16))
    # validation audio: noise with two chirps at known times
    x = rng.standard_normal(16000 * 6) * 100
    for s in (1.0, 4.0):
        x[int(s * 16000):int(s * 16000) + 16000] += np.sin(2 * np.pi * (500 + 1500 * t) * t) * 8000
    write_wav(root / "val.wav", np.clip(x, -32768, 32767).astype(np.int16))
    with open(root / "val.csv", "w") as f:
        f.write("start,end,speaker\n1.2000,1.8000,x\n4.2000,4.8000,x\n")


def test_entry_point_trains_exports_and_stores_a_detector(tmp_path):
    pytest.importorskip("torch")
    import kwsnum
    from kwsnum import streaming
    from kwsnum.train_wakeword import main
    _folder(tmp_path)
    out = tmp_path / "out"
    rc = main([str(tmp_path), "--out", str(out), "--epochs", "1", "--batch-size", "8", "--noise-clips", "5",
               "--threads", "1", "--val-audio", str(tmp_path / "val.wav"), "--quiet"])
    assert rc == 0
    sm = kwsnum.load(out / "wakeword_int8.h5")
    wm = kwsnum.load(out / "wakeword_window_int8.h5")
    sm.validate()         # kwsnum.model's checks (load ran them too)
    wm.validate()
    info = streaming.info(sm)
    assert info["window"] == wm.input.shape[-1] == sm.frontend.output_shape[-1]
    assert not streaming.is_streaming(wm) and streaming.state_bytes(sm) > 0
    p = kdet.params_of(sm)
    rep = json.loads((out / "report.json").read_text())
    assert rep["detector"]["threshold_sum"] == p.threshold_sum and p.label == 1 and p.against == 0
    assert rep["data"]["counts"]["training"] == dict(clips=2 * (4 * 9 + 5), hey_kiwi=24, confusable=24)  # + context copies
    rows = (out / "validation_sweep.csv").read_text().splitlines()
    assert len(rows) > 1 and rows[0].startswith("window,threshold")
    # the windowed model is the streaming model's windowed form: same output on one window of features
    x = sm.frontend.compute(np.zeros(sm.frontend.clip_samples, np.int16))[None]
    s = sm.stream()
    y = s.push(x[0])
    np.testing.assert_array_equal(y[-1], wm.run(x)[0])


def test_context_features_window_is_the_clip_after_a_warm_frontend():
    from kwsnum.micro import MicroFrontend
    from kwsnum.train_wakeword import MAX_SHIFT_FRAMES as S
    from kwsnum.train_wakeword import context_features
    fe = MicroFrontend.microwakeword(layout="coeff_major", channel_axis=False)
    rng = np.random.default_rng(1)
    clips = (rng.standard_normal((3, 16000)) * 1000).astype(np.int16)
    X = context_features(fe, clips, np.random.default_rng(0))
    W = fe.output_shape[-1]
    assert X.shape == (3, 40, W + 2 * S)
    # the centre window equals the frames of the stateful frontend run over (prefix, clip) at the clip's frames
    s = fe.stream()
    r = np.random.default_rng(0)
    j = int(r.integers(2))
    j += j >= 0
    f = s.push(np.concatenate([clips[j], clips[0]]))
    ref = (f.astype(np.float32) * np.float32(fe.out_scale)).T[:, -W:]
    np.testing.assert_array_equal(X[0, :, S:S + W], ref)
    # not the features of the clip alone (the frontend state differs after the prefix)
    assert not np.array_equal(X[0, :, S:S + W], fe.compute(clips[0]))


@settings(deadline=None)
@given(st.data())
def test_vectorized_detector_equals_the_step_detector(data):
    n = data.draw(st.integers(0, 60))
    window = data.draw(st.integers(1, 6))
    refractory = data.draw(st.integers(0, 8))
    warmup = data.draw(st.integers(0, 5))
    q = np.array(data.draw(st.lists(st.lists(st.integers(-128, 127), min_size=2, max_size=2), min_size=n,
                                    max_size=n)), np.int64).reshape(n, 2)
    thr = data.draw(st.integers(-400, 400))
    p = kdet.DetectorParams(label=1, window=window, threshold_sum=thr, refractory=refractory, against=0)
    steps, sums = kdet.moving_sums(p, kdet.scores(p, q), warmup)
    assert kdet.detect_sums(p, steps, sums) == kdet.detect(p, q, warmup)


def test_matching_rule():
    from kwsnum.wake_eval import rates
    ev = [(1.0, 2.0, "a"), (10.0, 11.0, "b"), (20.0, 21.0, "c")]
    r = rates([0.5, 1.5, 1.9, 11.4, 30.0], ev, seconds=3600.0, tolerance=0.5)
    # 0.5: before the first positive; 1.5 accepts a; 1.9: a second detection inside a: false; 11.4 accepts b
    # (11.0 + 0.5 tolerance); c missed; 30.0 false
    assert (r["missed"], r["false_accepts"], r["positives"]) == (1, 3, 3)
    assert r["frr"] == pytest.approx(1 / 3) and r["fa_per_hour"] == pytest.approx(3.0)
    assert r["false_accept_times"] == [0.5, 1.9, 30.0]


def test_entry_point_errors_are_one_line(tmp_path, capsys):
    from kwsnum.train_wakeword import main
    assert main([str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("kwsnum.train_wakeword: error: ") and "speakers.txt" in err[0]
    _folder(tmp_path)
    assert main([str(tmp_path), "--out", str(tmp_path / "out"), "--val-audio", str(tmp_path / "none.wav")]) == 2
    assert "needs its .csv" in capsys.readouterr().err
