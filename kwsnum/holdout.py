"""The held-out-synthesizer protocol: train on all synthesizers but one, test on the one left out, in turn.

``python -m kwsnum.holdout DATA_DIR --out OUT_DIR [--recipe NAME=TRAIN_ARGS ...] [--model NAME=MODEL.h5 ...]``

DATA_DIR is a folder made by ``python -m kwsnum.data.synth`` with several synthesizers (its speakers.txt says
which synthesizer each speaker is). For each recipe (a name and the ``kwsnum.train`` arguments it adds, e.g.
``aug="--augment-copies 1 --epochs 12"``) and each synthesizer E of the folder, ``kwsnum.train DATA_DIR
--holdout-synth E ARGS`` trains without E's speakers and tests the int8 ``.h5`` on every clip of E
(OUT_DIR/<recipe>/<E>/report.json). ``--single-synth NAME=SYNTH=TRAIN_ARGS`` trains one model on SYNTH alone
(the espeak-only recipe of the old bundled default) and tests it on each other synthesizer; ``--model
NAME=MODEL.h5`` only tests an existing model (e.g. the old bundled default) on each synthesizer's clips.
Prints and writes OUT_DIR/holdout.md (accuracy and macro F1 per held-out synthesizer, per-class F1) and
OUT_DIR/holdout.json.
"""
import argparse
import json
import os
import shlex
import sys
import time

import numpy as np

from .data import LABELS, load_arrays
from .train import evaluate_predictions, load_items, synth_selection


def evaluate_h5(model_path, root, synth, seed=0):
    """evaluate_predictions of an .h5 model (its own frontend) on every clip of ``synth`` in ``root`` (all three
    lists) plus the test split's share of silence, like ``kwsnum.train --holdout-synth``."""
    from . import load
    from .train import _oracle_predict
    sel = synth_selection(root, None, synth)
    items = load_items(root, sel, seed)["test"]
    clips, y = load_arrays(items)
    m = load(model_path)
    x = np.ascontiguousarray(m.frontend.compute_batch(clips), np.float32)
    return evaluate_predictions(np.asarray(y), _oracle_predict(m, x), list(m.labels))


def _synths(root):
    from .data.synth import read_speakers
    order = ["espeak", "festival", "flite", "piper"]
    present = {sp.synth for sp, _ in read_speakers(root).values()}
    return [s for s in order if s in present] + sorted(present - set(order))


def _train(root, out, args, quiet, subprocess_run=False):
    """One kwsnum.train run (in this process, or with ``subprocess_run`` as a child ``python -m kwsnum.train``,
    so that ``--jobs`` runs several at once); returns (its report.json, wall seconds)."""
    argv = [root, "--out", out] + args + (["--quiet"] if quiet else [])
    t0 = time.time()
    if subprocess_run:
        import subprocess
        rc = subprocess.run([sys.executable, "-m", "kwsnum.train"] + argv).returncode
    else:
        from .train import main as train_main
        rc = train_main(argv)
    if rc not in (0, 3):
        raise RuntimeError(f"kwsnum.train {' '.join(argv)} exited {rc}")
    with open(os.path.join(out, "report.json")) as f:
        rep = json.load(f)
    return rep, time.time() - t0


def _cell(res):
    return dict(accuracy=res["accuracy"], macro_f1=res["macro_f1"], n=res["n"],
                f1={m["label"]: m["f1"] for m in res["per_class"]})


def format_table(results, synths):
    L = ["| recipe | " + " | ".join(f"held out: {s}" for s in synths) + " | mean |",
         "|---|" + "---|" * (len(synths) + 1)]
    for name, row in results.items():
        cells, accs = [], []
        for s in synths:
            c = row.get(s)
            if c is None:
                cells.append("n/a")
            else:
                cells.append(f"{100 * c['accuracy']:.1f} % (F1 {c['macro_f1']:.2f}, n={c['n']})")
                accs.append(c["accuracy"])
        mean = f"{100 * np.mean(accs):.1f} %" if accs else "n/a"
        L.append(f"| {name} | " + " | ".join(cells) + f" | {mean} |")
    L.append("")
    L.append("Per-class F1 (int8) on the held-out synthesizer:")
    L.append("")
    L.append("| recipe | held out | " + " | ".join(LABELS) + " |")
    L.append("|---|---|" + "---|" * len(LABELS))
    for name, row in results.items():
        for s in synths:
            c = row.get(s)
            if c is not None:
                L.append(f"| {name} | {s} | " + " | ".join(f"{c['f1'].get(k, 0.0):.2f}" for k in LABELS) + " |")
    return "\n".join(L) + "\n"


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m kwsnum.holdout", description=__doc__.split("\n\n")[0])
    p.add_argument("data_dir", metavar="DATA_DIR")
    p.add_argument("--out", required=True, metavar="OUT_DIR")
    p.add_argument("--recipe", action="append", default=[], metavar="NAME=TRAIN_ARGS",
                   help="a training recipe: kwsnum.train arguments (quoted), run once per held-out synthesizer")
    p.add_argument("--single-synth", action="append", default=[], metavar="NAME=SYNTH=TRAIN_ARGS",
                   help="train once on SYNTH only, test on every other synthesizer")
    p.add_argument("--model", action="append", default=[], metavar="NAME=MODEL.h5",
                   help="test an existing .h5 model on every synthesizer")
    p.add_argument("--synths", default=None, help="comma-separated held-out synthesizers (default: all present)")
    p.add_argument("--jobs", type=int, default=1,
                   help="run this many trainings at once, each as a child python -m kwsnum.train (default 1: in "
                        "this process, one after the other)")
    p.add_argument("--quiet", action="store_true")
    a = p.parse_args(argv)
    try:
        synths = a.synths.split(",") if a.synths else _synths(a.data_dir)
    except OSError as e:
        sys.stderr.write(f"kwsnum.holdout: error: {e}\n")
        return 2
    os.makedirs(a.out, exist_ok=True)
    results, meta = {}, {}
    for spec in a.model:
        name, path = spec.split("=", 1)
        results[name] = {s: _cell(evaluate_h5(path, a.data_dir, s)) for s in synths}
        meta[name] = dict(model=os.path.abspath(path))
    # every training of the run, (recipe name, held-out or single synth, kind, out dir, kwsnum.train args)
    tasks = []
    for spec in a.single_synth:
        name, synth, args = spec.split("=", 2)
        tasks.append((name, synth, "single", os.path.join(a.out, name, synth), ["--synths", synth] + shlex.split(args),
                      args))
    for spec in a.recipe:
        name, args = spec.split("=", 1)
        for s in synths:
            tasks.append((name, s, "holdout", os.path.join(a.out, name, s), ["--holdout-synth", s] + shlex.split(args),
                          args))

    def one(task):
        name, s, kind, out, targs, _ = task
        rep, sec = _train(a.data_dir, out, targs, a.quiet or a.jobs > 1, subprocess_run=a.jobs > 1)
        if kind == "holdout":
            sys.stderr.write(f"kwsnum.holdout: {name}, held out {s}: int8 {rep['test']['int8_h5']['accuracy']:.4f} "
                             f"({sec:.0f} s)\n")
        return rep, sec

    if a.jobs > 1:
        from concurrent.futures import ThreadPoolExecutor
        with ThreadPoolExecutor(a.jobs) as ex:
            done = list(ex.map(one, tasks))
    else:
        done = [one(t) for t in tasks]
    for (name, s, kind, out, _, args), (rep, sec) in zip(tasks, done):
        if kind == "single":
            h5 = rep["files"]["h5_int8"]
            results[name] = {e: _cell(evaluate_h5(h5, a.data_dir, e)) for e in synths if e != s}
            meta[name] = dict(train=[s], args=args, seconds=sec, own_test_accuracy=rep["test"]["int8_h5"]["accuracy"],
                              epochs=rep["training"]["epochs_run"], best_val=rep["training"]["best_val_acc"],
                              train_n=rep["data"]["counts"]["train"])
        else:
            results.setdefault(name, {})[s] = _cell(rep["test"]["int8_h5"])
            meta.setdefault(name, dict(args=args, runs={}))["runs"][s] = dict(
                seconds=sec, epochs=rep["training"]["epochs_run"], best_val=rep["training"]["best_val_acc"],
                float_acc=rep["test"]["float_torch"]["accuracy"], train_n=rep["data"]["counts"]["train"])
    md = format_table(results, synths)
    with open(os.path.join(a.out, "holdout.md"), "w") as f:
        f.write(md)
    with open(os.path.join(a.out, "holdout.json"), "w") as f:
        json.dump(dict(synths=synths, results=results, meta=meta,
                       command="python -m kwsnum.holdout " + " ".join(shlex.quote(x) for x in
                                                                      (sys.argv[1:] if argv is None else argv))),
                  f, indent=1)
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
