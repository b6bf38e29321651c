"""C footprint of every zoo model: arena bytes, weight bytes, code size and instructions per inference.

    python bench/c_footprint.py [--models ds_cnn_mlperf,kws_raw] [--precision int8] [--no-callgrind]

For each model of kwsnum.zoo (random trained-looking weights: the footprint does not depend on the values;
the instruction count barely does): export, `kwsnum codegen`, build with the generated Makefile (-O2), then
- arena bytes and weight bytes as the generated header states them;
- code bytes: what the linker keeps of the model's and the runtime's code and read-only data (the weights
  object excluded), built with -ffunction-sections -fdata-sections and linked with --gc-sections, summed
  from the link map (so the float16 / bfloat16 twins a model does not call are not counted);
- instructions per inference from `valgrind --tool=callgrind` on the host harness (x86-64, -O2): the harness is
  run on 1 and on 3 samples and the difference is halved, so start-up and file I/O cancel. Instructions are
  stable on a noisy machine; seconds are not. Skipped when valgrind is missing.
Prints a table; asserts nothing.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np

from kwsnum import zoo
from kwsnum.codegen import build, generate
from kwsnum.export import from_torch
from kwsnum.report import summary


def kept_code_bytes(map_path, objs):
    """Sum of the .text* / .rodata* input sections the linker kept from these object files (GNU ld map; a long
    section name stands on its own line, its address, size and file on the next)."""
    names = {os.path.basename(o) for o in objs}
    total, kept, name = 0, False, None
    with open(map_path) as fh:
        for line in fh:
            if line.startswith("Linker script and memory map"):
                kept = True
            if not kept:
                continue
            m = re.match(r"^ (\.\S+)\s*$", line)
            if m:
                name = m.group(1)
                continue
            m = re.match(r"^ (\.\S+)?\s+0x[0-9a-f]+\s+0x([0-9a-f]+)\s+(\S+\.o)\s*$", line)
            if m:
                sec = m.group(1) or name
                name = None
                if sec and sec.startswith((".text", ".rodata")) and os.path.basename(m.group(3)) in names:
                    total += int(m.group(2), 16)
            else:
                name = None
    return total


def callgrind_instructions(exe, x, tmp):
    counts = []
    for n in (1, 3):
        xin, yout = os.path.join(tmp, f"x{n}.npy"), os.path.join(tmp, f"y{n}.bin")
        np.save(xin, x[:n])
        out = os.path.join(tmp, f"callgrind.{n}.out")
        subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", exe, xin, yout],
                       check=True, capture_output=True)
        with open(out) as fh:
            m = re.search(r"^(?:summary|totals):\s*(\d+)", fh.read(), re.M)
        counts.append(int(m.group(1)))
    return (counts[1] - counts[0]) // 2


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", default=",".join(zoo.ZOO))
    ap.add_argument("--precision", default="deploy",
                    help="deploy (each zoo entry's deployment precision, default), int8, float32, float16, ...")
    ap.add_argument("--no-callgrind", action="store_true")
    args = ap.parse_args()
    use_cg = not args.no_callgrind and shutil.which("valgrind") is not None
    cc = os.environ.get("CC") or "cc"
    ccv = subprocess.run([cc, "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    print(f"compiler: {ccv}; flags: the generated Makefile's (-std=c99 -O2 ...); precision {args.precision}; "
          f"callgrind: {'yes' if use_cg else 'no (valgrind missing or --no-callgrind)'}")
    rows = []
    for name in args.models.split(","):
        module, calib, _ = zoo.example(name)
        model = from_torch(module, calib[:1], calib, precision=zoo.precision_of(name, args.precision), name=name)
        info = summary(model)
        with tempfile.TemporaryDirectory(prefix="kwsnum-footprint-") as tmp:
            p = generate(model, os.path.join(tmp, "c"), name="kws")
            map_path = os.path.join(tmp, "link.map")
            exe = build(p.path, extra_cflags=["-ffunction-sections", "-fdata-sections", "-Wl,--gc-sections",
                                              f"-Wl,-Map={map_path}"])
            objs = sorted(os.path.join(p.path, f) for f in os.listdir(p.path)
                          if f.endswith(".o") and f not in ("main.o", "kws_weights.o"))
            code = kept_code_bytes(map_path, objs)
            instr = callgrind_instructions(exe, calib.numpy()[:3], tmp) if use_cg else None
        rows.append((name, info["total_macs"], p.arena_bytes, p.weight_bytes, code, instr))
        print(f"  {name}: done", file=sys.stderr, flush=True)
    head = ("model", "MACs", "arena B", "weights B", "code B", "instr/inference", "instr/MAC")
    print(" | ".join(head))
    print(" | ".join("---" for _ in head))
    for name, macs, arena, wb, code, instr in rows:
        print(" | ".join([name, f"{macs:,}", f"{arena:,}", f"{wb:,}", f"{code:,}",
                          f"{instr:,}" if instr is not None else "-",
                          f"{instr / macs:.1f}" if instr is not None else "-"]))
    for name in args.models.split(","):
        print(f"  {name}: {zoo.ZOO[name].title}")


if __name__ == "__main__":
    main()
