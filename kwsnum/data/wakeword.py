"""Wake-word data: the phrase "hey kiwi" and negatives, synthesized across every installed speaker
(kwsnum.data.voices), plus long evaluation audio with positives inserted at known times.

    python -m kwsnum.data.wakeword OUT --seed 0 [--per-phrase 200] [--synths espeak,flite]
    python -m kwsnum.data.wakeword OUT --long 3600 --seed 1 --split-seed 0   # OUT/long.wav + OUT/long.csv
    python -m kwsnum.data.wakeword OUT --long 1800 --seed 2 --split-seed 0 --speakers validation

Clips (``generate``): ``OUT/<phrase>/<speaker>_nohash_<k>.wav`` (1 s, 16 kHz, int16), made by the
Speech Commands generator's clip maker (kwsnum.data.synth: trimming, placement, gain, background noise,
kwsnum.data.augment's warp / reverberation / colouration / clipping), with the phrase's spaces written
as ``_`` in the folder name. ``hey_kiwi`` is the positive class; the negatives are confusable phrases
(``CONFUSABLE``) and other words (the Speech Commands words). Speakers are split train / validation /
test per synthesizer (``speakers.txt``), as kwsnum.data.synth does.

Long audio (``long_audio``): background noise throughout, negative phrases and words at random gaps,
and the wake phrase every ``positive_every`` seconds on average, all said by the **test** speakers only
(speaker-disjoint from the training clips of the same seed); ``long.csv`` lists each inserted
positive's start and end (seconds) and speaker. Every random choice comes from
``numpy.random.default_rng([seed, crc32(key), ...])``: same seed, same synthesizer versions, same bytes.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

from . import augment as _aug
from . import synth as _synth
from . import voices as _voices

WAKE = "hey kiwi"
CONFUSABLE = ["hey", "kiwi", "hey kevin", "hi kimmy", "key we", "hey cookie", "hey willy", "okay kiwi",
              "happy", "keep it", "hey you", "he keeps", "tea tree", "hey weevil"]
OTHER = list(_synth.KEYWORDS) + list(_synth.UNKNOWN_WORDS)
SAMPLE_RATE = _synth.SAMPLE_RATE


def slug(phrase):
    return phrase.replace(" ", "_")


def splits(seed, synths):
    """{Speaker: split} of every installed speaker of ``synths`` (as kwsnum.data.synth.plan splits them)."""
    _, split = _synth.plan(seed, per_word=1, n_unknown_words=0, keywords=[WAKE], synths=synths)
    return split


def generate(out_dir, seed=0, per_phrase=200, per_negative=None, synths=None, augment=True, jobs=1,
             noise_prob=0.8, negatives=None, log=None):
    """Write the wake-word clips into out_dir (must be empty or absent); return the number of clips."""
    out_dir = os.path.abspath(str(out_dir))
    names = _synth.resolve_synths(synths, log or (lambda m: sys.stderr.write(m + "\n")))
    if os.path.isdir(out_dir) and os.listdir(out_dir):
        raise ValueError(f"{out_dir}: not empty")
    if per_negative is None:
        per_negative = max(1, per_phrase // 5)
    negatives = list(CONFUSABLE + OTHER if negatives is None else negatives)
    clips, split = _synth.plan(seed, per_phrase, len(negatives), per_negative, [WAKE], negatives, synths=names)
    aug = _aug.DEFAULT if augment is True else (augment or None)
    os.makedirs(out_dir, exist_ok=True)
    _synth._NOISE_CACHE.pop(out_dir, None)
    _synth._write_background(out_dir, seed, _synth.DEFAULT_NOISE_SECONDS)
    if aug is not None:
        _synth._rirs(seed)
    tasks = []
    for rel, word, i, sp, _ in clips:
        rel = slug(word) + "/" + rel.split("/", 1)[1]
        os.makedirs(os.path.join(out_dir, slug(word)), exist_ok=True)
        tasks.append((out_dir, rel, word, i, seed, sp, noise_prob, (5.0, 30.0), 480, aug))
    if jobs is None or jobs <= 1:
        rows = [_synth._make_clip(t) for t in tasks]
    else:
        import multiprocessing as mp
        with mp.get_context("fork").Pool(jobs) as pool:
            rows = pool.map(_synth._make_clip, tasks, chunksize=8)
    rows.sort()
    with open(os.path.join(out_dir, "speakers.txt"), "w", newline="\n") as f:
        for sp, s in sorted(split.items(), key=lambda kv: _voices.speaker_id(kv[0])):
            f.write(f"{_voices.speaker_id(sp)} {sp} {s}\n")
    with open(os.path.join(out_dir, "metadata.csv"), "w", newline="\n") as f:
        f.write(",".join(_synth.METADATA_COLUMNS) + "\n")
        for r in rows:
            f.write(",".join(str(v) for v in r) + "\n")
    return len(rows)


def _rng(seed, *keys):
    return _synth._rng(seed, *keys)


def _utterance(text, speaker, rng, arng, rirs, aug):
    x, _ = _synth._synthesize(text, speaker, rng, 480)
    if aug is not None:
        x, _ = _aug.augment_word(x, arng, rirs, aug)
        x = _synth._trim(x, rel_db=-50.0)
    return x


def long_audio(out_wav, seed=0, seconds=3600.0, synths=None, positive_every=30.0, noise=True,
               negatives=True, augment=True, split_seed=None, log=None, speakers="testing"):
    """Write ``seconds`` of evaluation audio to out_wav and the inserted positives to out_wav's .csv
    (columns start, end, speaker). Speakers: the ``speakers`` split (``testing``, or ``validation`` for
    audio to tune a detector on) of ``splits(split_seed or seed)`` (give the training set's seed as
    ``split_seed`` for speaker-disjointness from it). Returns the list of (start, end, speaker string)."""
    names = _synth.resolve_synths(synths, log or (lambda m: sys.stderr.write(m + "\n")))
    if speakers not in ("testing", "validation"):
        raise ValueError(f"speakers must be 'testing' or 'validation', got {speakers!r}")
    split = splits(seed if split_seed is None else split_seed, names)
    test = sorted((sp for sp, s in split.items() if s == speakers), key=str)
    if not test:
        raise RuntimeError(f"no {speakers} speaker")
    aug = _aug.DEFAULT if augment is True else (augment or None)
    rirs = _aug.room_impulse_responses(seed) if aug is not None else []
    n = int(round(seconds * SAMPLE_RATE))
    y = np.zeros(n)
    if noise:
        pos = 0
        k = 0
        while pos < n:
            r = _rng(seed, "long-noise", k)
            m = min(n - pos, int(r.uniform(5.0, 30.0) * SAMPLE_RATE))
            kind = _synth.NOISE_KINDS[int(r.integers(len(_synth.NOISE_KINDS)))]
            seg = _synth._noise(kind, max(m, 2), r).astype(np.float64)[:m]
            y[pos:pos + m] = seg * 10 ** (r.uniform(-30.0, -5.0) / 20)     # -50 .. -25 dBFS RMS
            pos += m
            k += 1
    events, pos, k = [], int(0.5 * SAMPLE_RATE), 0
    p_pos = min(1.0, 2.5 / positive_every)         # about one event per 2.5 s of time used
    while True:
        r = _rng(seed, "long-event", k)
        sp = test[int(r.integers(len(test)))]
        is_pos = r.random() < p_pos or not negatives
        text = WAKE if is_pos else (CONFUSABLE + OTHER)[int(r.integers(len(CONFUSABLE) + len(OTHER)))]
        gap = int(r.uniform(0.3, 2.0 if negatives else positive_every) * SAMPLE_RATE)
        level_db = float(r.uniform(-30.0, -14.0))
        x = _utterance(text, sp, _rng(seed, "long-synth", k), _rng(seed, "long-aug", k), rirs, aug)
        k += 1
        pos += gap
        if pos + x.size + SAMPLE_RATE // 2 > n:
            break
        if x.size:
            g = 32767 * 10 ** (level_db / 20) / (np.sqrt(np.mean(x ** 2)) + 1e-12)
            g = min(g, 32767 * 10 ** (-1 / 20) / (np.max(np.abs(x)) + 1e-12))
            y[pos:pos + x.size] += x * g
            if is_pos:
                events.append((pos / SAMPLE_RATE, (pos + x.size) / SAMPLE_RATE, str(sp)))
        pos += x.size
    _synth._write_wav(out_wav, np.clip(np.round(y), -32768, 32767).astype(np.int16))
    with open(os.path.splitext(str(out_wav))[0] + ".csv", "w", newline="\n") as f:
        f.write("start,end,speaker\n")
        for a, b, s in events:
            f.write(f"{a:.4f},{b:.4f},{s}\n")
    return events


def read_events(csv_path):
    with open(csv_path) as f:
        next(f)
        return [(float(a), float(b), s) for a, b, s in (line.rstrip("\n").split(",") for line in f if line.strip())]


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m kwsnum.data.wakeword", description=__doc__.split("\n")[0])
    p.add_argument("out_dir")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--per-phrase", type=int, default=200)
    p.add_argument("--synths", default=",".join(_voices.SYNTHS))
    p.add_argument("--long", type=float, default=None, metavar="SECONDS",
                   help="write OUT/long.wav + long.csv (evaluation audio) instead of clips")
    p.add_argument("--split-seed", type=int, default=None, help="the training set's seed (test speakers)")
    p.add_argument("--speakers", choices=("testing", "validation"), default="testing",
                   help="--long: the split whose speakers talk (validation: audio to tune a detector on)")
    p.add_argument("--positive-every", type=float, default=30.0, metavar="SECONDS",
                   help="--long: mean seconds between inserted positives (>= 2.5: about one event per 2.5 s)")
    p.add_argument("--jobs", type=int, default=1)
    a = p.parse_args(argv)
    synths = [s for s in a.synths.split(",") if s]
    try:
        if a.long:
            os.makedirs(a.out_dir, exist_ok=True)
            if a.positive_every <= 0:
                raise ValueError("--positive-every must be > 0")
            ev = long_audio(os.path.join(a.out_dir, "long.wav"), a.seed, a.long, synths, split_seed=a.split_seed,
                            positive_every=a.positive_every, speakers=a.speakers)
            print(f"wrote {a.long:g} s with {len(ev)} positives to {a.out_dir}/long.wav")
        else:
            print(f"wrote {generate(a.out_dir, a.seed, a.per_phrase, synths=synths, jobs=a.jobs)} clips")
    except (RuntimeError, ValueError, OSError) as e:
        sys.stderr.write(f"kwsnum.data.wakeword: error: {e}\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
