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

from .planner import is_alias, plan_model

CFLAGS = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Wpedantic", "-ffp-contract=off", "-fno-strict-aliasing"]
CTYPE = {"int8": "int8_t", "uint8": "uint8_t", "int16": "int16_t", "uint16": "uint16_t", "int32": "int32_t",
         "int64": "int64_t", "float32": "float",
         "float16": "uint16_t", "bfloat16": "uint16_t",    # tensor formats: 16-bit floats as bit patterns
         "q8": "int8_t", "q16": "int16_t", "q32": "int32_t"}
C_KEYWORDS = set("""auto break case char const continue default do double else enum extern float for goto if
inline int long register restrict return short signed sizeof static struct switch typedef union unsigned void
volatile while _Bool _Complex _Imaginary main errno assert""".split())
# file stems that would shadow a standard header (the project compiles with -I.)
STD_HEADERS = set("""assert complex ctype errno fenv float inttypes iso646 limits locale math setjmp signal stdalign
stdarg stdatomic stdbool stddef stdint stdio stdlib stdnoreturn string tgmath threads time uchar wchar wctype""".split())
LIBM_CALL = re.compile(r"\b(sqrtf?|roundf?|lroundf?|llroundf?|floorf?|ceilf?|expf?|logf?|powf?|nearbyintf?|rintf?|"
                       r"lrintf?|truncf?|fmodf?|ldexpf?|frexpf?|fmaf?|fminf?|fmaxf?|tanhf?)\s*\(")


class CodegenError(KwsnumError):
    """The C project cannot be generated, built or run."""


# ------------------------------------------------------------------ sanitizing
def c_ident(s, default="model"):
    """A valid, non-reserved C identifier (and file stem) from any string: [a-z0-9_], not starting with a digit
    or an underscore, not a keyword, not clashing with the runtime (``kws_``) or the harness (``main``)."""
    s = re.sub(r"[^A-Za-z0-9_]", "_", str(s)).lower()
    s = re.sub(r"_+", "_", s).strip("_")[:48].strip("_") or default
    if s[0].isdigit():
        s = "m_" + s
    if s in C_KEYWORDS or s in STD_HEADERS or _clashes_with_runtime(s):
        s = "m_" + s
    return s


_RUNTIME_NAMES = None


def _runtime_names():
    """Every kws_/KWS_ identifier and file stem of the C runtime (read once from c_runtime/)."""
    global _RUNTIME_NAMES
    if _RUNTIME_NAMES is None:
        from kwsnum import c_runtime
        names = set()
        for f in os.listdir(c_runtime.path()):
            if f.endswith((".c", ".h")):
                names.add(f[:-2])
                with open(os.path.join(c_runtime.path(), f), encoding="utf-8") as fh:
                    names.update(re.findall(r"\b(?:kws|KWS)_\w+", fh.read()))
        _RUNTIME_NAMES = names
    return _RUNTIME_NAMES


def _clashes_with_runtime(name):
    """Would a project named ``name`` define an identifier or file the runtime also has? The generator
    defines name, name_{weights,arena,labels,invoke,main,main_trace,trace}, name_n<i>_*, and NAME_{H,WEIGHTS_H,
    ALIGNED,NUM_CLASSES,HAS_LABELS,ARENA_BYTES,WEIGHT_BYTES,TRACE,TRACE_LAYER,NUM_LAYERS,INPUT_*,OUTPUT_*}."""
    up = name.upper()
    exact = {name} | {f"{name}_{s}" for s in ("weights", "arena", "labels", "invoke", "main", "main_trace",
                                              "trace", "frontend", "frontend_reset", "frontend_push",
                                              "classify_pcm")} | \
        {f"{up}_{s}" for s in ("H", "WEIGHTS_H", "ALIGNED", "NUM_CLASSES", "HAS_LABELS", "ARENA_BYTES",
                               "WEIGHT_BYTES", "TRACE", "TRACE_LAYER", "NUM_LAYERS")}
    for r in _runtime_names():
        if r in exact or r.startswith((f"{up}_INPUT_", f"{up}_OUTPUT_", f"{up}_FRONTEND_", f"{name}_fe_")) or \
                re.match(re.escape(name) + r"_n\d", r):
            return True
    return False


def c_comment(s, limit=80):
    """Text safe inside a ``/* ... */`` comment: letters, digits and ``_ .,:;=+-()[]<>#%`` only."""
    s = re.sub(r"[^A-Za-z0-9_ .,:;=+\-()\[\]<>#%]", "_", str(s))
    return s[:limit]


def c_string(s):
    """A C string literal (with its quotes) for any text: printable ASCII kept (quote, backslash and '?' escaped,
    so no trigraph); every other byte of the UTF-8 encoding as a 3-digit octal escape."""
    out = []
    for byte in str(s).encode("utf-8"):
        ch = chr(byte)
        if ch in '"\\?':
            out.append("\\" + ch)
        elif 32 <= byte < 127:
            out.append(ch)
        else:
            out.append(f"\\{byte:03o}")
    return '"' + "".join(out)[:4000] + '"'


# ------------------------------------------------------------------ literals
def lit(v, dtype):
    """A C literal of value v for a C type of numpy dtype name ``dtype`` (exact; float32 as hex float)."""
    if dtype == "float32":
        f = float(np.float32(v))
        if np.isnan(f):
            return "NAN"
        if np.isinf(f):
            return "INFINITY" if f > 0 else "(-INFINITY)"
        return f.hex() + "f"
    v = int(v)
    if dtype == "int64":
        return "(INT64_C(-9223372036854775807) - 1)" if v == -(2 ** 63) else f"INT64_C({v})"
    if dtype == "int32" and v == -(2 ** 31):
        return "(-2147483647 - 1)"
    return str(v)


def _array_body(a):
    dt = str(a.dtype)
    flat = a.reshape(-1)
    if flat.size == 0:
        return "0"
    per = 16 if dt in ("int8", "uint8", "int16") else 6
    items = [lit(v, dt) for v in flat]
    return ",\n".join("    " + ", ".join(items[i:i + per]) for i in range(0, len(items), per))


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
    libm = any(LIBM_CALL.search(sources[f]) for f in needed)
    fp = os.path.join(d, "kws_fixedpoint.h")
    if not libm and os.path.exists(fp):
        with open(fp) as fh:
            libm = bool(LIBM_CALL.search(fh.read())) and any("kws_fixedpoint.h" in sources[f] or
                                                             "kws_runtime.h" in sources[f] for f in needed)
    return headers, sorted(needed), libm


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
    plan = plan_model(model)
    inp, outp = model.input, model.output
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
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".kwsnum_codegen_", dir=parent)
    try:
        project = _write_all(model, tmp, name, plan, steps)
        if os.path.exists(out_dir):
            old = tempfile.mkdtemp(prefix=".kwsnum_old_", dir=parent)
            os.rename(out_dir, os.path.join(old, "x"))
            os.rename(tmp, out_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    project.path = out_dir
    return project


def _write(folder, fname, text, files):
    with open(os.path.join(folder, fname), "w", newline="\n") as fh:
        fh.write(text)
    files.append(fname)


def _write_all(model, d, name, plan, steps):
    NAME = name.upper()
    inp, outp = model.input, model.output
    files = []
    functions = {f for _, f, _ in steps if f}
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
            if kind == "array" and (node.index, v) not in seen:
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
    wh += ["", "#endif", ""]
    _write(d, f"{name}_weights.h", "\n".join(wh), files)
    _write(d, f"{name}_weights.c", "\n".join(wc), files)

    # ---- header
    in_t, out_t = CTYPE[inp.format], CTYPE[outp.format]
    labels = model.labels if model.labels is not None else [str(i) for i in range(outp.size)]
    h = [f"/* {name}.h -- generated by kwsnum from model {c_comment(model.name, 60)}.",
         " *",
         f" * int {name}_invoke(const {in_t} *input, {out_t} *output);",
         f" *   Runs the model on ONE sample: input holds {NAME}_INPUT_SIZE {in_t} values (shape {NAME}_INPUT_SHAPE,",
         f" *   row-major), output receives {NAME}_OUTPUT_SIZE {out_t} values. Returns 0, or -1 if a pointer is",
         " *   NULL. Uses one static arena: not reentrant (one call at a time). No initialization is needed.",
         " *   int8 tensors are affine: real = SCALE * (q - ZERO_POINT); float16 / bfloat16 tensors are uint16_t",
         " *   bit patterns (IEEE binary16 / bfloat16); q8 / q16 / q32 tensors are fixed point: real = q * 2^-FRAC_BITS.",
         " *",
         f" * Trace build (every file compiled with -D{NAME}_TRACE): after each layer, {name}_invoke calls",
         f" *   void {name}_trace(int layer, const void *data, size_t bytes);",
         f" *   with the layer's output (layer = its node index, 0 .. {NAME}_NUM_LAYERS - 1), which the application",
         f" *   defines. The host harness's trace build ({name}_main_trace) writes them to a file.",
         " */",
         f"#ifndef {NAME}_H", f"#define {NAME}_H", "#include <stddef.h>", "#include <stdint.h>", "",
         "#ifdef __cplusplus", 'extern "C" {', "#endif", ""]
    for io, spec in (("INPUT", inp), ("OUTPUT", outp)):
        h += [f"#define {NAME}_{io}_RANK {len(spec.shape)}",
              f"#define {NAME}_{io}_SHAPE {{{', '.join(map(str, spec.shape))}}}"]
        h += [f"#define {NAME}_{io}_DIM{i} {dim}" for i, dim in enumerate(spec.shape)]
        h += [f"#define {NAME}_{io}_SIZE {spec.size}",
              f"#define {NAME}_{io}_BYTES {spec.nbytes}",
              f'#define {NAME}_{io}_FORMAT "{spec.format}"',
              f"#define {NAME}_{io}_IS_INT8 {1 if spec.format == 'int8' else 0}"]
        if spec.format in QUANTIZED:
            h += [f"#define {NAME}_{io}_SCALE {lit(spec.scale, 'float32')} /* {spec.scale!r} */",
                  f"#define {NAME}_{io}_ZERO_POINT {int(spec.zero_point)}"]
        if spec.format in QFORMATS:
            h += [f"#define {NAME}_{io}_FRAC_BITS {int(spec.frac_bits)} /* {spec.describe()} */"]
        h.append("")
    h += [f"#define {NAME}_NUM_CLASSES {outp.size}",
          f"#define {NAME}_HAS_LABELS {1 if model.labels is not None else 0}",
          f"#define {NAME}_ARENA_BYTES {plan.arena_bytes}",
          f"#define {NAME}_WEIGHT_BYTES {weight_bytes}",
          f"#define {NAME}_NUM_LAYERS {len(model.nodes)}", "",
          f"/** Class names, {NAME}_NUM_CLASSES of them (class indices as text when the model stores no labels). */",
          f"extern const char *const {name}_labels[{NAME}_NUM_CLASSES];", "",
          f"/** Run the model on one sample (see the top of this file). */",
          f"int {name}_invoke(const {in_t} *input, {out_t} *output);", "",
          f"#ifdef {NAME}_TRACE",
          f"/** Trace build only: called after each layer with its output (defined by the application). */",
          f"void {name}_trace(int layer, const void *data, size_t bytes);",
          "#endif", "",
          "#ifdef __cplusplus", "}", "#endif", "#endif", ""]
    _write(d, f"{name}.h", "\n".join(h), files)

    # ---- model source
    def ptr(t, const):
        ct = CTYPE[model.tensors[t].format]
        return f"({'const ' if const else ''}{ct} *)({name}_arena.bytes + {plan.tensor_offset[t]})"

    body = []
    for node, fname, args in steps:
        ins = ", ".join(_shape_str(model.tensors[t]) for t in node.inputs)
        out = _shape_str(model.tensors[node.outputs[0]])
        body.append(f"    /* layer {node.index} {c_comment(node.name)}: {c_comment(node.op, 24)}, "
                    f"in {c_comment(ins, 120)} -> out {c_comment(out, 60)} */")
        out_spec = model.tensors[node.outputs[0]]
        trace = f"    {NAME}_TRACE_LAYER({node.index}, {name}_arena.bytes + {plan.tensor_offset[node.outputs[0]]}, " \
                f"{out_spec.nbytes});"
        if fname is None:
            body.append(f"    /* (alias: the output shares the input's bytes at offset "
                        f"{plan.tensor_offset[node.outputs[0]]}; no code) */")
            body.append(trace)
            continue
        cargs = []
        for kind, v in args:
            if kind == "in":
                cargs.append(ptr(node.inputs[v], True))
            elif kind == "out":
                cargs.append(ptr(node.outputs[0], False))
            elif kind == "array":
                cargs.append(seen[(node.index, v)])
            elif kind == "scratch":
                cargs.append(f"(void *)({name}_arena.bytes + {plan.scratch_offset.get(node.index, 0)})")
            elif kind == "i32":
                if not -(2 ** 31) <= int(v) < 2 ** 31:
                    raise CodegenError(f"int32 argument {v} out of range in {fname}", where=node.where)
                cargs.append(lit(v, "int32"))
            elif kind == "i64":
                cargs.append(lit(v, "int64"))
            elif kind == "f32":
                cargs.append(lit(v, "float32"))
            else:
                raise CodegenError(f"unknown c_call argument kind {kind!r}", where=node.where)
        body.append(f"    {fname}({', '.join(cargs)});")
        body.append(trace)
    in_off, out_off = plan.tensor_offset[model.inputs[0]], plan.tensor_offset[model.outputs[0]]
    c = [f"/* {name}.c -- generated by kwsnum from model {c_comment(model.name, 60)} "
         f"({len(model.nodes)} nodes, rounding {c_comment(model.rounding, 12)}). */",
         "#include <stdint.h>", "#include <string.h>", "#include <math.h>",
         '#include "kws_runtime.h"', f'#include "{name}.h"', f'#include "{name}_weights.h"', "",
         "#if defined(__GNUC__) || defined(__clang__)",
         f"#define {NAME}_ALIGNED __attribute__((aligned(16)))", "#else",
         f"#define {NAME}_ALIGNED", "#endif", "",
         f"#ifdef {NAME}_TRACE",
         f"#define {NAME}_TRACE_LAYER(layer, data, bytes) {name}_trace((layer), (data), (bytes))", "#else",
         f"#define {NAME}_TRACE_LAYER(layer, data, bytes) ((void)0)", "#endif", "",
         f"/* The activation arena ({plan.arena_bytes} bytes, offsets from the greedy planner, all multiples of 16).",
         " * The union gives C99-portable alignment for every scalar type; GCC/clang also align it to 16. */",
         "static union {", f"    uint8_t bytes[{max(plan.arena_bytes, 1)}];",
         "    double align_d;", "    int64_t align_i64;", "    void *align_p;", f"}} {name}_arena {NAME}_ALIGNED;",
         "",
         f"const char *const {name}_labels[{NAME}_NUM_CLASSES] = {{",
         ",\n".join("    " + c_string(lb) for lb in labels), "};", "",
         f"int {name}_invoke(const {in_t} *input, {out_t} *output)", "{",
         "    if (input == NULL || output == NULL)", "        return -1;",
         f"    memcpy({name}_arena.bytes + {in_off}, input, {inp.nbytes});",
         *body,
         f"    memcpy(output, {name}_arena.bytes + {out_off}, {outp.nbytes});",
         "    return 0;", "}", ""]
    _write(d, f"{name}.c", "\n".join(c), files)

    # ---- audio frontend hook (codegen/frontend_emit.py: its C files, and a harness that also takes PCM)
    from .frontend_emit import emit as emit_frontend
    fe_srcs, harness = emit_frontend(model, d, name, files, _harness(name, NAME, in_t, out_t, inp), in_t, out_t)
    libm = libm or any(LIBM_CALL.search(open(os.path.join(d, f)).read()) for f in fe_srcs)
    # ---- harness, build files
    _write(d, "main.c", harness, files)
    srcs = [f"{name}.c", f"{name}_weights.c"] + runtime_c + [s for s in fe_srcs if s not in runtime_c]
    exe = f"{name}_main"
    ldlibs = "-lm" if libm else ""
    mk = [f"# Makefile -- generated by kwsnum for {c_comment(model.name, 60)}",
          "CC ?= cc", f"CFLAGS ?= {' '.join(CFLAGS)}", "EXTRA_CFLAGS ?=", f"LDLIBS ?= {ldlibs}",
          f"SRCS = {' '.join(srcs)}", f"OBJS = $(SRCS:.c=.o)", "",
          f"all: {exe}", "",
          f"{exe}: $(OBJS) main.o", "\t$(CC) $(CFLAGS) $(EXTRA_CFLAGS) -o $@ $(OBJS) main.o $(LDLIBS)", "",
          "%.o: %.c $(wildcard *.h)", "\t$(CC) $(CFLAGS) $(EXTRA_CFLAGS) -I. -c $< -o $@", "",
          f"# trace build: {exe}_trace INPUT OUTPUT TRACE also writes every layer's output to TRACE",
          f"trace: {exe}_trace", "",
          f"{exe}_trace: $(SRCS) main.c $(wildcard *.h)",
          f"\t$(CC) $(CFLAGS) $(EXTRA_CFLAGS) -D{NAME}_TRACE -I. -o $@ $(SRCS) main.c $(LDLIBS)", "",
          "clean:", f"\trm -f $(OBJS) main.o {exe} {exe}_trace", "", ".PHONY: all trace clean", ""]
    _write(d, "Makefile", "\n".join(mk), files)
    cm = ["# CMakeLists.txt -- generated by kwsnum", "cmake_minimum_required(VERSION 3.10)",
          f"project({name} C)", "set(CMAKE_C_STANDARD 99)", "set(CMAKE_C_STANDARD_REQUIRED ON)",
          "set(CMAKE_C_EXTENSIONS OFF)",
          f"add_library({name} STATIC {' '.join(srcs)})",
          f"target_include_directories({name} PUBLIC ${{CMAKE_CURRENT_SOURCE_DIR}})",
          f"target_compile_options({name} PRIVATE -O2 -Wall -Wextra -Wpedantic -ffp-contract=off -fno-strict-aliasing)",
          (f"target_link_libraries({name} PUBLIC m)" if libm else ""),
          f"add_executable({exe} main.c)",
          f"target_compile_options({exe} PRIVATE -O2 -Wall -Wextra -Wpedantic -ffp-contract=off -fno-strict-aliasing)",
          f"target_link_libraries({exe} PRIVATE {name})",
          f"add_executable({exe}_trace main.c {' '.join(srcs)})",
          f"target_compile_definitions({exe}_trace PRIVATE {NAME}_TRACE)",
          f"target_compile_options({exe}_trace PRIVATE -O2 -Wall -Wextra -Wpedantic -ffp-contract=off "
          f"-fno-strict-aliasing)",
          (f"target_link_libraries({exe}_trace PRIVATE m)" if libm else ""), ""]
    _write(d, "CMakeLists.txt", "\n".join(cm), files)
    return Project(d, name, plan.arena_bytes, weight_bytes, plan.activation_bytes, files, plan)


def _harness(name, NAME, in_t, out_t, inp):
    descr = {"float32": "<f4", "int8": "|i1", "int16": "<i2", "float16": "<u2", "bfloat16": "<u2", "q8": "|i1",
             "q16": "<i2", "q32": "<i4"}[inp.format]
    return f"""/* main.c -- host harness generated by kwsnum: {name}_main INPUT OUTPUT
 * INPUT: N samples as raw little-endian {in_t} (N * {NAME}_INPUT_BYTES bytes), or a .npy v1.0 file of dtype
 * {descr} and shape (N, {NAME}_INPUT_SHAPE...) or ({NAME}_INPUT_SHAPE...). OUTPUT: N outputs, raw little-endian
 * {out_t} (N * {NAME}_OUTPUT_BYTES bytes). Exit status 0 on success, 1 on any error (message on stderr).
 * Built with -D{NAME}_TRACE ({name}_main_trace INPUT OUTPUT TRACE), it also writes, for each sample, every
 * layer's output in layer order as raw little-endian bytes to TRACE. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "{name}.h"

static int fail(const char *msg)
{{
    fprintf(stderr, "{name}_main: %s\\n", msg);
    return 1;
}}

#ifdef {NAME}_TRACE
#define ARGC 4
#define USAGE "usage: {name}_main_trace INPUT(.bin|.npy) OUTPUT.bin TRACE.bin"
static FILE *trace_file = NULL;
static int trace_failed = 0;

void {name}_trace(int layer, const void *data, size_t bytes)
{{
    (void)layer;
    if (trace_file != NULL && fwrite(data, 1, bytes, trace_file) != bytes)
        trace_failed = 1;
}}
#else
#define ARGC 3
#define USAGE "usage: {name}_main INPUT(.bin|.npy) OUTPUT.bin"
#endif

/* Parses a .npy v1.0 header at the start of buf (len bytes); returns the data offset, or -1. */
static long npy_header(const unsigned char *buf, long len)
{{
    static const long dims[] = {NAME}_INPUT_SHAPE;
    long hlen, i, n, k, nd = 0, got[8];
    const char *h, *p;
    char tmp[2048];
    if (len < 10 || memcmp(buf, "\\223NUMPY", 6) != 0)
        return -1;
    if (buf[6] != 1 || buf[7] != 0)
        return -1;
    hlen = (long)buf[8] | ((long)buf[9] << 8);
    if (10 + hlen > len || hlen >= (long)sizeof tmp)
        return -1;
    memcpy(tmp, buf + 10, (size_t)hlen);
    tmp[hlen] = 0;
    h = tmp;
    if (strstr(h, "'descr': '{descr}'") == NULL || strstr(h, "'fortran_order': False") == NULL)
        return -1;
    p = strstr(h, "'shape': (");
    if (p == NULL)
        return -1;
    p += 10;
    while (*p != ')' && *p != 0) {{
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || nd >= 8)
            return -1;
        got[nd++] = v;
        p = end;
        while (*p == ',' || *p == ' ')
            p++;
    }}
    n = (long)(sizeof dims / sizeof dims[0]);
    if (nd != n && nd != n + 1)
        return -1;
    k = nd - n;
    for (i = 0; i < n; i++)
        if (got[i + k] != dims[i])
            return -1;
    return 10 + hlen;
}}

int main(int argc, char **argv)
{{
    FILE *f;
    unsigned char *buf;
    long len, off = 0, n, i;
    static {in_t} x[{NAME}_INPUT_SIZE];
    static {out_t} y[{NAME}_OUTPUT_SIZE];
    const unsigned int one = 1;
    if (argc != ARGC)
        return fail(USAGE);
    if (*(const unsigned char *)&one != 1)
        return fail("this harness needs a little-endian host");
    f = fopen(argv[1], "rb");
    if (f == NULL)
        return fail("cannot open the input file");
    if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {{
        fclose(f);
        return fail("cannot size the input file");
    }}
    buf = (unsigned char *)malloc((size_t)len + 1);
    if (buf == NULL || fread(buf, 1, (size_t)len, f) != (size_t)len) {{
        fclose(f);
        free(buf);
        return fail("cannot read the input file");
    }}
    fclose(f);
    if (len >= 6 && memcmp(buf, "\\223NUMPY", 6) == 0) {{
        off = npy_header(buf, len);
        if (off < 0) {{
            free(buf);
            return fail("unsupported .npy file (need v1.0, dtype {descr}, C order, the model's input shape)");
        }}
    }}
    if ((len - off) % {NAME}_INPUT_BYTES != 0) {{
        free(buf);
        return fail("the input size is not a multiple of one sample");
    }}
    n = (len - off) / {NAME}_INPUT_BYTES;
    f = fopen(argv[2], "wb");
    if (f == NULL) {{
        free(buf);
        return fail("cannot open the output file");
    }}
#ifdef {NAME}_TRACE
    trace_file = fopen(argv[3], "wb");
    if (trace_file == NULL) {{
        fclose(f);
        free(buf);
        return fail("cannot open the trace file");
    }}
#endif
    for (i = 0; i < n; i++) {{
        memcpy(x, buf + off + i * {NAME}_INPUT_BYTES, {NAME}_INPUT_BYTES);
        if ({name}_invoke(x, y) != 0 || fwrite(y, 1, {NAME}_OUTPUT_BYTES, f) != {NAME}_OUTPUT_BYTES) {{
            fclose(f);
            free(buf);
            return fail("inference or write failed");
        }}
    }}
    free(buf);
#ifdef {NAME}_TRACE
    if (fclose(trace_file) != 0 || trace_failed)
        return fail("cannot write the trace file");
#endif
    if (fclose(f) != 0)
        return fail("cannot write the output file");
    return 0;
}}
"""


# ------------------------------------------------------------------ build and verify
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
              ["-o", os.path.join(project_dir, exe)] + ldlibs
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


def run_harness(model, project_dir, x, trace=False):
    """Run the built harness on inputs x (N, *input shape) or one sample. Returns (x as checked, outputs of
    shape (N, *output shape)); with ``trace`` (the trace build, see :func:`build`), (x, values) where values
    maps the input and every node's output tensor name to its (N, *shape) array, like ``model.run(x, trace=True)``."""
    project_dir = os.path.abspath(project_dir)
    name = _project_name(project_dir)
    exe = os.path.join(project_dir, f"{name}_main_trace" if trace else f"{name}_main")
    if not os.path.exists(exe):
        raise CodegenError(f"the project is not built (run build{'(trace=True)' if trace else ''} first)",
                           file=project_dir)
    x = model.check_input(x)
    spec = model.output
    with tempfile.TemporaryDirectory(prefix="kwsnum_verify_") as t:
        xin, yout, tout = (os.path.join(t, f) for f in ("x.npy", "y.bin", "trace.bin"))
        np.save(xin, x)
        r = subprocess.run([exe, xin, yout] + ([tout] if trace else []), capture_output=True, text=True)
        if r.returncode != 0:
            raise CodegenError(f"the harness failed (exit {r.returncode}): {r.stderr.strip()}", file=exe)
        y = np.fromfile(yout, dtype=spec.dtype.newbyteorder("<"))
        raw = np.fromfile(tout, dtype=np.uint8) if trace else None
    if y.size != len(x) * spec.size:
        raise CodegenError(f"the harness wrote {y.size} values, expected {len(x) * spec.size}", file=exe)
    y = y.astype(spec.dtype).reshape((len(x),) + tuple(spec.shape))
    if not trace:
        return x, y
    return x, _split_trace(model, x, raw, exe)


def _split_trace(model, x, raw, exe):
    """The trace file's bytes (per sample: every node's output in node order) as {tensor name: (N, *shape)}."""
    specs = [model.tensors[n.outputs[0]] for n in model.nodes]
    per_sample = sum(s.nbytes for s in specs)
    if raw.size != len(x) * per_sample:
        raise CodegenError(f"the trace holds {raw.size} bytes, expected {len(x) * per_sample}", file=exe)
    raw = raw.reshape(len(x), per_sample)
    values = {model.inputs[0]: x}
    off = 0
    for node, s in zip(model.nodes, specs):
        chunk = np.ascontiguousarray(raw[:, off:off + s.nbytes])
        values[node.outputs[0]] = chunk.view(s.dtype.newbyteorder("<")).astype(s.dtype).reshape(
            (len(x),) + tuple(s.shape))
        off += s.nbytes
    return values


def verify(model, project_dir, x):
    """Run the harness on x and compare every output element with the oracle (``model.run``)."""
    x, got = run_harness(model, project_dir, x)
    ref = np.asarray(model.run(x))
    ok = same_values(got, ref).reshape(len(x), -1)
    good = ok.all(axis=1)
    if good.all():
        return VerifyResult(len(x), len(x))
    s = int(np.argmin(good))
    e = int(np.argmin(ok[s]))
    idx = np.unravel_index(e, tuple(model.output.shape))
    idx = tuple(int(i) for i in idx)
    return VerifyResult(len(x), int(good.sum()), (s, idx, got[s][idx].item(), ref[s][idx].item()))


__all__ = ["generate", "build", "verify", "run_harness", "Project", "VerifyResult", "CodegenError", "c_ident",
           "c_comment", "c_string", "lit", "CFLAGS", "InputError", "ModelError"]
