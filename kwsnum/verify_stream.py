"""The three-way gate over every step of long audio (``kwsnum verify MODEL WAV... --stream``; docs/verify.md,
"Streams"): each signal is one continuous stream from the reset, run by

- the oracle: the model's frontend on the whole signal (kwsnum/listen.py), then one step per ``R`` frames with
  ``Model.plan().run(..., state=...)``, every tensor traced;
- the torch reference: the same steps (its own state), each node on the oracle's inputs (as kwsnum/verify.py);
- the generated C (trace build): ``NAME_push_pcm`` on the PCM itself when the project has it (a micro frontend
  and stored detector parameters: the C frontend is in the gate, its frames are the traced input of each step),
  else ``NAME_step`` over the oracle frontend's frames (or the .npy frames given).

Per pair (oracle vs torch, C vs oracle, C vs torch; rules of kwsnum/compare.py) it counts the steps on which every
tensor both traces hold agrees, and names the first step that does not (its time, kwsnum.listen.step_time), the
first differing layer at that step and the element. The state is compared through the delay lines' outputs (the
state before the step followed by the new frames). With detector parameters, the detections (step, label, sum)
of the oracle and of C (and of torch) are compared too; the C ones come from ``NAME_detect`` in ``NAME_push_pcm``
(step mode: the Python detector on C's step outputs). Long signals are compared in blocks of steps (the C trace
file is memory-mapped), so hours of audio need not fit in memory.

    with StreamGate(model) as gate:
        res = gate.run(pcm, name="a.wav", progress=lambda done, total: ...)
        res.ok; print("\\n".join(res.lines()))
"""
import tempfile
from dataclasses import dataclass, field

import numpy as np

from . import detector as kdet
from . import listen, streaming as kstream
from .compare import EXACT, TOLERANCE, layer_diffs, per_sample
from .errors import InputError
from .verify import TempOwner

PAIRS = (("oracle", "torch", TOLERANCE), ("c", "oracle", EXACT), ("c", "torch", TOLERANCE))
LONG_NAMES = {"torch": "PyTorch reference", "oracle": "oracle", "c": "C"}
BLOCK_BYTES = 32 << 20        # traces of one block of steps, per implementation


def check(model):
    """Raise InputError (naming --stream) unless the model has state; the frontend, if any, must stream."""
    if not kstream.is_streaming(model):
        raise InputError("--stream needs a streaming model (one with state, from from_torch(..., streaming=True) "
                         "or kwsnum.streaming.to_streaming); this model has none: verify it without --stream")
    if model.frontend is not None:
        listen.check_frontend(model)


@dataclass
class StreamPair:
    a: str
    b: str
    rule: str
    steps: int = 0
    steps_agree: int = 0
    first_step: int = None            # the first step on which some tensor differs
    first: object = None              # kwsnum.compare.LayerDiff: the first differing layer at that step
    note: str = None                  # e.g. different step counts

    @property
    def ok(self):
        return self.steps_agree == self.steps and self.note is None

    def title(self):
        return f"{LONG_NAMES[self.a]} vs {LONG_NAMES[self.b]}"


@dataclass
class StreamResult:
    name: str
    samples: int                      # PCM samples (None for a frame sequence)
    frames: int
    steps: int
    c_mode: str                       # "push_pcm", "step" or None (no C)
    pairs: list = field(default_factory=list)
    detections: dict = None           # impl -> [(step, label index, sum)]; None without detector parameters
    step_time: object = None          # step -> seconds (None without a frontend)
    labels: list = None

    @property
    def detections_ok(self):
        d = self.detections
        return d is None or all(v == d["oracle"] for v in d.values())

    @property
    def ok(self):
        return all(p.ok for p in self.pairs) and self.detections_ok

    def _when(self, k):
        return f"step {k}" + (f" ({self.step_time(k):.3f} s)" if self.step_time is not None else "")

    def lines(self):
        """The report of one stream (what ``kwsnum verify --stream`` prints)."""
        from .text import printable
        src = (f"{self.samples} samples -> " if self.samples is not None else "") + f"{self.frames} frames"
        c = {"push_pcm": "; C: NAME_push_pcm on the PCM (C frontend included)",
             "step": "; C: NAME_step on the oracle's frames"}.get(self.c_mode, "")
        out = [f"{printable(self.name, None)}: {src}, {self.steps} steps{c}"]
        width = max((len(p.title()) for p in self.pairs), default=0)
        for p in self.pairs:
            word = "bit-exact" if p.rule == EXACT else "agree"
            rule = "" if p.rule == EXACT else "; integers exact, float32 within 1e-4, docs/numerics.md 5"
            out.append(f"  {p.title():<{width}} : {p.steps_agree}/{p.steps} steps {word}  (every tensor{rule})")
            if p.note:
                out.append(f"    {p.note}")
            if p.first_step is not None:
                out.append(f"    first differing {self._when(p.first_step)}")
                if p.first is not None:
                    out.append(f"    first differing {printable(p.first.describe((p.a, p.b)), 400)}"
                               .replace(" at sample 0, element", " at element"))
        if self.detections is not None:
            names = self.labels
            ref = self.detections["oracle"]
            for impl, dets in self.detections.items():
                shown = ", ".join(f"{self._when(k)} {printable(names[lab], 40)} sum {s}" for k, lab, s in dets[:3])
                more = f", ... ({len(dets) - 3} more)" if len(dets) > 3 else ""
                same = "" if impl == "oracle" else ("  == oracle" if dets == ref else "  DIFFER from the oracle's")
                out.append(f"  detections ({LONG_NAMES[impl]}): {len(dets)}{': ' if dets else ''}{shown}{more}{same}")
                if impl != "oracle" and dets != ref:
                    i = next((i for i, (x, y) in enumerate(zip(dets, ref)) if x != y), min(len(dets), len(ref)))
                    got = dets[i] if i < len(dets) else None
                    want = ref[i] if i < len(ref) else None
                    out.append(f"    first differing detection #{i}: {LONG_NAMES[impl]} {got}, oracle {want} "
                               f"(step, label, sum)")
        else:
            out.append("  detections: not compared (the model stores no detector parameters)")
        return out


class StreamGate(TempOwner):
    """Builds the C project once (trace build, in a temporary folder or ``c_dir``; ``cflags``: extra compiler
    flags, e.g. sanitizers), then :meth:`run` verifies one stream at a time. ``project``: the folder of a project
    of this model already generated and trace-built (then nothing is built). ``chunk``: samples per
    ``NAME_push_pcm`` call (the result does not depend on it)."""

    def __init__(self, model, use_torch=True, use_c=True, c_dir=None, cc=None, cflags=(), chunk=512, project=None):
        check(model)
        self.model = model
        self.info = kstream.info(model)
        self.impls = tuple(i for i in ("torch", "oracle", "c") if (i != "torch" or use_torch) and
                           (i != "c" or use_c))
        self.chunk = int(chunk)
        self.params = kdet.params_of(model)
        self.det_tensor = kdet.output_spec(model).name if self.params is not None else None
        self._tmp = tempfile.mkdtemp(prefix="kwsnum_verify_stream_")
        self.c_dir = None
        self.c_mode = None
        if "c" in self.impls:
            from .codegen import build, generate
            from .codegen.streaming import has_push_pcm
            if project is None:
                p = generate(model, c_dir or f"{self._tmp}/c", name="kws_verify", overwrite=True)
                build(p.path, werror=False, cc=cc, trace=True, extra_cflags=cflags)
                project = p.path
            self.c_dir = str(project)
            self.c_mode = "push_pcm" if has_push_pcm(model) else "step"
        if "torch" in self.impls:
            from . import torchref
            torchref._torch()
        per = sum(s.nbytes for s in model.tensors.values())
        self.block = int(max(1, min(500, BLOCK_BYTES // max(1, per))))     # also the progress granularity

    # ---------------------------------------------------------------- the implementations
    def frames_of(self, signal):
        """(frames (channels, T) in the model input's format, PCM or None): int16 1-D PCM goes through the model's
        frontend (kwsnum/listen.py), anything else is taken as the frames themselves."""
        m = self.model
        x = np.asarray(signal)
        if x.dtype == np.int16 and x.ndim == 1 and m.frontend is not None:
            return listen._Frames(m.frontend).push(x), x
        if x.dtype == np.int16 and x.ndim == 1:
            raise InputError("the model has no frontend: give the stream as a .npy of input frames (channels, "
                             f"frames) = ({', '.join(map(str, m.input.shape[:-1]))}, T), not audio")
        want = tuple(m.input.shape[:-1])
        if x.ndim != len(want) + 1 or x.shape[:-1] != want:
            raise InputError(f"a stream of frames must have shape ({', '.join(map(str, want))}, T); got {x.shape}")
        if m.input.format == "float32":
            if x.dtype.kind not in "fiu":
                raise InputError(f"frames of dtype {x.dtype} are not numeric")
            x = x.astype(np.float32)
        elif x.dtype != m.input.dtype:
            raise InputError(f"frames of dtype {x.dtype} do not match the model input format {m.input.format}")
        return np.ascontiguousarray(x), None

    def _c(self, frames, pcm, steps):
        from .codegen.streaming import run_push_pcm, run_steps
        if self.c_mode == "push_pcm" and pcm is not None:
            r = run_push_pcm(self.model, self.c_dir, pcm, self._tmp, chunk=self.chunk, trace=True)
            lab = {n: i for i, n in enumerate(self._labels())}
            hop, win, _ = listen.frame_geometry(self.model)
            # (step, label, sum); a report whose time is not its step's (numerics.md 12.6) carries the end sample
            dets = [(d.step, lab.get(d.label, -1), d.sum) +
                    (() if d.end_sample == ((d.step + 1) * self.info["step"] - 1) * hop + win else (d.end_sample,))
                    for d in r.detections]
            return r.steps, r.trace, dets, "push_pcm"
        R = self.info["step"]
        x = np.ascontiguousarray(frames[:, :steps * R].reshape(frames.shape[0], steps, R).swapaxes(0, 1))
        y, reader = run_steps(self.model, self.c_dir, x, self._tmp, trace=True)
        return steps, reader, None, "step"

    def _labels(self):
        m = self.model
        return [str(v) for v in m.labels] if m.labels is not None else [str(i) for i in range(m.output.size)]

    # ---------------------------------------------------------------- one stream
    def run(self, signal, name="", progress=None):
        """Verify one stream (int16 PCM through the frontend, or frames (channels, T)) from the reset. ``progress``
        is called with (steps done, total steps) after each block. Returns a :class:`StreamResult`."""
        import numba
        m = self.model
        frames, pcm = self.frames_of(signal)
        R = self.info["step"]
        steps = frames.shape[-1] // R
        res = StreamResult(name, None if pcm is None else len(pcm), int(frames.shape[-1]), steps, None,
                           labels=self._labels())
        if m.frontend is not None and pcm is not None:
            res.step_time = lambda k: listen.step_time(m, k)
        c_steps, c_reader, c_dets = steps, None, None
        if "c" in self.impls:
            c_steps, c_reader, c_dets, res.c_mode = self._c(frames, pcm, steps)
        res.pairs = [StreamPair(a, b, rule) for a, b, rule in PAIRS if a in self.impls and b in self.impls]
        if c_steps != steps:
            for p in res.pairs:
                if "c" in (p.a, p.b):
                    p.note = f"C ran {c_steps} steps, the oracle {steps}"
        n = min(steps, c_steps)
        plan = m.plan()
        o_state, t_state = {}, {}
        dets = {i: [] for i in self.impls} if self.params is not None else None
        detectors = {i: kdet.Detector(self.params, self.info["warmup"]) for i in self.impls} \
            if self.params is not None else {}
        threads = numba.get_num_threads()
        numba.set_num_threads(1)             # a step is small (as kwsnum.streaming.Stream): one thread, for
        t_threads = None                     # torch too (its thread pool costs 50x the step on a busy machine)
        if "torch" in self.impls:
            import torch
            t_threads = torch.get_num_threads()
            torch.set_num_threads(1)
        try:
            for k0 in range(0, steps, self.block):
                k1 = min(steps, k0 + self.block)
                vals = {"oracle": self._oracle(plan, frames, k0, k1, o_state)}
                if "torch" in self.impls:
                    vals["torch"] = self._torch(frames, k0, k1, t_state, vals["oracle"])
                if "c" in self.impls and k0 < n:
                    vals["c"] = c_reader(k0, min(k1, n))
                for p in res.pairs:
                    if p.a in vals and p.b in vals:
                        self._compare(p, vals[p.a], vals[p.b], k0)
                for impl, det in detectors.items():
                    if impl in vals and not (impl == "c" and c_dets is not None):
                        q = vals[impl][self.det_tensor]
                        dets[impl] += [(k0 + j, self.params.label, det.last_sum)
                                       for j in range(len(q)) if det.push(q[j])]
                if progress is not None:
                    progress(k1, steps)
        finally:
            numba.set_num_threads(threads)
            if t_threads is not None:
                import torch
                torch.set_num_threads(t_threads)
        if c_dets is not None:
            dets["c"] = c_dets
        if dets is not None:
            res.detections = {i: dets[i] for i in ("oracle", "c", "torch") if i in dets}
        return res

    def _oracle(self, plan, frames, k0, k1, state):
        R = self.info["step"]
        traces = [plan.run(frames[None, ..., k * R:(k + 1) * R], trace=True, state=state) for k in range(k0, k1)]
        return {t: np.concatenate([np.asarray(tr[t]) for tr in traces]) for t in traces[0]}

    def _torch(self, frames, k0, k1, state, oracle):
        from .torchref import run_reference
        R = self.info["step"]
        traces = []
        for j, k in enumerate(range(k0, k1)):
            feed = {t: v[j:j + 1] for t, v in oracle.items()}
            traces.append(run_reference(self.model, frames[None, ..., k * R:(k + 1) * R], trace=True, feed=feed,
                                        state=state))
        return {t: np.concatenate([np.asarray(tr[t]) for tr in traces]) for t in traces[0]}

    def _compare(self, p, ta, tb, k0):
        n = min(len(next(iter(ta.values()))), len(next(iter(tb.values()))))
        ta = {t: v[:n] for t, v in ta.items()}
        tb = {t: v[:n] for t, v in tb.items()}
        bad = np.zeros(n, bool)
        for d, ok in layer_diffs(self.model, ta, tb, p.rule, masks=True):
            bad |= ~per_sample(ok)
        p.steps += n
        p.steps_agree += int(n - bad.sum())
        if p.first_step is None and bad.any():
            j = int(np.argmax(bad))
            p.first_step = k0 + j
            one = lambda tr: {t: v[j:j + 1] for t, v in tr.items()}   # noqa: E731
            p.first = next((d for d in layer_diffs(self.model, one(ta), one(tb), p.rule) if d.n_diff), None)


__all__ = ["StreamGate", "StreamResult", "StreamPair", "check", "PAIRS"]
