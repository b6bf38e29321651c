"""What streaming saves in C: instructions per step of a streaming model against one full-window inference of the
same windowed model, and the bytes each needs.

    python bench/streaming_cost.py [--model kws_tcn] [--precision int8] [--steps 200]
    python bench/streaming_cost.py --model STREAMING.h5 [--window-model WINDOW.h5] [--steps 200] [--seconds 4]
    python bench/streaming_cost.py --demo DIR [--steps 200]

A zoo name (random trained-looking weights) is exported twice: windowed (``from_torch``) and streaming
(``streaming=True``). A saved streaming model (``--model X.h5``) is measured as it is, against ``--window-model``
(its non-streaming form) when given. ``--demo DIR`` writes a microWakeWord-sized kwsnum.models.TemporalConvNet
(random weights, 40-channel micro frontend, a detector) in both forms to DIR/stream.h5 and DIR/window.h5, then
measures them like ``--model DIR/stream.h5 --window-model DIR/window.h5``.

Every model goes through ``kwsnum codegen`` and the generated Makefile (-O2). Instructions come from ``valgrind
--tool=callgrind`` on the host harness: run on a short and a long input and the difference divided by the extra
steps (samples), so start-up and file reading cancel:

- ``NAME_step`` (``--int``: the integer entry, quantized frames), per step;
- ``NAME_push_pcm`` (``--push-pcm``, models with a micro frontend and detector: frontend + step + detector), per
  step, on PCM noise of exactly 1 and 1 + N steps' worth of samples, counted inside ``NAME_push_pcm`` only
  (callgrind ``--toggle-collect``: the harness's file reading is not counted; its per-step callback is, and
  writes nothing);
- one full-window inference of the windowed model (``--int``), per sample.

Before measuring, the streaming C is checked bit-exact: ``NAME_step`` against the oracle's steps and (with a
frontend) ``NAME_push_pcm``'s per-step outputs and detections against kwsnum.listen on the same PCM. State,
arena, weight and frontend bytes are read from the generated headers. Prints figures; asserts nothing.
"""
import argparse
import os
import re
import shutil
import sys
import tempfile

import numpy as np

import _callgrind

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def header_defines(project):
    """{NAME without prefix: int} of the #defines with integer values in the project's headers."""
    out = {}
    for f in sorted(os.listdir(project.path)):
        if f.startswith(project.name) and f.endswith(".h"):
            with open(os.path.join(project.path, f)) as fh:
                for k, v in re.findall(rf"^#define {project.name.upper()}_(\w+) (\d+)\b", fh.read(), re.M):
                    out[k] = int(v)
    return out


def noise_pcm(seconds, seed=0):
    """Noise with louder bursts, int16, 16 kHz (something for a detector to see)."""
    rng = np.random.default_rng(seed)
    n = int(16000 * seconds)
    x = rng.standard_normal(n) * 300
    for start in rng.integers(0, max(1, n - 8000), size=max(1, int(seconds))):
        x[start:start + 6000] *= rng.uniform(5, 30)
    return np.clip(x, -32768, 32767).astype(np.int16)


def demo(out_dir, seed=0):
    """A microWakeWord-sized TCN (default kwsnum.models.TemporalConvNet, 40 channels) with random weights and a
    40-channel micro frontend, exported int8 streaming and windowed; a detector on label 1."""
    import torch
    import kwsnum
    from kwsnum import detector
    from kwsnum.export import from_torch
    from kwsnum.micro import MicroFrontend
    from kwsnum.models import TemporalConvNet, randomize_
    torch.manual_seed(seed)
    net = TemporalConvNet(n_classes=2, n_mels=40)
    fe = MicroFrontend(num_channels=40, layout="coeff_major", channel_axis=False, clip_samples=400)
    t = fe.tables
    fe = fe.replace(clip_samples=t.window_size + (net.in_shape[1] - 1) * t.window_step)
    clips = np.stack([noise_pcm(fe.clip_samples / 16000, seed + i) for i in range(32)])
    calib = torch.tensor(fe.compute_batch(clips))
    randomize_(net, seed, calib)
    sm = from_torch(net, None, calib, precision="int8", streaming=True, frontend=fe, labels=["other", "wake"])
    wm = from_torch(net, None, calib, precision="int8", frontend=fe, labels=["other", "wake"])
    detector.configure(sm, label=1, against=0, threshold=0.0, window=5, refractory=20)
    os.makedirs(out_dir, exist_ok=True)
    paths = os.path.join(out_dir, "stream.h5"), os.path.join(out_dir, "window.h5")
    kwsnum.save(sm, paths[0])
    kwsnum.save(wm, paths[1])
    print(f"wrote {paths[0]} and {paths[1]} (TemporalConvNet, window {net.in_shape[1]} frames, "
          f"{sum(p.numel() for p in net.parameters()):,} parameters)")
    return paths


def zoo_models(name, precision):
    import torch
    torch.set_num_threads(1)
    from kwsnum import zoo
    from kwsnum.export import from_torch
    module, calib, g = zoo.example(name)
    return (from_torch(module, None, calib, precision=precision, streaming=True),
            from_torch(module, None, calib, precision=precision), f"{name} ({precision})")


def quantized(model, xs):
    """The integer entry's inputs of xs (the first node's output when it is the input's quantize)."""
    if model.nodes[0].op == "quantize":
        return np.ascontiguousarray(model.run(xs, trace=True)[model.nodes[0].outputs[0]])
    return xs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="kws_tcn", help="a zoo name, or a saved streaming model (.h5)")
    ap.add_argument("--window-model", default=None, help="the windowed (non-streaming) form of --model X.h5")
    ap.add_argument("--demo", default=None, metavar="DIR", help="write a random-weight TCN pair to DIR, measure it")
    ap.add_argument("--precision", default="int8", help="zoo models only")
    ap.add_argument("--steps", type=int, default=200)
    args = ap.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("valgrind not found")
    import kwsnum
    from kwsnum import streaming
    from kwsnum.codegen import build, generate, verify
    from kwsnum.codegen.streaming import has_push_pcm, run_push_pcm
    if args.demo:
        args.model, args.window_model = demo(args.demo)
    if args.model.endswith(".h5") or os.path.isfile(args.model):
        sm = kwsnum.load(args.model)
        wm = kwsnum.load(args.window_model) if args.window_model else None
        title = os.path.basename(args.model)
    else:
        sm, wm, title = zoo_models(args.model, args.precision)
    if not streaming.is_streaming(sm):
        sys.exit(f"{args.model}: not a streaming model")
    info = streaming.info(sm)
    R, W, n = info["step"], info["window"], args.steps
    fe = sm.frontend
    pcm = None
    if fe is not None and fe.kind in ("micro", "raw"):
        from kwsnum.listen import _Frames, frame_geometry
        hop, win, sr = frame_geometry(sm)
        pcm = noise_pcm(((n + 1) * R * hop + win) / sr + 0.01)
        frames = _Frames(fe).push(pcm)
    else:
        rng = np.random.default_rng(0)
        frames = rng.standard_normal(tuple(sm.input.shape[:-1]) + (R * (n + 1),)).astype(np.float32)
    steps = np.ascontiguousarray(frames[:, :R * (n + 1)].reshape(frames.shape[0], n + 1, R).transpose(1, 0, 2))
    res = {}
    with tempfile.TemporaryDirectory() as tmp:
        p = generate(sm, os.path.join(tmp, "step"))
        exe = build(p.path)
        v = verify(sm, p.path, steps)
        print(f"streaming C (NAME_step) vs oracle steps: {v}")
        defs = header_defines(p)
        res["step"] = _callgrind.per_sample(exe, quantized(sm, steps), tmp, n=n, args=["--int"])
        if pcm is not None and has_push_pcm(sm):
            from kwsnum.listen import Listener
            lis = Listener(sm)
            want = lis.push(pcm)
            r = run_push_pcm(sm, p.path, pcm, tmp, chunk=512)
            same = (r.steps == lis.last.shape[1] and np.array_equal(r.outputs, lis.last[0]) and
                    [(d.step, d.sum) for d in r.detections] == [(d.step, d.sum) for d in want])
            print(f"streaming C (NAME_push_pcm) vs kwsnum.listen: {r.steps} steps, {len(want)} detections, "
                  f"{'bit-exact' if same else 'DIFFERENT'}")
            counts = []
            for k in (1, 1 + n):
                m = ((k * R - 1) * hop + win)           # exactly the samples of k steps
                path = os.path.join(tmp, f"pcm{k}.pcm")
                pcm[:m].astype("<i2").tofile(path)
                counts.append(_callgrind.total([exe, "--push-pcm", "--chunk", "512", path, "-"],
                                               os.path.join(tmp, f"cg.pcm{k}.out"), only=f"{p.name}_push_pcm"))
            res["push_pcm"] = (counts[1] - counts[0]) / n
        if wm is not None:
            pw = generate(wm, os.path.join(tmp, "window"))
            exe_w = build(pw.path)
            wins, _ = streaming.windows(frames[None, :, :R * (n + 1)], W, R)
            wins = np.ascontiguousarray(wins[0][: min(n, 50) + 1])
            res["window"] = _callgrind.per_sample(exe_w, quantized(wm, wins), tmp, n=len(wins) - 1, args=["--int"])
            wdefs = header_defines(pw)
    print(f"model {title}: window {W} frames, step {R} frames, warm-up {info['warmup']} steps"
          + (f", frontend {fe.kind}" if fe is not None else ""))
    print(f"  NAME_step:      {res['step']:,.0f} instructions per step; arena {defs['ARENA_BYTES']:,} B, "
          f"state {defs['STATE_BYTES']:,} B, weights {defs['WEIGHT_BYTES']:,} B")
    if "push_pcm" in res:
        print(f"  NAME_push_pcm:  {res['push_pcm']:,.0f} instructions per step (frontend + step + detector; "
              f"{R * hop} samples = {1000 * R * hop / sr:.0f} ms of audio per step); frontend state "
              f"{defs.get('FRONTEND_STATE_BYTES', 0):,} B, scratch {defs.get('FRONTEND_SCRATCH_BYTES', 0):,} B, "
              f"tables {defs.get('FRONTEND_TABLE_BYTES', 0):,} B")
        print(f"                  of which the frontend and detector: {res['push_pcm'] - res['step']:,.0f} "
              f"({(res['push_pcm'] - res['step']) / R:,.0f} per frame; a windowed deployment computes each new "
              f"frame's features too)")
    if "window" in res:
        iw = res["window"]
        print(f"  full window:    {iw:,.0f} instructions per inference (NAME_invoke of the windowed model); arena "
              f"{wdefs['ARENA_BYTES']:,} B, weights {wdefs['WEIGHT_BYTES']:,} B")
        print(f"  a step costs {res['step'] / iw:.3f} of a full-window inference ({iw / res['step']:.1f}x fewer "
              f"instructions)" + (f"; with the frontend {res['push_pcm'] / iw:.3f}" if "push_pcm" in res else ""))


if __name__ == "__main__":
    main()
