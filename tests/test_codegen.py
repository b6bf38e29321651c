"""The C code generator (codegen/): generated projects build warning-free (-Werror) and match the oracle bit for
bit; hostile model strings give valid, harmless C; writes are atomic; the header stands alone; the reported
arena is the planner's. Also CMake (when installed) and the CLI command."""
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from kwsnum.builder import GraphBuilder
from kwsnum.codegen import CodegenError, build, generate, plan_c_model, plan_model, verify
from kwsnum.codegen import emit
from tests.models_small import tiny_float_model, tiny_int8_model

N = 24


def _cc():
    for cc in [os.environ.get("CC"), "cc", "gcc", "clang"]:
        if cc and shutil.which(cc):
            return cc
    pytest.skip("no C compiler found")


def _inputs(model, n=N, seed=0):
    rng = np.random.default_rng(seed)
    shape = (n,) + tuple(model.input.shape)
    if model.input.format == "int8":
        return rng.integers(-128, 128, shape).astype(np.int8)
    return (rng.standard_normal(shape) * 2).astype(np.float32)


def _exported(name, precision, rounding):
    pytest.importorskip("torch")
    from tests.test_c_models import exported
    return exported(name, precision, rounding)[0]


MODELS = {
    "tiny_int8": lambda: tiny_int8_model(),
    "tiny_float32": lambda: tiny_float_model(),
    "dscnn_int8": lambda: _exported("dscnn", "int8", "double"),
    "dscnn_float32": lambda: _exported("dscnn", "float32", "double"),
    "rawcnn_int8": lambda: _exported("rawcnn", "int8", "single"),
}


@pytest.mark.parametrize("key", list(MODELS))
def test_generated_project_is_bit_exact(key, tmp_path):
    _cc()
    model = MODELS[key]()
    project = generate(model, tmp_path / "proj", name=key)
    assert project.name == key
    build(project.path, werror=True)
    result = verify(model, project.path, _inputs(model))
    assert result.ok and result.n == N, str(result)
    assert str(result) == f"{N}/{N} bit-exact"
    # the arena is the planner's for the integer API (input and output in the caller's buffers: smaller than
    # the whole model's plan), and no larger than every activation in its own buffer
    plan = plan_c_model(model)
    assert project.arena_bytes == plan.arena_bytes
    assert plan.arena_bytes <= plan_model(model).arena_bytes
    assert not any(b.name in (model.inputs[0], model.outputs[0]) for b in plan.buffers)
    with open(os.path.join(project.path, f"{key}.h")) as fh:
        assert f"#define {key.upper()}_ARENA_BYTES {plan.arena_bytes}\n" in fh.read()
    planned = [t for t in model.tensors.values() if t.name not in plan.alias_of and t.name not in plan.external
               and t.name not in model.inputs + model.outputs]
    scratch = sum((b.size + 15) // 16 * 16 for b in plan.buffers if b.name.startswith("#scratch"))  # fast kernels
    assert plan.arena_bytes <= sum((t.nbytes + 15) // 16 * 16 for t in planned) + scratch
    if key.startswith(("dscnn", "rawcnn")):
        assert plan.arena_bytes <= sum(t.nbytes for t in planned) + scratch
        assert any(n.op == "reshape" for n in model.nodes) and plan.alias_of
    assert project.weight_bytes == sum(a.nbytes for n in model.nodes for a in n.arrays.values())


def test_verify_reports_the_first_mismatch(tmp_path):
    _cc()
    model = tiny_int8_model()
    project = generate(model, tmp_path / "p")
    build(project.path, use_make=False)
    x = _inputs(model, 5)
    # the C project computes conv1 with a different bias: the oracle model and the C disagree
    model2 = tiny_int8_model()
    model2.nodes[1].arrays["bias"] = model2.nodes[1].arrays["bias"] + 1000
    r = verify(model2, project.path, x)
    assert not r.ok
    s, e, c, o = r.mismatch
    ref_c, ref_o = model.run(x), model2.run(x)
    first = np.argwhere(ref_c != ref_o)[0]
    assert (s, e) == (int(first[0]), tuple(int(i) for i in first[1:]))
    assert (c, o) == (ref_c[tuple(first)], ref_o[tuple(first)])
    assert "first mismatch: sample" in str(r)


HOSTILE = 'evil */ "quoted" \\ \n#include <stdio.h>\n ??/ /* x */ int main(void){return 1;} \u00e9'


def _hostile_model():
    rng = np.random.default_rng(3)
    b = GraphBuilder(name=HOSTILE)
    x = b.input("in */ put\n", (2, 4), "float32")
    h = b.add("relu", 'r"elu */\n??/', [x], dict(act_min_f=-float("inf"), act_max_f=float("inf")))
    f = b.add("reshape", "flat\n*/ x", [h], dict(shape=(8,)))
    y = b.add("linear", "fc */ ??= '\\", [f], {},
              dict(weight=rng.standard_normal((3, 8)).astype(np.float32),
                   bias=np.array([np.inf, -0.0, 1e-45], np.float32)))
    labels = ['a"b', "c*/d\n", "??/ \\ \u00e9"]
    return b.build([y], labels=labels)


def test_hostile_names_give_valid_harmless_c(tmp_path):
    cc = _cc()
    model = _hostile_model()
    project = generate(model, tmp_path / "p")          # name from the model name
    assert project.name.isidentifier() and project.name.isascii()
    for f in os.listdir(project.path):
        if f.endswith((".c", ".h")) and not f.startswith("kws_"):
            with open(os.path.join(project.path, f), encoding="ascii") as fh:   # pure ASCII
                text = fh.read()
            assert "#include <stdio.h>\n ??" not in text and "??/" not in text
            for line in text.splitlines():
                if "/*" in line and not line.lstrip().startswith(("#", "static", "const", "extern")):
                    assert line.count("*/") <= 1
    build(project.path, werror=True)
    x = _inputs(model, 20)
    assert verify(model, project.path, x).ok
    # the labels survive as the same strings
    test_c = tmp_path / "labels.c"
    test_c.write_text(f'#include <stdio.h>\n#include "{project.name}.h"\n'
                      "int main(void) { int i; for (i = 0; i < " + project.name.upper() + "_NUM_CLASSES; i++) "
                      f'fputs({project.name}_labels[i], stdout), putchar(0); return 0; }}\n')
    objs = [os.path.join(project.path, f"{project.name}.c"), os.path.join(project.path, f"{project.name}_weights.c")]
    objs += [os.path.join(project.path, f) for f in os.listdir(project.path)
             if f.startswith("kws_") and f.endswith(".c")]
    exe = tmp_path / "labels"
    r = subprocess.run([cc, "-std=c99", "-Wall", "-Wextra", "-Wpedantic", "-Werror", "-I", project.path, str(test_c)]
                       + objs + ["-o", str(exe), "-lm"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    out = subprocess.run([str(exe)], capture_output=True).stdout
    assert out.split(b"\0")[:-1] == [lb.encode() for lb in model.labels]


@pytest.mark.parametrize("name", ["main", "stdio", "kws_conv", "int", "3d", "", "__x__"])
def test_names_never_clash(name, tmp_path):
    p = generate(tiny_float_model(), tmp_path / "p", name=name)
    assert p.name.isidentifier() and p.name not in ("main", "stdio", "kws_conv", "int")
    assert not p.name.startswith("_") and f"{p.name}.c" != "main.c"


def test_failure_midway_leaves_nothing(tmp_path, monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("disk full")
    monkeypatch.setattr(emit, "_harness", boom)
    with pytest.raises(RuntimeError):
        generate(tiny_int8_model(), tmp_path / "out")
    assert os.listdir(tmp_path) == []
    # replacing an existing project: a failure keeps the old one untouched
    monkeypatch.undo()
    generate(tiny_int8_model(), tmp_path / "out", name="old")
    before = sorted(os.listdir(tmp_path / "out"))
    monkeypatch.setattr(emit, "_harness", boom)
    with pytest.raises(RuntimeError):
        generate(tiny_float_model(), tmp_path / "out", name="new", overwrite=True)
    assert os.listdir(tmp_path) == ["out"] and sorted(os.listdir(tmp_path / "out")) == before
    monkeypatch.undo()
    with pytest.raises(CodegenError):
        generate(tiny_int8_model(), tmp_path / "out")            # exists, no overwrite
    generate(tiny_float_model(), tmp_path / "out", name="new", overwrite=True)
    assert os.listdir(tmp_path) == ["out"] and "new.h" in os.listdir(tmp_path / "out")


def test_header_compiles_alone(tmp_path):
    cc = _cc()
    for model in (tiny_int8_model(), tiny_float_model()):
        p = generate(model, tmp_path / model.name)
        N_ = p.name.upper()
        src = tmp_path / f"only_{p.name}.c"
        src.write_text(f'#include "{p.name}.h"\n'
                       f"static const long shape[] = {N_}_INPUT_SHAPE;\n"
                       f"int use(void);\nint use(void) {{ return (int)(sizeof shape / sizeof shape[0]) + "
                       f"{N_}_ARENA_BYTES + {N_}_WEIGHT_BYTES + {N_}_NUM_CLASSES + {N_}_OUTPUT_SIZE + "
                       f"(int)(sizeof {N_}_INPUT_FORMAT) + (int)sizeof(&{p.name}_invoke) + "
                       f"(int)sizeof({p.name}_labels[0]); }}\n")
        r = subprocess.run([cc, "-std=c99", "-Wall", "-Wextra", "-Wpedantic", "-Werror", "-I", p.path, "-c", str(src),
                            "-o", str(tmp_path / "o.o")], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr


def test_cmake_build(tmp_path):
    _cc()
    if not shutil.which("cmake"):
        pytest.skip("cmake not installed")
    model = tiny_int8_model()
    p = generate(model, tmp_path / "p")
    bd = tmp_path / "build"
    r = subprocess.run(["cmake", "-S", p.path, "-B", str(bd), "-DCMAKE_C_FLAGS=-Werror"], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run(["cmake", "--build", str(bd)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    x = _inputs(model, 4)
    np.save(tmp_path / "x.npy", x)
    r = subprocess.run([str(bd / f"{p.name}_main"), str(tmp_path / "x.npy"), str(tmp_path / "y.bin")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    y = np.fromfile(tmp_path / "y.bin", dtype=np.int8).reshape((4,) + model.output.shape)
    assert np.array_equal(y, model.run(x))


def test_harness_reads_raw_and_rejects_bad_npy(tmp_path):
    _cc()
    model = tiny_float_model()
    p = generate(model, tmp_path / "p")
    exe = build(p.path)
    x = _inputs(model, 3)
    x.astype("<f4").tofile(tmp_path / "x.bin")
    r = subprocess.run([exe, str(tmp_path / "x.bin"), str(tmp_path / "y.bin")], capture_output=True)
    assert r.returncode == 0
    y = np.fromfile(tmp_path / "y.bin", dtype="<f4").reshape((3,) + model.output.shape)
    assert np.array_equal(y, model.run(x))
    np.save(tmp_path / "bad.npy", x.astype(np.float64))
    r = subprocess.run([exe, str(tmp_path / "bad.npy"), str(tmp_path / "y.bin")], capture_output=True, text=True)
    assert r.returncode == 1 and "unsupported .npy" in r.stderr
    np.save(tmp_path / "bad2.npy", x.reshape(3, 9, 2))
    r = subprocess.run([exe, str(tmp_path / "bad2.npy"), str(tmp_path / "y.bin")], capture_output=True, text=True)
    assert r.returncode == 1


CLI = ("import sys; from kwsnum.cli.main import cli, main; from kwsnum.codegen.cli import codegen_command; "
       "cli.add_command(codegen_command, 'codegen'); main(sys.argv[1:])")


def _kw(*args):
    return subprocess.run([sys.executable, "-c", CLI, *map(str, args)], capture_output=True, text=True, timeout=600)


def test_cli(tmp_path):
    _cc()
    import kwsnum
    model = tiny_int8_model()
    kwsnum.save(model, tmp_path / "m.h5")
    x = _inputs(model, 20)
    np.save(tmp_path / "x.npy", x)
    r = _kw("codegen", tmp_path / "m.h5", "-o", tmp_path / "c", "--name", "kw", "--verify", tmp_path / "x.npy")
    assert r.returncode == 0, r.stderr
    plan = plan_c_model(model)
    assert f"arena bytes: {plan.arena_bytes}" in r.stdout and "weight bytes: 516" in r.stdout
    assert "20/20 bit-exact" in r.stdout
    # errors: one line, exit code 2
    r = _kw("codegen", tmp_path / "m.h5", "-o", tmp_path / "c")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "already exists" in r.stderr
    r = _kw("codegen", tmp_path / "m.h5", "-o", tmp_path / "d", "--verify", tmp_path / "m.h5")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert not os.path.exists(tmp_path / "d")
    # a mismatch (the oracle patched to add 1 to output element 1 of every sample): exit code 1, first mismatch
    patch = ("import kwsnum.model as M; run = M.Model.run\n"
             "def bad(self, x, *a, **k):\n    if a or k: return run(self, x, *a, **k)\n"
             "    y = run(self, x).copy(); y.reshape(len(y), -1)[:, 1] += 1; "
             "return y\nM.Model.run = bad\n")
    r = subprocess.run([sys.executable, "-c", patch + CLI, "codegen", str(tmp_path / "m.h5"), "-o",
                        str(tmp_path / "e"), "--verify", str(tmp_path / "x.npy")], capture_output=True, text=True)
    ref = model.run(x)
    assert r.returncode == 1, r.stderr
    assert (f"0/20 bit-exact; first mismatch: sample 0, element (1, 0, 0): C {ref[0, 1, 0, 0]}, oracle "
            f"{ref[0, 1, 0, 0] + 1}") in r.stdout
    r = subprocess.run([sys.executable, "-c", "import sys, kwsnum.codegen.cli, kwsnum.codegen; "
                                              "assert 'torch' not in sys.modules"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_names_are_kept_unless_they_clash_with_the_runtime():
    from kwsnum.codegen.emit import c_ident
    assert c_ident("kws") == "kws" and c_ident("kws_model") == "kws_model"
    # a project named like a runtime file or whose identifiers the runtime defines gets a prefix
    assert c_ident("kws_conv") == "m_kws_conv" and c_ident("kws_fixedpoint") == "m_kws_fixedpoint"
    assert c_ident("main") == "m_main" and c_ident("int") == "m_int"
