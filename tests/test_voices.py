"""Synthesizer backends, the multi-synthesizer generator, acoustic augmentation, the held-out-synthesizer split."""
import os
import wave

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from kwsnum.data import augment, voices
from kwsnum.data.voices import SYNTHS

pytest.importorskip("scipy")

AVAILABLE = voices.available()
WORDS = ["yes", "left", "seven"]


def _info(path):
    with wave.open(str(path), "rb") as w:
        return (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes(),
                np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float64))


def _needs(name):
    why = voices.get(name).unavailable()
    if why:
        pytest.skip(f"{name}: {why}")


# ------------------------------------------------------------------------------------------- backends
@pytest.mark.parametrize("name", SYNTHS)
def test_backend_speaks_the_word(name):
    """Each installed backend: a deterministic, plausible-length utterance of the word at 16 kHz; another word
    (or another speaker) sounds different."""
    _needs(name)
    b = voices.get(name)
    sps = b.speakers()
    assert sps and all(sp.synth == name for sp in sps)
    assert len({voices.speaker_id(sp) for sp in sps}) == len(sps)
    sp = sps[len(sps) // 2]
    out = {}
    for w in WORDS:
        x, params = b.synthesize(w, sp, np.random.default_rng(3))
        y, _ = b.synthesize(w, sp, np.random.default_rng(3))
        assert np.array_equal(x, y)                                 # deterministic
        assert x.dtype == np.float64 and x.ndim == 1
        trimmed = __import__("kwsnum.data.synth", fromlist=["_trim"])._trim(x)
        assert 0.12 * 16000 < trimmed.size < 1.6 * 16000, (w, trimmed.size)   # a word, not silence or a sentence
        assert np.sqrt(np.mean(trimmed ** 2)) > 0.005
        assert set(params) == {"rate", "pitch", "emphasis", "warp"}
        out[w] = trimmed
    assert out["seven"].size > out["yes"].size * 0.9                # two syllables take longer than one
    other, _ = b.synthesize("yes", sps[0] if sps[0] != sp else sps[-1], np.random.default_rng(3))
    assert not (other.size == out["yes"].size and np.allclose(other, out["yes"]))


def test_every_festival_voice_speaks():
    """Each installed festival voice (diphone voices with their pitch control, the HTS voice without) gives a word
    at 16 kHz, and the voices differ."""
    _needs("festival")
    b = voices.get("festival")
    got = {}
    for v in sorted({sp.voice for sp in b.speakers()}):
        x, params = b.synthesize("left", voices.Speaker("festival", v, "w100"), np.random.default_rng(1))
        t = __import__("kwsnum.data.synth", fromlist=["_trim"])._trim(x)
        assert 0.12 * 16000 < t.size < 1.6 * 16000 and np.sqrt(np.mean(t ** 2)) > 0.005, v
        assert (params["pitch"] > 0) == v.endswith("_diphone")
        got[v] = t
    assert len({(t.size, round(float(np.sum(t ** 2)), 3)) for t in got.values()}) == len(got)


def test_unknown_synth_is_an_error():
    with pytest.raises(ValueError, match="unknown synthesizer"):
        voices.get("sam")


def test_missing_synth_is_skipped_with_a_message(monkeypatch):
    from kwsnum.data import synth
    monkeypatch.setattr(voices.Piper, "unavailable", lambda self: "needs piper-tts (test)")
    msgs = []
    names = synth.resolve_synths(["piper"] + AVAILABLE, msgs.append)
    assert "piper" not in names and names == [n for n in AVAILABLE if n != "piper"]
    assert msgs == ["kwsnum.data.synth: skipping piper: needs piper-tts (test)"]
    with pytest.raises(RuntimeError, match="no synthesizer available"):
        synth.resolve_synths(["piper"], msgs.append)


# ------------------------------------------------------------------------------------------- generator
@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    from kwsnum.data.synth import generate
    if "espeak" not in AVAILABLE or len(AVAILABLE) < 2:
        pytest.skip(f"needs espeak-ng and another synthesizer (available: {AVAILABLE})")
    root = tmp_path_factory.mktemp("mixed")
    n = len(AVAILABLE)
    generate(root, seed=0, keywords=["yes", "left", "stop"], per_word=2 * n, unknown_words=["seven"],
             per_unknown_word=n, n_speakers=10, jobs=2, noise_seconds=2.0, log=lambda m: None)
    return root


def test_generator_mixes_every_synth(mixed):
    from kwsnum.data.synth import METADATA_COLUMNS, read_speakers
    rows = [dict(zip(METADATA_COLUMNS, r.split(","))) for r in (mixed / "metadata.csv").read_text().splitlines()[1:]]
    assert len(rows) == 3 * 2 * len(AVAILABLE) + len(AVAILABLE)
    for word in ("yes", "left", "stop", "seven"):
        got = sorted(r["synth"] for r in rows if r["path"].startswith(word + "/"))
        per = 2 if word != "seven" else 1
        assert got == sorted(AVAILABLE * per)                       # an equal share per synthesizer
    table = read_speakers(mixed)
    for r in rows:
        ch, width, rate, n, x = _info(mixed / r["path"])
        assert (ch, width, rate, n) == (1, 2, 16000, 16000)
        sid = r["path"].split("/")[1].split("_nohash_")[0]
        assert table[sid][0].synth == r["synth"] and table[sid][0].voice == r["voice"]
        off, length = int(r["offset"]), int(r["length"])
        assert 0 <= off and off + length <= 16000 and length > 1600
        assert np.sqrt(np.mean(x[off:off + length] ** 2)) > 100
    assert any(r["augment"] for r in rows)                          # the augmentation ran on some clips
    for synth in AVAILABLE:                                          # every synthesizer has speakers in every split
        assert {s for sp, s in table.values() if sp.synth == synth} == {"training", "validation", "testing"}


def test_generator_deterministic_across_jobs(mixed, tmp_path):
    from kwsnum.data.synth import generate
    n = len(AVAILABLE)
    generate(tmp_path, seed=0, keywords=["yes", "left", "stop"], per_word=2 * n, unknown_words=["seven"],
             per_unknown_word=n, n_speakers=10, jobs=1, noise_seconds=2.0, log=lambda m: None)
    for d, _, names in os.walk(mixed):
        for name in names:
            rel = os.path.relpath(os.path.join(d, name), mixed)
            assert (mixed / rel).read_bytes() == (tmp_path / rel).read_bytes(), rel


def test_holdout_split_excludes_the_engine(mixed):
    """kwsnum.train --holdout-synth: no clip of the held-out synthesizer in train or validation; the test is every
    clip of it (all three lists) plus silence."""
    from kwsnum.data import speaker_of
    from kwsnum.data.synth import read_speakers
    from kwsnum.train import load_items, synth_selection
    table = read_speakers(mixed)
    all_clips = [f"{w}/{n}" for w in os.listdir(mixed) if not w.startswith("_") and (mixed / w).is_dir()
                 for n in os.listdir(mixed / w)]
    for held in AVAILABLE:
        items = load_items(mixed, synth_selection(mixed, None, held), seed=0)
        synth_of = {k: {table[speaker_of(p)][0].synth for p, _ in v if p is not None} for k, v in items.items()}
        assert held not in synth_of["train"] | synth_of["validation"]
        assert synth_of["train"] == set(AVAILABLE) - {held}
        assert synth_of["test"] == {held}
        test_paths = {os.path.relpath(p, mixed) for p, _ in items["test"] if p is not None}
        held_clips = {c for c in all_clips if table[speaker_of(c)][0].synth == held}
        # balance_unknown may drop some unknown clips; every keyword clip of the engine is in the test
        assert {c for c in held_clips if not c.startswith("seven/")} <= test_paths <= held_clips
        assert any(p is None for p, _ in items["test"])                # silence too
    only = load_items(mixed, synth_selection(mixed, "espeak", None), seed=0)
    assert {table[speaker_of(p)][0].synth for v in only.values() for p, _ in v if p is not None} == {"espeak"}
    with pytest.raises(ValueError, match="no speaker of synthesizer"):
        synth_selection(mixed, None, "sam")


def test_train_augmented_copies_deterministic_and_length_preserving(mixed):
    """kwsnum.train --augment-copies: K copies per clip, each the clip's length and dtype, the same from the same
    seed (a clip's copy does not depend on the others), changed by the augmentation, other copies from another
    seed."""
    from kwsnum.data import load_arrays, load_split
    from kwsnum.train import augmented_copies
    clips, _ = load_arrays(load_split(mixed, "train")[:3])
    a = augmented_copies(mixed, clips, 2, seed=4)
    assert a.shape == (6,) + clips.shape[1:] and a.dtype == clips.dtype == np.int16
    assert np.array_equal(a, augmented_copies(mixed, clips, 2, seed=4))
    assert np.array_equal(a[[0, 3]], augmented_copies(mixed, clips[:1], 2, seed=4))
    assert not any(np.array_equal(a[j * 3 + i], clips[i]) for j in range(2) for i in range(3))
    assert not any(np.array_equal(a[i], a[3 + i]) for i in range(3))           # copy 0 and copy 1 differ
    assert not np.array_equal(a, augmented_copies(mixed, clips, 2, seed=5))


# ------------------------------------------------------------------------------------------- augmentation
RIRS = augment.room_impulse_responses(0, n=4)
NOISES = [np.random.default_rng(1).standard_normal(40000) * 3000]


@settings(deadline=None)
@given(n=st.integers(1, 24000), seed=st.integers(0, 2 ** 32 - 1), dtype=st.sampled_from(["int16", "float64"]))
def test_augment_clip_deterministic_and_length_preserving(n, seed, dtype):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n) * rng.uniform(10, 8000)
    x = np.clip(np.round(x), -32768, 32767).astype(np.int16) if dtype == "int16" else x / 32768
    a, da = augment.augment_clip(x, np.random.default_rng([seed, 7]), NOISES, RIRS)
    b, db = augment.augment_clip(x, np.random.default_rng([seed, 7]), NOISES, RIRS)
    assert a.shape == x.shape and a.dtype == x.dtype
    assert np.array_equal(a, b) and da == db
    assert np.all(np.isfinite(a.astype(np.float64)))


def test_augment_does_something_and_seeds_differ():
    x = (np.sin(2 * np.pi * 300 * np.arange(16000) / 16000) * 5000 * (np.arange(16000) > 4000)).astype(np.int16)
    outs = [augment.augment_clip(x, np.random.default_rng(s), NOISES, RIRS) for s in range(8)]
    assert all(not np.array_equal(o, x) for o, _ in outs)
    assert len({o.tobytes() for o, _ in outs}) == 8
    kinds = set().union(*(d for _, d in outs))
    assert {"noise", "gain_db"} <= kinds and len(kinds) >= 5          # several steps ran over 8 draws
    none, d = augment.augment_clip(x, np.random.default_rng(0), NOISES, RIRS, augment.NONE)
    assert np.array_equal(none, x) and d == {"gain_db": 0.0}


def test_augment_word_steps():
    x = np.random.default_rng(2).standard_normal(8000) * 0.1
    y, d = augment.augment_word(x, np.random.default_rng(5), RIRS)
    z, e = augment.augment_word(x, np.random.default_rng(5), RIRS)
    assert np.array_equal(y, z) and d == e
    on = augment.AugmentConfig(p_warp=1.0, p_reverb=1.0, p_colour=0.0, p_telephone=1.0)
    y, d = augment.augment_word(x, np.random.default_rng(5), RIRS, on)
    assert set(d) == {"warp", "reverb", "band"} and d["band"] == "telephone"
    assert y.size == int(round(8000 / d["warp"])) + len(RIRS[int(d["reverb"].split(":")[0])]) - 1 or \
        abs(y.size - (8000 / d["warp"] + len(RIRS[int(d["reverb"].split(":")[0])]) - 1)) <= 2
    # the telephone band removes what is below 300 Hz
    t = np.arange(16000) / 16000
    lo = augment.telephone(np.sin(2 * np.pi * 100 * t))[4000:]
    mid = augment.telephone(np.sin(2 * np.pi * 1000 * t))[4000:]
    assert np.sqrt(np.mean(lo ** 2)) < 0.1 * np.sqrt(np.mean(mid ** 2))


def test_room_impulse_responses_deterministic():
    a, b = augment.room_impulse_responses(3, n=3), augment.room_impulse_responses(3, n=3)
    c = augment.room_impulse_responses(4, n=3)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not all(x.shape == y.shape and np.array_equal(x, y) for x, y in zip(a, c))
    for h in a:
        assert np.max(np.abs(h)) == pytest.approx(1.0) and np.argmax(np.abs(h)) < 0.01 * 16000
