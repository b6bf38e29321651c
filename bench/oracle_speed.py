"""Oracle speed side by side: per-clip time of the oracle, PyTorch float eager and LiteRT on the same networks,
and the wall time of a warm ``kwsnum run``. Prints figures; asserts nothing (issue 16).

    python bench/oracle_speed.py [--repeat 5] [--batch 256] [--models ds_cnn_mlperf,ds_cnn,kws_raw] [--no-busy]

For each zoo model (random trained-looking weights, ``kwsnum.zoo.example``; int8 export):
  - the oracle (``Model.run``) at batch 1 and ``--batch``, with 1 and 2 threads (``numba.set_num_threads``), on
    numba's kernels; and at batch 1 on the vector kernels that a process's first small jobs run (docs/numerics.md
    3.7, ``oracle vector``);
  - PyTorch float eager (``torch.no_grad``) on the same module, 1 and 2 threads (``torch.set_num_threads``);
  - where ``ai-edge-litert`` is installed (``pip install -e .[bench]``): LiteRT on the same int8 network written as a
    .tflite (bench/tflite_int8.py; not for kws_raw: int8 LayerNorm has no TFLite builtin): its optimized builtin
    kernels without delegates, XNNPACK (the default delegate) and the reference kernels, 1 thread (optimized also 2);
    and the oracle again on that very .tflite imported by kwsnum (``oracle tflite`` rows: the same model LiteRT runs).
Every configuration is timed ``--repeat`` times, round-robin (so that a change in the machine's load hits all of
them alike); medians of the wall time per clip are printed, with the min-max range, and the median process CPU
time per clip (all threads; on a machine shared with other work, a 1-thread figure less distorted by time-sharing
than the wall time). Batch 1 is timed over 20 clips per measurement.
Unless ``--no-busy``, the oracle is timed again while a spinning process keeps one core busy. Both times, a row
``b256 2 proc`` runs the batch as two halves in two forked processes of one thread each (no GIL between them): what
two threads would reach if the Python glue between their kernels never made one wait for the other.
Then ``kwsnum run`` (the bundled default, 12 clips): one cold run in a fresh NUMBA_CACHE_DIR, then 5 warm runs
(median), in fresh processes without PYTHONDONTWRITEBYTECODE (as a user's second run: cached bytecode and kernels),
and where a warm run's time goes, stage by stage (it computes on the vector kernels and never imports numba; numba's
kernels are timed after it in the same process, for comparison).
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

B1_CLIPS = 20


def timed(fn, clips):
    """(wall, process CPU) seconds per clip of one call."""
    t, c = time.perf_counter(), time.process_time()
    fn()
    return (time.perf_counter() - t) / clips, (time.process_time() - c) / clips


def fmt_ms(ts):
    wall = [w for w, _ in ts]
    cpu = statistics.median(c for _, c in ts)
    return (f"{statistics.median(wall) * 1e3:8.3f} ms  [{min(wall) * 1e3:.3f}-{max(wall) * 1e3:.3f}]"
            f"   cpu {cpu * 1e3:.3f} ms")


def oracle_configs(model, x, batch, vector_row=False):
    """The oracle on numba's kernels (kwsnum.backend.forced(False): what a process that has loaded numba runs);
    ``vector_row``: also batch 1 on the vector kernels of small jobs (docs/numerics.md 3.7)."""
    import numba
    from kwsnum import backend
    x1 = [x[i:i + 1] for i in range(B1_CLIPS)]
    xb = x[:batch]

    def one(threads, vector=False):
        def f():
            numba.set_num_threads(threads)
            with backend.forced(vector):
                for xi in x1:
                    model.run(xi)
        return f

    def many(threads):
        def f():
            numba.set_num_threads(threads)
            with backend.forced(False):
                model.run(xb)
        return f
    rows = {f"oracle int8   b1   t{t}": (one(t), B1_CLIPS) for t in (1, 2)} | \
        {f"oracle int8   b{batch} t{t}": (many(t), batch) for t in (1, 2)}
    if vector_row:
        rows["oracle vector b1   t1"] = (one(1, True), B1_CLIPS)
    return rows


def torch_configs(module, x, batch):
    import torch
    xt = torch.from_numpy(x)
    x1 = [xt[i:i + 1] for i in range(B1_CLIPS)]
    xb = xt[:batch]

    def one(threads):
        def f():
            torch.set_num_threads(threads)
            with torch.no_grad():
                for xi in x1:
                    module(xi)
        return f

    def many(threads):
        def f():
            torch.set_num_threads(threads)
            with torch.no_grad():
                module(xb)
        return f
    return {f"torch float   b1   t{t}": (one(t), B1_CLIPS) for t in (1, 2)} | \
        {f"torch float   b{batch} t{t}": (many(t), batch) for t in (1, 2)}


def litert_configs(model, x, batch):
    try:
        from ai_edge_litert.interpreter import Interpreter, OpResolverType
    except ImportError:
        return {}, "ai-edge-litert is not installed (pip install -e .[bench])"
    from bench.tflite_int8 import to_tflite, to_nhwc_batch
    try:
        data = to_tflite(model)
    except NotImplementedError as e:
        return {}, f"no .tflite of this network: {e}"
    from kwsnum.importers import from_tflite
    imported = from_tflite(data)     # the oracle on the SAME .tflite LiteRT runs (kwsnum's TFLite importer)
    xn = to_nhwc_batch(x)
    kinds = {"optimized": OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES, "xnnpack": OpResolverType.AUTO,
             "reference": OpResolverType.BUILTIN_REF}
    configs, agree = {k.replace("oracle int8  ", "oracle tflite"): v
                      for k, v in oracle_configs(imported, x, batch).items()}, None

    def interp(kind, threads, n):
        it = Interpreter(model_content=data, num_threads=threads, experimental_op_resolver_type=kinds[kind])
        i, o = it.get_input_details()[0]["index"], it.get_output_details()[0]["index"]
        it.resize_tensor_input(i, (n,) + xn.shape[1:])
        it.allocate_tensors()
        return it, i, o

    for kind, threads in (("optimized", 1), ("optimized", 2), ("xnnpack", 1), ("reference", 1)):
        it1, i1, _ = interp(kind, threads, 1)
        itb, ib, ob = interp(kind, threads, batch)
        x1 = [xn[j:j + 1] for j in range(B1_CLIPS)]

        def one(it=it1, i=i1, x1=x1):
            for xi in x1:
                it.set_tensor(i, xi)
                it.invoke()

        def many(it=itb, i=ib):
            it.set_tensor(i, xn[:batch])
            it.invoke()
        label = f"litert {kind[:4]:4s}"
        if kind != "reference":
            configs[f"{label}   b1   t{threads}"] = (one, B1_CLIPS)
        configs[f"{label}   b{batch} t{threads}"] = (many, batch)
        if agree is None:
            many()
            lite, mine = itb.get_tensor(ob), imported.run(x[:batch])
            agree = (float(np.mean(lite.argmax(-1) == mine.argmax(-1))), float(np.mean(lite == mine)),
                     float(np.mean(lite.argmax(-1) == model.run(x[:batch]).argmax(-1))))
    return configs, (f"LiteRT optimized vs the oracle on the imported .tflite: top-1 {agree[0] * 100:.1f} %, outputs "
                     f"equal {agree[1] * 100:.1f} % (kwsnum imports MEAN with TFLM's integers, not LiteRT's); top-1 vs "
                     f"the exported .h5: {agree[2] * 100:.1f} %")


def measure(configs, repeat):
    for fn, _ in configs.values():       # warm-up (kernels, allocations)
        fn()
    times = {k: [] for k in configs}
    for _ in range(repeat):
        for k, (fn, clips) in configs.items():
            times[k].append(timed(fn, clips))
    return times


def two_processes(model, x, batch, repeat):
    """[(wall, CPU) per clip] of ``repeat`` runs of the batch as two halves in two forked one-thread processes that
    start together (each after a warm-up run of its own: a forked child's first run pays for copy-on-write pages);
    the wall is the slower child's."""
    import numba
    from kwsnum import backend
    numba.set_num_threads(1)
    halves = (x[:batch // 2], x[batch // 2:batch])
    with backend.forced(False):
        model.run(halves[0])                   # warm (the children inherit the compiled kernels)
    out = []
    for _ in range(repeat):
        start = time.perf_counter() + 0.5
        children = []
        for half in halves:
            r, w = os.pipe()
            pid = os.fork()
            if pid == 0:                         # child: wait for the common start, run its half, report
                os.close(r)
                with backend.forced(False):
                    model.run(half)
                while time.perf_counter() < start:
                    pass
                t, c = time.perf_counter(), time.process_time()
                with backend.forced(False):
                    model.run(half)
                os.write(w, f"{time.perf_counter() - t} {time.process_time() - c}".encode())
                os._exit(0)
            os.close(w)
            children.append((pid, r))
        res = []
        for pid, r in children:
            with os.fdopen(r) as fh:
                res.append(tuple(map(float, fh.read().split())))
            os.waitpid(pid, 0)
        out.append((max(t for t, _ in res) / batch, sum(c for _, c in res) / batch))
    return out


def busy_core():
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def kwsnum_run_walls(n_warm=5):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="kwsnum-bench-numba-")
    cmd = [sys.executable, "-m", "kwsnum", "run"]
    walls = []
    for _ in range(n_warm + 1):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, env=env)
        walls.append(time.perf_counter() - t)
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import numpy, h5py, click"], check=True, env=env)
    base = time.perf_counter() - t
    return walls[0], walls[1:], base, env


STARTUP = r"""
import sys, time
T = [(time.perf_counter(), time.process_time(), "python start-up")]
def m(s):
    T.append((time.perf_counter(), time.process_time(), s))
import numpy; m("import numpy")
import click; m("import click")
import kwsnum.cli.main; m("import kwsnum.cli.main")
from kwsnum import default, load
model = load(default.model_path()); m("kwsnum.load (op modules, HDF5 read in a child)")
from kwsnum.cli.main import _collect_inputs, _read_input
files = _collect_inputs([p for p, _ in default.clips()])
x = numpy.concatenate([_read_input(f, model) for f in files]); m("read the 12 clips (frontend)")
model.run(x); m("the 12 clips (vector kernels, docs/numerics.md 3.7)")
loaded = "numba" in sys.modules
from kwsnum import backend
with backend.forced(False):
    model.run(x[:1]); m("for comparison: numba's kernels, first clip (import, CPU target, cached kernels)")
    model.run(x); m("for comparison: numba's kernels, the 12 clips")
T[0] = (T[0][0] - START[0], T[0][1] - START[1], T[0][2])
print(f"  {'python start-up':74s} wall {START[0] * 1e3:7.1f} ms")
for a, b in zip(T, T[1:]):
    print(f"  {b[2]:74s} wall {(b[0] - a[0]) * 1e3:7.1f} ms  cpu {(b[1] - a[1]) * 1e3:7.1f} ms")
print(f"  numba imported before the comparison: {loaded}")
"""


def startup_breakdown(env):
    """Where a warm ``kwsnum run``'s time goes, stage by stage, in a fresh process (the cache already warm)."""
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True, env=env)
    start = time.perf_counter() - t
    code = f"START = ({start!r}, 0.0)\n" + STARTUP
    print(subprocess.run([sys.executable, "-c", code], check=True, env=env, capture_output=True, text=True).stdout,
          end="")


def report_table(table, batch):
    """The issue's table: per model, median wall ms per clip of each configuration, in one line each."""
    cols = [("oracle int8   b1   t1", "oracle b1 t1"), ("oracle int8   b1   t2", "b1 t2"),
            (f"oracle int8   b{batch} t1", f"b{batch} t1"), (f"oracle int8   b{batch} t2", f"b{batch} t2"),
            ("torch float   b1   t1", "torch b1 t1"), (f"torch float   b{batch} t1", f"torch b{batch} t1"),
            ("litert opti   b1   t1", "litert b1 t1"), (f"litert opti   b{batch} t1", f"litert b{batch} t1"),
            (f"litert xnnp   b{batch} t1", f"xnnpack b{batch} t1")]
    print(f"\nsummary: wall ms per clip (median), load average {os.getloadavg()[0]:.1f}")
    print(f"  {'model':14s}" + "".join(f"{h:>16s}" for _, h in cols) + f"{'b' + str(batch) + ' t2 / litert':>20s}")
    for name, row in table.items():
        cells = "".join(f"{row[k] * 1e3:16.3f}" if k in row else f"{chr(45):>16s}" for k, _ in cols)
        a, b = row.get(f"oracle int8   b{batch} t2"), row.get(f"litert opti   b{batch} t1")
        print(f"  {name:14s}{cells}{(f'{a / b:20.2f}' if a and b else f'{chr(45):>20s}')}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--models", default="ds_cnn_mlperf,ds_cnn,kws_raw")
    ap.add_argument("--no-busy", action="store_true", help="skip the oracle timing beside a busy core")
    ap.add_argument("--no-run", action="store_true", help="skip the `kwsnum run` wall times")
    args = ap.parse_args()
    import numba
    import torch
    from kwsnum import zoo
    from kwsnum.export import from_torch
    from kwsnum.report import summary
    if numba.config.NUMBA_NUM_THREADS < 2:
        print("warning: NUMBA_NUM_THREADS < 2: the 2-thread figures use 1 thread")
    print(f"numba {numba.__version__} ({numba.config.NUMBA_NUM_THREADS} threads at most), torch {torch.__version__}, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; per clip, median of {args.repeat} "
          f"[min-max]")
    table = {}
    for name in filter(None, args.models.split(",")):
        module, calib, g = zoo.example(name, n_calib=32)
        module.eval()
        model = from_torch(module, calib[:1], calib, precision=zoo.precision_of(name))
        x = torch.randn((max(args.batch, B1_CLIPS),) + tuple(zoo.ZOO[name].in_shape), generator=g).numpy()
        print(f"\n{name}: {zoo.ZOO[name].title}; {summary(model)['total_macs'] / 1e6:.2f} M MACs per clip")
        configs = oracle_configs(model, x, args.batch, vector_row=True)
        configs.update(torch_configs(module, x, args.batch))
        lite, note = litert_configs(model, x, args.batch)
        configs.update(lite)
        times = measure(configs, args.repeat)
        times[f"oracle int8   b{args.batch} 2 proc"] = two_processes(model, x, args.batch, args.repeat)
        for k, ts in times.items():
            print(f"  {k:26s} {fmt_ms(ts)}")
        table[name] = {k: statistics.median(w for w, _ in ts) for k, ts in times.items()}
        print(f"  litert: {note}")
        if not args.no_busy:
            spin = busy_core()
            try:
                busy = measure(oracle_configs(model, x, args.batch), args.repeat)
                busy[f"oracle int8   b{args.batch} 2 proc"] = two_processes(model, x, args.batch, args.repeat)
            finally:
                spin.kill()
                spin.wait()
            for k, ts in busy.items():
                print(f"  {k + ', 1 core busy':26s} {fmt_ms(ts)}")
    report_table(table, args.batch)
    if not args.no_run:
        cold, warm, base, env = kwsnum_run_walls()
        print(f"\n`kwsnum run` (bundled default, 12 clips): cold {cold:.2f} s; warm median {statistics.median(warm):.2f} s "
              f"[{min(warm):.2f}-{max(warm):.2f}] of {len(warm)}; `python -c 'import numpy, h5py, click'` {base:.2f} s; "
              f"load average {os.getloadavg()[0]:.1f}")
        print("where a warm run's time goes (one fresh process, the same stages as `kwsnum run`):")
        startup_breakdown(env)


if __name__ == "__main__":
    main()
