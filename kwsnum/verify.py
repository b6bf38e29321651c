"""The three-way gate: the PyTorch reference, the oracle and the generated C on the same inputs
(``kwsnum verify``; docs/verify.md), and TFLM as a fourth opinion for a model imported from a .tflite file
(``--tflm``: every tensor TFLM keeps, compared exactly with the oracle and the C).

:class:`Gate` generates and builds the C project once (in a temporary folder), then takes batches: each batch
runs through every implementation, and every pair is compared under the rules of :mod:`kwsnum.compare`:

- torch reference vs oracle: every tensor of the graph, each node's reference run on the oracle's inputs (so
  every op is checked on identical inputs); integer tensors exact, float tensors within the spec tolerance;
- oracle vs C: the outputs bit for bit; with ``trace=True`` the C trace build is used and every tensor is
  compared, so the first differing layer can be named;
- torch reference vs C: as oracle vs C, float32 within the tolerance.

Per pair the gate keeps the number of samples that agree, the first sample that does not, and per layer the
count of differing elements (summed over batches), from which the first differing layer is read.
"""
import shutil
import tempfile
from dataclasses import dataclass, field

import numpy as np

from .compare import EXACT, TOLERANCE, agreement, layer_diffs, per_sample

IMPLS = ("torch", "oracle", "c", "tflm")
LONG_NAMES = {"torch": "PyTorch reference", "oracle": "oracle", "c": "C", "tflm": "TFLM"}
# (a, b, rule): b is the reference of the comparison
PAIRS = (("oracle", "torch", TOLERANCE), ("c", "oracle", EXACT), ("c", "torch", TOLERANCE), ("oracle", "tflm", EXACT),
         ("c", "tflm", EXACT))
TRACE_CHUNK_BYTES = 64 << 20     # keep one batch's traces of one implementation under this


@dataclass
class PairResult:
    a: str
    b: str
    rule: str
    n: int = 0
    n_agree: int = 0
    first_sample: int = None          # global index of the first disagreeing sample
    layers: list = None               # [LayerDiff] summed over batches (None until traced batches were seen)
    compared: str = "outputs"         # "outputs" or "every tensor"

    @property
    def ok(self):
        return self.n_agree == self.n

    @property
    def first_layer(self):
        for d in self.layers or ():
            if d.n_diff:
                return d
        return None

    def title(self):
        return f"{LONG_NAMES[self.a]} vs {LONG_NAMES[self.b]}"

    def rule_text(self):
        return "bit-exact" if self.rule == EXACT else "integers exact, float32 within 1e-4, docs/numerics.md 5"


@dataclass
class GateResult:
    n: int = 0
    pairs: list = field(default_factory=list)
    predicted: np.ndarray = None      # oracle argmax per sample
    impls: tuple = ()

    @property
    def ok(self):
        return all(p.ok for p in self.pairs)


class TempOwner:
    """A gate that owns a temporary folder (``self._tmp``, or None): ``close()`` removes it; a context manager."""
    _tmp = None

    def close(self):
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Gate(TempOwner):
    """Runs the implementations on batches and accumulates their agreement. ``use_torch`` needs torch;
    ``use_c`` needs a C compiler; ``trace`` compares every tensor (C through its trace build); ``cflags`` are
    extra C compiler flags (e.g. ``-fsanitize=address,undefined``); ``tflm``: the bytes of the .tflite file the
    model was imported from, run by TFLM (needs kwsnum[tflite])."""

    def __init__(self, model, use_torch=True, use_c=True, trace=False, c_dir=None, cc=None, cflags=(), tflm=None):
        self.model = model
        self.trace = bool(trace)
        self.impls = tuple(i for i in IMPLS if (i != "torch" or use_torch) and (i != "c" or use_c) and
                           (i != "tflm" or tflm is not None))
        self.tflm = None
        if tflm is not None:          # the .tflite bytes the model was imported from (or a TFLM of them)
            from .importers.tflm import TFLM
            self.tflm = tflm if isinstance(tflm, TFLM) else TFLM(tflm, model)
        self.pairs = [PairResult(a, b, rule, compared="every tensor" if (self.trace or "c" not in (a, b))
                                 else "outputs")
                      for a, b, rule in PAIRS if a in self.impls and b in self.impls]
        self._predicted = []
        self._n = 0
        self._tmp = None
        self.c_dir = None
        if "c" in self.impls:
            from .codegen import build, generate
            if c_dir is None:
                self._tmp = tempfile.mkdtemp(prefix="kwsnum_verify_")
                c_dir = f"{self._tmp}/c"
            project = generate(model, c_dir, name="kws_verify", overwrite=True)
            self.c_dir = project.path
            build(project.path, werror=False, cc=cc, trace=self.trace, extra_cflags=cflags)
        if "torch" in self.impls:
            from . import torchref
            torchref._torch()          # fail early if torch is missing

    def batch_size(self, default=64):
        """Samples per batch so that one implementation's full trace stays under TRACE_CHUNK_BYTES."""
        per = sum(s.nbytes for s in self.model.tensors.values())
        return int(max(1, min(default, TRACE_CHUNK_BYTES // max(1, per))))

    def _run(self, impl, x, oracle=None):
        m = self.model
        if impl == "oracle":
            return m.run(x, trace=True)
        if impl == "tflm":
            return self.tflm.run(x)
        if impl == "torch":
            from .torchref import run_reference
            return run_reference(m, x, trace=True, feed=oracle)
        from .codegen.emit import run_harness
        from .streaming import is_streaming
        # a streaming model: each sample is one step after a reset, as model.run computes it (numerics.md 12.1)
        _, out = run_harness(m, self.c_dir, x, trace=self.trace, reset=is_streaming(m))
        return out if self.trace else {m.outputs[0]: out}

    def add(self, x):
        """Run one batch (N, *input shape) through every implementation and compare."""
        m = self.model
        x = m.check_input(x)
        start = self._n
        vals = {"oracle": self._run("oracle", x)}
        for impl in self.impls:
            if impl != "oracle":
                vals[impl] = self._run(impl, x, oracle=vals["oracle"])
        out = m.outputs[0]
        self._predicted.append(np.asarray(vals["oracle"][out]).reshape(len(x), -1).argmax(axis=1))
        for p in self.pairs:
            ta, tb = vals[p.a], vals[p.b]
            ok_out = per_sample(agreement(ta[out], tb[out], p.rule, m.tensors[out].format))
            if p.compared == "every tensor":
                diffs = layer_diffs(m, ta, tb, p.rule, masks=True)
                bad = np.zeros(len(x), bool)
                for d, ok in diffs:
                    bad |= ~per_sample(ok)
                ok_all = ~bad & ok_out
                p.layers = _merge(p.layers, [d for d, _ in diffs], start)
            else:
                ok_all = ok_out
            if p.first_sample is None and not ok_all.all():
                p.first_sample = start + int(np.argmin(ok_all))
            p.n += len(x)
            p.n_agree += int(ok_all.sum())
        self._n += len(x)
        return self

    def result(self):
        pred = np.concatenate(self._predicted) if self._predicted else np.zeros(0, np.int64)
        return GateResult(len(pred), self.pairs, pred, self.impls)


def _merge(acc, diffs, start):
    """Sum per-layer counts over batches; sample indices in ``first`` become global."""
    for d in diffs:
        if d.first is not None:
            d.first = (d.first[0] + start,) + tuple(d.first[1:])
    if acc is None:
        return diffs
    for a, d in zip(acc, diffs):
        a.n_total += d.n_total
        if d.n_diff:
            a.max_abs_diff = max(a.max_abs_diff, d.max_abs_diff) if a.n_diff else d.max_abs_diff
            if a.first is None:
                a.first = d.first
            a.n_diff += d.n_diff
    return acc


__all__ = ["Gate", "GateResult", "PairResult", "IMPLS", "PAIRS", "LONG_NAMES"]
