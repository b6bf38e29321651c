"""kwsnum.data: the Speech Commands loader (always) and the espeak-ng generator (needs espeak-ng, sox)."""
import collections
import os
import pickle
import shutil
import wave

import numpy as np
import pytest

from kwsnum.data import LABELS, load_arrays, load_audio, load_split, speaker_of

HAVE_TOOLS = shutil.which("espeak-ng") is not None and shutil.which("sox") is not None
needs_tools = pytest.mark.skipif(not HAVE_TOOLS, reason="espeak-ng and sox are not installed")

KEYWORDS = ["yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"]


def _write(path, x, rate=16000):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.asarray(x, "<i2").tobytes())


def _wav_info(path):
    with wave.open(str(path), "rb") as w:
        return (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes(),
                np.frombuffer(w.readframes(w.getnframes()), "<i2"))


def _rms(x):
    return float(np.sqrt(np.mean(np.asarray(x, np.float64) ** 2)))


# --------------------------------------------------------------------------- hand-made folder

@pytest.fixture(scope="module")
def tones(tmp_path_factory):
    """A tiny Speech Commands layout of sine tones: 4 speakers x (yes, no, stop, bed, cat, dog)."""
    root = tmp_path_factory.mktemp("tones")
    t = np.arange(16000) / 16000
    words = ["yes", "no", "stop", "bed", "cat", "dog"]
    for wi, word in enumerate(words):
        for si, spk in enumerate(["aaaa0001", "bbbb0002", "cccc0003", "dddd0004"]):
            n = 12000 if si == 1 else 17000 if si == 2 else 16000   # short / long clips too
            x = (3000 * np.sin(2 * np.pi * (200 + 100 * wi + 10 * si) * t[:n] * (n / 16000))).round()
            _write(root / word / f"{spk}_nohash_0.wav", x)
    rng = np.random.default_rng(1)
    _write(root / "_background_noise_" / "white.wav", (rng.standard_normal(3 * 16000) * 1000).round())
    _write(root / "_background_noise_" / "tone.wav", (2000 * np.sin(2 * np.pi * 60 * np.arange(40000) / 16000)).round())
    (root / "_background_noise_" / "README.md").write_text("noise\n")
    (root / "LICENSE").write_text("x\n")
    (root / "validation_list.txt").write_text("".join(f"{w}/cccc0003_nohash_0.wav\n" for w in words))
    (root / "testing_list.txt").write_text("".join(f"{w}/dddd0004_nohash_0.wav\n" for w in words))
    return root


def test_loader_splits_and_labels(tones):
    for split, spk in [("train", {"aaaa0001", "bbbb0002"}), ("validation", {"cccc0003"}),
                       ("test", {"dddd0004"})]:
        items = load_split(tones, split, silence_fraction=0.0)
        assert len(items) == 6 * len(spk)
        assert {speaker_of(p) for p, _ in items} == spk
        for path, label in items:
            word = os.path.basename(os.path.dirname(path))
            assert LABELS[label] == (word if word in KEYWORDS else "unknown")
    assert len(load_split(tones, "training", silence_fraction=0)) == 12      # aliases
    assert len(load_split(tones, "testing", silence_fraction=0)) == 6
    with pytest.raises(ValueError):
        load_split(tones, "dev")


def test_loader_audio_pad_truncate(tones):
    items = load_split(tones, "train", silence_fraction=0.0)
    for it in items:
        x = load_audio(it)
        assert x.dtype == np.int16 and x.shape == (16000,)
        if "bbbb0002" in it[0]:                                # 12000-sample clip: zero padded
            assert np.all(x[12000:] == 0) and _rms(x[:12000]) > 1000
    val = load_split(tones, "validation", silence_fraction=0.0)           # 17000 samples: truncated
    x = load_audio(val[0])
    assert x.shape == (16000,) and np.array_equal(x, _wav_info(val[0][0])[4][:16000])


def test_loader_silence(tones):
    items = load_split(tones, "train", silence_fraction=0.5, seed=3)
    sil = [it for it in items if it[1] == 0]
    assert len(sil) == 6 and all(p is None for p, _ in sil)
    assert items[-6:] == sil                                      # clips first, then silence
    again = load_split(tones, "train", silence_fraction=0.5, seed=3)
    assert [it.silence for it in again[-6:]] == [it.silence for it in sil]   # deterministic
    other = load_split(tones, "train", silence_fraction=0.5, seed=4)
    assert [it.silence for it in other[-6:]] != [it.silence for it in sil]
    for it in sil:
        noise_path, offset, gain = it.silence
        assert os.path.basename(noise_path) in ("white.wav", "tone.wav") and 0 <= gain <= 1
        full = _wav_info(noise_path)[4]
        assert 0 <= offset <= full.size - 16000
        x = load_audio(it)
        assert x.dtype == np.int16 and x.shape == (16000,)
        ref = np.round(full[offset:offset + 16000].astype(np.float64) * gain)
        assert np.array_equal(x, ref.astype(np.int16))
        assert np.array_equal(load_audio(pickle.loads(pickle.dumps(it))), x)
    x, y = load_arrays(items)
    assert x.shape == (len(items), 16000) and y.tolist() == [it[1] for it in items]
    # default: one tenth of the clips
    assert sum(1 for it in load_split(tones, "train") if it[1] == 0) == round(0.1 * 12)


def test_loader_balance_unknown(tones):
    items = load_split(tones, "train", silence_fraction=0.0, balance_unknown=True, seed=0)
    c = collections.Counter(label for _, label in items)
    assert c[LABELS.index("yes")] == 2 and c[1] == 2                # 6 unknown clips -> 2
    assert load_split(tones, "train", silence_fraction=0.0, balance_unknown=True, seed=0) == items


def test_loader_missing_lists(tmp_path):
    _write(tmp_path / "yes" / "a_nohash_0.wav", np.zeros(16000))
    with pytest.raises(FileNotFoundError):
        load_split(tmp_path, "train")


def test_loader_no_background(tmp_path):
    _write(tmp_path / "yes" / "a_nohash_0.wav", np.ones(16000))
    (tmp_path / "validation_list.txt").write_text("")
    (tmp_path / "testing_list.txt").write_text("")
    items = load_split(tmp_path, "train", silence_fraction=1.0)
    assert [it[1] for it in items] == [2, 0]
    assert not load_audio(items[1]).any()


# --------------------------------------------------------------------------- espeak-ng generator

TINY = dict(per_word=2, per_unknown_word=1, n_unknown_words=3, n_speakers=12, jobs=2,
            noise_seconds=4.0, synths=["espeak"])


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    if not HAVE_TOOLS:
        pytest.skip("espeak-ng and sox are not installed")
    from kwsnum.data.synth import generate
    root = tmp_path_factory.mktemp("synth_a")
    generate(root, seed=0, **TINY)
    return root


def _files(root):
    out = {}
    for dirpath, _, names in os.walk(root):
        for n in names:
            p = os.path.join(dirpath, n)
            out[os.path.relpath(p, root)] = open(p, "rb").read()
    return out


def _clips(root):
    return sorted(f"{w}/{n}" for w in os.listdir(root) if os.path.isdir(root / w)
                  and not w.startswith("_") for n in os.listdir(root / w))


@needs_tools
def test_synth_layout_and_format(tiny):
    from kwsnum.data.synth import UNKNOWN_WORDS
    words = KEYWORDS + UNKNOWN_WORDS[:3]
    assert sorted(d for d in os.listdir(tiny) if os.path.isdir(tiny / d)) == sorted(words + ["_background_noise_"])
    for f in ("validation_list.txt", "testing_list.txt", "speakers.txt", "metadata.csv"):
        assert (tiny / f).is_file()
    clips = _clips(tiny)
    assert len(clips) == 10 * 2 + 3 * 1
    for rel in clips:
        word, name = rel.split("/")
        assert name.endswith(".wav") and "_nohash_" in name
        ch, width, rate, n, x = _wav_info(tiny / rel)
        assert (ch, width, rate, n) == (1, 2, 16000, 16000)
        assert _rms(x) > 100                                    # not silent (about -50 dBFS)
    bg = sorted(os.listdir(tiny / "_background_noise_"))
    assert bg == ["babble.wav", "brown_noise.wav", "fan.wav", "hum.wav", "pink_noise.wav", "white_noise.wav"]
    for name in bg:
        ch, width, rate, n, x = _wav_info(tiny / "_background_noise_" / name)
        assert (ch, width, rate) == (1, 2, 16000) and n == 4 * 16000 and _rms(x) > 1000


@needs_tools
def test_synth_speaker_disjoint_splits(tiny):
    val = (tiny / "validation_list.txt").read_text().split()
    test = (tiny / "testing_list.txt").read_text().split()
    clips = _clips(tiny)
    assert set(val) <= set(clips) and set(test) <= set(clips)
    train = set(clips) - set(val) - set(test)
    spk = {name: {speaker_of(p) for p in lst} for name, lst in
           [("train", train), ("val", val), ("test", test)]}
    assert not spk["train"] & spk["val"] and not spk["train"] & spk["test"]
    assert not spk["val"] & spk["test"]
    table = {}
    for line in (tiny / "speakers.txt").read_text().splitlines():
        sid, voice, split = line.split()
        table[sid] = split
    assert len(table) == 12
    assert all(table[s] == "training" for s in spk["train"])
    assert all(table[s] == "validation" for s in spk["val"])
    assert all(table[s] == "testing" for s in spk["test"])


@needs_tools
def test_synth_word_inside_window(tiny):
    rows = (tiny / "metadata.csv").read_text().splitlines()[1:]
    assert len(rows) == 23
    for r in rows:
        path, synth, voice, variant, speed, pitch, emph, warp, offset, length, noise, snr, aug = r.split(",")
        offset, length = int(offset), int(length)
        assert 0 <= offset and offset + length <= 16000 and length > 1600
        x = _wav_info(tiny / path)[4].astype(np.float64)
        inside = x[offset:offset + length]
        outside = np.concatenate([x[:offset], x[offset + length:]])
        if noise:
            assert 5.0 <= float(snr) <= 30.0
            if outside.size > 800:
                assert _rms(inside) > _rms(outside)
        else:
            assert not outside.any()


@needs_tools
def test_synth_clean_energy_inside(tmp_path):
    from kwsnum.data.synth import generate
    generate(tmp_path, seed=5, per_word=1, n_unknown_words=0, n_speakers=4, noise_prob=0.0,
             noise_seconds=2.0, jobs=1, synths=["espeak"])
    for r in (tmp_path / "metadata.csv").read_text().splitlines()[1:]:
        path, *_, offset, length, noise, snr, aug = r.split(",")
        offset, length = int(offset), int(length)
        x = _wav_info(tmp_path / path)[4].astype(np.float64)
        assert noise == "" and not x[:offset].any() and not x[offset + length:].any()
        assert offset >= 480 and offset + length <= 16000 - 480          # the default margin
        assert _rms(x[offset:offset + length]) > 300


@needs_tools
def test_synth_deterministic(tiny, tmp_path):
    from kwsnum.data.synth import generate
    generate(tmp_path / "same", seed=0, **dict(TINY, jobs=1))     # also: independent of --jobs
    a, b = _files(tiny), _files(tmp_path / "same")
    assert a.keys() == b.keys()
    assert all(a[k] == b[k] for k in a)
    generate(tmp_path / "other", seed=1, **TINY)
    c = _files(tmp_path / "other")
    common = [k for k in a if k in c and k.endswith(".wav")]
    assert a.keys() != c.keys() or any(a[k] != c[k] for k in common)
    assert all(a[k] != c[k] for k in common if k.startswith("_background_noise_"))


@needs_tools
def test_synth_loader(tiny):
    total = len(_clips(tiny))
    val = (tiny / "validation_list.txt").read_text().split()
    test = (tiny / "testing_list.txt").read_text().split()
    sizes = {}
    for split in ("train", "validation", "test"):
        items = load_split(tiny, split)
        clips = [it for it in items if it[1] != 0]
        sizes[split] = len(clips)
        assert len(items) - len(clips) == round(0.1 * len(clips))
        for path, label in clips:
            word = os.path.basename(os.path.dirname(path))
            assert LABELS[label] == (word if word in KEYWORDS else "unknown")
        for it in items:
            x = load_audio(it)
            assert x.shape == (16000,) and x.dtype == np.int16
    assert sizes["validation"] == len(val) and sizes["test"] == len(test)
    assert sum(sizes.values()) == total


@needs_tools
def test_synth_cli(tmp_path, capsys):
    from kwsnum.data.synth import main
    assert main([str(tmp_path / "d"), "--per-word", "1", "--n-unknown-words", "1",
                 "--n-speakers", "3", "--jobs", "1", "--seed", "2", "--synths", "espeak"]) == 0
    assert len(_clips(tmp_path / "d")) == 11
    assert "11/11" in capsys.readouterr().err


@needs_tools
def test_synth_refuses_non_empty_and_overwrites(tmp_path):
    from kwsnum.data.synth import generate
    kw = dict(per_word=1, n_unknown_words=0, n_speakers=3, noise_seconds=2.0, jobs=1, synths=["espeak"])
    generate(tmp_path, seed=0, **kw)
    first = _files(tmp_path)
    with pytest.raises(ValueError, match="not empty"):
        generate(tmp_path, seed=0, **kw)
    generate(tmp_path, seed=7, overwrite=True, **kw)              # new noise, not a cached one
    generate(tmp_path, seed=0, overwrite=True, **kw)
    now = _files(tmp_path)                                           # seed-7 clips remain too
    assert all(now[k] == v for k, v in first.items())
