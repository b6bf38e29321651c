"""The wake-word generators (kwsnum.data.wakeword): deterministic from the seed, 1 s clips, positives of the long
audio exactly at the times its CSV states, evaluation speakers disjoint from the training speakers."""
import hashlib
import os
import wave

import numpy as np
import pytest

from kwsnum.data import voices, wakeword

pytestmark = pytest.mark.skipif(voices.get("espeak").unavailable() is not None, reason="needs espeak-ng and sox")


def _digest(root):
    h = hashlib.sha256()
    for d, _, files in sorted(os.walk(root)):
        if "_background_noise_" in d:          # the clips alone (the noise files depend on the seed anyway)
            continue
        for f in sorted(files):
            p = os.path.join(d, f)
            h.update(os.path.relpath(p, root).encode())
            with open(p, "rb") as fh:
                h.update(fh.read())
    return h.hexdigest()


def _read(path):
    with wave.open(str(path), "rb") as w:
        return np.frombuffer(w.readframes(w.getnframes()), "<i2")


def test_clips_deterministic_and_one_second(tmp_path):
    kw = dict(per_phrase=2, per_negative=1, synths=["espeak"], negatives=["hey kevin"])
    assert wakeword.generate(tmp_path / "a", seed=5, **kw) == 3
    wakeword.generate(tmp_path / "b", seed=5, **kw)
    wakeword.generate(tmp_path / "c", seed=6, **kw)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")
    wavs = sorted((tmp_path / "a" / "hey_kiwi").glob("*.wav")) + sorted((tmp_path / "a" / "hey_kevin").glob("*.wav"))
    assert len(wavs) == 3
    for p in wavs:
        x = _read(p)
        assert x.size == 16000 and np.abs(x).max() > 0


def test_long_audio_positives_at_stated_times_and_deterministic(tmp_path):
    kw = dict(seconds=20.0, synths=["espeak"], positive_every=3.0, noise=False, negatives=False, augment=False)
    ev = wakeword.long_audio(tmp_path / "l.wav", seed=2, **kw)
    assert len(ev) >= 2
    assert wakeword.read_events(tmp_path / "l.csv") == [(round(a, 4), round(b, 4), s) for a, b, s in ev]
    x = _read(tmp_path / "l.wav")
    assert x.size == 20 * 16000
    inside = np.zeros(x.size, bool)
    for a, b, _ in ev:
        i, j = int(round(a * 16000)), int(round(b * 16000))
        assert np.abs(x[i:j]).max() > 100                 # the phrase is there
        inside[i:j] = True
    assert not np.any(x[~inside])                          # and nothing else (no noise, no negatives)
    wakeword.long_audio(tmp_path / "m.wav", seed=2, **kw)
    assert _read(tmp_path / "m.wav").tobytes() == x.tobytes()


def test_long_audio_speakers_disjoint_from_training(tmp_path):
    wakeword.generate(tmp_path / "train", seed=4, per_phrase=6, per_negative=1, synths=["espeak"],
                      negatives=["kiwi"], augment=False)
    split = {}
    with open(tmp_path / "train" / "speakers.txt") as f:
        for line in f:
            _, name, s = line.split()
            split[name] = s
    assert {"training", "testing"} <= set(split.values())
    ev = wakeword.long_audio(tmp_path / "l.wav", seed=9, split_seed=4, seconds=15.0, synths=["espeak"],
                             positive_every=3.0, noise=False, augment=False)
    assert ev
    train_speakers = {n for n, s in split.items() if s == "training"}
    for _, _, sp in ev:
        assert split[sp] == "testing" and sp not in train_speakers
    # --speakers validation: audio to choose a detector on, by the validation speakers only
    ev = wakeword.long_audio(tmp_path / "v.wav", seed=9, split_seed=4, seconds=15.0, synths=["espeak"],
                             positive_every=3.0, noise=False, augment=False, speakers="validation")
    assert ev and all(split[sp] == "validation" for _, _, sp in ev)
