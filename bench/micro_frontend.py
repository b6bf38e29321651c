"""The C microfrontend's cost: instructions per 10 ms frame (callgrind) and RAM (state + scratch) and tables.

    python bench/micro_frontend.py [--preset microwakeword|tflm] [--seconds 1,3] [-O2]

Generates the C project of a tiny model carrying the frontend (`kwsnum codegen`, codegen/frontend_emit.py),
links its `<name>_frontend.c` and the runtime's kws_micro_*.c with a bench main that pushes N seconds of
pseudo-random speech-level PCM in 160-sample chunks (an LCG, no I/O), and runs it under
`valgrind --tool=callgrind` for two lengths: (Ir(N2) - Ir(N1)) / (frames(N2) - frames(N1)) is the cost of one
frame, start-up cancelled. Prints the per-stage split (inclusive instructions of each kws_micro_* stage per
frame) and the byte counts the generated header states. Instruction counts are x86-64 at the chosen -O level,
stable on a noisy machine. Asserts nothing.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

BENCH_MAIN = r"""
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "bm_frontend.h"
int main(int argc, char **argv)
{
    static int16_t chunk[160];
    static uint16_t frames[4 * BM_FRONTEND_CHANNELS];
    long seconds = argc > 1 ? atol(argv[1]) : 1, i, total = 0, j;
    uint32_t s = 12345u;
    unsigned long check = 0;
    bm_frontend_reset();
    for (i = 0; i < seconds * 100; i++) {
        size_t nf, k;
        for (j = 0; j < 160; j++) {          /* uniform noise, +-4096 */
            s = s * 1664525u + 1013904223u;
            chunk[j] = (int16_t)((int32_t)(s >> 19) - 4096);
        }
        nf = bm_frontend_push(chunk, 160, frames, 4, NULL);
        for (k = 0; k < nf * BM_FRONTEND_CHANNELS; k++) check += frames[k];
        total += (long)nf;
    }
    printf("%ld %lu\n", total, check);
    return 0;
}
"""

STAGES = ["kws_micro_window", "kws_micro_fft", "kws_micro_energy", "kws_micro_filterbank",
          "kws_micro_filterbank_sqrt", "kws_micro_noise_reduction", "kws_micro_pcan", "kws_micro_log_scale",
          "kws_micro_frame", "kws_micro_process"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", choices=("microwakeword", "tflm"), default="microwakeword")
    ap.add_argument("--seconds", default="1,3")
    ap.add_argument("-O", dest="opt", default="2")
    a = ap.parse_args()
    from kwsnum.codegen import generate
    from kwsnum.micro import MicroFrontend
    from tests.test_micro_model import micro_model
    m = micro_model()
    fe = MicroFrontend.microwakeword() if a.preset == "microwakeword" else MicroFrontend.tflm()
    from kwsnum.builder import GraphBuilder
    b = GraphBuilder(name="bm")
    x = b.input("features", fe.output_shape, "float32")
    q = b.add("quantize", "quant", [x], format="int8", scale=0.1, zero_point=-128)
    y = b.add("dequantize", "deq", [q], format="float32")
    m = b.build([y], frontend=fe)
    if shutil.which("valgrind") is None:
        print("valgrind not found: install it (apt-get install valgrind)")
        return 1
    tmp = tempfile.mkdtemp(prefix="kwsnum_bench_micro_")
    try:
        p = generate(m, os.path.join(tmp, "p"), name="bm")
        with open(os.path.join(p.path, "bm_frontend.h")) as fh:
            hdr = fh.read()
        sizes = {k: int(v) for k, v in re.findall(r"#define BM_FRONTEND_(\w+_BYTES) (\d+)", hdr)}
        with open(os.path.join(p.path, "bench_main.c"), "w") as fh:
            fh.write(BENCH_MAIN)
        srcs = [f for f in os.listdir(p.path) if f.endswith(".c") and f != "main.c"]
        exe = os.path.join(p.path, "bench")
        subprocess.run(["cc", "-std=c99", f"-O{a.opt}", "-g", "-ffp-contract=off", "-I", p.path, "-o", exe] +
                       [os.path.join(p.path, s) for s in srcs] + ["-lm"], check=True)
        runs = {}
        for sec in [int(s) for s in a.seconds.split(",")]:
            out = os.path.join(tmp, f"cg.{sec}")
            r = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", exe, str(sec)],
                               capture_output=True, text=True, check=True)
            frames = int(r.stdout.split()[0])
            ann = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", out],
                                 capture_output=True, text=True, check=True).stdout
            tot = int(re.search(r"([\d,]+) \(100\.0%\)\s+PROGRAM TOTALS", ann).group(1).replace(",", ""))
            per = {}
            for st in STAGES:
                mm = re.search(r"^\s*([\d,]+) \([^)]*\)\s+\S*:" + st + r"\b", ann, re.M)
                per[st] = int(mm.group(1).replace(",", "")) if mm else 0
            runs[sec] = (frames, tot, per)
        (s1, (f1, t1, p1)), (s2, (f2, t2, p2)) = sorted(runs.items())[:2]
        per_frame = (t2 - t1) / (f2 - f1)
        print(f"preset {a.preset}: {fe.describe()}")
        print(f"C microfrontend, x86-64 -O{a.opt}, callgrind: {per_frame:,.0f} instructions per frame "
              f"(one frame per {fe.tables.window_step} samples = "
              f"{1000 * fe.tables.window_step / fe.sample_rate:g} ms), from {f1} and {f2} frames")
        for st in STAGES:
            if p2[st]:
                print(f"  {st:<28} {(p2[st] - p1[st]) / (f2 - f1):>10,.0f} per frame (inclusive)")
        print(f"RAM: state {sizes['STATE_BYTES']} bytes + scratch {sizes['SCRATCH_BYTES']} bytes = "
              f"{sizes['STATE_BYTES'] + sizes['SCRATCH_BYTES']} bytes; tables (const) {sizes['TABLE_BYTES']} bytes")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
