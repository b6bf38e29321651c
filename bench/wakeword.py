"""False-reject rate and false accepts per hour of a streaming wake-word model on long evaluation audio.

    python -m kwsnum.data.wakeword /tmp/ww-long1 --long 3600 --seed 1 --split-seed 0
    python bench/wakeword.py MODEL.h5 /tmp/ww-long1/long.wav [--png curve.png] [--tolerance 0.5] [--thresholds 81]

Streams the WAV through the oracle (kwsnum.listen: the model's frontend, the streaming model, step by step, one
stream from a reset), keeps every step's integer output, then runs the integer detector (kwsnum.detector) at the
model's stored parameters and over a sweep of thresholds (same window and refractory period), matching
detections to the positives of the WAV's .csv by kwsnum.wake_eval's rule (docs/training.md, "Wake-word model").
Prints FRR and false accepts per hour at the stored threshold, the sweep as a table, and wall times; writes the
curve (FRR vs false accepts per hour) as a PNG when matplotlib imports (the bench / train extras), else a CSV.
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np  # noqa: E402

import kwsnum  # noqa: E402
from kwsnum import detector as kdet  # noqa: E402
from kwsnum import wake_eval  # noqa: E402
from kwsnum.data.wakeword import read_events  # noqa: E402
from kwsnum.wav import read_wav  # noqa: E402


def plot(rows, stored, path, title):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, ax = plt.subplots(figsize=(5.5, 4.0))
    fa = [r["fa_per_hour"] for r in rows]
    frr = [100 * r["frr"] for r in rows]
    ax.plot(fa, frr, ".-", lw=1, ms=3, label="threshold sweep")
    ax.plot([stored["fa_per_hour"]], [100 * stored["frr"]], "o", color="C3",
            label=f"stored threshold {stored['threshold']:.3g}")
    ax.set_xscale("symlog", linthresh=1.0)
    ax.set_xlabel("false accepts per hour")
    ax.set_ylabel("false-reject rate (%)")
    ax.set_ylim(-2, 102)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return True


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("model")
    p.add_argument("wav", help="long audio; its positives in the .csv beside it (start,end,speaker)")
    p.add_argument("--png", default=None, help="the curve (default: WAV's folder/wakeword_curve.png)")
    p.add_argument("--tolerance", type=float, default=wake_eval.TOLERANCE,
                   help="seconds after a positive's end in which a detection still accepts it")
    p.add_argument("--thresholds", type=int, default=81, help="points of the threshold sweep")
    a = p.parse_args(argv)
    t0 = time.time()
    m = kwsnum.load(a.model)
    params = kdet.params_of(m)
    if params is None:
        sys.exit(f"{a.model}: the model stores no detector parameters (kwsnum.detector.configure)")
    pcm = read_wav(a.wav, expected_rate=m.frontend.sample_rate)[0]
    events = read_events(os.path.splitext(a.wav)[0] + ".csv")
    seconds = len(pcm) / m.frontend.sample_rate
    t1 = time.time()
    last = [0.0]

    def progress(n):
        if sys.stderr.isatty() and time.time() - last[0] > 1.0:
            last[0] = time.time()
            sys.stderr.write(f"\r{n / m.frontend.sample_rate:.0f}/{seconds:.0f} s")

    q = wake_eval.step_outputs(m, pcm, progress=progress)
    if sys.stderr.isatty():
        sys.stderr.write("\n")
    t_stream = time.time() - t1
    t2 = time.time()
    stored = wake_eval.evaluate(m, q, events, seconds, tolerance=a.tolerance)
    # the vectorized detector is the step-by-step Detector: checked here on the stored parameters
    warm = kwsnum.streaming.info(m)["warmup"]
    ref = kdet.detect(params, q, warm)
    fast = wake_eval.detections(m, q, params)
    if ref != fast:
        sys.exit("internal error: the vectorized detector disagrees with kwsnum.detector.Detector")
    against = params.against if params.against >= 0 else None
    grid = np.union1d(wake_eval.threshold_grid(m, q, label=params.label, against=against, n=a.thresholds),
                      [stored["threshold"]])
    rows = wake_eval.sweep(m, q, events, seconds, grid, window=params.window, refractory=params.refractory,
                           label=params.label, against=against, tolerance=a.tolerance)
    t_sweep = time.time() - t2
    step_s = wake_eval.step_times(m, [1])[0] - wake_eval.step_times(m, [0])[0]
    print(f"model {a.model}: {len(q)} steps of {1000 * step_s:.0f} ms over {seconds:.0f} s ({seconds / 3600:.3f} h) "
          f"of {a.wav}, {len(events)} positives")
    print(f"detector: window {params.window}, threshold {stored['threshold']:.4g} (sum {params.threshold_sum}), "
          f"refractory {params.refractory} steps; matching tolerance {a.tolerance:g} s after a positive's end")
    print(f"stored threshold: FRR {100 * stored['frr']:.2f} % ({stored['missed']}/{stored['positives']} missed), "
          f"{stored['fa_per_hour']:.2f} false accepts per hour ({stored['false_accepts']} in {seconds / 3600:.3f} h)")
    if stored["false_accept_times"]:
        print("false accepts at (s): " + ", ".join(f"{t:.2f}" for t in stored["false_accept_times"][:50]))
    print("\n| threshold | FRR % | false accepts / h | false accepts | missed |")
    print("|---|---|---|---|---|")
    shown = set()
    for r in rows:
        key = (r["false_accepts"], r["missed"])
        if key in shown and r["threshold"] != stored["threshold"]:
            continue
        shown.add(key)
        mark = " (stored)" if r["threshold"] == stored["threshold"] else ""
        print(f"| {r['threshold']:.4g}{mark} | {100 * r['frr']:.2f} | {r['fa_per_hour']:.2f} | {r['false_accepts']} | "
              f"{r['missed']} |")
    png = a.png or os.path.join(os.path.dirname(os.path.abspath(a.wav)), "wakeword_curve.png")
    title = f"{os.path.basename(a.model)} on {seconds / 3600:.2f} h ({len(events)} positives)"
    if plot(rows, stored, png, title):
        print(f"\nwrote {png}")
    else:
        csv = os.path.splitext(png)[0] + ".csv"
        with open(csv, "w") as f:
            f.write("threshold,frr,fa_per_hour\n")
            for r in rows:
                f.write(f"{r['threshold']:.6g},{r['frr']:.6f},{r['fa_per_hour']:.4f}\n")
        print(f"\nmatplotlib is not installed: wrote the curve as {csv}")
    print(f"wall time: streaming (frontend + model, oracle) {t_stream:.1f} s = {seconds / max(t_stream, 1e-9):.1f}x "
          f"real time; detector + sweep {t_sweep:.1f} s; total {time.time() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
