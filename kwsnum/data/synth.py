"""Synthesize a Speech Commands v2-style dataset with offline speech synthesizers.

``generate(out_dir)`` (or ``python -m kwsnum.data.synth OUT_DIR``) writes::

    OUT_DIR/yes/<speaker>_nohash_<k>.wav      1 s, 16 kHz, mono, int16
    OUT_DIR/<word>/...                         10 keywords + unknown words
    OUT_DIR/_background_noise_/*.wav           white, pink, brown noise and a mains hum
    OUT_DIR/validation_list.txt                "yes/<speaker>_nohash_0.wav" lines
    OUT_DIR/testing_list.txt
    OUT_DIR/speakers.txt                       speaker id, espeak voice, variant, split
    OUT_DIR/metadata.csv                       per clip: speaker, speed, pitch, offset, ... (for tests)

A *speaker* is (synthesizer, voice, variant) (kwsnum.data.voices): an espeak-ng English voice
with a voice variant (``espeak/en-us+m3``), or a festival, flite or Piper voice with a vocal-tract /
pitch warp (``flite/slt+w106``).  Each word's clips are shared equally between the synthesizers
installed (``synths``; missing ones are skipped with a message), and each clip goes through the
acoustic augmentation of kwsnum.data.augment (``augment``).  Speaker ids are the first 8 hex digits
of a sha1 of the speaker, like the real dataset's hashed ids.  Validation and test are disjoint by speaker: each
speaker belongs to exactly one of train / validation / test.

Determinism: the synthesizers are deterministic programs (same input, same bytes; sox
writes 32-bit float here so it never dithers).  Every random choice for a clip comes
from its own ``numpy.random.default_rng([seed, crc32(word), index, ...])``, so a clip
does not depend on the number of jobs or on the order in which they finish.  Same seed,
same espeak-ng/sox versions -> byte-identical files.

Resampling 22.05 kHz -> 16 kHz is done by sox (its default high-quality ``rate``
effect), piping ``espeak-ng --stdout | sox ... -t raw -e floating-point -``; no
temporary files.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
import wave
import zlib

import numpy as np

from . import augment as _aug
from . import voices as _voices
from .voices import Speaker

SAMPLE_RATE = 16000
CLIP_SAMPLES = 16000

KEYWORDS = ["yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"]
# the 25 auxiliary words of Speech Commands v2, in a fixed order (n_unknown_words takes a prefix)
UNKNOWN_WORDS = ["bed", "bird", "cat", "dog", "happy", "house", "marvin", "sheila", "tree", "wow",
                 "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                 "backward", "forward", "follow", "learn", "visual"]

# the espeak-ng candidate lists (kept here under their old names)
VOICES = _voices.ESPEAK_VOICES
VARIANTS = _voices.ESPEAK_VARIANTS

NOISE_KINDS = ["white_noise", "pink_noise", "brown_noise", "hum", "babble", "fan"]

DEFAULT_PER_WORD = 200          # clips per keyword
DEFAULT_N_UNKNOWN_WORDS = 25    # all of UNKNOWN_WORDS
DEFAULT_NOISE_SECONDS = 30.0


def _require_tools():
    """sox and espeak-ng are the baseline (espeak-ng's resampling, and the one synthesizer every
    machine here has)."""
    why = _voices.get("espeak").unavailable()
    if why:
        raise RuntimeError("kwsnum.data.synth " + why)


def available_speakers():
    """All espeak-ng (voice, variant) pairs of VOICES x VARIANTS installed here, in the fixed order."""
    _require_tools()
    return [(s.voice, s.variant) for s in _voices.get("espeak").speakers()]


def speakers_of(synths):
    """{synth: [Speaker]} for the given synthesizer names (all installed speakers of each)."""
    return {n: _voices.get(n).speakers() for n in synths}


def speaker_id(voice, variant=None):
    """speaker_id(Speaker) or, for espeak-ng, speaker_id(voice, variant)."""
    if variant is not None:
        return _voices.speaker_id(Speaker("espeak", voice, variant))
    return _voices.speaker_id(voice)


def read_speakers(root):
    """{speaker id: (Speaker, split)} from a generated folder's speakers.txt."""
    out = {}
    with open(os.path.join(root, "speakers.txt")) as f:
        for line in f:
            parts = line.split()
            if len(parts) != 3:
                continue
            sid, name, split = parts
            synth, rest = name.split("/", 1) if "/" in name else ("espeak", name)
            voice, variant = rest.rsplit("+", 1)
            out[sid] = (Speaker(synth, voice, variant), split)
    return out


def _rng(seed, *keys):
    ints = [int(seed)]
    for k in keys:
        ints.append(zlib.crc32(k.encode()) if isinstance(k, str) else int(k))
    return np.random.default_rng(ints)


# ---------------------------------------------------------------------------- wav i/o (stdlib)

def _write_wav(path, samples):
    samples = np.asarray(samples, dtype="<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(samples.tobytes())


def _read_wav(path):
    with wave.open(str(path), "rb") as w:
        assert w.getsampwidth() == 2 and w.getnchannels() == 1, path
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")


# ---------------------------------------------------------------------------- background noise

def _noise(kind, n, rng):
    if kind == "white_noise":
        x = rng.standard_normal(n)
    elif kind in ("pink_noise", "brown_noise"):
        spec = np.fft.rfft(rng.standard_normal(n))
        f = np.fft.rfftfreq(n, 1.0 / SAMPLE_RATE)
        f[0] = f[1]
        spec /= np.sqrt(f) if kind == "pink_noise" else f        # 1/f or 1/f^2 power
        spec[f < 10.0] = 0.0                                     # no DC / subsonic drift
        x = np.fft.irfft(spec, n)
    elif kind == "babble":
        # speech-shaped noise (long-term speech spectrum, -6 dB/octave above 500 Hz) amplitude-modulated
        # at syllable rates (3-6 Hz), a stand-in for distant talkers
        spec = np.fft.rfft(rng.standard_normal(n))
        f = np.fft.rfftfreq(n, 1.0 / SAMPLE_RATE)
        shape = 1.0 / (1.0 + (f / 500.0) ** 2) ** 0.5 * (f > 80.0)
        x = np.fft.irfft(spec * shape, n)
        t = np.arange(n) / SAMPLE_RATE
        env = np.ones(n)
        for _ in range(4):
            env += 0.5 * np.sin(2 * np.pi * rng.uniform(3.0, 6.0) * t + rng.uniform(0, 2 * np.pi))
        x *= np.maximum(env, 0.1)
    elif kind == "fan":
        # a fan or an air conditioner: brown-ish broadband noise plus a blade-pass tone and harmonics
        spec = np.fft.rfft(rng.standard_normal(n))
        f = np.fft.rfftfreq(n, 1.0 / SAMPLE_RATE)
        f[0] = f[1]
        spec /= f ** 0.75
        spec[f < 20.0] = 0.0
        x = np.fft.irfft(spec, n)
        x /= np.sqrt(np.mean(x ** 2)) + 1e-12
        t = np.arange(n) / SAMPLE_RATE
        f0 = rng.uniform(80.0, 300.0)
        for h, a in zip(range(1, 4), [0.4, 0.2, 0.1]):
            x += a * np.sin(2 * np.pi * f0 * h * t + rng.uniform(0, 2 * np.pi))
    elif kind == "hum":
        t = np.arange(n) / SAMPLE_RATE
        f0 = 50.0 if rng.random() < 0.5 else 60.0
        x = np.zeros(n)
        for h, a in zip(range(1, 8), [1.0, 0.5, 0.6, 0.25, 0.3, 0.1, 0.15]):
            x += a * np.sin(2 * np.pi * f0 * h * t + rng.uniform(0, 2 * np.pi))
        x += 0.05 * rng.standard_normal(n)
    else:
        raise ValueError(kind)
    x = x / (np.sqrt(np.mean(x ** 2)) + 1e-12)
    return np.clip(np.round(x * 0.1 * 32767), -32768, 32767).astype(np.int16)   # -20 dBFS RMS


def _write_background(out_dir, seed, seconds, noise_dir=None):
    """The generated noises, plus the 16 kHz mono 16-bit WAV files of noise_dir (e.g. the real
    Speech Commands' _background_noise_), copied as "extra_<name>.wav"."""
    bg = os.path.join(out_dir, "_background_noise_")
    os.makedirs(bg, exist_ok=True)
    for kind in NOISE_KINDS:
        rng = _rng(seed, "background", kind)
        _write_wav(os.path.join(bg, kind + ".wav"), _noise(kind, int(seconds * SAMPLE_RATE), rng))
    extra = []
    if noise_dir:
        for name in sorted(os.listdir(noise_dir)):
            if not name.lower().endswith(".wav"):
                continue
            src = os.path.join(noise_dir, name)
            with wave.open(src, "rb") as w:
                ok = (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, SAMPLE_RATE) \
                    and w.getnframes() >= CLIP_SAMPLES
            if not ok:
                raise ValueError(f"{src}: noise files must be 16 kHz mono 16-bit WAV of at least 1 s")
            shutil.copyfile(src, os.path.join(bg, "extra_" + name))
            extra.append("extra_" + name[:-4])
    return NOISE_KINDS + extra


# ---------------------------------------------------------------------------- one clip

_NOISE_CACHE = {}


_RIR_CACHE = {}


def _noise_names(out_dir):
    bg = os.path.join(out_dir, "_background_noise_")
    extra = sorted(n[:-4] for n in os.listdir(bg) if n.startswith("extra_") and n.endswith(".wav"))
    return NOISE_KINDS + extra


def _noise_arrays(out_dir):
    if out_dir not in _NOISE_CACHE:
        bg = os.path.join(out_dir, "_background_noise_")
        _NOISE_CACHE[out_dir] = [_read_wav(os.path.join(bg, k + ".wav")).astype(np.float64)
                                 for k in _noise_names(out_dir)]
    return _NOISE_CACHE[out_dir]


def _rirs(seed):
    if seed not in _RIR_CACHE:
        _RIR_CACHE[seed] = _aug.room_impulse_responses(seed)
    return _RIR_CACHE[seed]


def _trim(x, rel_db=-45.0, pad=160):
    """Drop espeak's leading/trailing silence (frames 45 dB below the loudest frame)."""
    if x.size == 0:
        return x
    frame = 80
    n = int(np.ceil(x.size / frame)) * frame
    e = np.sqrt(np.mean(np.pad(x, (0, n - x.size)).reshape(-1, frame) ** 2, axis=1))
    on = np.nonzero(e > e.max() * 10 ** (rel_db / 20))[0]
    if on.size == 0:
        return x[:0]
    a = max(on[0] * frame - pad, 0)
    b = min((on[-1] + 1) * frame + pad, x.size)
    return x[a:b]


def _synthesize(word, speaker, rng, margin):
    """Synthesize and trim one word that fits the window (said faster if it does not)."""
    backend = _voices.get(speaker.synth)
    limit = CLIP_SAMPLES - 2 * margin
    if speaker.synth == "espeak":
        speed = None
        for _ in range(6):
            x, params = backend.synthesize(word, speaker, rng, speed=speed)
            x = _trim(x)
            if x.size <= limit:
                break
            speed = int(params["rate"] * 1.25) + 10        # too long for the window: say it faster
        return x, params
    x, params = backend.synthesize(word, speaker, rng)
    x = _trim(x)
    if x.size > limit:                                     # too long: compress in time by resampling
        f = x.size / limit
        x = _aug.resample_factor(x, f)
        params = dict(params, warp=round(params["warp"] * f, 4))
    return x, params


def _make_clip(task):
    (out_dir, rel, word, index, seed, speaker, noise_prob, snr_db, margin, aug) = task
    rng = _rng(seed, word, index)
    x, params = _synthesize(word, speaker, rng, margin)
    arng = _rng(seed, "augment", word, index)
    desc = {}
    if aug is not None:
        x, desc = _aug.augment_word(x, arng, _rirs(seed), aug)
        x = _trim(x, rel_db=-50.0)
    if x.size > CLIP_SAMPLES - 2 * min(margin, 160):    # a reverberation tail past the window: cut it
        n = CLIP_SAMPLES - 2 * min(margin, 160)
        x = x[:n] * np.minimum(1.0, np.linspace(8.0, 0.0, n))
    m = min(margin, (CLIP_SAMPLES - x.size) // 2)
    offset = int(rng.integers(m, CLIP_SAMPLES - x.size - m + 1))
    clip = np.zeros(CLIP_SAMPLES)
    clip[offset:offset + x.size] = x
    # gain: speech RMS between -32 and -14 dBFS, peak limited to -1 dBFS
    rms = np.sqrt(np.mean(x ** 2)) + 1e-12
    level_db = rng.uniform(-32.0, -14.0)
    g = 32767 * 10 ** (level_db / 20) / rms
    g = min(g, 32767 * 10 ** (-1 / 20) / (np.max(np.abs(x)) + 1e-12))
    clip *= g
    speech_rms = rms * g
    # background noise (drawn unconditionally so the RNG stream does not depend on noise_prob)
    noises = _noise_arrays(out_dir)
    kind = int(rng.integers(len(noises)))
    start = int(rng.integers(0, noises[kind].size - CLIP_SAMPLES + 1))
    snr = rng.uniform(*snr_db)
    use_noise = rng.random() < noise_prob
    if use_noise:
        nz = noises[kind][start:start + CLIP_SAMPLES]
        nz_rms = np.sqrt(np.mean(nz ** 2)) + 1e-12
        clip += nz * (speech_rms / nz_rms) * 10 ** (-snr / 20)
    # mild clipping (an overdriven microphone preamp), after the noise like in a real recording
    clip_db = float(arng.uniform(1.0, 6.0))
    if aug is not None and arng.random() < aug.p_clip:
        peak = float(np.max(np.abs(clip)))
        clip = _aug.soft_clip(clip, peak * 10 ** (-clip_db / 20))
        desc["clip_db"] = round(clip_db, 2)
    out = np.clip(np.round(clip), -32768, 32767).astype(np.int16)
    _write_wav(os.path.join(out_dir, rel), out)
    return (rel, speaker.synth, speaker.voice, speaker.variant, params["rate"], params["pitch"],
            params["emphasis"], params["warp"], offset, int(x.size),
            _noise_names(out_dir)[kind] if use_noise else "", round(float(snr), 2) if use_noise else "",
            ";".join(f"{k}={v}" for k, v in desc.items()))


# ---------------------------------------------------------------------------- the dataset

def _split_speakers(speakers, seed, val_fraction, test_fraction, key="speaker-split"):
    order = list(speakers)
    _rng(seed, key).shuffle(order)
    n = len(order)
    n_val = max(1, int(round(n * val_fraction))) if n >= 3 else 0
    n_test = max(1, int(round(n * test_fraction))) if n >= 3 else 0
    split = {}
    for i, s in enumerate(order):
        split[s] = "validation" if i < n_val else "testing" if i < n_val + n_test else "training"
    return split


def resolve_synths(synths=None, log=None):
    """The synthesizers to use: ``synths`` (names; None = all of kwsnum.data.voices.SYNTHS) less the
    ones not installed here, each skipped with a message to ``log``. Raises if none is left."""
    names = list(_voices.SYNTHS if synths is None else synths)
    for n in names:
        _voices.get(n)                                 # unknown names are an error, not a skip
    bad = _voices.unavailable(names)
    for n, why in bad.items():
        if log:
            log(f"kwsnum.data.synth: skipping {n}: {why}")
    names = [n for n in names if n not in bad]
    if not names:
        raise RuntimeError("no synthesizer available: " + "; ".join(f"{n} {w}" for n, w in bad.items()))
    return names


def plan(seed=0, per_word=DEFAULT_PER_WORD, n_unknown_words=DEFAULT_N_UNKNOWN_WORDS,
         per_unknown_word=None, keywords=None, unknown_words=None, n_speakers=None,
         val_fraction=0.1, test_fraction=0.1, speakers=None, synths=("espeak",)):
    """The list of clips to make: (relative path, word, index, Speaker, split), and {Speaker: split}.

    speakers: {synth: [Speaker or (voice, variant) for espeak]} or a list of espeak (voice, variant)
    pairs; default: every installed speaker of each of ``synths``. n_speakers: a seeded subset of
    each synthesizer's speakers. Each synthesizer's speakers are split into train / validation / test
    on their own, so every split has speakers of every synthesizer. A word's clips are shared between
    the synthesizers as equally as possible (the first ones, in a word-dependent rotation, get one more).
    """
    keywords = list(KEYWORDS if keywords is None else keywords)
    unknown_words = list(UNKNOWN_WORDS if unknown_words is None else unknown_words)[:n_unknown_words]
    if per_unknown_word is None:
        per_unknown_word = max(1, per_word // 5)
    if speakers is None:
        speakers = speakers_of(synths)
    elif not isinstance(speakers, dict):
        speakers = {"espeak": list(speakers)}
    by_synth = {}
    for synth, lst in speakers.items():
        lst = [sp if isinstance(sp, Speaker) else Speaker(synth, *sp) for sp in lst]
        if n_speakers is not None and n_speakers < len(lst):
            idx = sorted(_rng(seed, "speaker-subset", synth).choice(len(lst), n_speakers, replace=False))
            lst = [lst[i] for i in idx]
        if lst:
            by_synth[synth] = lst
    if not by_synth:
        raise RuntimeError("no speaker found for " + ", ".join(speakers) if speakers else "no synthesizer")
    split = {}
    for synth, lst in by_synth.items():
        split.update(_split_speakers(lst, seed, val_fraction, test_fraction,
                                     key="speaker-split" if synth == "espeak" else f"speaker-split-{synth}"))
    names = list(by_synth)
    clips = []
    for word in keywords + unknown_words:
        n = per_word if word in keywords else per_unknown_word
        rot = zlib.crc32(word.encode()) % len(names)
        order_synths = names[rot:] + names[:rot]
        quota = {s: n // len(names) + (1 if k < n % len(names) else 0) for k, s in enumerate(order_synths)}
        reps = {}
        i = 0
        for synth in names:
            # speakers for this word: a seeded permutation, cycled (like the real data, most
            # speakers say a word once or twice); k counts a speaker's repetitions of the word
            lst = by_synth[synth]
            rng = _rng(seed, "speakers", word) if synth == "espeak" else _rng(seed, "speakers", word, synth)
            order = [lst[j] for j in rng.permutation(len(lst))]
            for q in range(quota[synth]):
                sp = order[q % len(order)]
                sid = _voices.speaker_id(sp)
                k = reps.get(sid, 0)
                reps[sid] = k + 1
                clips.append((f"{word}/{sid}_nohash_{k}.wav", word, i, sp, split[sp]))
                i += 1
    return clips, split


def generate(out_dir, seed=0, per_word=DEFAULT_PER_WORD, n_unknown_words=DEFAULT_N_UNKNOWN_WORDS,
             per_unknown_word=None, keywords=None, unknown_words=None, n_speakers=None, jobs=2,
             noise_prob=0.8, snr_db=(5.0, 30.0), margin=480, noise_seconds=DEFAULT_NOISE_SECONDS,
             val_fraction=0.1, test_fraction=0.1, overwrite=False, progress=None, synths=None,
             augment=True, noise_dir=None, log=None):
    """Write a Speech Commands v2-style dataset into out_dir; return the number of clips.

    per_word clips for each keyword; per_unknown_word (default per_word // 5) for each of
    the first n_unknown_words of UNKNOWN_WORDS.  synths: synthesizer names (default: all of
    kwsnum.data.voices.SYNTHS that are installed; a missing one is skipped with a message to
    ``log``, default stderr).  n_speakers: use a seeded subset of each synthesizer's speakers.
    augment: True (kwsnum.data.augment.DEFAULT), False / None (off) or an AugmentConfig: the
    word-level warp, reverberation and colouration, and mild clipping.  noise_prob: fraction of
    clips mixed with background noise at an SNR drawn uniformly from snr_db; noise_dir: extra
    noise WAVs (16 kHz mono) copied into _background_noise_.  margin: minimum samples of silence
    kept before and after the word (when it fits).  progress(done, total) is called as clips
    finish.  out_dir must be empty or absent unless overwrite=True (which writes over existing
    files but deletes nothing).
    """
    if log is None:
        def log(msg):
            sys.stderr.write(msg + "\n")
    out_dir = os.path.abspath(str(out_dir))
    names = resolve_synths(synths, log)
    if not overwrite and os.path.isdir(out_dir) and os.listdir(out_dir):
        raise ValueError(f"{out_dir}: not empty (pass overwrite=True / --overwrite)")
    _NOISE_CACHE.pop(out_dir, None)         # a previous run into the same folder
    aug = _aug.DEFAULT if augment is True else (augment or None)
    clips, split = plan(seed, per_word, n_unknown_words, per_unknown_word, keywords,
                        unknown_words, n_speakers, val_fraction, test_fraction, synths=names)
    os.makedirs(out_dir, exist_ok=True)
    _write_background(out_dir, seed, noise_seconds, noise_dir)
    if aug is not None:
        _rirs(seed)                          # once, before the workers fork
    for word in sorted({c[1] for c in clips}):
        os.makedirs(os.path.join(out_dir, word), exist_ok=True)
    tasks = [(out_dir, rel, word, i, seed, sp, noise_prob, tuple(snr_db), margin, aug)
             for rel, word, i, sp, _ in clips]
    rows = []
    total = len(tasks)
    if jobs is None or jobs <= 1:
        for t in tasks:
            rows.append(_make_clip(t))
            if progress:
                progress(len(rows), total)
    else:
        import multiprocessing as mp
        with mp.get_context("spawn" if sys.platform == "win32" else "fork").Pool(jobs) as pool:
            for row in pool.imap_unordered(_make_clip, tasks, chunksize=8):
                rows.append(row)
                if progress:
                    progress(len(rows), total)
    rows.sort()
    lists = {"validation": [], "testing": []}
    for rel, _, _, _, s in clips:
        if s in lists:
            lists[s].append(rel)
    for s, lst in lists.items():
        with open(os.path.join(out_dir, f"{s}_list.txt"), "w", newline="\n") as f:
            f.write("".join(n + "\n" for n in sorted(lst)))
    with open(os.path.join(out_dir, "speakers.txt"), "w", newline="\n") as f:
        for sp, s in sorted(split.items(), key=lambda kv: _voices.speaker_id(kv[0])):
            f.write(f"{_voices.speaker_id(sp)} {sp} {s}\n")
    with open(os.path.join(out_dir, "metadata.csv"), "w", newline="\n") as f:
        f.write(",".join(METADATA_COLUMNS) + "\n")
        for r in rows:
            f.write(",".join(str(v) for v in r) + "\n")
    return total


METADATA_COLUMNS = ("path", "synth", "voice", "variant", "rate", "pitch", "emphasis", "warp", "offset",
                    "length", "noise", "snr_db", "augment")


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m kwsnum.data.synth",
                                description="Synthesize a Speech Commands v2-style dataset "
                                            "with espeak-ng, festival, flite and Piper, "
                                            "acoustically augmented.")
    p.add_argument("out_dir")
    p.add_argument("--per-word", type=int, default=DEFAULT_PER_WORD,
                   help="clips per keyword (default %(default)s)")
    p.add_argument("--per-unknown-word", type=int, default=None,
                   help="clips per unknown word (default per-word // 5)")
    p.add_argument("--n-unknown-words", type=int, default=DEFAULT_N_UNKNOWN_WORDS,
                   help="how many unknown words (max %d, default %%(default)s)" % len(UNKNOWN_WORDS))
    p.add_argument("--n-speakers", type=int, default=None,
                   help="use a seeded subset of the espeak voice x variant speakers")
    p.add_argument("--synths", default=",".join(_voices.SYNTHS),
                   help="comma-separated synthesizers (default %(default)s; missing ones are skipped "
                        "with a message)")
    p.add_argument("--no-augment", action="store_true",
                   help="no warp, reverberation, colouration or clipping (background noise stays)")
    p.add_argument("--noise-prob", type=float, default=0.8,
                   help="fraction of clips mixed with background noise (default %(default)s)")
    p.add_argument("--noise-dir", default=None,
                   help="extra background noise WAVs (16 kHz mono 16-bit), e.g. the real _background_noise_")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--overwrite", action="store_true",
                   help="write into a non-empty OUT_DIR (existing files are overwritten, none deleted)")
    p.add_argument("--quiet", action="store_true")
    a = p.parse_args(argv)
    t0 = time.time()
    last = [0.0]

    def progress(done, total):
        now = time.time()
        if a.quiet or (now - last[0] < 0.5 and done != total):
            return
        last[0] = now
        sys.stderr.write(f"\r{done:6d}/{total} clips {100 * done / total:5.1f}% {now - t0:6.1f} s")
        if done == total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    try:
        n = generate(a.out_dir, seed=a.seed, per_word=a.per_word,
                     n_unknown_words=a.n_unknown_words, per_unknown_word=a.per_unknown_word,
                     n_speakers=a.n_speakers, jobs=a.jobs, overwrite=a.overwrite,
                     progress=progress, synths=[x for x in a.synths.split(",") if x],
                     augment=not a.no_augment, noise_prob=a.noise_prob, noise_dir=a.noise_dir)
    except (RuntimeError, ValueError, OSError) as e:
        sys.stderr.write(f"kwsnum.data.synth: error: {e}\n")
        return 2
    if not a.quiet:
        print(f"wrote {n} clips to {a.out_dir} in {time.time() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
