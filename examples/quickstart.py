"""Quick start: export a DS-CNN from PyTorch to int8, save it, run it with the oracle, check it against
the PyTorch integer reference on every layer, then use the command line on the saved file.

    python examples/quickstart.py [OUT_DIR]

The DS-CNN here has random, trained-looking weights (a trained, bundled default model comes with the
training pipeline); the numerics do not care: the oracle and the reference must agree bit for bit anyway.
"""
import os
import subprocess
import sys

import numpy as np
import torch

import kwsnum
from kwsnum.export import from_torch
from kwsnum.models import DSCNN, randomize_
from kwsnum.torchref import run_reference

LABELS = ["silence", "unknown", "yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"]


def main(out_dir="quickstart_out"):
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(0)
    net = DSCNN(n_classes=12, width=64, in_shape=(1, 49, 10)).eval()     # MLPerf Tiny size
    calib = torch.randn(64, 1, 49, 10)                                    # your features go here
    randomize_(net, seed=0, data=calib)     # stands in for training: trained-looking weights and BN statistics
    model = from_torch(net, calib[:1], calib, precision="int8", labels=LABELS)
    path = os.path.join(out_dir, "dscnn_int8.h5")
    kwsnum.save(model, path)

    x = np.random.default_rng(1).standard_normal((8, 1, 49, 10)).astype(np.float32)
    np.save(os.path.join(out_dir, "x.npy"), x)
    oracle = model.run(x, trace=True)
    reference = run_reference(model, x, trace=True)
    same = all(np.array_equal(oracle[t], reference[t]) for t in model.tensors if model.tensors[t].format == "int8")
    print(f"oracle == torch integer reference on every int8 tensor of {len(model.nodes)} layers: {same}")
    with torch.no_grad():
        fl = net(torch.from_numpy(x)).numpy()
    agree = np.mean(fl.argmax(1) == oracle[model.outputs[0]].argmax(1))
    print(f"int8 vs float argmax agreement on 8 random inputs: {agree:.0%}; classes predicted: "
          f"{sorted(set(LABELS[i] for i in oracle[model.outputs[0]].argmax(1)))}")

    for cmd in (["inspect", path], ["run", path, os.path.join(out_dir, "x.npy")]):
        print(f"\n$ kwsnum {' '.join(cmd)}", flush=True)
        subprocess.run([sys.executable, "-m", "kwsnum", *cmd], check=True)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
