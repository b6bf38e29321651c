"""``kwsnum verify --stream`` (kwsnum/verify_stream.py) and the host harness's ``--push-pcm`` mode
(codegen/harness.py, codegen/streaming.run_push_pcm): C streams long PCM through NAME_push_pcm (ASan + UBSan) with
the detections and every step's output of the oracle, whatever the chunk size; the gate compares every tensor of
every step and names the first step where a perturbed C or oracle departs."""
import copy
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("torch")

import kwsnum                                             # noqa: E402
from kwsnum import detector, listen, streaming           # noqa: E402
from kwsnum.codegen import build, generate               # noqa: E402
from kwsnum.codegen.streaming import run_push_pcm, trace_layout   # noqa: E402
from kwsnum.errors import InputError                     # noqa: E402
from kwsnum.verify_stream import StreamGate              # noqa: E402
from tests import c_build, listen_models                 # noqa: E402

SANITIZE = ("-O0", "-fsanitize=address,undefined", "-fno-sanitize-recover=all")   # -O0: the build is the cost


@pytest.fixture(scope="module")
def sm():
    return listen_models.tiny(1)


@pytest.fixture(scope="module")
def signal():
    return listen_models.pcm(31, 4.0)


@pytest.fixture(scope="module")
def project(sm, tmp_path_factory):
    """The model's C project, trace build under ASan + UBSan (one build for the module: the last test edits it)."""
    cc = _cc()
    p = generate(sm, tmp_path_factory.mktemp("c") / "c", name="kws_verify")
    build(p.path, cc=cc, extra_cflags=SANITIZE, trace=True)
    return p


def _cc():
    cc = c_build.compiler()
    if cc is None:
        pytest.skip("no C compiler found")
    return cc


def test_push_pcm_harness_equals_the_oracle(sm, signal, project, tmp_path):
    """The harness's --push-pcm mode (sanitized build): the detections (step, time, label, sum) and every step's
    integer output equal kwsnum.listen's, for chunks of 1 and 5000 samples; the per-step input frames it traces are
    the oracle frontend's frames."""
    lis = listen.Listener(sm)
    want = lis.push(signal)
    q = lis.last[0]
    assert len(want) >= 2 and len(q) > 100
    p = project
    sr = sm.frontend.sample_rate
    for chunk in (1, 5000):
        r = run_push_pcm(sm, p.path, signal, str(tmp_path), chunk=chunk, trace=True)
        assert [(d.step, d.end_sample, d.label, d.sum) for d in r.detections] == \
            [(d.step, round(d.time * sr), d.label, d.sum) for d in want], f"chunk {chunk}"
        assert [d.time for d in r.detections] == [round(d.time, 6) for d in want]
        assert r.steps == len(q) and np.array_equal(r.outputs, q), f"chunk {chunk}"
    tr = r.trace(0, r.steps)
    fe = sm.frontend
    feats = (fe.stream().push(signal).astype(np.float32) * np.float32(fe.out_scale)).T
    R = streaming.info(sm)["step"]
    assert [t for t, _ in trace_layout(sm, True)][0] == sm.inputs[0]
    assert np.array_equal(tr[sm.inputs[0]], feats[:, :r.steps * R].reshape(-1, r.steps, R).swapaxes(0, 1))
    assert np.array_equal(tr[detector.output_spec(sm).name], q)
    # a bad chunk size is refused in one line, exit 1
    exe = f"{p.path}/{p.name}_main_trace"
    bad = subprocess.run([exe, "--push-pcm", "--chunk", "0", str(tmp_path / "stream.pcm"), str(tmp_path / "o"),
                          str(tmp_path / "t")],
                         capture_output=True, text=True)
    assert bad.returncode == 1 and "--chunk" in bad.stderr


def test_gate_agrees_then_names_the_perturbed_step(sm, signal, project, tmp_path, monkeypatch):
    """Every step bit-exact (C through NAME_push_pcm, its frontend included); then an oracle whose classifier
    delay state is corrupted once after step 40, and a C whose frontend input is off by one at step 57 only: the
    gate names that step (and its time), the layer and the element, in the pairs it affects."""
    R = streaming.info(sm)["step"]
    with StreamGate(sm, project=project.path) as gate:
        assert gate.c_mode == "push_pcm"
        seen = []
        res = gate.run(signal, name="s", progress=lambda d, t: seen.append((d, t)))
        assert res.ok, "\n".join(res.lines())
        assert res.steps == res.frames // R > 100 and seen[-1] == (res.steps, res.steps)
        assert [p.steps_agree for p in res.pairs] == [res.steps] * 3
        assert len(res.detections["oracle"]) >= 2 and res.detections["c"] == res.detections["oracle"]
        # break the oracle: the state of the classifier's delay line is corrupted once, after step 40
        from kwsnum.ops.delay import Delay
        orig = Delay.step
        calls = {}

        def bad_step(self, planned, inputs, state):
            y = orig(self, planned, inputs, state)
            key = planned[2]["key"]
            calls[key] = calls.get(key, 0) + 1
            if key == "flatten.delay" and calls[key] == 41:
                s = state[key].copy()
                v = s.reshape(-1)
                v[0] = v[0] + 1 if v[0] < 100 else v[0] - 1
                state[key] = s
            return y
        monkeypatch.setattr(Delay, "step", bad_step)
        res = gate.run(signal, name="s")
        pairs = {(p.a, p.b): p for p in res.pairs}
        assert not res.ok
        for key in (("c", "oracle"), ("oracle", "torch")):
            assert pairs[key].first_step == 41 and pairs[key].first.layer == "flatten.delay", key
        # torch takes each node's inputs from the oracle: it departs from C at the next layer
        assert pairs[("c", "torch")].first_step == 41 and pairs[("c", "torch")].first.layer == "flatten"
        text = "\n".join(res.lines())
        assert f"first differing step 41 ({listen.step_time(sm, 41):.3f} s)" in text
        assert "layer 9 'flatten.delay' (delay)" in text
        monkeypatch.setattr(Delay, "step", orig)
        # break the C: the generated push_pcm adds 1.0 to one input feature at step 57
        fe_c = project.path + "/kws_verify_frontend.c"
        with open(fe_c) as f:
            src = f.read()
        anchor = "        kws_verify_fe_npending = 0;\n"
        assert src.count(anchor) == 1
        with open(fe_c, "w") as f:
            f.write(src.replace(anchor, anchor + "        if (kws_verify_fe_steps == 57u)\n"
                                                 "            kws_verify_fe_input[3] += 1.0f;\n"))
        build(gate.c_dir, trace=True, extra_cflags=("-O0",))
        res = gate.run(signal, name="s")
        assert not res.ok
        pairs = {(p.a, p.b): p for p in res.pairs}
        assert pairs[("oracle", "torch")].ok
        for key in (("c", "oracle"), ("c", "torch")):
            p = pairs[key]
            assert p.first_step == 57 and p.first.layer == "input" and p.first.first[1] == (3 // R, 3 % R), key
        text = "\n".join(res.lines())
        assert f"step 57 ({listen.step_time(sm, 57):.3f} s)" in text and "layer -1 'input'" in text


def test_frames_mode_and_refusals(sm, tmp_path):
    """A streaming model without a frontend: the stream is its input frames, C steps with NAME_step (the Python
    detector on C's outputs); a model without state is refused naming --stream."""
    _cc()
    plain = copy.copy(sm)
    plain.frontend = None
    rng = np.random.default_rng(0)
    frames = (rng.random((sm.input.shape[0], 2 * 90)) * 3).astype(np.float32)
    with StreamGate(plain, use_torch=False, cflags=("-O0",)) as gate:
        assert gate.c_mode == "step"
        res = gate.run(frames, name="f")
        assert res.ok and res.steps == 90 and res.samples is None, "\n".join(res.lines())
        with pytest.raises(InputError, match="no frontend"):
            gate.run(np.zeros(100, np.int16))
        with pytest.raises(InputError, match="shape"):
            gate.run(frames[:2])
    windowed = copy.copy(sm)
    windowed.meta = {k: v for k, v in sm.meta.items() if k != streaming.META_KEY}
    windowed.nodes = [n for n in sm.nodes if n.op != "delay"]
    with pytest.raises(InputError, match="--stream"):
        StreamGate(windowed)


CODE = ("import sys; from kwsnum.cli.main import main\n"
        "try:\n    main(sys.argv[1:])\nexcept SystemExit as e:\n    code = e.code\n"
        "assert '--no-torch' not in sys.argv or 'torch' not in sys.modules, 'torch was imported'\nsys.exit(code)\n")


def kw(*args):
    import os
    env = dict(os.environ, CFLAGS="-std=c99 -O0 -ffp-contract=off -fno-strict-aliasing")   # the Makefile's CFLAGS ?=
    return subprocess.run([sys.executable, "-c", CODE, *map(str, args)], capture_output=True, text=True, timeout=600,
                          env=env)


def test_cli(sm, signal, tmp_path, capsys):
    from kwsnum.wav import write_wav
    _cc()
    kwsnum.save(sm, tmp_path / "s.h5")
    write_wav(tmp_path / "a.wav", signal[:16000 * 2], 16000)
    r = kw("verify", tmp_path / "s.h5", tmp_path / "a.wav", "--stream", "--chunk", "300", "--no-torch")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "C vs oracle" in r.stdout and "steps bit-exact" in r.stdout and "PASS" in r.stdout
    assert "detections (C)" in r.stdout and "== oracle" in r.stdout
    from tests.models_small import tiny_int8_model
    kwsnum.save(tiny_int8_model(), tmp_path / "w.h5")           # no state
    write_wav(tmp_path / "r8k.wav", signal[:8000], 8000)
    for args, msg in [((tmp_path / "w.h5", tmp_path / "a.wav", "--stream"), "--stream needs a streaming model"),
                      ((tmp_path / "s.h5", tmp_path / "r8k.wav", "--stream"), "--resample")]:
        from kwsnum.cli.main import main      # in process: the errors come before any C build
        with pytest.raises(SystemExit) as e:
            main(["verify", *map(str, args)])
        err = capsys.readouterr().err
        lines = err.strip().splitlines()
        assert e.value.code == 2 and len(lines) == 1 and lines[0].startswith("kwsnum: error: ") and msg in lines[0], \
            err
