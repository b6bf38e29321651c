"""From int16 PCM to wake-word detections (docs/numerics.md 12.6): the model's frontend run incrementally, the
streaming model stepped whenever ``step`` new frames exist, the integer detector (kwsnum/detector.py) on every step.

    lis = Listener(smodel)                 # a streaming model with its frontend stored in it
    for chunk in chunks:                   # int16 PCM, any chunking: the detections of one big push
        for d in lis.push(chunk):
            print(d.time, d.label, d.score)
    listen(smodel, pcm)                    # the same, from a reset, on one signal

A :class:`Detection` is (step, time, label, index, score, sum): ``step`` counts the model's steps from the reset,
``time`` (seconds) is the end of the step's last frame: ``(((step + 1) * R - 1) * hop + win) / sample_rate``
(frontend hop / window in samples; raw: hop = win = 1), i.e. the number of samples the stream had received when
the step could run. ``score`` = ``scale * sum / window``; ``sum`` is the detector's integer moving sum.

Frontends: ``micro`` (TFLM's microfrontend, integer and stateful: chunking-invariant by construction, spec
docs/frontend.md) and ``raw`` (x / 32768 per sample). ``logmel`` / ``mfcc`` are refused (see :func:`check`).
No torch import (``reference=True`` steps the torch reference of the model, and imports it).
"""
from collections import namedtuple

import numpy as np

from . import detector as kdet
from . import streaming as kstream
from .errors import InputError

Detection = namedtuple("Detection", "step time label index score sum")


def check(model):
    """Raise InputError unless ``model`` can listen: a streaming model, with a frontend it can run frame by frame
    and whose features have time on the last axis, and an integer output the detector reads."""
    if not kstream.is_streaming(model):
        raise InputError("the model is not a streaming model (make one with kwsnum.streaming.to_streaming or "
                         "from_torch(..., streaming=True))")
    check_frontend(model)
    kdet.output_spec(model)


def check_frontend(model):
    """Raise InputError unless the model's frontend can run frame by frame with time on the last axis."""
    fe = model.frontend
    if fe is None:
        raise InputError("the streaming model has no frontend: PCM cannot be turned into its input frames (store "
                         "one: model.frontend = MicroFrontend(...) before to_streaming)")
    if fe.kind in ("logmel", "mfcc"):
        raise InputError(f"the {fe.kind} frontend cannot run frame by frame bit-exactly: "
                         + ("center=True reflect-pads the clip's ends, which a stream does not have; "
                            if fe.center else "")
                         + "its float64 FFT and BLAS matrix products over a block of frames do not promise to round "
                           "each frame as the windowed computation does (use the integer micro frontend)")
    if fe.kind == "micro":
        if fe.layout != "coeff_major" or fe.channel_axis:
            raise InputError("a streaming model's frontend must put time on the last axis: micro frontend with "
                             "layout='coeff_major' and channel_axis=False (features (channels, frames))")
    elif fe.kind != "raw":
        raise InputError(f"frontend kind {fe.kind!r} cannot stream")


def frame_geometry(model):
    """(hop, win, sample_rate): samples between frames, samples per frame, Hz of the model's frontend."""
    fe = model.frontend
    if fe.kind == "micro":
        return int(fe.tables.window_step), int(fe.tables.window_size), int(fe.sample_rate)
    return 1, 1, int(fe.sample_rate)


def step_time(model, step):
    """Seconds at the end of step ``step``'s last frame (see the module doc)."""
    hop, win, sr = frame_geometry(model)
    R = kstream.info(model)["step"]
    return (((int(step) + 1) * R - 1) * hop + win) / sr


class _Frames:
    """One stream's frontend: PCM in, the model's float32 input frames (channels, T) out."""

    def __init__(self, fe):
        self.fe = fe
        self.micro = fe.stream() if fe.kind == "micro" else None

    def reset(self):
        if self.micro is not None:
            self.micro.reset()

    def push(self, pcm):
        if self.micro is not None:
            f = self.micro.push(pcm)                                    # (T, channels) uint16
            return np.ascontiguousarray((f.astype(np.float32) * np.float32(self.fe.out_scale)).T)
        return (pcm.astype(np.float64) / 32768.0).astype(np.float32)[None, :]


def _as_pcm(pcm, batch):
    x = np.asarray(pcm)
    if x.dtype != np.int16:
        raise InputError(f"PCM must be int16, got {x.dtype}")
    if batch == 1 and x.ndim == 1:
        return x[None], True
    if x.ndim != 2 or x.shape[0] != batch:
        raise InputError(f"PCM of shape {x.shape} does not match ({batch}, samples)" +
                         (" or (samples,)" if batch == 1 else ""))
    return x, False


class Listener:
    """``batch`` independent streams from PCM to detections. ``params``: DetectorParams (default: the model's
    stored ones); ``threshold`` (real score), ``window``, ``refractory``, ``label`` override them
    (kwsnum.detector.configure, not stored). ``reference``: the torch reference steps the model."""

    def __init__(self, model, batch=1, params=None, threshold=None, window=None, refractory=None, label=None,
                 reference=False):
        check(model)
        self.model = model
        self.params = override(model, params, threshold=threshold, window=window, refractory=refractory, label=label)
        self.batch = int(batch)
        self.stream = kstream.Stream(model, batch=self.batch, reference=reference)
        self.tensor = kdet.output_spec(model).name
        self.frames = [_Frames(model.frontend) for _ in range(self.batch)]
        self.detectors = [kdet.Detector(self.params, self.stream.warmup) for _ in range(self.batch)]
        self.labels = model.labels
        self.reset()

    def reset(self):
        """Every stream back to its start: frontend, model state, detector, step count."""
        for f in self.frames:
            f.reset()
        for d in self.detectors:
            d.reset()
        self.stream.reset()
        self.steps = 0
        self.samples = 0
        self.last = None      # the integer outputs (batch, steps, *shape) of the last push

    def label_name(self, i):
        return str(self.labels[i]) if self.labels is not None else str(i)

    def push(self, pcm):
        """int16 PCM: (samples,) (batch 1) or (batch, samples). Returns the detections of the steps completed:
        a list of :class:`Detection` (batch 1, 1-D PCM) or one list per stream."""
        x, single = _as_pcm(pcm, self.batch)
        feats = np.stack([f.push(x[b]) for b, f in enumerate(self.frames)])
        q = self.stream.push(feats, tensor=self.tensor)                   # (batch, steps, *out)
        self.last = q
        out = [[] for _ in range(self.batch)]
        p = self.params
        name = self.label_name(p.label)
        for j in range(q.shape[1]):
            k = self.steps + j
            for b, det in enumerate(self.detectors):
                if det.push(q[b, j]):
                    out[b].append(Detection(k, step_time(self.model, k), name, p.label,
                                            p.scale * det.last_sum / p.window, int(det.last_sum)))
        self.steps += q.shape[1]
        self.samples += x.shape[1]
        return out[0] if single else out


def override(model, params=None, threshold=None, window=None, refractory=None, label=None):
    """The detector parameters: ``params`` or the model's stored ones, with the given fields replaced
    (threshold recomputes threshold_sum, docs/numerics.md 12.5). Raises InputError when there are none."""
    p = params or kdet.params_of(model)
    if p is None and (label is None or threshold is None):
        raise InputError("the model stores no detector parameters (kwsnum.detector.configure): give label and "
                         "threshold")
    if p is not None and all(v is None for v in (threshold, window, refractory, label)):
        return p
    lab = int(label) if label is not None else p.label
    win = int(window) if window is not None else (p.window if p is not None else 5)           # configure's
    ref = int(refractory) if refractory is not None else (p.refractory if p is not None else 20)  # defaults
    against = (p.against if p.against >= 0 else None) if p is not None else None
    if threshold is None:
        # keep the real threshold the stored sum stands for, on the new window
        thr = p.threshold_sum * p.scale / p.window
        if win == p.window and lab == p.label:
            return kdet.DetectorParams(lab, win, p.threshold_sum, ref, p.against, p.zero_point, p.scale)
    else:
        thr = float(threshold)
    return kdet.configure(model, lab, thr, window=win, refractory=ref, against=against, store=False)


def listen(model, pcm, **kw):
    """The detections of one signal (int16, 1-D) from a reset: ``Listener(model, **kw).push(pcm)``."""
    return Listener(model, **kw).push(np.asarray(pcm))


__all__ = ["Listener", "Detection", "listen", "check", "check_frontend", "step_time", "frame_geometry", "override"]
