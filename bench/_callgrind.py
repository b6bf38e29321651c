"""Instruction counts from ``valgrind --tool=callgrind``, shared by the bench scripts.

Instructions are stable on a noisy machine; seconds are not. A per-sample figure runs the host harness on two
numbers of samples and divides the difference, so start-up and file I/O cancel.
"""
import os
import re
import subprocess

import numpy as np


def total(cmd, out, only=None):
    """Instructions executed by ``cmd`` (callgrind's "summary" / "totals" line), its profile written to ``out``;
    ``only``: count only inside that function and its callees (``--toggle-collect``)."""
    opts = [f"--toggle-collect={only}"] if only else []
    subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *opts] + list(cmd),
                   check=True, capture_output=True)
    with open(out) as fh:
        return int(re.search(r"^(?:summary|totals):\s*(\d+)", fh.read(), re.M).group(1))


def per_sample(exe, x, tmp, n=None, args=()):
    """Instructions per sample of the host harness ``exe [args] X.npy Y.bin``: run on 1 and on 1 + n samples
    of x (n defaults to len(x) - 1), the difference divided by n."""
    n = len(x) - 1 if n is None else n
    counts = []
    for k in (1, 1 + n):
        xin, yout = os.path.join(tmp, f"x{k}.npy"), os.path.join(tmp, f"y{k}.bin")
        np.save(xin, x[:k])
        counts.append(total([exe, *args, xin, yout], os.path.join(tmp, f"callgrind.{k}.out")))
    return (counts[1] - counts[0]) / n
