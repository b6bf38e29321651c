"""Wake-word measurement on long audio with positives at known times (kwsnum.data.wakeword's long.wav / long.csv):
false-reject rate and false accepts per hour, for the stored detector and over a sweep of thresholds.

    q = step_outputs(smodel, pcm)                  # the integer output of every step (oracle, kwsnum.listen)
    r = evaluate(smodel, q, events, seconds)       # at the model's stored detector parameters
    curve = sweep(smodel, q, events, seconds, thresholds, window=5)

**Matching rule** (docs/training.md, "Wake-word model"): an inserted positive ``(start, end)`` is *accepted* when
a detection's time t (kwsnum.listen.step_time: the end of the detecting step) satisfies
``start <= t <= end + tolerance``; detections are taken in time order and each one accepts at most one positive
(the earliest not yet accepted whose interval holds t). A detection that accepts no positive is a *false accept*
(also a second detection inside an already accepted positive's interval). FRR = positives not accepted /
positives; false accepts per hour = false accepts / (audio seconds / 3600), over the whole audio.

The step scores are computed once (the model and frontend, through kwsnum.listen.Listener); a threshold or
window change re-runs only the integer detector (kwsnum.detector.moving_sums / detect_sums, equal to
kwsnum.detector.Detector step by step). No torch import.
"""
import numpy as np

from . import detector as kdet
from . import listen as klisten
from . import streaming as kstream

TOLERANCE = 0.5      # seconds after a positive's end in which a detection still accepts it
CHUNK = 16000 * 10


def step_outputs(model, pcm, progress=None):
    """The integer output (kwsnum.detector.output_spec) of every step of ``model`` over int16 ``pcm`` (1-D), from a
    reset: an array (steps, classes). ``progress(samples_done)`` is called after every chunk."""
    never = kdet.DetectorParams(label=0, window=1, threshold_sum=2 ** 62, refractory=0)
    lis = klisten.Listener(model, params=never)
    pcm = np.ascontiguousarray(pcm, np.int16)
    out = []
    for i in range(0, len(pcm), CHUNK):
        lis.push(pcm[i:i + CHUNK])
        out.append(lis.last[0])
        if progress is not None:
            progress(min(i + CHUNK, len(pcm)))
    spec = kdet.output_spec(model)
    return np.concatenate(out) if out else np.zeros((0,) + tuple(spec.shape), spec.dtype)


def step_times(model, steps):
    """kwsnum.listen.step_time of every step in ``steps`` (float64 seconds)."""
    hop, win, sr = klisten.frame_geometry(model)
    R = kstream.info(model)["step"]
    k = np.asarray(steps, np.int64)
    return (((k + 1) * R - 1) * hop + win) / sr


def match(times, events, tolerance=TOLERANCE):
    """dict(accepted=[bool per positive], false_accepts=[time], true_accepts=[time]) by the module's rule."""
    ev = sorted((float(a), float(b)) for a, b, *_ in events)
    accepted = [False] * len(ev)
    fa, ta = [], []
    lo = 0
    for t in sorted(float(x) for x in times):
        while lo < len(ev) and ev[lo][1] + tolerance < t:
            lo += 1
        hit = None
        for j in range(lo, len(ev)):
            a, b = ev[j]
            if a > t:
                break
            if not accepted[j] and a <= t <= b + tolerance:
                hit = j
                break
        if hit is None:
            fa.append(t)
        else:
            accepted[hit] = True
            ta.append(t)
    return dict(accepted=accepted, false_accepts=fa, true_accepts=ta)


def rates(times, events, seconds, tolerance=TOLERANCE):
    """dict(frr, fa_per_hour, false_accepts, missed, positives, detections) of detection times."""
    m = match(times, events, tolerance)
    n = len(m["accepted"])
    missed = n - sum(m["accepted"])
    return dict(frr=missed / n if n else float("nan"), fa_per_hour=len(m["false_accepts"]) * 3600.0 / seconds,
                false_accepts=len(m["false_accepts"]), missed=missed, positives=n, detections=len(times),
                false_accept_times=m["false_accepts"])


def detections(model, outputs, params):
    """[(step, sum)] of the integer detector with ``params`` on the step outputs (as kwsnum.detector.detect)."""
    warm = kstream.info(model)["warmup"]
    steps, sums = kdet.moving_sums(params, kdet.scores(params, outputs), warm)
    return kdet.detect_sums(params, steps, sums)


def evaluate(model, outputs, events, seconds, params=None, tolerance=TOLERANCE):
    """rates() at ``params`` (default: the model's stored detector) plus the parameters used."""
    p = params or kdet.params_of(model)
    d = detections(model, outputs, p)
    r = rates(step_times(model, [k for k, _ in d]), events, seconds, tolerance)
    r.update(threshold=p.threshold_sum * p.scale / p.window, threshold_sum=p.threshold_sum, window=p.window,
             refractory=p.refractory)
    return r


def sweep(model, outputs, events, seconds, thresholds, window, refractory, label=1, against=0,
          tolerance=TOLERANCE):
    """[rates() + threshold, threshold_sum] for every real threshold (the integer detector re-run per threshold;
    the moving sums are computed once per window)."""
    warm = kstream.info(model)["warmup"]
    base = kdet.configure(model, label, 0.0, window=window, refractory=refractory, against=against, store=False)
    steps, sums = kdet.moving_sums(base, kdet.scores(base, outputs), warm)
    rows = []
    for thr in thresholds:
        p = kdet.configure(model, label, float(thr), window=window, refractory=refractory, against=against,
                           store=False)
        d = kdet.detect_sums(p, steps, sums)
        r = rates(step_times(model, [k for k, _ in d]), events, seconds, tolerance)
        r.update(threshold=float(thr), threshold_sum=p.threshold_sum, window=window, refractory=refractory)
        rows.append(r)
    return rows


def threshold_grid(model, outputs, label=1, against=0, n=81):
    """n real thresholds spanning the observed per-step scores (from the lowest to the highest score)."""
    p = kdet.configure(model, label, 0.0, window=1, refractory=0, against=against, store=False)
    s = kdet.scores(p, outputs)
    if not len(s):
        return np.zeros(0)
    return np.linspace(float(s.min()) * p.scale, float(s.max()) * p.scale, int(n))


def choose(rows, max_fa_per_hour):
    """The row with the lowest FRR among those with fa_per_hour <= max_fa_per_hour (ties: fewer false accepts,
    then the higher threshold); if none qualifies, the row with the fewest false accepts (then lowest FRR)."""
    ok = [r for r in rows if r["fa_per_hour"] <= max_fa_per_hour]
    if ok:
        return min(ok, key=lambda r: (r["frr"], r["false_accepts"], -r["threshold"]))
    return min(rows, key=lambda r: (r["false_accepts"], r["frr"], -r["threshold"]))


__all__ = ["step_outputs", "step_times", "match", "rates", "detections", "evaluate", "sweep", "threshold_grid",
           "choose", "TOLERANCE"]
