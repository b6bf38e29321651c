"""What a firmware engineer links: an integer model's objects reference no libm function (host cc, `nm -u`), and,
cross-compiled for a Cortex-M4F (arm-none-eabi-gcc, when installed: .ci/run installs it), no soft-double helper,
no float -> int64 conversion and no 64-bit division helper (__aeabi_ldivmod / __aeabi_uldivmod). The generated
Makefile links -lm only when a file really calls libm."""
import os
import re
import shutil
import subprocess

import pytest

from kwsnum import zoo
from kwsnum.codegen import generate
from kwsnum.codegen.emit import calls_libm
from tests import c_build

torch = pytest.importorskip("torch")

from kwsnum.export import from_torch  # noqa: E402

# integer models in every integer format the zoo deploys: conv / depthwise / pointwise / GAP / linear (DS-CNN),
# quantize + avgpool + conv1d + LayerNorm + maxpool (kws_raw)
INTEGER_MODELS = [("ds_cnn_mlperf", "int8"), ("ds_cnn_mlperf", "int16"), ("ds_cnn_mlperf", "q16"),
                  ("kws_raw", "int8"), ("kws_raw", "q16")]
LIBM = re.compile(r"^(sqrt|round|lround|llround|floor|ceil|exp|log|pow|nearbyint|rint|lrint|trunc|fmod|ldexp|"
                  r"frexp|fma|fmin|fmax|tanh|sin|cos|erf)f?$")
# libgcc's soft double (__aeabi_d*, conversions to / from double), float <-> 64-bit integer conversions and
# 64-bit division
ARM_HELPERS = re.compile(r"^(__aeabi_(d\w+|f2d|i2d|ui2d|l2d|ul2d|f2lz|f2ulz|l2f|ul2f|ldivmod|uldivmod)|"
                         r"__\w+df\d|__(u)?divdi3|__(u)?moddi3)$")
M4F = ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"]

_MODELS = {}


def _model(name, precision):
    if (name, precision) not in _MODELS:
        module, calib, _ = zoo.example(name, data_seed=7)
        _MODELS[name, precision] = from_torch(module, calib[:1], calib, precision=precision, name=name)
    return _MODELS[name, precision]


def _undefined(nm, obj):
    r = subprocess.run([nm, "-u", obj], capture_output=True, text=True, check=True)
    return {line.split()[-1] for line in r.stdout.splitlines() if line.strip()}


def _compile_objects(cc, project, flags):
    objs = []
    for f in sorted(os.listdir(project.path)):
        if f.endswith(".c") and f != "main.c" and not f.endswith("_weights.c"):   # weights: data, no code
            o = os.path.join(project.path, f[:-2] + (".arm.o" if flags else ".host.o"))
            r = subprocess.run([cc, "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-ffp-contract=off",
                                "-ffunction-sections", "-fdata-sections", "-I", project.path] + flags +
                               ["-c", os.path.join(project.path, f), "-o", o], capture_output=True, text=True)
            assert r.returncode == 0, r.stderr
            objs.append(o)
    return objs


@pytest.mark.parametrize("name, precision", INTEGER_MODELS)
def test_integer_model_objects_reference_no_libm_soft_double_or_64bit_division(name, precision, tmp_path):
    """Host cc: no object references libm and the Makefile links no -lm. arm-none-eabi-gcc for a Cortex-M4F (when
    installed): no object references a soft-double helper, a float <-> int64 conversion or a 64-bit division."""
    cc = c_build.compiler()
    if cc is None or not shutil.which("nm"):
        pytest.skip("no C compiler or nm")
    project = generate(_model(name, precision), tmp_path / "p", name="fw")
    with open(os.path.join(project.path, "Makefile")) as fh:
        assert re.search(r"^LDLIBS \?= $", fh.read(), re.M)          # no -lm
    for o in _compile_objects(cc, project, []):
        bad = {s for s in _undefined("nm", o) if LIBM.match(s)}
        assert not bad, f"{os.path.basename(o)} references libm: {sorted(bad)}"
    if not shutil.which("arm-none-eabi-gcc"):
        pytest.skip("arm-none-eabi-gcc not installed (apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi)")
    for o in _compile_objects("arm-none-eabi-gcc", project, M4F):
        bad = {s for s in _undefined("arm-none-eabi-nm", o) if ARM_HELPERS.match(s) or LIBM.match(s)}
        assert not bad, f"{os.path.basename(o)} references {sorted(bad)}"


def test_float_layernorm_model_links_libm_and_comments_do_not_count(tmp_path):
    project = generate(_model("kws_raw", "float32"), tmp_path / "p", name="fw")
    with open(os.path.join(project.path, "Makefile")) as fh:
        assert re.search(r"^LDLIBS \?= -lm$", fh.read(), re.M)       # sqrtf in kws_layernorm_float.c
    assert calls_libm("float y = sqrtf(x);")
    assert not calls_libm("/* roundf(x) in a comment */ int y; // sqrtf(x)\nconst char *s = \"expf(x)\";")
    assert not calls_libm("float kws_roundf_like(float v);") and calls_libm("y = roundf (v);")


def test_integer_api_is_zero_copy_and_pcm_entry_is_exact(tmp_path):
    """kws_raw int8: <name>_invoke takes int8 and returns int8 in the caller's buffers (no memcpy, neither in the
    arena: the arena is the planner's without them, smaller than the 64,000 B float input alone); the float wrapper
    and the int16 PCM entry (frontend kind raw) agree with the oracle bit for bit, PCM extremes included."""
    import numpy as np
    from kwsnum.codegen import build, plan_c_model, plan_model, verify
    from kwsnum.frontend import Frontend
    if c_build.compiler() is None:
        pytest.skip("no C compiler")
    model = _model("kws_raw", "int8")
    model.frontend = Frontend.raw()
    project = generate(model, tmp_path / "p", name="fw")
    with open(os.path.join(project.path, "fw.c")) as fh:
        src = fh.read()
    assert "memcpy" not in src and "int fw_invoke(const int8_t *input, int8_t *output)" in src
    assert project.arena_bytes == plan_c_model(model).arena_bytes < plan_model(model).arena_bytes - model.input.nbytes // 2
    with open(os.path.join(project.path, "fw.h")) as fh:
        h = fh.read()
    assert "int fw_invoke_pcm(const int16_t *pcm, int8_t *output);" in h and "#define FW_HAS_PCM_API 1" in h
    build(project.path, werror=True)
    rng = np.random.default_rng(0)
    pcm = (rng.standard_normal((6,) + tuple(model.input.shape)) * np.array([30, 300, 3000, 9000, 30000, 60000])
           .reshape(6, 1, 1)).clip(-32768, 32767).astype(np.int16)
    pcm[0, 0, :4] = [-32768, 32767, 0, -1]
    r = verify(model, project.path, pcm)
    assert r.ok and r.n == 6, str(r)
    x = pcm.astype(np.float32) / np.float32(32768)
    r = verify(model, project.path, x)                  # float wrapper and integer API
    assert r.ok and r.n == 6, str(r)
    assert len(np.unique(np.asarray(model.run(x)).argmax(-1))) > 1


def _need_target_tools():
    from kwsnum.codegen.target import need_tools
    missing = need_tools()
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi "
                    "qemu-system-arm)")


def test_cortex_m4_under_qemu_is_bit_exact_and_measured(tmp_path):
    """The CLI path a firmware engineer runs: codegen --target cortex-m4 --verify under QEMU (mps2-an386) on a
    DS-CNN (MLPerf shape) in int8: N/N bit-exact through the DSP build, instructions per inference, flash, RAM (the
    arena, no input copy) and stack printed; the Makefile's TARGET= path builds the same ELF."""
    import numpy as np
    from kwsnum.io import save
    from tests.test_cli import kw as run_cli
    _need_target_tools()
    model = _model("ds_cnn_mlperf", "int8")
    save(model, str(tmp_path / "m.h5"))
    x = np.random.default_rng(1).standard_normal((3,) + tuple(model.input.shape)).astype(np.float32) * 2
    np.save(tmp_path / "x.npy", x)
    r = run_cli("codegen", str(tmp_path / "m.h5"), "-o", str(tmp_path / "c"), "--name", "fw", "--target",
                "cortex-m4", "--verify", str(tmp_path / "x.npy"))
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout
    assert "cortex-m4 (qemu mps2-an386): 3/3 bit-exact" in out
    n = int(re.search(r"instructions per inference: (\d+)", out).group(1))
    assert 100_000 < n < 100_000_000
    ram = int(re.search(r"ram bytes: (\d+) \(arena (\d+)\)", out).group(1))
    arena = int(re.search(r"arena bytes: (\d+)", out).group(1))
    scratch = int(re.search(r"#define FW_SCRATCH_BYTES (\d+)", open(tmp_path / "c" / "fw.h").read()).group(1))
    assert arena <= ram <= arena + 16 and 0 < scratch and arena <= 16_000 + scratch   # the arena (aligned), no input
    assert 0 < int(re.search(r"stack bytes .*: (\d+)", out).group(1)) < 2048
    flash = int(re.search(r"flash bytes: (\d+)", out).group(1))
    assert flash > sum(a.nbytes for node in model.nodes for a in node.arrays.values())
    r = subprocess.run(["make", "-s", "-C", str(tmp_path / "c"), "TARGET=cortex-m4"], capture_output=True, text=True)
    assert r.returncode == 0 and (tmp_path / "c" / "fw_cortex-m4.elf").exists(), r.stderr


def test_clang_builds_the_host_project(tmp_path):
    """The generated project is not gcc-only: clang builds it warning-free and it is bit-exact."""
    import numpy as np
    from kwsnum.codegen import build, verify
    if not shutil.which("clang"):
        pytest.skip("clang not installed")
    model = _model("ds_cnn_mlperf", "int8")
    project = generate(model, tmp_path / "p", name="fw")
    build(project.path, werror=True, cc="clang")
    x = np.random.default_rng(2).standard_normal((4,) + tuple(model.input.shape)).astype(np.float32)
    r = verify(model, project.path, x)
    assert r.ok, str(r)


def _odd_conv_model():
    """int8 convolutions of every shape class the fast kernels branch on: K = C * KH * KW not a multiple of 4,
    odd output channels and pixel counts, strides, dilation, padding, depthwise 2x3 (generic loop) and a strided
    depthwise 3x3 (the unrolled path), a 1x3 conv, then GAP and a linear layer."""
    from torch import nn
    from kwsnum.models import randomize_
    torch.manual_seed(0)
    m = nn.Sequential(
        nn.Conv2d(3, 5, (3, 2), stride=(2, 1), padding=(1, 0)), nn.BatchNorm2d(5), nn.ReLU(),
        nn.Conv2d(5, 5, (2, 3), padding=(1, 2), dilation=(1, 2), groups=5), nn.ReLU(),
        nn.Conv2d(5, 7, 1), nn.ReLU(),
        nn.Conv2d(7, 7, 3, stride=2, padding=1, groups=7), nn.ReLU(),
        nn.Conv2d(7, 6, (1, 3), padding=(0, 1)), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, 4))
    x = torch.randn(24, 3, 11, 9)
    randomize_(m, 0, x)
    m.eval()
    return from_torch(m, x[:1], x, precision="int8", name="odd"), x.numpy()


@pytest.mark.parametrize("target", ["cortex-m4", "cortex-m55"])
def test_fast_kernels_dsp_path_is_bit_exact_under_qemu(target, tmp_path):
    """The SXTB16 / SMLAD path of c_runtime/kws_conv_fast.h (compiled with __ARM_FEATURE_SIMD32) against the
    oracle under QEMU, on the odd shapes; the host tests (tests/test_c_ops.py, every conv property) run the
    portable path of the same kernels."""
    import numpy as np
    from kwsnum.codegen.emit import verify_target
    _need_target_tools()
    model, x = _odd_conv_model()
    project = generate(model, tmp_path / "p", name="fw")
    with open(os.path.join(project.path, "fw.c")) as fh:
        src = fh.read()
    assert src.count("kws_conv2d_s8_fast_inline(") == 3 and src.count("kws_dwconv2d_s8_fast_inline(") == 2
    r, run = verify_target(model, project.path, x, target)
    assert r.ok and r.n == len(x), str(r)
    assert len(np.unique(np.asarray(model.run(x)).argmax(-1))) > 1
    assert run.instructions > 0 and max(run.stack) > 0
