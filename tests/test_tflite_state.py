"""Stateful .tflite models (VAR_HANDLE / READ_VARIABLE / ASSIGN_VARIABLE with a CALL_ONCE initialization subgraph,
as TF's converter writes streaming models) imported as kwsnum ``delay`` state (docs/numerics.md 11.5): stepped in
TFLM's interpreter and in kwsnum's stream, every step's tensors are equal (``==``): the oracle, the torch reference,
and the generated C (NAME_step under ASan + UBSan); reset restarts both.

The models are built by tests/tflite_state_builder.py: streaming conv nets with Hypothesis-drawn geometry, scales,
weights and initial states.
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from tests.tflite_state_builder import StatefulBuilder, fb
from tests.test_tflite_import import Net, QMAX

from kwsnum import streaming
from kwsnum.errors import ModelImportError
from kwsnum.importers import from_tflite
from kwsnum.importers.tflm import TFLM, tensor_map


def _init(net, shape, q, zero):
    if zero:
        return np.full(shape, q[1], DT[net.fmt])
    lim = QMAX[net.fmt]
    return net.rng.integers(-lim - 1, lim + 1, shape).astype(DT[net.fmt])


DT = {"int8": np.int8, "int16": np.int16}


@st.composite
def streaming_tflite(draw, fmt="int8"):
    """input (1, T, W, C) -> [state + CONV_2D (K, kw)] -> [state + DEPTHWISE_CONV_2D] -> state of the last F frames
    -> RESHAPE -> FULLY_CONNECTED: each state a resource variable concatenated before its layer along time (axis 1)."""
    net = Net(draw, fmt)
    net.b = b = StatefulBuilder()
    zero = draw(st.booleans())            # TF writes zero initial states; random ones check the mapping of init
    T, W, C = draw(st.integers(1, 3)), draw(st.sampled_from([1, 1, 2])), draw(st.integers(1, 4))
    s_in = float(np.float32(draw(st.sampled_from([0.02, 0.1, 0.37]))))
    x, xq = net.act_tensor((1, T, W, C), s_in, name="input")
    first, shape = x, (1, T, W, C)
    for layer in range(draw(st.integers(1, 2))):
        K = draw(st.integers(1, 4))
        S = draw(st.integers(max(1, K - shape[1]), K + 1))
        sshape = (1, S, shape[2], shape[3])
        cat = b.state(f"stream{layer}", x, shape, _init(net, sshape, xq, zero), fmt, xq[0], xq[1],
                      slice_style=draw(st.sampled_from(["begin", "negative"])))
        cshape = (1, S + shape[1], shape[2], shape[3])
        kw = draw(st.integers(1, shape[2]))
        if layer == 1 and draw(st.booleans()):
            x, xq, shape = net.conv(cat, xq, cshape, None, (K, kw), (1, 1), depthwise=True)
        else:
            x, xq, shape = net.conv(cat, xq, cshape, draw(st.integers(1, 4)), (K, kw), (1, 1))
    F = draw(st.integers(shape[1] + 1, shape[1] + 3))
    sshape = (1, F - shape[1], shape[2], shape[3])
    cat = b.state("head", x, shape, _init(net, sshape, xq, zero), fmt, xq[0], xq[1])
    n = F * shape[2] * shape[3]
    flat, _ = net.act_tensor((1, n), xq[0], xq[1], name="flat")
    b.op("RESHAPE", [cat, b.const("flat_shape", np.array([1, n]), "int32")], [flat], new_shape=(1, n))
    y, _ = net.fc(flat, xq, n, draw(st.integers(2, 5)))
    return b.finish(inputs=[first], outputs=[y]), zero, draw(st.integers(0, 2 ** 32 - 1))


def _steps(rng, model, n):
    spec = model.input
    q = QMAX[spec.format]
    return rng.integers(-q - 1, q + 1, (n,) + spec.shape).astype(spec.dtype)


def _tflm_steps(tflm, xs, reset_at=None):
    """TFLM stepped through xs (one interpreter, its resource variables carried between invokes): the traced
    tensors of every step. ``reset_at``: call the interpreter's reset() before that step."""
    out = []
    for k, x in enumerate(xs):
        if k == reset_at:
            tflm.interp.reset()
        out.append(tflm.step(x))
    return out


def _oracle_steps(model, xs, reset_at=None):
    plan, state, out = model.plan(), {}, []
    for k, x in enumerate(xs):
        if k == reset_at:
            state = {}
        out.append(plan.run(x[None], state=state, trace=True))
    return out


def _assert_steps_equal(model, ref, got, what):
    mapping = tensor_map(model)
    for k, (r, g) in enumerate(zip(ref, got)):
        for name in mapping:
            a, b = np.asarray(g[name])[0], r[name]
            assert a.shape == b.shape and a.dtype == b.dtype, (what, k, name, a.shape, b.shape)
            if not np.array_equal(a, b):
                raise AssertionError(f"step {k}: {what} != TFLM at tensor {name} (TFLite tensor {mapping[name][0]}): "
                                     f"{int((a != b).sum())} of {a.size} differ")
    return len(mapping)


@pytest.mark.parametrize("fmt", ["int8", "int16"])
@settings(deadline=None, max_examples=30)           # ~1 s an example (several TFLM interpreters)
@given(data=st.data(), n=st.integers(4, 9))
def test_stateful_model_steps_equal_tflm(fmt, data, n):
    """Every step's every shared tensor: kwsnum's oracle == TFLM; the stream's outputs (push) == the oracle's
    steps; a reset restarts from the initial state (TFLM: a fresh interpreter, and its reset() when the initial
    state is the zero point, the value TFLM's reset refills resource variables with)."""
    data, zero, seed = data.draw(streaming_tflite(fmt))
    model = from_tflite(data)
    assert streaming.is_streaming(model) and streaming.state_bytes(model) > 0
    assert all(n.op != "concat" for n in model.nodes)          # every state concatenation became a delay
    rng = np.random.default_rng(seed)
    xs = _steps(rng, model, n)
    ref = _tflm_steps(TFLM(data, model), xs)
    _assert_steps_equal(model, ref, _oracle_steps(model, xs), "oracle")
    s = model.stream()
    y = np.stack([s.push(x)[0] for x in xs])
    assert np.array_equal(y, np.stack([r[model.outputs[0]] for r in ref]))
    # reset: kwsnum's stream and oracle restart from the initial state
    s.reset()
    y2 = np.stack([s.push(x)[0] for x in xs[:3]])
    assert np.array_equal(y2, y[:3])
    half = n // 2
    got = _oracle_steps(model, xs, reset_at=half)
    _assert_steps_equal(model, _tflm_steps(TFLM(data, model), xs[:half]) +
                        _tflm_steps(TFLM(data, model), xs[half:]), got, "oracle after reset (fresh TFLM)")
    if zero:
        _assert_steps_equal(model, _tflm_steps(TFLM(data, model), xs, reset_at=half), got,
                            "oracle after reset (TFLM reset())")


def test_stateful_model_torch_and_c_steps(tmp_path):
    """The torch reference's stream == the oracle's; the generated C (NAME_step, the state static, NAME_reset)
    == the oracle step by step under ASan + UBSan; the oracle == TFLM on every step."""
    pytest.importorskip("torch")
    from tests import c_build
    from tests.test_streaming import SANITIZE
    from kwsnum.codegen import build, generate, verify
    if c_build.compiler() is None:
        pytest.skip("no C compiler found")
    found = []

    @settings(max_examples=6, deadline=None, database=None)
    @given(streaming_tflite())
    def collect(case):
        found.append(case)
    collect()
    for j, (data, zero, seed) in enumerate(found[-3:]):
        model = from_tflite(data)
        xs = _steps(np.random.default_rng(seed), model, 12)
        _assert_steps_equal(model, _tflm_steps(TFLM(data, model), xs), _oracle_steps(model, xs), "oracle")
        s, st_ = model.stream(), model.stream(reference=True)
        y = np.stack([s.push(x)[0] for x in xs])
        yt = np.stack([st_.push(x)[0] for x in xs])
        assert np.array_equal(y, yt), "torch reference stream != oracle stream"
        project = generate(model, tmp_path / f"c{j}")
        assert project.state_bytes == streaming.state_bytes(model) > 0
        build(project.path, werror=True, extra_cflags=SANITIZE)
        res = verify(model, project.path, xs)
        assert res.ok and res.n == len(xs), str(res)


# ---------------------------------------------------------------------------------------------- refusals
def _one_state(**kw):
    """x (1, 2, 1, 3) with one state of 2 frames, its concatenation the output; kw changes the pattern."""
    b = StatefulBuilder()
    x = b.tensor("x", (1, 2, 1, 3), "int8", scale=0.1, zero_point=1)
    init = np.zeros((1, 2, 1, 3), np.int8)
    cat = b.state("s", x, (1, 2, 1, 3), init, "int8", 0.1, 1, slice_style=kw.pop("slice_style", "begin"))
    for f in kw.pop("edit", []):
        f(b, x, cat)
    return b.finish(inputs=[x], outputs=[cat])


def _refused(data, pattern):
    with pytest.raises(ModelImportError, match=pattern) as e:
        from_tflite(data)
    assert "\n" not in str(e.value)


def test_one_state_maps_onto_delay():
    data = _one_state()
    model = from_tflite(data)
    assert [n.op for n in model.nodes] == ["reshape", "delay", "reshape"]
    xs = _steps(np.random.default_rng(1), model, 5)
    _assert_steps_equal(model, _tflm_steps(TFLM(data, model), xs), _oracle_steps(model, xs), "oracle")


@settings(deadline=None, max_examples=10)
@given(st.integers(1, 3), st.integers(1, 4), st.integers(1, 3), st.integers(0, 2 ** 32 - 1))
def test_rank3_state_is_one_delay(T, C, S, seed):
    """A (1, T, C) state (time = kwsnum's last axis): one delay node, nothing around it; random initial values
    and a flatten (NHWC order) + FULLY_CONNECTED after it; == TFLM on every step."""
    rng = np.random.default_rng(seed)
    b = StatefulBuilder()
    x = b.tensor("x", (1, T, C), "int8", scale=0.1, zero_point=-3)
    init = rng.integers(-128, 128, (1, S, C)).astype(np.int8)
    cat = b.state("s", x, (1, T, C), init, "int8", 0.1, -3, slice_style=["begin", "negative"][seed % 2])
    n = (S + T) * C
    flat = b.tensor("flat", (1, n), "int8", scale=0.1, zero_point=-3)
    b.op("RESHAPE", [cat, b.const("shape", np.array([1, n]), "int32")], [flat], new_shape=(1, n))
    w = b.const("w", rng.integers(-127, 128, (3, n)), "int8", scale=[0.01])
    bias = b.const("b", rng.integers(-500, 500, 3), "int32", scale=[0.001])
    y = b.tensor("y", (1, 3), "int8", scale=0.3, zero_point=2)
    b.op("FULLY_CONNECTED", [flat, w, bias], [y])
    data = b.finish(inputs=[x], outputs=[y])
    model = from_tflite(data)
    assert [nd.op for nd in model.nodes if nd.op in ("delay", "transpose", "concat")][0] == "delay"
    assert model.nodes[0].op == "delay"
    xs = _steps(rng, model, 6)
    _assert_steps_equal(model, _tflm_steps(TFLM(data, model), xs), _oracle_steps(model, xs), "oracle")


def _slice_op(b):
    return next(op for op in b.ops if op.opcodeIndex == b._code("STRIDED_SLICE"))


def test_refuses_what_is_not_a_delay_line():
    def oldest(b, x, cat):                 # keeps the oldest frames instead of the newest
        bt = _slice_op(b).inputs[1]
        b.buffers[b.tensors[bt].buffer].data = np.frombuffer(np.int32([0, 0, 0, 0]).tobytes(), np.uint8).copy()
        et = _slice_op(b).inputs[2]
        b.buffers[b.tensors[et].buffer].data = np.frombuffer(np.int32([1, 2, 1, 3]).tobytes(), np.uint8).copy()
    _refused(_one_state(edit=[oldest]), r"operator \d+ \(STRIDED_SLICE\): does not keep exactly the newest 2 frames")

    def swapped(b, x, cat):                # new frames first, state second
        op = next(op for op in b.ops if op.opcodeIndex == b._code("CONCATENATION"))
        op.inputs = [op.inputs[1], op.inputs[0]]
    _refused(_one_state(edit=[swapped]), r"operator \d+ \(READ_VARIABLE\): the state of variable 's' must feed "
                                         r"exactly one CONCATENATION, as its first input")

    def no_init(b, x, cat):
        b.init_ops = [op for op in b.init_ops if op.opcodeIndex != b._code("ASSIGN_VARIABLE")]
    _refused(_one_state(edit=[no_init]), r"operator \d+ \(VAR_HANDLE\): variable 's' is not assigned by the "
                                         r"CALL_ONCE initialization subgraph")

    data = _one_state()
    m = fb.ModelT.InitFromObj(fb.Model.GetRootAs(data, 0))
    m.subgraphs[0].operators = m.subgraphs[0].operators[1:]
    import flatbuffers
    bb = flatbuffers.Builder(1024)
    bb.Finish(m.Pack(bb), file_identifier=b"TFL3")
    _refused(bytes(bb.Output()), r"operator 0 \(VAR_HANDLE\): a state variable without a CALL_ONCE")

    def requant(b, x, cat):                # the concatenation's output has another scale
        b.tensors[cat].quantization.scale = [0.2]
    _refused(_one_state(edit=[requant]), r"\(CONCATENATION\): the state of variable 's', the new frames and the "
                                         r"concatenation differ")

    def second_read(b, x, cat):
        h = next(i for i, t in enumerate(b.tensors) if t.type == fb.TensorType.RESOURCE)
        r = b.tensor("r2", (1, 2, 1, 3), "int8", scale=0.1, zero_point=1)
        b.ops.append(b._var_op("READ_VARIABLE", [h], [r]))
    _refused(_one_state(edit=[second_read]), r"\(VAR_HANDLE\): variable 's' is read 2 and assigned 1 times")


def test_cli_refusal_is_one_line(tmp_path):
    from tests.test_tflite_import import _kw

    def oldest(b, x, cat):
        bt = _slice_op(b).inputs[1]
        b.buffers[b.tensors[bt].buffer].data = np.frombuffer(np.int32([0, 0, 0, 0]).tobytes(), np.uint8).copy()
        et = _slice_op(b).inputs[2]
        b.buffers[b.tensors[et].buffer].data = np.frombuffer(np.int32([1, 2, 1, 3]).tobytes(), np.uint8).copy()
    p = tmp_path / "bad.tflite"
    p.write_bytes(_one_state(edit=[oldest]))
    r = _kw("import", p, "-o", tmp_path / "bad.h5")
    err = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(err) == 1, (r.returncode, r.stderr)
    assert err[0].startswith("kwsnum: error: ") and "(STRIDED_SLICE): does not keep exactly" in err[0], err
    assert not (tmp_path / "bad.h5").exists()
    good = tmp_path / "good.tflite"
    good.write_bytes(_one_state())
    r = _kw("import", good, "-o", tmp_path / "good.h5")
    assert r.returncode == 0, r.stderr
    from kwsnum import load
    m = load(tmp_path / "good.h5")
    assert streaming.is_streaming(m) and streaming.state_bytes(m) == 6
    # verify --tflm: each sample one step from the initial state on both sides (TFLM: a fresh interpreter).
    # --no-c: kwsnum verify's C pair runs the samples through one harness process, whose streaming invoke carries
    # the state from sample to sample (every streaming model, not only imported ones: reported to the lead)
    np.save(tmp_path / "x.npy", _steps(np.random.default_rng(0), m, 8))
    r = _kw("verify", tmp_path / "good.h5", tmp_path / "x.npy", "--tflm", good, "--trace", "--no-c")
    assert r.returncode == 0, r.stdout + r.stderr
    import re
    assert re.search(r"oracle vs TFLM +: 8/8 bit-exact", r.stdout), r.stdout


def _repack(data, edit):
    import flatbuffers
    m = fb.ModelT.InitFromObj(fb.Model.GetRootAs(data, 0))
    edit(m)
    bb = flatbuffers.Builder(1024)
    bb.Finish(m.Pack(bb), file_identifier=b"TFL3")
    return bytes(bb.Output())


def test_refuses_malformed_initialization_subgraphs():
    def bad_index(m):
        m.subgraphs[1].operators[1].inputs = [0, 99]
    _refused(_repack(_one_state(), bad_index), r"subgraph 1 operator 1 \(ASSIGN_VARIABLE\): tensor index 99 out "
                                               r"of range")

    def bad_call(m):
        m.subgraphs[0].operators[0].builtinOptions.initSubgraphIndex = 5
    _refused(_repack(_one_state(), bad_call), r"operator 0 \(CALL_ONCE\): init_subgraph_index 5 is not a subgraph")

    def third(m):
        m.subgraphs.append(m.subgraphs[1])
    _refused(_repack(_one_state(), third), r"/subgraphs: 3 subgraphs")

    def not_const(m):
        m.subgraphs[1].tensors[1].buffer = 0
    _refused(_repack(_one_state(), not_const), r"subgraph 1 operator 1 \(ASSIGN_VARIABLE\): the value assigned to "
                                               r"variable 's' \(tensor 1\) is not a constant")
