"""The wake-word detector on a streaming model's integer output (docs/numerics.md 12.5): a moving sum over the last
``window`` step scores, an integer threshold and a refractory period, so that Python and C decide identically.

    params = detector.configure(smodel, label=1, threshold=0.5, window=5, refractory=20)   # stored in the meta
    det = detector.Detector(params, warmup=streaming.info(smodel)["warmup"])
    for k, q in enumerate(int_outputs):       # the integer output of every step (Stream.push(..., tensor=...))
        if det.push(q): ...                   # det.last_sum: the smoothed score's integer sum

score_q = q[label] - zp (or q[label] - q[against]: zero points cancel), real score = scale * score_q. A step k
detects when k >= warmup + window - 1, no detection happened in the previous ``refractory`` steps, and
sum of the last ``window`` score_q >= threshold_sum, where threshold_sum = ceil(window * threshold / scale) is
computed once (float64) and stored.
"""
import json
import math
from dataclasses import asdict, dataclass

import numpy as np

from .errors import InputError
from .model import INTEGER

META_KEY = "detector"


@dataclass
class DetectorParams:
    label: int
    window: int
    threshold_sum: int          # on the sum of `window` integer scores
    refractory: int
    against: int = -1           # -1: score = q[label] - zero point
    zero_point: int = 0
    scale: float = 1.0          # real score = scale * score_q (for reporting; not used in the decision)

    def to_meta(self):
        return json.dumps(asdict(self))

    @classmethod
    def from_meta(cls, text):
        return cls(**json.loads(text))


def output_spec(model):
    """The integer output the detector reads: the input of the model's final dequantize, or the output."""
    last = model.nodes[-1]
    t = last.inputs[0] if last.op == "dequantize" else model.outputs[0]
    spec = model.tensors[t]
    if spec.format not in INTEGER:
        raise InputError(f"the detector works on an int8, int16 or Q-format output; {t!r} is {spec.format}")
    return spec


def configure(model, label, threshold, window=5, refractory=20, against=None, store=True):
    """DetectorParams for ``model`` (threshold: on the real score), stored in ``model.meta`` when ``store``."""
    spec = output_spec(model)
    n = spec.size
    if not 0 <= int(label) < n or (against is not None and not 0 <= int(against) < n) or against == label:
        raise InputError(f"label {label} / against {against} must be distinct class indices in [0, {n})")
    if not 1 <= int(window) <= 1024 or int(refractory) < 0:
        raise InputError(f"window must be in [1, 1024] and refractory >= 0, got {window}, {refractory}")
    scale = float(spec.scale) if spec.scale is not None else 2.0 ** -spec.frac_bits
    zp = int(spec.zero_point or 0)
    t = int(math.ceil(int(window) * float(threshold) / scale))
    p = DetectorParams(int(label), int(window), t, int(refractory), -1 if against is None else int(against),
                       0 if against is not None else zp, scale)
    if store:
        model.meta[META_KEY] = p.to_meta()
    return p


def params_of(model):
    raw = model.meta.get(META_KEY)
    return DetectorParams.from_meta(raw) if raw else None


class Detector:
    """One stream's decisions, step by step, in integers."""

    def __init__(self, params, warmup=0):
        self.p = params
        self.warmup = int(warmup)
        self.reset()

    def reset(self):
        self.ring = np.zeros(self.p.window, np.int64)
        self.pos = self.filled = self.step = self.hold = 0
        self.sum = 0
        self.last_sum = 0

    def score(self, q):
        q = np.asarray(q).reshape(-1).astype(np.int64)
        return int(q[self.p.label]) - (int(q[self.p.against]) if self.p.against >= 0 else self.p.zero_point)

    def push(self, q):
        """The step's integer output -> True when the step detects."""
        k = self.step
        self.step += 1
        if self.hold > 0:
            self.hold -= 1
        if k < self.warmup:
            return False
        s = self.score(q)
        self.sum += s - int(self.ring[self.pos])
        self.ring[self.pos] = s
        self.pos = (self.pos + 1) % self.p.window
        self.filled = min(self.filled + 1, self.p.window)
        self.last_sum = self.sum
        if self.filled == self.p.window and self.hold == 0 and self.sum >= self.p.threshold_sum:
            self.hold = self.p.refractory
            return True
        return False

    def smoothed(self):
        """The real smoothed score of the last step: scale * sum / window."""
        return self.p.scale * self.last_sum / self.p.window


def detect(params, outputs, warmup=0):
    """[(step, integer sum)] of the detections over integer outputs (steps, classes) from a reset."""
    d = Detector(params, warmup)
    return [(k, d.last_sum) for k, q in enumerate(outputs) if d.push(q)]


def scores(params, outputs):
    """The integer score of every step (int64, (steps,)) of integer outputs (steps, classes)."""
    q = np.asarray(outputs, np.int64)
    q = q.reshape(q.shape[0], int(np.prod(q.shape[1:], dtype=np.int64)))
    return q[:, params.label] - (q[:, params.against] if params.against >= 0 else params.zero_point)


def moving_sums(params, score, warmup=0):
    """(steps, sums): the steps k >= warmup + window - 1 and their sums of the last ``window`` scores (int64)."""
    s = np.asarray(score, np.int64)[int(warmup):]
    c = np.concatenate([[0], np.cumsum(s)])
    w = params.window
    sums = c[w:] - c[:-w] if len(s) >= w else np.zeros(0, np.int64)
    return np.arange(len(sums), dtype=np.int64) + int(warmup) + w - 1, sums


def detect_sums(params, steps, sums):
    """The decisions of :class:`Detector` from precomputed (steps, sums) of :func:`moving_sums`: the same
    [(step, integer sum)] as :func:`detect`, without a Python loop over every step (threshold sweeps)."""
    cand = np.flatnonzero(np.asarray(sums) >= params.threshold_sum)
    out, nxt = [], None
    for i in cand:
        k = int(steps[i])
        if nxt is None or k >= nxt:
            out.append((k, int(sums[i])))
            nxt = k + max(params.refractory, 1)
    return out


__all__ = ["DetectorParams", "Detector", "configure", "params_of", "detect", "output_spec", "scores", "moving_sums",
           "detect_sums"]
