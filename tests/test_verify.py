"""The three-way gate (kwsnum verify, kwsnum.verify.Gate) and the comparison rules (kwsnum.compare): agreement is
counted per pair, a perturbed C project is caught, and --trace names the layer that was perturbed."""
import os
import re
import shutil

import numpy as np
import pytest

from kwsnum import default, load
from kwsnum.cli.main import main
from kwsnum.codegen import build
from kwsnum.compare import (EXACT, FLOAT_RTOL, TOLERANCE, agreement, first_difference, layer_diffs,
                            same_values, within_tolerance)
from kwsnum.verify import Gate
from tests.models_small import tiny_float_model, tiny_int8_model
from tests.test_data import _write

pytestmark = pytest.mark.skipif(not any(shutil.which(c) for c in ("cc", "gcc", "clang")),
                                reason="no C compiler")


def _inputs(model, n, seed=0):
    rng = np.random.default_rng(seed)
    shape = (n,) + tuple(model.input.shape)
    if model.input.format == "int8":
        return rng.integers(-128, 128, shape).astype(np.int8)
    return (rng.standard_normal(shape) * 2).astype(np.float32)


# ------------------------------------------------------------------ compare
def test_tolerance_rule_boundaries():
    ref = np.array([[0.5, -2.0, 4.0], [0.1, 0.2, 0.3]], np.float64)
    bound0, bound1 = FLOAT_RTOL * 4.0, FLOAT_RTOL * 1.0          # per sample: max(1, max|ref|)
    a = ref.copy()
    a[0, 0] += bound0 * 0.999
    a[1, 2] += bound1 * 0.999
    assert within_tolerance(a, ref).all()
    a[1, 2] = ref[1, 2] + bound1 * 1.01                             # sample 1's bound is not sample 0's
    ok = within_tolerance(a, ref)
    assert ok.sum() == 5 and not ok[1, 2]
    nan = np.array([[np.nan, np.inf, -np.inf]])
    assert within_tolerance(nan, nan).all()
    assert not within_tolerance(np.array([[0.0, -np.inf, 0.0]]), nan).any()
    assert same_values(np.array([np.nan, -0.0]), np.array([np.nan, 0.0])).all()
    # integers are exact under either rule
    i = np.array([[3, 4]], np.int8)
    assert not agreement(i + np.int8(1), i, TOLERANCE).any()
    assert not agreement(np.float32([[1.0]]) + np.float32(1e-6), np.float32([[1.0]]), EXACT).any()


def test_layer_diffs_name_the_first_layer():
    m = tiny_int8_model()
    x = _inputs(m, 6)
    ta = m.run(x, trace=True)
    tb = {k: v.copy() for k, v in ta.items()}
    assert first_difference(m, ta, tb) is None
    last = m.nodes[-1].outputs[0]
    tb[last][4].flat[2] ^= 1
    d = first_difference(m, ta, tb)
    assert d.tensor == last and d.n_diff == 1 and d.first[0] == 4
    assert [x.n_diff for x in layer_diffs(m, ta, tb)] == [0] * len(m.nodes) + [1]


# ------------------------------------------------------------------ the gate
@pytest.mark.parametrize("make", [tiny_int8_model, tiny_float_model])
def test_gate_agrees_without_torch(make):
    m = make()
    with Gate(m, use_torch=False, trace=True) as gate:
        for k in range(3):
            gate.add(_inputs(m, 7, seed=k))
        res = gate.result()
    assert res.ok and res.n == 21 and res.impls == ("oracle", "c")
    [p] = res.pairs
    assert (p.a, p.b, p.n, p.n_agree, p.compared) == ("c", "oracle", 21, 21, "every tensor")
    assert len(res.predicted) == 21


def _exported_dscnn():
    pytest.importorskip("torch")
    from tests.test_c_models import exported
    return exported("dscnn", "int8", "double")


def _perturb_weight(project_dir, node_index):
    """Add one to the first int8 weight of node ``node_index`` in the generated C project."""
    path = os.path.join(project_dir, "kws_verify_weights.c")
    text = open(path).read()
    pat = re.compile(r"(const int8_t kws_verify_n%d_weight\[\d+\] = \{\n\s*)(-?\d+)" % node_index)
    m = pat.search(text)
    assert m, f"no int8 weight array for node {node_index}"
    v = int(m.group(2))
    new = v + 1 if v < 127 else v - 1
    open(path, "w").write(text[:m.start(2)] + str(new) + text[m.end(2):])


@pytest.mark.parametrize("trace", [False, True])
def test_gate_catches_a_perturbed_c_weight(trace, tmp_path):
    model, x = _exported_dscnn()
    conv = [n for n in model.nodes if n.op == "conv2d"]
    target = conv[1]                                      # a layer in the middle of the graph
    with Gate(model, trace=trace, c_dir=tmp_path / "c") as gate:
        _perturb_weight(gate.c_dir, target.index)
        for f in ("kws_verify_main", "kws_verify_main_trace"):
            if os.path.exists(os.path.join(gate.c_dir, f)):
                os.remove(os.path.join(gate.c_dir, f))
        build(gate.c_dir, trace=trace)
        gate.add(np.concatenate([x] * 8))
        res = gate.result()
    pairs = {(p.a, p.b): p for p in res.pairs}
    assert pairs["oracle", "torch"].ok                   # the oracle and torch still agree on every tensor
    bad = pairs["c", "oracle"]
    assert not bad.ok and bad.first_sample is not None and bad.n_agree < bad.n
    assert not pairs["c", "torch"].ok
    if trace:
        first = bad.first_layer
        assert first is not None and first.tensor == target.outputs[0], first
        assert 0 < first.fraction <= 1
    else:
        assert bad.first_layer is None and bad.compared == "outputs"


# ------------------------------------------------------------------ CLI
def _cli(argv, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    out = capsys.readouterr()
    return e.value.code, out.out, out.err


def test_cli_verify_npy_folder(tmp_path, capsys):
    m = tiny_int8_model()
    from kwsnum.io import save
    path = tmp_path / "tiny.h5"
    save(m, path)
    d = tmp_path / "inputs"
    d.mkdir()
    for k in range(3):
        np.save(d / f"x{k}.npy", _inputs(m, 4, seed=k))
    code, out, err = _cli(["verify", str(path), str(d), "--no-torch", "--trace"], capsys)
    assert code == 0, out + err
    assert "C vs oracle : 12/12 bit-exact  (every tensor)" in out
    assert "predicted classes (oracle" in out and out.rstrip().endswith("PASS: every pair agrees")


def test_cli_verify_fails_on_a_mismatch(tmp_path, capsys, monkeypatch):
    m = tiny_int8_model()
    from kwsnum.io import save
    import kwsnum.verify as v
    path = tmp_path / "tiny.h5"
    save(m, path)
    np.save(tmp_path / "x.npy", _inputs(m, 5))
    real = v.Gate._run

    def broken(self, impl, x, oracle=None):
        out = real(self, impl, x, oracle)
        if impl == "c":
            t = self.model.outputs[0]
            out[t] = out[t].copy()
            out[t][3].flat[0] ^= 1
        return out
    monkeypatch.setattr(v.Gate, "_run", broken)
    code, out, err = _cli(["verify", str(path), str(tmp_path / "x.npy"), "--no-torch"], capsys)
    assert code == 1
    assert "4/5 bit-exact" in out and "first disagreeing sample: 3" in out and "FAIL" in out
    assert "rerun with --trace" in out


def test_cli_verify_speech_commands_folder(tmp_path, capsys):
    pytest.importorskip("torch")
    root = tmp_path / "sc"
    t = np.arange(16000) / 16000
    for wi, word in enumerate(["yes", "no", "stop", "cat"]):
        for si, spk in enumerate(["aaaa0001", "bbbb0002"]):
            _write(root / word / f"{spk}_nohash_0.wav", (3000 * np.sin(2 * np.pi * (300 + 150 * wi) * t)).round())
    _write(root / "_background_noise_" / "white.wav",
           (np.random.default_rng(0).standard_normal(2 * 16000) * 800).round())
    (root / "validation_list.txt").write_text("")
    (root / "testing_list.txt").write_text("".join(f"{w}/bbbb0002_nohash_0.wav\n" for w in ["yes", "no", "stop"]))
    code, out, err = _cli(["verify", default.model_path(), str(root)], capsys)
    assert code == 0, out + err
    # 3 test clips + round(0.1 * 3) = 0 silence items
    assert "3 samples through torch, oracle, c" in out
    assert "oracle vs PyTorch reference : 3/3 agree" in out
    assert re.search(r"accuracy against the data's labels \(oracle\): [\d.]+ % \(\d/3\)", out)
    code, out, err = _cli(["verify", default.model_path(), str(root), "--split", "train", "--limit", "2",
                           "--no-c"], capsys)
    assert code == 0 and "2 samples through torch, oracle" in out


def test_cli_verify_user_errors(tmp_path, capsys):
    code, out, err = _cli(["verify", default.model_path(), str(tmp_path / "missing.npy")], capsys)
    assert code == 2 and "no such file" in err and "Traceback" not in err
    np.save(tmp_path / "bad.npy", np.zeros((2, 3), np.float32))
    code, out, err = _cli(["verify", default.model_path(), str(tmp_path / "bad.npy"), "--no-c"], capsys)
    assert code == 2 and "bad.npy" in err
