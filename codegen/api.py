"""The model's C API (see docs/codegen.md, "The API"): which tensors ``<name>_invoke`` takes and returns, and the
text of ``<name>.h``, ``<name>.c`` and the convenience wrappers ``<name>_float.c`` / ``<name>_pcm.c``.

The integer API is zero-copy: when a model starts with a ``quantize`` of its float input and ends with a
``dequantize`` to its float output (every exported integer model), ``<name>_invoke`` takes the quantized input
(int8 / int16 / Q) and returns the quantized output, both in the caller's buffers: the first layer reads the
caller's input, the last layer writes the caller's output, and neither is in the arena. The float model
contract stays available as ``<name>_invoke_float`` (its own file, with static buffers for the quantized input
and output: linked only when called). A raw-waveform model (frontend kind "raw": the input is PCM / 32768) with
an int8 input also gets ``<name>_invoke_pcm`` on int16 PCM, exact by construction (a threshold table computed by
the oracle from every one of the 65536 PCM values).

The model API does not assume that the model input is the program input: a frontend (PCM -> features) writes
the quantized features into any buffer and calls ``<name>_invoke`` on it.
"""
import copy
from dataclasses import dataclass

import numpy as np

from kwsnum.model import AFFINE, QFORMATS

from .sanitize import CTYPE, c_comment, c_string, lit


@dataclass
class CoreIO:
    """The tensors of the integer API. ``lead`` / ``tail``: the quantize / dequantize nodes the float wrapper
    runs (None when the model has none); ``core``: a view of the model without them (same node indices)."""
    core: object
    lead: object = None
    tail: object = None
    model: object = None

    def __post_init__(self):
        if self.model is None:
            self.model = self.core

    @property
    def in_spec(self):
        return self.core.tensors[self.core.inputs[0]]

    @property
    def out_spec(self):
        return self.core.tensors[self.core.outputs[0]]

    @property
    def has_float_api(self):
        return self.lead is not None or self.tail is not None


def split_io(model):
    """The :class:`CoreIO` of a one-input, one-output model."""
    nodes = list(model.nodes)
    x, y = model.inputs[0], model.outputs[0]
    consumers = {}
    for n in nodes:
        for t in n.inputs:
            consumers.setdefault(t, []).append(n)
    lead = tail = None
    if len(nodes) >= 2 and nodes[0].op == "quantize" and nodes[0].inputs[0] == x and len(consumers.get(x, [])) == 1 \
            and nodes[0].outputs[0] != y:
        lead = nodes[0]
    last = nodes[-1] if nodes else None
    if last is not None and last is not lead and last.op == "dequantize" and last.outputs[0] == y and \
            not consumers.get(y) and (lead is None or last.inputs[0] != lead.outputs[0]):
        tail = last
    if lead is None and tail is None:
        return CoreIO(model)
    core = copy.copy(model)
    core.nodes = [n for n in nodes if n is not lead and n is not tail]
    core.inputs = [lead.outputs[0] if lead is not None else x]
    core.outputs = [tail.inputs[0] if tail is not None else y]
    if not core.nodes:
        return CoreIO(model)
    return CoreIO(core, lead, tail, model)


def pcm_table(model, lead):
    """For a raw-waveform model whose input quantize gives int8: (q_lo, thresholds) such that the quantized value
    of the float input pcm / 32768 is q_lo + #{k : pcm > thresholds[k]} for every int16 pcm (256 int16 entries,
    sorted, padded with 32767), computed by running the oracle's quantize on all 65536 values; None when the
    model is not such a model or the map is not monotone."""
    from kwsnum import ops
    from kwsnum.fixedpoint import ROUNDING_MODES
    fe = getattr(model, "frontend", None)
    if lead is None or fe is None or fe.kind != "raw" or model.input.format != "float32" or \
            model.tensors[lead.outputs[0]].format != "int8":
        return None
    op = ops.get(lead.op, lead)
    pcm = np.arange(-32768, 32768, dtype=np.int64)
    x = pcm.astype(np.float32) / np.float32(32768)        # exact: the frontend's pcm / 32768
    q = np.asarray(op.execute(op.plan(lead, model, ROUNDING_MODES[model.rounding]), [x])[0]).astype(np.int64)
    step = np.diff(q)
    if (step < 0).any():
        return None
    t = [int(pcm[i + 1]) - 1 for i in np.nonzero(step)[0] for _ in range(int(step[i]))]
    if len(t) > 255:
        return None
    return int(q[0]), np.array(t + [32767] * (256 - len(t)), np.int16)


def _io_defines(NAME, io, spec):
    h = [f"#define {NAME}_{io}_RANK {len(spec.shape)}",
         f"#define {NAME}_{io}_SHAPE {{{', '.join(map(str, spec.shape))}}}"]
    h += [f"#define {NAME}_{io}_DIM{i} {dim}" for i, dim in enumerate(spec.shape)]
    h += [f"#define {NAME}_{io}_SIZE {spec.size}",
          f"#define {NAME}_{io}_BYTES {spec.nbytes}",
          f'#define {NAME}_{io}_FORMAT "{spec.format}"',
          f"#define {NAME}_{io}_IS_INT8 {1 if spec.format == 'int8' else 0}"]
    if spec.format in AFFINE:
        h += [f"#define {NAME}_{io}_SCALE {lit(spec.scale, 'float32')} /* {spec.scale!r} */",
              f"#define {NAME}_{io}_ZERO_POINT {int(spec.zero_point)}"]
    if spec.format in QFORMATS:
        h += [f"#define {NAME}_{io}_FRAC_BITS {int(spec.frac_bits)} /* {spec.describe()} */"]
    return h + [""]


def header(model, name, io, plan, weight_bytes, pcm):
    """The text of ``<name>.h``."""
    NAME = name.upper()
    inp, outp = io.in_spec, io.out_spec
    in_t, out_t = CTYPE[inp.format], CTYPE[outp.format]
    fin_t, fout_t = CTYPE[model.input.format], CTYPE[model.output.format]
    h = [f"/* {name}.h -- generated by kwsnum from model {c_comment(model.name, 60)}.",
         " *",
         f" * int {name}_invoke(const {in_t} *input, {out_t} *output);",
         f" *   Runs the model on ONE sample: input holds {NAME}_INPUT_SIZE {in_t} values (shape {NAME}_INPUT_SHAPE,",
         f" *   row-major, format {inp.format}), output receives {NAME}_OUTPUT_SIZE {out_t} values "
         f"(format {outp.format}).",
         " *   Zero-copy: the first layer reads the caller's input and the last layer writes the caller's output;",
         " *   neither is copied into the arena ({NAME}_ARENA_BYTES counts neither). input is only read; input and".replace(
             "{NAME}", NAME),
         " *   output must not overlap. Returns 0, or -1 if a pointer is NULL. Uses one static arena: not",
         " *   reentrant (one call at a time). No initialization is needed.",
         " *   int8 / int16 tensors are affine: real = SCALE * (q - ZERO_POINT); float16 / bfloat16 tensors are",
         " *   uint16_t bit patterns (IEEE binary16 / bfloat16); q8 / q16 / q32 tensors are fixed point:",
         " *   real = q * 2^-FRAC_BITS."]
    if io.has_float_api:
        h += [" *",
              f" * int {name}_invoke_float(const {fin_t} *input, {fout_t} *output);  ({name}_float.c)",
              f" *   The model's own contract on {model.input.format} input and {model.output.format} output (the "
              f"same shapes):",
              f" *   {'quantizes the input as the model does, ' if io.lead is not None else ''}runs "
              f"{name}_invoke{', dequantizes the output' if io.tail is not None else ''}.",
              f" *   Its static buffers ({NAME}_FLOAT_WRAPPER_BYTES bytes, not in the arena) are linked only when "
              "it is called."]
    if pcm is not None:
        h += [" *",
              f" * int {name}_invoke_pcm(const int16_t *pcm, {out_t} *output);  ({name}_pcm.c)",
              f" *   Raw-waveform entry: {NAME}_INPUT_SIZE int16 PCM samples; bit-exact with {name}_invoke_float on "
              "pcm / 32768",
              " *   (integer only: a 256-entry threshold table). Its static buffer (INPUT_BYTES) is linked only when "
              "called."]
    h += [" *",
          f" * Trace build (every file compiled with -D{NAME}_TRACE): after each layer, the model calls",
          " *   void " + name + "_trace(int layer, const void *data, size_t bytes);",
          f" *   with the layer's output (layer = its node index, 0 .. {NAME}_NUM_LAYERS - 1), which the application",
          f" *   defines. The host harness's trace build ({name}_main_trace) writes them to a file.",
          " */",
          f"#ifndef {NAME}_H", f"#define {NAME}_H", "#include <stddef.h>", "#include <stdint.h>", "",
          "#ifdef __cplusplus", 'extern "C" {', "#endif", ""]
    h += _io_defines(NAME, "INPUT", inp) + _io_defines(NAME, "OUTPUT", outp)
    if io.has_float_api:
        h += [f"/* {name}_invoke_float's input and output (the model's float contract) */"]
        h += _io_defines(NAME, "FLOAT_INPUT", model.input) + _io_defines(NAME, "FLOAT_OUTPUT", model.output)
        wrapper = (inp.nbytes if io.lead is not None else 0) + (outp.nbytes if io.tail is not None else 0)
        h += [f"#define {NAME}_FLOAT_WRAPPER_BYTES {wrapper}", ""]
    scratch = sum(b.size for b in plan.buffers if b.name.startswith("#scratch"))
    h += [f"#define {NAME}_NUM_CLASSES {outp.size}",
          f"#define {NAME}_HAS_LABELS {1 if model.labels is not None else 0}",
          f"#define {NAME}_HAS_FLOAT_API {1 if io.has_float_api else 0}",
          f"#define {NAME}_HAS_PCM_API {1 if pcm is not None else 0}",
          f"/** Bytes of the static arena: activations and kernel scratch ({NAME}_SCRATCH_BYTES of it at most); no",
          " * input or output. */",
          f"#define {NAME}_ARENA_BYTES {plan.arena_bytes}",
          f"#define {NAME}_SCRATCH_BYTES {scratch}",
          f"#define {NAME}_WEIGHT_BYTES {weight_bytes}",
          f"#define {NAME}_NUM_LAYERS {len(model.nodes)}", "",
          f"/** Class names, {NAME}_NUM_CLASSES of them (class indices as text when the model stores no labels). */",
          f"extern const char *const {name}_labels[{NAME}_NUM_CLASSES];", "",
          "/** Run the model on one sample (see the top of this file). */",
          f"int {name}_invoke(const {in_t} *input, {out_t} *output);", ""]
    if io.has_float_api:
        h += ["/** The float convenience wrapper (see the top of this file). */",
              f"int {name}_invoke_float(const {fin_t} *input, {fout_t} *output);", ""]
    if pcm is not None:
        h += ["/** The int16 PCM entry of a raw-waveform model (see the top of this file). */",
              f"int {name}_invoke_pcm(const int16_t *pcm, {out_t} *output);", ""]
    from .streaming import header_lines
    h += header_lines(model, name, io)
    h += [f"#ifdef {NAME}_TRACE",
          "/** Trace build only: called after each layer with its output (defined by the application). */",
          f"void {name}_trace(int layer, const void *data, size_t bytes);",
          "#endif", "",
          "#ifdef __cplusplus", "}", "#endif", "#endif", ""]
    return "\n".join(h)


def _shape_str(spec):
    return "(" + ",".join(str(d) for d in spec.shape) + ") " + spec.describe()


def _layer_comment(model, node):
    ins = ", ".join(_shape_str(model.tensors[t]) for t in node.inputs)
    out = _shape_str(model.tensors[node.outputs[0]])
    return (f"    /* layer {node.index} {c_comment(node.name)}: {c_comment(node.op, 24)}, "
            f"in {c_comment(ins, 120)} -> out {c_comment(out, 60)} */")


def call_args(node, fname, args, ptr, array_name, scratch, error):
    """The C argument list of one kernel call: ptr(tensor, const) gives a tensor's pointer expression."""
    cargs = []
    for kind, v in args:
        if kind == "in":
            cargs.append(ptr(node.inputs[v], True))
        elif kind == "out":
            cargs.append(ptr(node.outputs[0], False))
        elif kind == "array":
            cargs.append(array_name(node, v))
        elif kind == "scratch":
            cargs.append(scratch(node))
        elif kind == "state":          # a delay line's static state (codegen/streaming.py)
            cargs.append(f"{array_name(node, v)}_state")
        elif kind == "i32":
            if not -(2 ** 31) <= int(v) < 2 ** 31:
                raise error(f"int32 argument {v} out of range in {fname}", node)
            cargs.append(lit(v, "int32"))
        elif kind == "i64":
            cargs.append(lit(v, "int64"))
        elif kind == "f32":
            cargs.append(lit(v, "float32"))
        else:
            raise error(f"unknown c_call argument kind {kind!r}", node)
    return cargs


_PRELUDE = ["#if defined(__GNUC__) || defined(__clang__)",
            "#define {NAME}_ALIGNED __attribute__((aligned(16)))", "#else",
            "#define {NAME}_ALIGNED", "#endif", "",
            "#ifdef {NAME}_TRACE",
            "#define {NAME}_TRACE_LAYER(layer, data, bytes) {name}_trace((layer), (data), (bytes))", "#else",
            "#define {NAME}_TRACE_LAYER(layer, data, bytes) ((void)0)", "#endif", ""]


def _prelude(name):
    return [line.replace("{NAME}", name.upper()).replace("{name}", name) for line in _PRELUDE]


def model_source(model, name, io, plan, steps, array_name, error, inline=()):
    """The text of ``<name>.c``: the arena, the labels and ``<name>_invoke`` (the core's layer calls)."""
    NAME = name.upper()
    core = io.core
    in_t, out_t = CTYPE[io.in_spec.format], CTYPE[io.out_spec.format]

    def ptr(t, const):
        ct = CTYPE[core.tensors[t].format]
        c = "const " if const else ""
        where = plan.external.get(t)
        if where == "input":
            if not const:
                raise error("a kernel would write the caller's (const) input", None)
            return f"(const {ct} *)(const void *)input"
        if where == "output":
            return f"({c}{ct} *)({c}void *)output"
        return f"({c}{ct} *)({name}_arena.bytes + {plan.tensor_offset[t]})"

    def raw(t):
        where = plan.external.get(t)
        if where is not None:
            return where
        return f"{name}_arena.bytes + {plan.tensor_offset[t]}"

    def scratch(node):
        return f"(void *)({name}_arena.bytes + {plan.scratch_offset.get(node.index, 0)})"

    body = []
    core_ids = {id(n) for n in core.nodes}
    for node, fname, args in steps:
        if id(node) not in core_ids:
            continue
        body.append(_layer_comment(core, node))
        out_spec = core.tensors[node.outputs[0]]
        trace = f"    {NAME}_TRACE_LAYER({node.index}, {raw(node.outputs[0])}, {out_spec.nbytes});"
        if fname is None:
            where = plan.external.get(node.outputs[0])
            body.append("    /* (alias: the output shares the input's bytes" +
                        (f", in the caller's {where}" if where else
                         f" at offset {plan.tensor_offset[node.outputs[0]]}") + "; no code) */")
            body.append(trace)
            continue
        cname = f"{fname}_inline" if fname in inline else fname   # specialized for this layer's literal shapes
        body.append(f"    {cname}({', '.join(call_args(node, fname, args, ptr, array_name, scratch, error))});")
        body.append(trace)
    x, y = core.inputs[0], core.outputs[0]
    if plan.external.get(y) == "input" or plan.alias_of.get(y, y) == plan.alias_of.get(x, x):
        # the output is the input's bytes (a model of reshapes only): the one copy there is
        body.append(f"    memcpy(output, input, {io.out_spec.nbytes});")
    labels = model.labels if model.labels is not None else [str(i) for i in range(io.out_spec.size)]
    c = [f"/* {name}.c -- generated by kwsnum from model {c_comment(model.name, 60)} "
         f"({len(model.nodes)} nodes, rounding {c_comment(model.rounding, 12)}). */",
         "#include <stdint.h>", "#include <string.h>",
         '#include "kws_runtime.h"', f'#include "{name}.h"', f'#include "{name}_weights.h"', ""]
    c += _prelude(name)
    if plan.arena_bytes > 0:
        c += [f"/* The activation arena ({plan.arena_bytes} bytes, offsets from the greedy planner, all multiples of "
              "16;", " * the input and output are the caller's buffers). The union gives C99-portable alignment for",
              " * every scalar type; GCC/clang also align it to 16. */",
              "static union {", f"    uint8_t bytes[{plan.arena_bytes}];",
              "    double align_d;", "    int64_t align_i64;", "    void *align_p;",
              f"}} {name}_arena {NAME}_ALIGNED;", ""]
    else:
        c += ["/* No arena: every layer reads the caller's input and writes the caller's output. */", ""]
    c += [
          f"const char *const {name}_labels[{NAME}_NUM_CLASSES] = {{",
          ",\n".join("    " + c_string(lb) for lb in labels), "};", "",
          f"int {name}_invoke(const {in_t} *input, {out_t} *output)", "{",
          "    if (input == NULL || output == NULL)", "        return -1;",
          *body,
          "    return 0;", "}", ""]
    return "\n".join(c)


def float_source(model, name, io, steps, array_name, error):
    """The text of ``<name>_float.c``: ``<name>_invoke_float`` = lead quantize, ``<name>_invoke``, tail
    dequantize, with static buffers for the quantized input and output."""
    NAME = name.upper()
    in_t, out_t = CTYPE[io.in_spec.format], CTYPE[io.out_spec.format]
    fin_t, fout_t = CTYPE[model.input.format], CTYPE[model.output.format]
    by_node = {id(n): (f, a) for n, f, a in steps}
    qin = f"{name}_float_in" if io.lead is not None else "(const " + in_t + " *)(const void *)input"
    qout = f"{name}_float_out" if io.tail is not None else f"({out_t} *)(void *)output"
    c = [f"/* {name}_float.c -- generated by kwsnum: {name}_invoke_float, the model's float contract around the",
         f" * integer {name}_invoke (see {name}.h). */",
         "#include <stdint.h>", "#include <string.h>", '#include "kws_runtime.h"', f'#include "{name}.h"',
         f'#include "{name}_weights.h"', ""]
    c += _prelude(name)
    if io.lead is not None:
        c.append(f"static {in_t} {name}_float_in[{NAME}_INPUT_SIZE] {NAME}_ALIGNED;")
    if io.tail is not None:
        # not static: a streaming model's NAME_push_pcm reads the step's integer output here (its detector)
        c.append(f"{out_t} {name}_float_out[{NAME}_OUTPUT_SIZE] {NAME}_ALIGNED;")
    c += ["", f"int {name}_invoke_float(const {fin_t} *input, {fout_t} *output)", "{",
          "    if (input == NULL || output == NULL)", "        return -1;"]

    def emit_node(node, ptrs):
        fname, args = by_node[id(node)]
        c.append(_layer_comment(model, node))
        c.append(f"    {fname}({', '.join(call_args(node, fname, args, lambda t, const: ptrs[t], array_name, None, error))});")
        c.append(f"    {NAME}_TRACE_LAYER({node.index}, {ptrs[node.outputs[0]]}, "
                 f"{model.tensors[node.outputs[0]].nbytes});")

    if io.lead is not None:
        emit_node(io.lead, {io.lead.inputs[0]: "input", io.lead.outputs[0]: qin})
    c.append(f"    if ({name}_invoke({qin}, {qout}) != 0)")
    c.append("        return -1;")
    if io.tail is not None:
        emit_node(io.tail, {io.tail.inputs[0]: qout, io.tail.outputs[0]: "output"})
    c += ["    return 0;", "}", ""]
    return "\n".join(c)


def pcm_source(model, name, io, pcm, steps, array_name, error):
    """The text of ``<name>_pcm.c``: ``<name>_invoke_pcm`` (int16 PCM -> the int8 input by the threshold table,
    then ``<name>_invoke``)."""
    from .sanitize import _array_body
    NAME = name.upper()
    out_t = CTYPE[io.out_spec.format]
    q_lo, table = pcm
    lead = io.lead
    c = [f"/* {name}_pcm.c -- generated by kwsnum: {name}_invoke_pcm, int16 PCM into the raw-waveform model (see",
         f" * {name}.h). The quantized sample of pcm / 32768 is q_lo + #{{k : pcm > thresholds[k]}}: the thresholds",
         " * are where the model's input quantize (computed by the oracle on every int16 value) steps up. */",
         "#include <stdint.h>", '#include "kws_runtime.h"', f'#include "{name}.h"', ""]
    c += _prelude(name)
    c += [f"static const int16_t {name}_pcm_thresholds[256] = {{", _array_body(table), "};",
          f"static int8_t {name}_pcm_in[{NAME}_INPUT_SIZE] {NAME}_ALIGNED;", "",
          f"int {name}_invoke_pcm(const int16_t *pcm, {out_t} *output)", "{",
          "    if (pcm == NULL || output == NULL)", "        return -1;",
          f"    /* layer {lead.index} {c_comment(lead.name)}: quantize of pcm / 32768, by table */",
          f"    kws_quantize_pcm_s8(pcm, {name}_pcm_in, {NAME}_INPUT_SIZE, {name}_pcm_thresholds, {q_lo});",
          f"    {NAME}_TRACE_LAYER({lead.index}, {name}_pcm_in, {NAME}_INPUT_BYTES);",
          f"    return {name}_invoke({name}_pcm_in, output);", "}", ""]
    return "\n".join(c)
