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
import shutil
import subprocess
import sys
import tempfile

import _callgrind
from kwsnum import zoo
from kwsnum.codegen import build, generate
from kwsnum.codegen.linkmap import kept_sections
from kwsnum.export import from_torch
from kwsnum.report import summary


def kept_code_bytes(map_path, objs):
    """Sum of the .text* / .rodata* input sections the linker kept from these object files."""
    names = {os.path.basename(o) for o in objs}
    return sum(size for sec, size, obj in kept_sections(map_path)
               if obj in names and sec.startswith((".text", ".rodata")))

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
            instr = round(_callgrind.per_sample(exe, calib.numpy()[:3], tmp)) if use_cg else None
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
