"""Oracle speed: clips/s for a batch on this machine, and the wall time of a warm `kwsnum run`
(bench/oracle_speed.py compares the oracle with PyTorch and LiteRT side by side, 1 and 2 threads).

    python bench/oracle_throughput.py [--batch 256] [--repeat 3]

Builds DS-CNNs with random weights (the speed does not depend on the values), exports them to int8,
and times (1) Model.run on one batch after a warm-up, (2) `kwsnum run model.h5 one_clip.npy` twice in a
fresh process (the second with numba's cache warm). Prints figures; asserts nothing.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

import kwsnum
from kwsnum.export import from_torch
from kwsnum.models import DSCNN
from kwsnum.report import summary

CONFIGS = {
    "ds_cnn MLPerf Tiny (W=64, 1x49x10)": dict(width=64, in_shape=(1, 49, 10)),
    "ds_cnn tiny-kws (W=160, 1x64x101)": dict(width=160, in_shape=(1, 64, 101)),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    import numba
    print(f"numba {numba.__version__}, threads {numba.get_num_threads()}, cores {os.cpu_count()}")
    tmp = tempfile.mkdtemp(prefix="kwsnum-bench-")
    for title, cfg in CONFIGS.items():
        torch.manual_seed(0)
        net = DSCNN(**cfg).eval()
        calib = torch.randn(32, *cfg["in_shape"])
        model = from_torch(net, calib[:1], calib, precision="int8")
        path = os.path.join(tmp, "m.h5")
        kwsnum.save(model, path)
        x = np.random.default_rng(0).standard_normal((args.batch,) + cfg["in_shape"]).astype(np.float32)
        model.run(x[:2])  # compile / load kernels
        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            model.run(x)
            times.append(time.perf_counter() - t)
        best = min(times)
        macs = summary(model)["total_macs"]
        print(f"{title}: {macs / 1e6:.2f} M MACs/clip; batch {args.batch}: best {best:.3f} s of {args.repeat} "
              f"-> {args.batch / best:.1f} clips/s ({macs * args.batch / best / 1e9:.2f} GMAC/s)")
        np.save(os.path.join(tmp, "one.npy"), x[:1])
        walls = []
        for _ in range(2):
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "kwsnum", "run", path, os.path.join(tmp, "one.npy")],
                           check=True, capture_output=True)
            walls.append(time.perf_counter() - t)
        print(f"{title}: `kwsnum run model.h5 one.npy` wall time: first {walls[0]:.2f} s, second (warm) {walls[1]:.2f} s")


if __name__ == "__main__":
    main()
