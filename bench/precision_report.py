"""Accuracy, error and footprint of one trained model in every precision kwsnum exports.

    python bench/precision_report.py TRAIN_DIR DATA_DIR [--precisions float32,float16,bfloat16,int8]
                                     [--config LABEL=JSON ...] [--png errors.png] [--limit N] [--save DIR]

TRAIN_DIR is the output of `kwsnum train` / `python -m kwsnum.train` (its <model>.pt checkpoint holds the model
name, constructor arguments, weights, labels and the fitted frontend); DATA_DIR the Speech Commands-style folder
it was trained on. For each precision (a format name, or "mixed" for the zoo entry's mixed config, e.g.
kws_attn; --config adds a labelled precision config of docs/numerics.md 6.8, e.g.
'q16+ln8={"default": "q16", "ops": {"layernorm": "q8"}}'), the float module is exported (calibration: 200 training clips), run by the oracle on the test split
(features through the stored frontend), and compared with the float torch module: test accuracy, agreement of
the predicted class with float, max and mean |logit error| relative to the largest float logit; the generated
C's arena and weight bytes (kwsnum.codegen planner, as `kwsnum codegen` prints them). A matplotlib PNG shows, per
precision, quantized vs float logits and the histogram of the per-element error. Prints a table; asserts
nothing. --save DIR also writes each exported model as DIR/<model>_<precision>.h5 (for `kwsnum verify`).
"""
import argparse
import os
import sys
import tempfile

import numpy as np
import torch

from kwsnum.codegen import generate
from kwsnum.data import load_arrays, load_split
from kwsnum.export import from_torch
from kwsnum.frontend import Frontend
from kwsnum.train import build_model
from kwsnum import zoo


def load_checkpoint(train_dir):
    pts = [f for f in os.listdir(train_dir) if f.endswith(".pt")]
    if len(pts) != 1:
        sys.exit(f"{train_dir}: expected one .pt checkpoint, found {pts}")
    ck = torch.load(os.path.join(train_dir, pts[0]), map_location="cpu", weights_only=False)
    net = build_model(ck["model"], ck["args"])
    net.load_state_dict(ck["state_dict"])
    net.eval()
    return ck, net, Frontend.from_attrs(ck["frontend"])


def features(fe, items):
    x, y = load_arrays(items)
    return np.stack([fe.compute(a) for a in x]).astype(np.float32), y


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("train_dir")
    ap.add_argument("data_dir")
    ap.add_argument("--precisions", default="float32,float16,bfloat16,int8")
    ap.add_argument("--png", default=None, help="where to write the error plot (default TRAIN_DIR/precision.png)")
    ap.add_argument("--limit", type=int, default=None, help="use the first N test clips")
    ap.add_argument("--config", action="append", default=[], metavar="LABEL=JSON",
                    help="an extra precision config (JSON dict of docs/numerics.md 6.8) reported under LABEL")
    ap.add_argument("--save", default=None, metavar="DIR", help="write every exported model to DIR")
    a = ap.parse_args()
    import json
    configs = {}
    for c in a.config:
        label, _, js = c.partition("=")
        configs[label] = json.loads(js)
    ck, net, fe = load_checkpoint(a.train_dir)
    labels = ck["labels"]
    test = load_split(a.data_dir, "test", balance_unknown=True)
    train = load_split(a.data_dir, "train")
    rng = np.random.default_rng(0)
    calib_items = [train[i] for i in np.sort(rng.choice(len(train), min(200, len(train)), replace=False))]
    xc, _ = features(fe, calib_items)
    xt, yt = features(fe, test[:a.limit] if a.limit else test)
    with torch.no_grad():
        f = net(torch.from_numpy(xt)).numpy().astype(np.float64)
    scale = max(1.0, float(np.abs(f).max()))
    f_acc = float((f.argmax(1) == yt).mean())
    print(f"{ck['model']} {ck['args']}: {len(yt)} test clips, float torch accuracy {100 * f_acc:.1f} %")
    rows, errs = [], {}
    entry = zoo.ZOO.get(ck["model"])
    for prec in [p for p in a.precisions.split(",") if p] + list(configs):
        cfg = entry.precision if prec == "mixed" and entry is not None else configs.get(prec, prec)
        m = from_torch(net, torch.from_numpy(xc[:1]), torch.from_numpy(xc), precision=cfg, labels=labels,
                       frontend=fe)
        if a.save:
            import kwsnum
            os.makedirs(a.save, exist_ok=True)
            kwsnum.save(m, os.path.join(a.save, f"{ck['model']}_{prec}.h5"))
        y = m.run(xt).astype(np.float64)
        errs[prec] = (f, y)
        err = np.abs(y - f) / scale
        with tempfile.TemporaryDirectory() as t:
            p = generate(m, os.path.join(t, "c"), name="kws")
        rows.append((prec, 100 * float((y.argmax(1) == yt).mean()), 100 * float((y.argmax(1) == f.argmax(1)).mean()),
                     float(err.max()), float(err.mean()), p.arena_bytes, p.weight_bytes))
    print("precision | accuracy % | same class as float % | max |err| / max|logit| | mean | arena B | weights B")
    print("--- | --- | --- | --- | --- | --- | ---")
    for prec, acc, agree, emax, emean, arena, wb in rows:
        print(f"{prec} | {acc:.1f} | {agree:.1f} | {emax:.2e} | {emean:.2e} | {arena:,} | {wb:,}")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("(matplotlib missing: no plot)")
        return
    png = a.png or os.path.join(a.train_dir, "precision.png")
    fig, axes = plt.subplots(2, len(errs), figsize=(3.2 * len(errs), 6.2), squeeze=False)
    for j, (prec, (ff, yy)) in enumerate(errs.items()):
        ax = axes[0][j]
        ax.scatter(ff.ravel(), yy.ravel(), s=2, alpha=0.4)
        lim = [float(min(ff.min(), yy.min())), float(max(ff.max(), yy.max()))]
        ax.plot(lim, lim, "k-", lw=0.5)
        ax.set_title(prec, fontsize=9)
        ax.set_xlabel("float logit")
        ax.set_ylabel("quantized logit")
        ax = axes[1][j]
        d = (yy - ff).ravel()
        ax.hist(d, bins=60)
        ax.set_xlabel("quantized - float")
        ax.set_yscale("log")
    fig.suptitle(f"{ck['model']}: oracle outputs vs the float module ({len(yt)} test clips)", fontsize=10)
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    print(f"plot: {png}")


if __name__ == "__main__":
    main()
