"""Generated C per model and target: instructions per inference (and per layer), flash, RAM, stack.

    python bench/c_target.py [--models ds_cnn_mlperf,kws_raw] [--targets cortex-m4,cortex-m7,cortex-m55,host]
                             [--precision deploy] [--layers] [--samples 3]

For each zoo model (random trained-looking weights, exported in its deployment precision) and target:
- cortex-m4 / cortex-m7 / cortex-m55: `kwsnum codegen --target T --verify` under qemu-system-arm (mps2-an386 /
  mps2-an500 / mps3-an547, `-icount shift=0`): outputs compared with the oracle (bit-exact or the figures are not
  printed), instructions per inference from SysTick read just before and after `<name>_invoke` (instructions,
  not cycles: QEMU models no pipeline or memory timing; resolution one tick = 40 instructions on MPS2, 31.25 on
  the AN547), flash = the model's and runtime's kept .text + .rodata (weights included), RAM = their .bss +
  .data (the arena: the input and output are the caller's), stack = the high-water mark of `<name>_invoke`
  (painted stack). `--layers`: a profiling build with a SysTick read after every layer.
- host: the generated Makefile (-O2, the system cc) and `valgrind --tool=callgrind` on the harness's integer
  entry point (`--int`), run on 1 and on N samples: the difference divided by N - 1 (start-up and I/O cancel).
Prints a table; asserts nothing (a mismatch is printed and the row is marked).
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

import _callgrind
from kwsnum import zoo
from kwsnum.codegen import build, generate, verify
from kwsnum.codegen.api import split_io
from kwsnum.codegen.emit import verify_target
from kwsnum.codegen.target import TARGETS, need_tools
from kwsnum.export import from_torch
from kwsnum.report import summary


def host_instructions(model, project, x, tmp):
    """callgrind instructions per inference of <name>_invoke (the integer API) on the host build."""
    exe = build(project.path)
    xq = np.asarray(model.run(x, trace=True)[split_io(model).core.inputs[0]])
    return round(_callgrind.per_sample(exe, xq, tmp, args=["--int"]))

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", default="ds_cnn_mlperf,kws_raw")
    ap.add_argument("--targets", default="cortex-m4,cortex-m7,cortex-m55,host")
    ap.add_argument("--precision", default="deploy")
    ap.add_argument("--samples", type=int, default=3)
    ap.add_argument("--layers", action="store_true", help="instructions per layer (profiling build) on Cortex-M")
    args = ap.parse_args()
    targets = args.targets.split(",")
    missing = need_tools()
    if missing and any(t != "host" for t in targets):
        print(f"skipping the Cortex-M targets: {', '.join(missing)} not installed", file=sys.stderr)
        targets = [t for t in targets if t == "host"]
    if "host" in targets and not shutil.which("valgrind"):
        print("skipping host: valgrind not installed", file=sys.stderr)
        targets = [t for t in targets if t != "host"]
    cross = subprocess.run(["arm-none-eabi-gcc", "--version"], capture_output=True, text=True).stdout.splitlines()[0] \
        if shutil.which("arm-none-eabi-gcc") else "-"
    host = subprocess.run([os.environ.get("CC") or "cc", "--version"], capture_output=True,
                          text=True).stdout.splitlines()[0]
    print(f"cross: {cross} -O2; host: {host} -O2 (callgrind); precision {args.precision}; {args.samples} samples")
    rows, layer_rows = [], []
    for name in args.models.split(","):
        module, calib, g = zoo.example(name, data_seed=7)
        model = from_torch(module, calib[:1], calib, precision=zoo.precision_of(name, args.precision), name=name)
        macs = summary(model)["total_macs"]
        x = calib.numpy()[:args.samples].astype(np.float32)
        with tempfile.TemporaryDirectory(prefix="kwsnum-target-") as tmp:
            p = generate(model, os.path.join(tmp, "c"), name="kws")
            for t in targets:
                if t == "host":
                    n = host_instructions(model, p, x, tmp)
                    r = verify(model, p.path, x)
                    rows.append((name, "host (x86-64 callgrind)", str(r), n, macs, None, p.arena_bytes, None, None))
                    continue
                r, run = verify_target(model, p.path, x, t)
                rows.append((name, f"{t} ({TARGETS[t][0]})", str(r), run.instructions, macs, run.flash_bytes,
                             run.ram_bytes, max(run.stack), run.code_bytes))
                if args.layers:
                    _, prun = verify_target(model, p.path, x[:1], t, profile=True)
                    for layer, n in sorted(prun.layer_instructions().items()):
                        node = model.nodes[layer]
                        layer_rows.append((name, t, layer, node.name, node.op, n))
        print(f"  {name}: done", file=sys.stderr, flush=True)
    head = ("model", "target", "bit-exact", "instr/inference", "instr/MAC", "flash B (code)", "RAM B", "stack B")
    print(" | ".join(head))
    print(" | ".join("---" for _ in head))
    for name, t, ok, n, macs, flash, ram, stack, code in rows:
        print(" | ".join([name, t, ok, f"{n:,}", f"{n / macs:.2f}",
                          f"{flash:,} ({code:,})" if flash is not None else "-", f"{ram:,}",
                          f"{stack:,}" if stack is not None else "-"]))
    if layer_rows:
        print()
        print("model | target | layer | name | op | instructions")
        print("--- | --- | --- | --- | --- | ---")
        for row in layer_rows:
            print(" | ".join(str(v) if not isinstance(v, int) or v < 1000 else f"{v:,}" for v in row))


if __name__ == "__main__":
    main()
