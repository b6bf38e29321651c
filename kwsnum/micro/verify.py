"""``kwsnum verify`` for a model with a micro frontend: the generated C frontend against the oracle (and the torch
reference) on every frame of every clip of DATA, integers with ``==`` (docs/verify.md, "Frontend")."""
import os
import subprocess
import tempfile
from dataclasses import dataclass

import numpy as np


@dataclass
class FrontendResult:
    impl: str               # "C" or "PyTorch reference"
    clips: int = 0
    clips_exact: int = 0
    frames: int = 0
    frames_exact: int = 0
    first: tuple = None     # (clip name, frame, channel, got, oracle)

    @property
    def ok(self):
        return self.clips == self.clips_exact

    def __str__(self):
        s = (f"frontend ({self.impl} vs oracle): {self.clips_exact}/{self.clips} clips, "
             f"{self.frames_exact}/{self.frames} frames bit-exact")
        if self.first:
            name, f, c, got, want = self.first
            s += f"; first difference: {name} frame {f} channel {c}: {got} vs {want}"
        return s


def audio_items(paths, model, split, limit):
    """[(name, loader of int16 samples)] of DATA as ``kwsnum verify`` lists it: a Speech Commands-style folder's
    split, or the .wav files among the paths (folders expanded); the same ``limit`` subsampling."""
    from ..wav import read_wav
    fe = model.frontend
    sc = [p for p in paths if os.path.isdir(p) and any(os.path.exists(os.path.join(p, f)) for f in
                                                        ("testing_list.txt", "validation_list.txt"))]
    items = []
    if sc:
        from ..data import LABELS, load_audio, load_split
        for it in load_split(sc[0], split, balance_unknown=True):
            name = it.path if it.path is not None else f"<{LABELS[it.label]} from background noise>"
            items.append((name, lambda it=it: load_audio(it)))
    else:
        files = []
        for p in paths:
            if os.path.isdir(p):
                files += sorted(os.path.join(p, f) for f in os.listdir(p) if f.lower().endswith((".npy", ".wav")))
            else:
                files.append(p)
        for f in files:   # .npy inputs are features, not audio: they are kept for the subsampling's indices
            items.append((f, (lambda f=f: read_wav(f, expected_rate=fe.sample_rate)[0])
                          if f.lower().endswith(".wav") else None))
    if limit is not None and 0 < limit < len(items):
        keep = np.unique(np.linspace(0, len(items) - 1, limit).round().astype(int))
        items = [items[i] for i in keep]
    return [(n, ld) for n, ld in items if ld is not None]


def _c_frames(exe, samples, tmp):
    clip = os.path.join(tmp, "clip.pcm")
    out = os.path.join(tmp, "frames.bin")
    np.asarray(samples, "<i2").tofile(clip)
    r = subprocess.run([exe, "--frames", clip, out], capture_output=True, text=True)
    if r.returncode != 0:
        from ..errors import KwsnumError
        raise KwsnumError(f"the C frontend failed (exit {r.returncode}): {r.stderr.strip()}")
    return np.fromfile(out, "<u2")


def check_frontend(model, c_dir, items, use_c=True, use_torch=True):
    """Compare the frontend's frames: C (the built harness in ``c_dir``, ``--frames``) and torch vs the oracle."""
    from .pipeline import features_torch
    fe = model.frontend
    exe = None
    if use_c:
        for cand in ("kws_verify_main", "kws_verify_main_trace"):
            if os.path.exists(os.path.join(c_dir, cand)):
                exe = os.path.join(c_dir, cand)
                break
    results = ([FrontendResult("C")] if exe else []) + ([FrontendResult("PyTorch reference")] if use_torch else [])
    with tempfile.TemporaryDirectory(prefix="kwsnum_fe_") as tmp:
        for name, load in items:
            x = load()
            clip = fe._fit_clip(x)
            ref = fe.features(x).astype(np.int64)
            for r in results:
                got = (_c_frames(exe, clip, tmp).reshape(-1, fe.num_channels) if r.impl == "C"
                       else features_torch(fe, clip)).astype(np.int64)
                r.clips += 1
                r.frames += ref.shape[0]
                if got.shape == ref.shape and np.array_equal(got, ref):
                    r.clips_exact += 1
                    r.frames_exact += ref.shape[0]
                    continue
                if got.shape != ref.shape:
                    if r.first is None:
                        r.first = (name, "count", "-", got.shape[0], ref.shape[0])
                    continue
                rows = np.all(got == ref, axis=1)
                r.frames_exact += int(rows.sum())
                if r.first is None:
                    f = int(np.argmin(rows))
                    c = int(np.argmin(got[f] == ref[f]))
                    r.first = (name, f, c, int(got[f, c]), int(ref[f, c]))
    return results
