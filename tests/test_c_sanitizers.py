"""Every C kernel under AddressSanitizer + UBSan, in a standalone program.

ASan cannot be loaded into an unsanitized python by dlopen (its runtime must be first in the process), so the
ctypes tests only have UBSan. Here a small C program is generated from the models' c_call descriptions (each
tensor and constant array a global of its exact size, so ASan sees any out-of-bounds access), compiled with
-fsanitize=address,undefined -fno-sanitize-recover=all together with c_runtime/*.c, run, and its hex dump of
every tensor compared with the oracle. Both formats of every kernel are called at least once.
"""

import numpy as np
import pytest

from kwsnum.builder import GraphBuilder
from kwsnum.codegen.emit import lit as _lit  # the generator's exact C literals
from tests import c_build

CTYPE = {"int8": "int8_t", "float32": "float", "int32": "int32_t", "int64": "int64_t", "int16": "int16_t",
         "uint8": "uint8_t"}


def _array(name, a, const):
    dt = str(a.dtype)
    body = ", ".join(_lit(v, dt) for v in a.reshape(-1))
    return f"static {'const ' if const else ''}{CTYPE[dt]} {name}[{max(a.size, 1)}] = {{{body}}};"


def generate(models):
    """C source running each (model, one input sample) once and dumping every tensor in hex."""
    from kwsnum import ops
    decl, body = [], []
    for mi, (model, x) in enumerate(models):
        tname = {t: f"m{mi}_t{i}" for i, t in enumerate(model.tensors)}
        xs = x if isinstance(x, tuple) else (x,)
        for name, spec in model.tensors.items():
            if name in model.inputs:
                v = np.asarray(xs[model.inputs.index(name)], dtype=spec.dtype)
                decl.append(_array(tname[name], v, const=False))
            else:
                decl.append(f"static {CTYPE[spec.format]} {tname[name]}[{spec.size}];")
        for ni, node in enumerate(model.nodes):
            fname, spec = ops.get(node.op, node).c_function(node, model)
            args = []
            for kind, v in spec:
                if kind == "in":
                    args.append(tname[node.inputs[v]])
                elif kind == "out":
                    args.append(tname[node.outputs[0]])
                elif kind == "array":
                    an = f"m{mi}_n{ni}_{v}"
                    decl.append(_array(an, np.asarray(node.arrays[v]), const=True))
                    args.append(an)
                elif kind == "scratch":
                    sn = f"m{mi}_n{ni}_scratch"
                    decl.append(f"static unsigned char {sn}[{max(int(v), 1)}];")
                    args.append(sn)
                elif kind == "i32":
                    args.append(_lit(v, "int32"))
                elif kind == "i64":
                    args.append(_lit(v, "int64"))
                elif kind == "f32":
                    args.append(_lit(v, "float32"))
                else:
                    raise AssertionError(kind)
            body.append(f"    {fname}({', '.join(args)});")
        for name in model.tensors:
            body.append(f'    dump("{mi} {name}", {tname[name]}, sizeof {tname[name]});')
    return "\n".join([
        "#include <stdio.h>", "#include <stdint.h>", "#include <math.h>", '#include "kws_runtime.h"',
        "static void dump(const char *name, const void *p, size_t n)",
        "{ const unsigned char *b = (const unsigned char *)p; size_t i;",
        '  printf("%s ", name); for (i = 0; i < n; i++) printf("%02x", b[i]); printf("\\n"); }',
        *decl, "int main(void)", "{", *body, "    return 0;", "}", ""])


def small_models():
    """Single-sample models that, with the exported ones, call every kernel in both formats."""
    rng = np.random.default_rng(11)
    out = []
    for fmt in ("int8", "float32", "int16"):
        b = GraphBuilder(rounding="single")
        q = {"int8": dict(scale=0.1, zero_point=-5), "int16": dict(scale=0.001, zero_point=0)}.get(fmt, {})
        x = b.input("x", (3, 7, 6), fmt, **q)
        clamp = {"int8": dict(act_min=-100, act_max=100), "int16": dict(act_min=-20000, act_max=20000)}.get(
            fmt, dict(act_min_f=-1.0, act_max_f=2.0))
        r = b.add("relu", "r", [x], dict(clamp), **q)
        a = b.add("avgpool2d", "ap", [r], dict(kernel=(3, 2), stride=(2, 1), padding=(1, 1, 1, 0),
                                               count_include_pad=True, **clamp), **q)
        m = b.add("maxpool2d", "mp", [a], dict(kernel=(2, 3), stride=(1, 2), dilation=(2, 1),
                                               padding=(1, 0, 1, 1), **clamp), **q)
        a1 = b.add("reshape", "rs", [m], dict(shape=(b.shape(m)[0], b.shape(m)[1] * b.shape(m)[2])), **q)
        p1 = b.add("avgpool1d", "ap1", [a1], dict(kernel=(3,), stride=(2,), padding=(1, 1)), **q)
        # a broadcasting add: (3, 7, 6) + its max over H, (3, 1, 6) (kws_bcast_at, stride 0 along H)
        col = b.add("maxpool2d", "mpcol", [r], dict(kernel=(7, 1), stride=(1, 1), padding=(0, 0, 0, 0), **clamp), **q)
        if fmt == "float32":
            add_attrs = dict(act_min_f=-1.5, act_max_f=3.0)
        else:
            from kwsnum.ops.add import add_params
            add_attrs = dict(add_params(q["scale"], q["scale"], 2 * q["scale"], 20 if fmt == "int8" else 15),
                             act_min=clamp["act_min"], act_max=clamp["act_max"])
        bc = b.add("add", "bcast_add", [r, col], add_attrs, **({} if fmt == "float32" else dict(
            scale=2 * q["scale"], zero_point=q["zero_point"])))
        model = b.build([p1, bc])
        if fmt == "int16":
            s8 = b.add("requantize", "to_s8", [p1], dict(multiplier=1 << 30, shift=-6), format="int8", scale=0.064,
                       zero_point=3)
            s8b = b.add("requantize", "s8_s8", [s8], dict(multiplier=1 << 30, shift=0), format="int8", scale=0.128,
                        zero_point=-2)
            s16 = b.add("requantize", "s16_s16", [p1], dict(multiplier=1 << 30, shift=1), format="int16",
                        scale=0.001, zero_point=0)
            model = b.build([p1, s8b, s16, bc])
        if fmt == "int8":
            data = rng.integers(-128, 128, (3, 7, 6)).astype(np.int8)
        elif fmt == "int16":
            data = rng.integers(-32768, 32768, (3, 7, 6)).astype(np.int16)
        else:
            data = rng.standard_normal((3, 7, 6)).astype(np.float32)
        out.append((model, data))
    return out


def exported_models():
    pytest.importorskip("torch")
    from tests.test_c_models import exported
    from tests.test_int16 import exported16
    return [(lambda m, x: (m, x[0]))(*exported(name, precision, rounding))
            for name, precision, rounding in [("dscnn", "int8", "double"), ("rawcnn", "int8", "single"),
                                              ("resnet", "int8", "double"), ("dscnn", "float32", "double"),
                                              ("rawcnn", "float32", "double"), ("resnet", "float32", "double")]] + \
        [(lambda m, x: (m, x[0]))(*exported16(name, precision)) for name, precision in
         [("dscnn", "int16"), ("resnet", "int16"), ("resnet", "mixed")]]


def imported_models():
    """A model imported from a .tflite file with the TFLite ops' kernels (softmax, logistic, tanh, concat, pad,
    slice, transpose), when tflite-micro is installed (tests/test_tflite_import.py)."""
    import importlib.util
    if importlib.util.find_spec("tflite_micro") is None or importlib.util.find_spec("flatbuffers") is None:
        return []
    from kwsnum.importers import from_tflite
    from tests.test_tflite_import import every_new_op_model, _uint8_edges_model, mul16_const_model
    _, model, x = every_new_op_model()
    out = [(model, x[0])]
    for data, xdt in [(_uint8_edges_model(np.random.default_rng(2), "dequantize", False), np.uint8),
                      (mul16_const_model(), np.int16)]:   # uint8 edges; int16 MUL and constant operands
        m = from_tflite(data)
        info = np.iinfo(xdt)
        out.append((m, np.random.default_rng(3).integers(info.min, info.max + 1, m.input.shape).astype(xdt)))
    return out


def test_c_kernels_under_asan_and_ubsan(tmp_path):
    if c_build.compiler() is None:
        pytest.skip("no C compiler found")
    models = small_models() + exported_models() + imported_models()
    called = set()
    from kwsnum import ops
    for model, _ in models:
        for node in model.nodes:
            called.add(ops.get(node.op, node).c_function(node, model)[0])
    expected = {f"kws_{k}_{f}" for k in ("conv2d", "linear", "avgpool2d", "maxpool2d", "global_avgpool", "relu",
                                         "add", "layernorm") for f in ("s8", "f32")}
    # int8 conv: the fast kernels (c_runtime/kws_conv_fast.h) for groups == 1 and depthwise
    expected = (expected - {"kws_conv2d_s8"}) | {"kws_conv2d_s8_fast", "kws_dwconv2d_s8_fast"}
    expected |= {"kws_quantize_f32_s8", "kws_dequantize_s8_f32", "kws_copy"}
    # int16 (TFLite 16x8, docs/numerics.md section 9)
    expected |= {f"kws_{k}_s16" for k in ("conv2d", "linear", "avgpool2d", "maxpool2d", "global_avgpool", "relu",
                                          "add")}
    expected |= {"kws_quantize_f32_s16", "kws_dequantize_s16_f32", "kws_requantize_s8_s16", "kws_requantize_s16_s8",
                 "kws_requantize_s8_s8", "kws_requantize_s16_s16"}
    if imported_models():
        expected |= {f"kws_{k}" for k in ("softmax_s8", "logistic_s8", "tanh_s8", "concat2", "pad", "slice",
                                          "transpose")}
        expected |= {"kws_requantize_u8_s8", "kws_requantize_s8_u8", "kws_dequantize_u8_f32", "kws_mul_s16",
                     "kws_add_s16"}
    assert expected <= called, expected - called
    stdout = c_build.run_sanitized(tmp_path, generate(models), "kws_sanitize")
    dumped = {}
    for line in stdout.splitlines():
        mi, name, hexdata = line.split(" ")
        dumped[(int(mi), name)] = bytes.fromhex(hexdata)
    for mi, (model, x) in enumerate(models):
        ref = model.run(x[None], trace=True)
        got = {name: np.frombuffer(dumped[(mi, name)], dtype=spec.dtype).reshape((1,) + tuple(spec.shape))
               for name, spec in model.tensors.items()}
        c_build.assert_same(got, ref)
