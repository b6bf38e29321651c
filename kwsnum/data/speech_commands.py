"""Load a Speech Commands v2 folder (real, or made by kwsnum.data.synth) as 12-class KWS splits.

Assumptions about ``root`` (true of the real ``speech_commands_v0.02`` archive unchanged):

* every sub-folder whose name does not start with ``_`` or ``.`` is a word, and holds that
  word's ``.wav`` clips (16 kHz, mono, 16-bit PCM; shorter clips are zero-padded at the end);
* ``validation_list.txt`` and ``testing_list.txt`` exist at the top, one relative path
  (``yes/0a7c2a8d_nohash_0.wav``, forward slashes) per line;
* ``_background_noise_/`` holds long 16 kHz mono 16-bit noise WAVs, used for "silence"
  (if it is missing or empty, silence items are all-zero clips).

Splits follow the dataset's convention: test = files in testing_list.txt, validation = files
in validation_list.txt, train = every other clip.  Labels are the 12 classes of the usual
KWS benchmark (``LABELS``): the 10 keywords, every other word -> "unknown", and "silence"
items generated from the background noise.

Everything is deterministic given ``seed``: silence item j of a split is a fixed 1 s crop of
one background file at an offset and gain drawn from
``numpy.random.default_rng([seed, crc32(split), j])``.
"""
from __future__ import annotations

import functools
import os
import wave
import zlib

import numpy as np

LABELS = ["silence", "unknown", "yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"]
SILENCE, UNKNOWN = 0, 1
KEYWORDS = LABELS[2:]
SAMPLE_RATE = 16000
CLIP_SAMPLES = 16000
BACKGROUND = "_background_noise_"

_SPLIT_NAMES = {"train": "train", "training": "train",
                "validation": "validation", "val": "validation", "valid": "validation",
                "test": "test", "testing": "test"}


class Item(tuple):
    """A (path_or_None, label_index) pair.

    Unpacks like a 2-tuple.  ``item.silence`` is None for a clip, or
    (noise_path, offset, gain) for a silence item (whose path is None).
    """

    def __new__(cls, path, label, silence=None):
        self = super().__new__(cls, (path, int(label)))
        self.silence = silence
        return self

    path = property(lambda self: self[0])
    label = property(lambda self: self[1])

    def __reduce__(self):
        return (Item, (self[0], self[1], self.silence))

    def __repr__(self):
        if self.silence is not None:
            return "Item(None, %d, silence=%r)" % (self[1], self.silence)
        return "Item(%r, %d)" % (self[0], self[1])


def label_of(word):
    """Label index of a folder name: a keyword's own index, else UNKNOWN."""
    return LABELS.index(word) if word in KEYWORDS else UNKNOWN


def _read_list(root, name):
    path = os.path.join(root, name)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: missing (a Speech Commands folder has "
                                "validation_list.txt and testing_list.txt)")
    with open(path) as f:
        return {line.strip().replace("\\", "/") for line in f if line.strip()}


def _scan(root):
    out = []
    for word in sorted(os.listdir(root)):
        d = os.path.join(root, word)
        if word.startswith(("_", ".")) or not os.path.isdir(d):
            continue
        for name in sorted(os.listdir(d)):
            if name.lower().endswith(".wav"):
                out.append(f"{word}/{name}")
    return out


def speaker_of(rel_path):
    """The speaker id of a clip path: the file name's part before '_nohash_'."""
    name = rel_path.replace("\\", "/").rsplit("/", 1)[-1]
    return name.split("_nohash_")[0]


def _wav_frames(path):
    with wave.open(path, "rb") as w:
        return w.getnframes()


def background_files(root):
    d = os.path.join(root, BACKGROUND)
    if not os.path.isdir(d):
        return []
    files = [os.path.join(d, n) for n in sorted(os.listdir(d)) if n.lower().endswith(".wav")]
    return [f for f in files if _wav_frames(f) >= CLIP_SAMPLES]


def load_split(root, split, *, silence_fraction=0.1, balance_unknown=False, seed=0, speakers=None):
    """The items of one split: a list of Item (path_or_None, label_index).

    split: "train", "validation" or "test" (also "training", "val", "testing").
    silence_fraction: number of silence items = round(silence_fraction * number of clips)
    (after unknown balancing).  balance_unknown: keep a seeded random subset of the unknown
    clips, as many as the average keyword class of the split.  Order: clips sorted by path,
    then silence items.
    """
    if split not in _SPLIT_NAMES:
        raise ValueError(f"split must be one of train, validation, test; got {split!r}")
    split = _SPLIT_NAMES[split]
    root = os.fspath(root)
    val = _read_list(root, "validation_list.txt")
    test = _read_list(root, "testing_list.txt")
    rels = _scan(root)
    if split == "validation":
        rels = [r for r in rels if r in val]
    elif split == "test":
        rels = [r for r in rels if r in test]
    else:
        rels = [r for r in rels if r not in val and r not in test]
    if speakers is not None:
        rels = [r for r in rels if speaker_of(r) in speakers]
    items = [Item(os.path.join(root, *r.split("/")), label_of(r.split("/")[0])) for r in rels]

    if balance_unknown:
        counts = [sum(1 for it in items if it[1] == k) for k in range(2, len(LABELS))]
        present = [c for c in counts if c > 0]
        target = int(round(sum(present) / len(present))) if present else 0
        unk = [i for i, it in enumerate(items) if it[1] == UNKNOWN]
        if len(unk) > target:
            rng = np.random.default_rng([int(seed), zlib.crc32(b"unknown"), zlib.crc32(split.encode())])
            keep = set(np.asarray(unk)[rng.choice(len(unk), target, replace=False)].tolist())
            items = [it for i, it in enumerate(items) if it[1] != UNKNOWN or i in keep]

    return items + silence_items(root, split, int(round(silence_fraction * len(items))), seed)


def silence_items(root, split, n, seed=0):
    """n silence items of a split: item j is a fixed 1 s crop of one _background_noise_ file at an offset
    and a gain in [0, 1) drawn from default_rng([seed, crc32(split), j]) (all-zero without noise files)."""
    split = _SPLIT_NAMES.get(split, split)
    noise = background_files(os.fspath(root))
    lengths = [_wav_frames(f) for f in noise]
    items = []
    for j in range(n):
        rng = np.random.default_rng([int(seed), zlib.crc32(split.encode()), j])
        if noise:
            k = int(rng.integers(len(noise)))
            offset = int(rng.integers(0, lengths[k] - CLIP_SAMPLES + 1))
            gain = float(rng.uniform(0.0, 1.0))
            items.append(Item(None, SILENCE, (noise[k], offset, gain)))
        else:
            items.append(Item(None, SILENCE, (None, 0, 0.0)))
    return items


def _read_wav(path):
    with wave.open(path, "rb") as w:
        if w.getsampwidth() != 2:
            raise ValueError(f"{path}: expected 16-bit PCM, got {8 * w.getsampwidth()}-bit")
        if w.getframerate() != SAMPLE_RATE:
            raise ValueError(f"{path}: expected {SAMPLE_RATE} Hz, got {w.getframerate()} Hz")
        x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        if w.getnchannels() > 1:
            x = x.reshape(-1, w.getnchannels())[:, 0]
    return x.astype(np.int16)


@functools.lru_cache(maxsize=16)
def _noise(path):
    return _read_wav(path)


def load_audio(item):
    """int16 samples, exactly 16000 (1 s): the clip zero-padded at the end or truncated,
    or for a silence item its background-noise crop times its gain (rounded, saturated)."""
    silence = getattr(item, "silence", None)
    if silence is not None:
        path, offset, gain = silence
        if path is None:
            return np.zeros(CLIP_SAMPLES, np.int16)
        crop = _noise(path)[offset:offset + CLIP_SAMPLES].astype(np.float64) * gain
        return np.clip(np.round(crop), -32768, 32767).astype(np.int16)
    path = item[0]
    if path is None:
        raise ValueError("a silence item needs its .silence spec; use the Items of load_split")
    x = _read_wav(path)
    out = np.zeros(CLIP_SAMPLES, np.int16)
    n = min(x.size, CLIP_SAMPLES)
    out[:n] = x[:n]
    return out


def load_arrays(items):
    """(int16 [N, 16000], int64 [N]) for a list of items."""
    x = np.stack([load_audio(it) for it in items]) if items else np.zeros((0, CLIP_SAMPLES), np.int16)
    y = np.array([it[1] for it in items], dtype=np.int64)
    return x, y
