"""Turn a model into a standalone C99 project (see docs/codegen.md).

:func:`generate` writes ``<name>.h`` (the API), ``<name>.c`` (the static arena and the layer calls),
``<name>_weights.h`` / ``<name>_weights.c`` (the constant arrays), the runtime files it needs (copied from
``kwsnum.c_runtime``), a ``Makefile``, a ``CMakeLists.txt`` and a host harness ``main.c``. Everything is
written into a temporary folder next to the destination and renamed into place at the end, so a failure
never leaves a half-written project. :func:`build` compiles it; :func:`verify` runs the harness and compares
each output element with the oracle.

Everything taken from model strings is sanitized: C identifiers only ever come from :func:`c_ident` (the
project name, array names), comments only from :func:`c_comment` (a short, restricted character set: no
``*/``, no newline, no trigraph, no backslash) and string literals only from :func:`c_string`.
"""
import glob
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass

import numpy as np

from kwsnum.compare import same_values
from kwsnum.errors import KwsnumError, ModelError, InputError
from kwsnum.model import QFORMATS, QUANTIZED

from . import api, project_files, streaming, target
from .sanitize import CTYPE, c_comment, c_ident, c_string, lit, _array_body
from .harness import host_harness as _harness
from .planner import is_alias, plan_c_model, plan_model

CFLAGS = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Wpedantic", "-ffp-contract=off", "-fno-strict-aliasing",
          "-ffunction-sections", "-fdata-sections"]
LDFLAGS = ["-Wl,--gc-sections"]   # with -ffunction-sections: the kernels a model does not call are not linked
LIBM_CALL = re.compile(r"\b(sqrtf?|roundf?|lroundf?|llroundf?|floorf?|ceilf?|expf?|logf?|powf?|nearbyintf?|rintf?|"
                       r"lrintf?|truncf?|fmodf?|ldexpf?|frexpf?|fmaf?|fminf?|fmaxf?|tanhf?)\s*\(")


MAX_WEIGHT_BYTES = 1 << 26


class CodegenError(KwsnumError):
    """The C project cannot be generated, built or run."""


# ------------------------------------------------------------------ the project
@dataclass
class Project:
    """What :func:`generate` wrote."""
    path: str
    name: str
    arena_bytes: int
    weight_bytes: int
    activation_bytes: int
    files: list
    plan: object
    state_bytes: int = 0      # a streaming model's state (static, not in the arena; codegen/streaming.py)

    @property
    def executable(self):
        return os.path.join(self.path, f"{self.name}_main")


def _shape_str(spec):
    return "(" + ",".join(str(d) for d in spec.shape) + ") " + spec.describe()


def _runtime_files(functions):
    """(headers, needed .c files, libm needed?) of the runtime for these function names."""
    from kwsnum import c_runtime
    d = c_runtime.path()
    headers = sorted(glob.glob(os.path.join(d, "*.h")))
    sources = {}
    for f in sorted(glob.glob(os.path.join(d, "*.c"))):
        with open(f) as fh:
            sources[f] = fh.read()
    needed = []
    for fn in sorted(functions):
        pat = re.compile(r"^[A-Za-z_].*\b" + re.escape(fn) + r"\s*\(", re.M)
        hits = [f for f, text in sources.items() if pat.search(text)]
        if not hits:
            raise CodegenError(f"the C runtime ({d}) has no definition of {fn}")
        needed += [h for h in hits if h not in needed]
    # libm is linked only when a needed file (or a runtime header, all of which the model source includes)
    # really calls a libm function: comments and string literals do not count
    texts = [sources[f] for f in needed]
    for h in headers:
        with open(h) as fh:
            texts.append(fh.read())
    libm = any(calls_libm(t) for t in texts)
    return headers, sorted(needed), libm


def inline_twins():
    """Runtime functions with a static inline twin ``<fn>_inline`` in a header (the fast kernels): the model
    source calls the twin with its literal shapes, so the compiler specializes each layer's copy."""
    from kwsnum import c_runtime
    names = set()
    for h in glob.glob(os.path.join(c_runtime.path(), "*.h")):
        with open(h) as fh:
            names.update(re.findall(r"^KWS_FAST_INLINE void (kws_\w+)_inline\(", fh.read(), re.M))
    return names


_C_COMMENT_OR_STRING = re.compile(r"/\*.*?\*/|//[^\n]*|\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*'", re.S)


def calls_libm(c_text):
    """Does this C text call a libm function (outside comments and string literals)?"""
    return bool(LIBM_CALL.search(_C_COMMENT_OR_STRING.sub(" ", c_text)))


def generate(model, out_dir, name=None, overwrite=False):
    """Write the C project for ``model`` into the folder ``out_dir`` (created; must not exist unless
    ``overwrite``). ``name`` (default: the model name) is sanitized into a C identifier. Returns a
    :class:`Project`."""
    from kwsnum import ops
    name = c_ident(name if name is not None else model.name)
    out_dir = os.path.abspath(out_dir)
    if os.path.exists(out_dir) and not overwrite:
        raise CodegenError("output folder already exists (remove it or pass overwrite)", file=out_dir)
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise CodegenError(f"the C generator takes models with one input and one output; this one has "
                           f"{len(model.inputs)} inputs and {len(model.outputs)} outputs")
    wbytes = sum(int(np.asarray(a).nbytes) for n in model.nodes for a in n.arrays.values())
    if wbytes > MAX_WEIGHT_BYTES:
        raise CodegenError(f"the model's constant arrays take {wbytes} bytes; the C generator writes at most "
                           f"{MAX_WEIGHT_BYTES} (no microcontroller has the flash for more)")
    io = api.split_io(model)
    plan = plan_c_model(model)
    pcm = api.pcm_table(model, io.lead)
    steps = []   # (node, fname, args)
    for node in model.nodes:
        if is_alias(node):
            steps.append((node, None, None))
            continue
        fname, args = ops.get(node.op, node).c_function(node, model)
        if not re.fullmatch(r"kws_[a-z0-9_]+", fname):
            raise CodegenError(f"unexpected C function name {fname!r}", where=node.where)
        steps.append((node, fname, args))
    parent = os.path.dirname(out_dir)
    try:
        os.makedirs(parent, exist_ok=True)
        tmp = tempfile.mkdtemp(prefix=".kwsnum_codegen_", dir=parent)
    except OSError as e:
        raise CodegenError(f"cannot create the output folder: {e.strerror or e}", file=out_dir) from None
    try:
        project = _write_all(model, tmp, name, io, plan, steps, pcm)
        if os.path.exists(out_dir):
            old = tempfile.mkdtemp(prefix=".kwsnum_old_", dir=parent)
            os.rename(out_dir, os.path.join(old, "x"))
            os.rename(tmp, out_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, out_dir)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise CodegenError(f"cannot write the C project: {e.strerror or e}", file=out_dir) from None
    except BaseException:          # KeyboardInterrupt, SIGTERM (cli.main.Terminated): nothing is left behind
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    project.path = out_dir
    return project


def _write(folder, fname, text, files):
    with open(os.path.join(folder, fname), "w", newline="\n") as fh:
        fh.write(text)
    files.append(fname)


def _write_all(model, d, name, io, plan, steps, pcm):
    NAME = name.upper()
    files = []
    functions = {f for _, f, _ in steps if f}
    if pcm is not None:
        functions.add("kws_quantize_pcm_s8")
    headers, sources, libm = _runtime_files(functions)
    for f in headers + sources:
        shutil.copyfile(f, os.path.join(d, os.path.basename(f)))
        files.append(os.path.basename(f))
    runtime_c = [os.path.basename(f) for f in sources]

    # ---- weights
    arrays = []   # (c name, array, node, key)
    seen = {}
    for node, fname, args in steps:
        for kind, v in args or ():
            if kind in ("array", "state") and (node.index, v) not in seen:   # state: its init array (streaming.py)
                a = np.ascontiguousarray(node.arrays[v])
                if str(a.dtype) not in CTYPE:
                    raise CodegenError(f"array {v!r} has dtype {a.dtype}, which the C generator does not support",
                                       where=node.where)
                cname = f"{name}_n{node.index}_{c_ident(v, 'array')}"
                seen[(node.index, v)] = cname
                arrays.append((cname, a, node, v))
    weight_bytes = int(sum(a.nbytes for _, a, _, _ in arrays))
    wh = [f"/* {name}_weights.h -- constant arrays of the model (generated by kwsnum; internal). */",
          f"#ifndef {NAME}_WEIGHTS_H", f"#define {NAME}_WEIGHTS_H", "#include <stdint.h>", ""]
    wc = [f"/* {name}_weights.c -- constant arrays of the model (generated by kwsnum). */",
          "#include <stdint.h>", "#include <math.h>", f'#include "{name}_weights.h"', ""]
    for cname, a, node, key in arrays:
        ct = CTYPE[str(a.dtype)]
        decl = f"const {ct} {cname}[{max(a.size, 1)}]"
        note = f"/* layer {node.index} {c_comment(node.name, 40)} ({c_comment(node.op, 20)}): " \
               f"{c_comment(key, 20)}, {a.dtype} {'x'.join(map(str, a.shape)) or 'scalar'} */"
        wh.append(f"extern {decl}; {note}")
        wc += [note, f"{decl} = {{", _array_body(a), "};", ""]
    def array_name(node, key):
        return seen[(node.index, key)]

    wh += [""] + streaming.declarations(steps, array_name) + ["#endif", ""]
    _write(d, f"{name}_weights.h", "\n".join(wh), files)
    _write(d, f"{name}_weights.c", "\n".join(wc), files)

    def error(msg, node):
        return CodegenError(msg, where=node.where if node is not None else None)

    # ---- the API: header, model source, convenience wrappers
    _write(d, f"{name}.h", api.header(model, name, io, plan, weight_bytes, pcm), files)
    _write(d, f"{name}.c", api.model_source(model, name, io, plan, steps, array_name, error, inline_twins()), files)
    srcs = [f"{name}.c", f"{name}_weights.c"]
    if io.has_float_api:
        _write(d, f"{name}_float.c", api.float_source(model, name, io, steps, array_name, error), files)
        srcs.append(f"{name}_float.c")
    if pcm is not None:
        _write(d, f"{name}_pcm.c", api.pcm_source(model, name, io, pcm, steps, array_name, error), files)
        srcs.append(f"{name}_pcm.c")
    state_c = streaming.source(model, name, io, steps, array_name)
    if state_c is not None:
        _write(d, f"{name}_state.c", state_c, files)
        srcs.append(f"{name}_state.c")

    # ---- audio frontend hook (codegen/frontend_emit.py: its C files, and a harness that also takes PCM)
    from .frontend_emit import emit as emit_frontend
    fe_srcs, harness = emit_frontend(model, d, name, files, _harness(model, name, io, pcm is not None,
                                                                   streaming.kstream.is_streaming(model)), io)
    libm = libm or any(LIBM_CALL.search(open(os.path.join(d, f)).read()) for f in fe_srcs)
    # ---- harness, build files
    _write(d, "main.c", harness, files)
    srcs += runtime_c + [s for s in fe_srcs if s not in runtime_c and s not in srcs]
    target.write_target_files(d, name, io, lambda f, text: _write(d, f, text, files))
    _write(d, "Makefile", project_files.makefile(name, model.name, srcs, libm), files)
    _write(d, "CMakeLists.txt", project_files.cmakelists(name, srcs, libm), files)
    return Project(d, name, plan.arena_bytes, weight_bytes, plan.activation_bytes, files, plan,
                   streaming.state_bytes(steps))


def _compiler():
    for cc in [os.environ.get("CC"), "cc", "gcc", "clang"]:
        if cc and shutil.which(cc):
            return cc
    return None


def _project_name(project_dir):
    mk = os.path.join(project_dir, "Makefile")
    if not os.path.exists(mk):
        raise CodegenError("not a generated project (no Makefile)", file=project_dir)
    with open(mk) as fh:
        m = re.search(r"^all: (\w+)_main$", fh.read(), re.M)
    if not m:
        raise CodegenError("not a generated project (unrecognized Makefile)", file=project_dir)
    return m.group(1)


def build(project_dir, werror=False, use_make=None, cc=None, trace=False, extra_cflags=()):
    """Compile the project's harness ``<name>_main`` (``trace``: ``<name>_main_trace``, built with
    ``-D<NAME>_TRACE``) with the system C compiler (``make`` when available and ``use_make`` is not False, else a
    direct compiler call with the same flags). Returns the executable path; raises CodegenError with the
    compiler's output on failure. ``extra_cflags`` are added to every compile and link (e.g. sanitizers)."""
    project_dir = os.path.abspath(project_dir)
    name = _project_name(project_dir)
    cc = cc or _compiler()
    if cc is None:
        raise CodegenError("no C compiler found (set CC)")
    extra = (["-Werror"] if werror else []) + list(extra_cflags)
    with open(os.path.join(project_dir, "Makefile")) as fh:
        mk = fh.read()
    srcs = re.search(r"^SRCS = (.*)$", mk, re.M).group(1).split()
    ldlibs = re.search(r"^LDLIBS \?= ?(.*)$", mk, re.M).group(1).split()
    if use_make is None:
        use_make = shutil.which("make") is not None
    exe = f"{name}_main_trace" if trace else f"{name}_main"
    if use_make:
        cmd = ["make", "-s", "-C", project_dir, f"CC={cc}", f"EXTRA_CFLAGS={' '.join(extra)}", exe]
    else:
        defs = [f"-D{name.upper()}_TRACE"] if trace else []
        cmd = [cc] + CFLAGS + extra + defs + ["-I", project_dir] + \
              [os.path.join(project_dir, s) for s in srcs + ["main.c"]] + \
              ["-o", os.path.join(project_dir, exe)] + LDFLAGS + ldlibs
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise CodegenError(f"the C build failed:\n{r.stdout}{r.stderr}".rstrip(), file=project_dir)
    return os.path.join(project_dir, exe)


@dataclass
class VerifyResult:
    n: int
    n_exact: int
    mismatch: tuple = None    # (sample, element index tuple, C value, oracle value) of the first mismatch

    @property
    def ok(self):
        return self.mismatch is None

    def __str__(self):
        if self.ok:
            return f"{self.n}/{self.n} bit-exact"
        s, e, c, o = self.mismatch
        return (f"{self.n_exact}/{self.n} bit-exact; first mismatch: sample {s}, element {e}: C {c!r}, "
                f"oracle {o!r}")


def _entry(model, api_name):
    """(io, input spec or None for PCM, output spec, nodes in the trace) of entry point ``api_name``."""
    io = api.split_io(model)
    if api_name is None:
        api_name = "float" if io.has_float_api else "int"
    if api_name == "float" and io.has_float_api:
        return api_name, io, model.input, model.output, list(model.nodes)
    if api_name in ("int", "float"):
        return "int", io, io.in_spec, io.out_spec, list(io.core.nodes)
    if api_name == "pcm":
        return api_name, io, None, io.out_spec, ([io.lead] if io.lead is not None else []) + list(io.core.nodes)
    raise CodegenError(f"unknown entry point {api_name!r} (int, float or pcm)")


def run_harness(model, project_dir, x, trace=False, api_name=None, reset=False):
    """Run the built harness on inputs x (N, *input shape) or one sample. Returns (x as checked, outputs of
    shape (N, *output shape)); with ``trace`` (the trace build, see :func:`build`), (x, values) where values
    maps the input and every traced node's output tensor name to its (N, *shape) array, like
    ``model.run(x, trace=True)``. ``api_name``: "float" (``<name>_invoke_float``, the model's own contract; the
    default when the model has it), "int" (``<name>_invoke``: x in the integer API's input format, outputs in its
    output format) or "pcm" (``<name>_invoke_pcm``: x int16 PCM of the model's input shape). A streaming
    model's samples are consecutive steps from the initial state, or with ``reset`` each one step after a reset
    (what ``Model.run`` computes)."""
    project_dir = os.path.abspath(project_dir)
    name = _project_name(project_dir)
    exe = os.path.join(project_dir, f"{name}_main_trace" if trace else f"{name}_main")
    if not os.path.exists(exe):
        raise CodegenError(f"the project is not built (run build{'(trace=True)' if trace else ''} first)",
                           file=project_dir)
    api_name, io, in_spec, spec, nodes = _entry(model, api_name)
    if api_name == "float":
        x = model.check_input(x)
    else:
        want = np.int16 if in_spec is None else in_spec.dtype
        shape = tuple(model.input.shape if in_spec is None else in_spec.shape)
        x = np.asarray(x)
        if x.shape == shape:
            x = x[None]
        if x.shape[1:] != shape or x.dtype != want:
            raise InputError(f"the {api_name} entry point takes {np.dtype(want).name} samples of shape {shape}, "
                             f"got {x.dtype.name} {x.shape}")
    with tempfile.TemporaryDirectory(prefix="kwsnum_verify_") as t:
        xin, yout, tout = (os.path.join(t, f) for f in ("x.npy", "y.bin", "trace.bin"))
        np.save(xin, x)
        flags = [f"--{api_name}"] + (["--reset"] if reset else [])
        r = subprocess.run([exe, *flags, xin, yout] + ([tout] if trace else []), capture_output=True, text=True)
        if r.returncode != 0:
            raise CodegenError(f"the harness failed (exit {r.returncode}): {r.stderr.strip()}", file=exe)
        y = np.fromfile(yout, dtype=spec.dtype.newbyteorder("<"))
        raw = np.fromfile(tout, dtype=np.uint8) if trace else None
    if y.size != len(x) * spec.size:
        raise CodegenError(f"the harness wrote {y.size} values, expected {len(x) * spec.size}", file=exe)
    y = y.astype(spec.dtype).reshape((len(x),) + tuple(spec.shape))
    if not trace:
        return x, y
    first = model.inputs[0] if api_name == "float" else (io.core.inputs[0] if api_name == "int" else "#pcm")
    return x, _split_trace(model, nodes, first, x, raw, exe)


def _split_trace(model, nodes, first, x, raw, exe):
    """The trace file's bytes (per sample: every node's output in node order) as {tensor name: (N, *shape)}."""
    specs = [model.tensors[n.outputs[0]] for n in nodes]
    per_sample = sum(s.nbytes for s in specs)
    if raw.size != len(x) * per_sample:
        raise CodegenError(f"the trace holds {raw.size} bytes, expected {len(x) * per_sample}", file=exe)
    raw = raw.reshape(len(x), per_sample)
    values = {first: x}
    off = 0
    for node, s in zip(nodes, specs):
        chunk = np.ascontiguousarray(raw[:, off:off + s.nbytes])
        values[node.outputs[0]] = chunk.view(s.dtype.newbyteorder("<")).astype(s.dtype).reshape(
            (len(x),) + tuple(s.shape))
        off += s.nbytes
    return values


def _compare(got, ref, shape):
    """(per-sample all-equal flags, first mismatch or None) of two (N, *shape) arrays."""
    ok = same_values(got, ref).reshape(len(got), -1)
    good = ok.all(axis=1)
    if good.all():
        return good, None
    s = int(np.argmin(good))
    idx = tuple(int(i) for i in np.unravel_index(int(np.argmin(ok[s])), tuple(shape)))
    return good, (s, idx, got[s][idx].item(), ref[s][idx].item())


def verify(model, project_dir, x, apis=None):
    """Run the harness on x (float inputs: the model's contract) and compare every output element with the oracle
    (``model.run``), through every entry point in ``apis`` (default: all the project has): the float wrapper on
    x, the integer ``<name>_invoke`` on the oracle's quantized x against the oracle's integer output, and (raw
    models) ``<name>_invoke_pcm`` on PCM inputs when x is int16 PCM. A sample is bit-exact when it is through
    every entry point. A streaming model's samples are consecutive steps
    (codegen/streaming.py)."""
    if streaming.kstream.is_streaming(model):
        return streaming.verify(model, project_dir, x, apis)
    io = api.split_io(model)
    x = np.asarray(x)
    if x.dtype == np.int16 and api.pcm_table(model, io.lead) is not None:       # PCM samples
        xs = x[None] if x.shape == tuple(model.input.shape) else x
        _, got = run_harness(model, project_dir, xs, api_name="pcm")
        values = model.run(xs.astype(np.float32) / np.float32(32768), trace=True)
        good, mm = _compare(got, values[io.core.outputs[0]], io.out_spec.shape)
        return VerifyResult(len(xs), int(good.sum()), mm)
    apis = apis or (["float", "int"] if io.has_float_api else ["int"])
    x = model.check_input(x)
    values = model.run(x, trace=True) if "int" in apis and io.has_float_api else None
    good, first = np.ones(len(x), bool), None
    for a in apis:
        if a == "float" or not io.has_float_api:
            _, got = run_harness(model, project_dir, x, api_name=a)
            g, mm = _compare(got, np.asarray(model.run(x)), model.output.shape)
        else:
            _, got = run_harness(model, project_dir, np.asarray(values[io.core.inputs[0]]), api_name="int")
            g, mm = _compare(got, np.asarray(values[io.core.outputs[0]]), io.out_spec.shape)
        good &= g
        first = first or mm
    return VerifyResult(len(x), int(good.sum()), first)


def verify_target(model, project_dir, x, target_name, profile=False, float_api=False):
    """Cross-build the project for ``target_name`` (cortex-m4 / -m7 / -m55), run its semihosting harness under
    QEMU on the integer API's inputs (the oracle's quantization of the float inputs x) and compare every output
    element with the oracle. Returns (VerifyResult, target.TargetRun)."""
    project_dir = os.path.abspath(project_dir)
    name = _project_name(project_dir)
    io = api.split_io(model)
    x = model.check_input(x)
    # a streaming model's samples are consecutive steps from the initial state (codegen/streaming.py)
    values = streaming.oracle_steps(model, x)[1] if streaming.kstream.is_streaming(model) else model.run(x, trace=True)
    float_api = float_api and io.has_float_api
    xin, spec, ref = (model.input, model.output, model.outputs[0]) if float_api else \
        (io.in_spec, io.out_spec, io.core.outputs[0])
    xq = np.ascontiguousarray(np.asarray(values[model.inputs[0] if float_api else io.core.inputs[0]]).astype(
        xin.dtype.newbyteorder("<")))
    elf = target.build_target(project_dir, name, target_name, profile=profile, float_api=float_api)
    run = target.run_qemu(project_dir, name, elf, target_name, xq.tobytes(), len(x), spec.nbytes)
    got = np.frombuffer(run.outputs, dtype=spec.dtype.newbyteorder("<")).astype(spec.dtype).reshape(
        (len(x),) + tuple(spec.shape))
    good, mm = _compare(got, np.asarray(values[ref]), spec.shape)
    return VerifyResult(len(x), int(good.sum()), mm), run


__all__ = ["verify_target", "generate", "build", "verify", "run_harness", "Project", "VerifyResult", "CodegenError", "c_ident",
           "c_comment", "c_string", "lit", "CFLAGS", "InputError", "ModelError"]
