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


def audio_items(paths, model, split, limit, resample=False, mix=False):
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
            items.append((f, (lambda f=f: read_wav(f, expected_rate=fe.sample_rate, resample=resample,
                                                   mix=mix)[0])
                          if f.lower().endswith(".wav") else None))
    if limit is not None and 0 < limit < len(items):
        keep = np.unique(np.linspace(0, len(items) - 1, limit).round().astype(int))
        items = [items[i] for i in keep]
    return [(n, ld) for n, ld in items if ld is not None]


def _c_frames(exe, samples, tmp):
    """The harness's --frames output for one clip: raw little-endian values (uint16 frames for micro, float32
    features otherwise, as bytes viewed by the caller)."""
    clip = os.path.join(tmp, "clip.pcm")
    out = os.path.join(tmp, "frames.bin")
    np.asarray(samples, "<i2").tofile(clip)
    r = subprocess.run([exe, "--frames", clip, out], capture_output=True, text=True)
    if r.returncode != 0:
        from ..errors import KwsnumError
        raise KwsnumError(f"the C frontend failed (exit {r.returncode}): {r.stderr.strip()}")
    return np.fromfile(out, "<u2")   # float frontends: .view(np.float32) of the same bytes


@dataclass
class FloatFrontendResult:
    """The float32 C frontend (logmel / mfcc / raw) against numpy: the largest difference, the tolerance check
    (docs/frontend.md, "The float frontends in C") and the predictions it changes (oracle on C vs numpy features)."""
    clips: int = 0
    max_diff: float = 0.0
    within: int = 0
    changed: int = 0
    first_changed: str = None

    @property
    def ok(self):
        return self.within == self.clips

    def __str__(self):
        s = (f"frontend (C float32 vs numpy): {self.clips} clips, max |diff| {self.max_diff:.3g}, "
             f"{self.within}/{self.clips} within the tolerance of docs/frontend.md; predictions changed by it: "
             f"{self.changed}/{self.clips}")
        return s + (f" (first: {self.first_changed})" if self.first_changed else "")


def _exe(c_dir):
    for cand in ("kws_verify_main", "kws_verify_main_trace"):
        if c_dir and os.path.exists(os.path.join(c_dir, cand)):
            return os.path.join(c_dir, cand)
    return None


def check_float_frontend(model, c_dir, items):
    from ..frontend import c_tolerance
    fe = model.frontend
    exe = _exe(c_dir)
    if exe is None:
        return []
    res = FloatFrontendResult()
    atol, rtol = c_tolerance(fe) if fe.kind != "raw" else (0.0, 0.0)
    with tempfile.TemporaryDirectory(prefix="kwsnum_fe_") as tmp:
        for name, load in items:
            x = load()
            ref = fe.compute(x)
            got = _c_frames(exe, x, tmp).view(np.float32)
            res.clips += 1
            if got.size != ref.size:
                continue
            got = got.reshape(ref.shape)
            d = np.abs(got.astype(np.float64) - ref)
            res.max_diff = max(res.max_diff, float(d.max()) if d.size else 0.0)
            std = getattr(fe, "std", 1.0)
            res.within += int(np.all((d - rtol * np.abs(ref)) * std <= atol))
            pa = np.asarray(model.run(got[None])).reshape(-1).argmax()
            pb = np.asarray(model.run(ref[None])).reshape(-1).argmax()
            if pa != pb:
                res.changed += 1
                res.first_changed = res.first_changed or name
    return [res]


def check_frontend(model, c_dir, items, use_c=True, use_torch=True):
    """Compare the frontend's frames: C (the built harness in ``c_dir``, ``--frames``) and torch vs the oracle
    (micro); for the float kinds, the C frontend against numpy (:func:`check_float_frontend`)."""
    from .pipeline import features_torch
    fe = model.frontend
    if fe.kind != "micro":
        return check_float_frontend(model, c_dir, items) if use_c else []
    exe = _exe(c_dir) if use_c else None
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
