"""What streaming saves in C: instructions per step of a streaming model against one full-window inference of the
same windowed model, and the bytes each needs.

    python bench/streaming_cost.py [--model kws_tcn] [--precision int8] [--steps 200]

The zoo model (random trained-looking weights) is exported twice: windowed (``from_torch``) and streaming
(``streaming=True``); both go through ``kwsnum codegen`` and the generated Makefile (-O2). Instructions come from
``valgrind --tool=callgrind`` on the host harness's integer entry: the harness is run on 1 and on 1 + N samples
(steps) and the difference is divided by N, so start-up and file I/O cancel. Before measuring, the streaming C is
verified bit-exact against the oracle's steps over the same N steps. Prints figures; asserts nothing.
"""
import argparse
import os
import shutil
import sys
import tempfile

import numpy as np

import _callgrind


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="kws_tcn")
    ap.add_argument("--precision", default="int8")
    ap.add_argument("--steps", type=int, default=200)
    args = ap.parse_args()
    import torch
    torch.set_num_threads(1)
    from kwsnum import zoo, streaming
    from kwsnum.codegen import build, generate, verify
    from kwsnum.export import from_torch
    if shutil.which("valgrind") is None:
        sys.exit("valgrind not found")
    module, calib, g = zoo.example(args.model)
    full = from_torch(module, None, calib, precision=args.precision)
    sm = from_torch(module, None, calib, precision=args.precision, streaming=True)
    info = streaming.info(sm)
    R, W, n = info["step"], info["window"], args.steps
    x = (torch.randn((1,) + tuple(sm.input.shape[:-1]) + (R * (n + 1),), generator=g)).numpy()[0]
    steps = np.ascontiguousarray(x.reshape(x.shape[0], n + 1, R).transpose(1, 0, 2))
    windows, _ = streaming.windows(x[None], W, R)
    windows = np.ascontiguousarray(windows[0][: n + 1])
    with tempfile.TemporaryDirectory() as tmp:
        res = {}
        for tag, model, xs in (("window", full, windows), ("step", sm, steps)):
            p = generate(model, os.path.join(tmp, tag))
            exe = build(p.path)
            if tag == "step":
                v = verify(model, p.path, steps)
                print(f"streaming C vs oracle steps: {v}")
            qx = np.ascontiguousarray(model.run(xs, trace=True)[model.nodes[0].outputs[0]]) \
                if model.nodes[0].op == "quantize" else xs
            res[tag] = (_callgrind.per_sample(exe, qx, tmp, n=min(n, len(xs) - 1), args=["--int"]), p.arena_bytes, p.state_bytes, p.weight_bytes)
    (iw, aw, _, ww), (is_, as_, ss, ws) = res["window"], res["step"]
    print(f"model {args.model} ({args.precision}): window {W} frames, step {R} frames, warm-up {info['warmup']} steps")
    print(f"  full-window inference: {iw:,.0f} instructions, arena {aw:,} B, weights {ww:,} B")
    print(f"  streaming step:        {is_:,.0f} instructions, arena {as_:,} B, state {ss:,} B, weights {ws:,} B")
    print(f"  a step costs {is_ / iw:.3f} of a full-window inference ({iw / is_:.1f}x fewer instructions)")


if __name__ == "__main__":
    main()
