"""Synthesize a Speech Commands v2-style dataset with espeak-ng.

``generate(out_dir)`` (or ``python -m kwsnum.data.synth OUT_DIR``) writes::

    OUT_DIR/yes/<speaker>_nohash_<k>.wav      1 s, 16 kHz, mono, int16
    OUT_DIR/<word>/...                         10 keywords + unknown words
    OUT_DIR/_background_noise_/*.wav           white, pink, brown noise and a mains hum
    OUT_DIR/validation_list.txt                "yes/<speaker>_nohash_0.wav" lines
    OUT_DIR/testing_list.txt
    OUT_DIR/speakers.txt                       speaker id, espeak voice, variant, split
    OUT_DIR/metadata.csv                       per clip: speaker, speed, pitch, offset, ... (for tests)

A *speaker* is one espeak-ng English voice combined with one voice variant
(``en-us+m3``).  Speaker ids are the first 8 hex digits of sha1("voice+variant"),
like the real dataset's hashed ids.  Validation and test are disjoint by speaker: each
speaker belongs to exactly one of train / validation / test.

Determinism: espeak-ng and sox are deterministic programs (same input, same bytes; sox
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
import hashlib
import os
import shutil
import subprocess
import sys
import time
import wave
import zlib

import numpy as np

SAMPLE_RATE = 16000
CLIP_SAMPLES = 16000

KEYWORDS = ["yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"]
# the 25 auxiliary words of Speech Commands v2, in a fixed order (n_unknown_words takes a prefix)
UNKNOWN_WORDS = ["bed", "bird", "cat", "dog", "happy", "house", "marvin", "sheila", "tree", "wow",
                 "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                 "backward", "forward", "follow", "learn", "visual"]

# Candidate speakers: fixed lists, filtered by what the installed espeak-ng offers (an
# absent variant is silently ignored by espeak-ng, so we must check).  The mbrola voices
# (mb/...) are not used: they need separately installed mbrola databases.
VOICES = ["en-us", "en-gb", "en-gb-x-rp", "en-gb-scotland", "en-gb-x-gbclan",
          "en-gb-x-gbcwmd", "en-029", "en-us-nyc"]
VARIANTS = ["m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "f1", "f2", "f3", "f4", "f5",
            "klatt", "klatt2", "klatt3", "klatt4", "adam", "Andy", "Annie", "aunty", "belinda",
            "benjamin", "david", "ed", "edward", "grandma", "grandpa", "john", "linda", "max",
            "Michael", "paul", "quincy", "rob", "robert", "steph", "travis", "victor", "zac"]

NOISE_KINDS = ["white_noise", "pink_noise", "brown_noise", "hum"]

DEFAULT_PER_WORD = 200          # clips per keyword
DEFAULT_N_UNKNOWN_WORDS = 25    # all of UNKNOWN_WORDS
DEFAULT_NOISE_SECONDS = 30.0


def _require_tools():
    missing = [t for t in ("espeak-ng", "sox") if shutil.which(t) is None]
    if missing:
        raise RuntimeError("kwsnum.data.synth needs " + " and ".join(missing)
                           + " on PATH (Debian/Ubuntu: apt-get install espeak-ng sox)")


def _espeak_list(kind):
    out = subprocess.run(["espeak-ng", f"--voices={kind}"], check=True, capture_output=True,
                         text=True).stdout.splitlines()
    rows = []
    for line in out[1:]:
        parts = line.split()
        if len(parts) >= 5:
            rows.append((parts[1], parts[-1] if parts[-1].startswith(("gmw/", "!v/")) else None,
                         parts))
    return rows


def available_speakers():
    """All (voice, variant) pairs of VOICES x VARIANTS installed here, in the fixed order."""
    _require_tools()
    voices = set()
    for lang, _, parts in _espeak_list("en"):
        if any(p.startswith("gmw/") for p in parts):
            voices.add(lang)
    variants = set()
    for _, _, parts in _espeak_list("variant"):
        for p in parts:
            if p.startswith("!v/"):
                variants.add(p[3:])
    return [(v, x) for v in VOICES if v in voices for x in VARIANTS if x in variants]


def speaker_id(voice, variant):
    return hashlib.sha1(f"{voice}+{variant}".encode()).hexdigest()[:8]


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


def _write_background(out_dir, seed, seconds):
    bg = os.path.join(out_dir, "_background_noise_")
    os.makedirs(bg, exist_ok=True)
    for kind in NOISE_KINDS:
        rng = _rng(seed, "background", kind)
        _write_wav(os.path.join(bg, kind + ".wav"), _noise(kind, int(seconds * SAMPLE_RATE), rng))


# ---------------------------------------------------------------------------- one clip

_NOISE_CACHE = {}


def _noise_arrays(out_dir):
    if out_dir not in _NOISE_CACHE:
        bg = os.path.join(out_dir, "_background_noise_")
        _NOISE_CACHE[out_dir] = [_read_wav(os.path.join(bg, k + ".wav")).astype(np.float64)
                                 for k in NOISE_KINDS]
    return _NOISE_CACHE[out_dir]


def _tts(word, voice, variant, speed, pitch, amplitude):
    """espeak-ng -> sox -> float32 samples at 16 kHz."""
    es = subprocess.run(["espeak-ng", "-v", f"{voice}+{variant}", "-s", str(speed), "-p", str(pitch),
                         "-a", str(amplitude), "--stdout", word], check=True, capture_output=True)
    sx = subprocess.run(["sox", "-q", "-t", "wav", "-", "-t", "raw", "-e", "floating-point",
                         "-b", "32", "-r", str(SAMPLE_RATE), "-c", "1", "-"],
                        input=es.stdout, check=True, capture_output=True)
    return np.frombuffer(sx.stdout, dtype="<f4").astype(np.float64)


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


def _make_clip(task):
    (out_dir, rel, word, index, seed, voice, variant, noise_prob, snr_db, margin) = task
    rng = _rng(seed, word, index)
    speed = int(rng.integers(120, 221))          # words per minute
    pitch = int(rng.integers(20, 81))            # 0..99
    amplitude = int(rng.integers(60, 141))       # 0..200 (rescaled below anyway)
    for _ in range(6):
        x = _trim(_tts(word, voice, variant, speed, pitch, amplitude))
        if x.size <= CLIP_SAMPLES - 2 * margin:
            break
        speed = int(speed * 1.25) + 10           # too long for the window: say it faster
    if x.size > CLIP_SAMPLES:                    # cannot happen for our words; be safe
        x = x[:CLIP_SAMPLES] * np.linspace(1, 0, CLIP_SAMPLES) ** 0.1
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
    out = np.clip(np.round(clip), -32768, 32767).astype(np.int16)
    _write_wav(os.path.join(out_dir, rel), out)
    return (rel, voice, variant, speed, pitch, amplitude, offset, int(x.size),
            NOISE_KINDS[kind] if use_noise else "", round(float(snr), 2) if use_noise else "")


# ---------------------------------------------------------------------------- the dataset

def _split_speakers(speakers, seed, val_fraction, test_fraction):
    order = list(speakers)
    _rng(seed, "speaker-split").shuffle(order)
    n = len(order)
    n_val = max(1, int(round(n * val_fraction))) if n >= 3 else 0
    n_test = max(1, int(round(n * test_fraction))) if n >= 3 else 0
    split = {}
    for i, s in enumerate(order):
        split[s] = "validation" if i < n_val else "testing" if i < n_val + n_test else "training"
    return split


def plan(seed=0, per_word=DEFAULT_PER_WORD, n_unknown_words=DEFAULT_N_UNKNOWN_WORDS,
         per_unknown_word=None, keywords=None, unknown_words=None, n_speakers=None,
         val_fraction=0.1, test_fraction=0.1, speakers=None):
    """The list of clips to make: (relative path, word, index, voice, variant, split)."""
    keywords = list(KEYWORDS if keywords is None else keywords)
    unknown_words = list(UNKNOWN_WORDS if unknown_words is None else unknown_words)[:n_unknown_words]
    if per_unknown_word is None:
        per_unknown_word = max(1, per_word // 5)
    if speakers is None:
        speakers = available_speakers()
    speakers = list(speakers)
    if n_speakers is not None and n_speakers < len(speakers):
        idx = sorted(_rng(seed, "speaker-subset").choice(len(speakers), n_speakers, replace=False))
        speakers = [speakers[i] for i in idx]
    if not speakers:
        raise RuntimeError("no espeak-ng English voice/variant found")
    split = _split_speakers(speakers, seed, val_fraction, test_fraction)
    clips = []
    for word in keywords + unknown_words:
        n = per_word if word in keywords else per_unknown_word
        # speakers for this word: a seeded permutation, cycled (like the real data, most
        # speakers say a word once or twice); k counts a speaker's repetitions of the word
        rng = _rng(seed, "speakers", word)
        order = [speakers[i] for i in rng.permutation(len(speakers))]
        reps = {}
        for i in range(n):
            voice, variant = order[i % len(order)]
            sid = speaker_id(voice, variant)
            k = reps.get(sid, 0)
            reps[sid] = k + 1
            clips.append((f"{word}/{sid}_nohash_{k}.wav", word, i, voice, variant,
                          split[(voice, variant)]))
    return clips, split


def generate(out_dir, seed=0, per_word=DEFAULT_PER_WORD, n_unknown_words=DEFAULT_N_UNKNOWN_WORDS,
             per_unknown_word=None, keywords=None, unknown_words=None, n_speakers=None, jobs=2,
             noise_prob=0.8, snr_db=(5.0, 30.0), margin=480, noise_seconds=DEFAULT_NOISE_SECONDS,
             val_fraction=0.1, test_fraction=0.1, overwrite=False, progress=None):
    """Write a Speech Commands v2-style dataset into out_dir; return the number of clips.

    per_word clips for each keyword; per_unknown_word (default per_word // 5) for each of
    the first n_unknown_words of UNKNOWN_WORDS.  n_speakers: use a seeded subset of the
    available speakers.  noise_prob: fraction of clips mixed with background noise at an
    SNR drawn uniformly from snr_db.  margin: minimum samples of silence kept before and
    after the word (when it fits).  progress(done, total) is called as clips finish.
    out_dir must be empty or absent unless overwrite=True (which writes over existing
    files but deletes nothing).
    """
    _require_tools()
    out_dir = os.path.abspath(str(out_dir))
    if not overwrite and os.path.isdir(out_dir) and os.listdir(out_dir):
        raise ValueError(f"{out_dir}: not empty (pass overwrite=True / --overwrite)")
    _NOISE_CACHE.pop(out_dir, None)         # a previous run into the same folder
    clips, split = plan(seed, per_word, n_unknown_words, per_unknown_word, keywords,
                        unknown_words, n_speakers, val_fraction, test_fraction)
    os.makedirs(out_dir, exist_ok=True)
    _write_background(out_dir, seed, noise_seconds)
    for word in sorted({c[1] for c in clips}):
        os.makedirs(os.path.join(out_dir, word), exist_ok=True)
    tasks = [(out_dir, rel, word, i, seed, voice, variant, noise_prob, tuple(snr_db), margin)
             for rel, word, i, voice, variant, _ in clips]
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
    for rel, _, _, _, _, s in clips:
        if s in lists:
            lists[s].append(rel)
    for s, names in lists.items():
        with open(os.path.join(out_dir, f"{s}_list.txt"), "w", newline="\n") as f:
            f.write("".join(n + "\n" for n in sorted(names)))
    with open(os.path.join(out_dir, "speakers.txt"), "w", newline="\n") as f:
        for (voice, variant), s in sorted(split.items(), key=lambda kv: speaker_id(*kv[0])):
            f.write(f"{speaker_id(voice, variant)} {voice}+{variant} {s}\n")
    with open(os.path.join(out_dir, "metadata.csv"), "w", newline="\n") as f:
        f.write("path,voice,variant,speed,pitch,amplitude,offset,length,noise,snr_db\n")
        for r in rows:
            f.write(",".join(str(v) for v in r) + "\n")
    return total


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m kwsnum.data.synth",
                                description="Synthesize a Speech Commands v2-style dataset "
                                            "with espeak-ng and sox.")
    p.add_argument("out_dir")
    p.add_argument("--per-word", type=int, default=DEFAULT_PER_WORD,
                   help="clips per keyword (default %(default)s)")
    p.add_argument("--per-unknown-word", type=int, default=None,
                   help="clips per unknown word (default per-word // 5)")
    p.add_argument("--n-unknown-words", type=int, default=DEFAULT_N_UNKNOWN_WORDS,
                   help="how many unknown words (max %d, default %%(default)s)" % len(UNKNOWN_WORDS))
    p.add_argument("--n-speakers", type=int, default=None,
                   help="use a seeded subset of the espeak voice x variant speakers")
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
                     progress=progress)
    except (RuntimeError, ValueError, OSError) as e:
        sys.stderr.write(f"kwsnum.data.synth: error: {e}\n")
        return 2
    if not a.quiet:
        print(f"wrote {n} clips to {a.out_dir} in {time.time() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
