"""kwsnum.train: the training / export / evaluation pipeline on a tiny synthetic dataset.

No accuracy targets: 1-2 epochs on ~100 clips train nothing useful. The tests check that every
output exists and is consistent with the others, and that a degenerate model is flagged and fails."""
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import kwsnum  # noqa: E402
from kwsnum import train  # noqa: E402
from kwsnum.data import LABELS, load_arrays, load_split  # noqa: E402

HAVE_TOOLS = shutil.which("espeak-ng") is not None and shutil.which("sox") is not None


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    if not HAVE_TOOLS:
        pytest.skip("espeak-ng and sox are not installed")
    out = tmp_path_factory.mktemp("sc_tiny") / "sc"
    # 10 speakers -> 8 train / 1 validation / 1 test; each says each keyword once
    subprocess.run([sys.executable, "-m", "kwsnum.data.synth", str(out), "--per-word", "10",
                    "--n-speakers", "10", "--n-unknown-words", "3", "--quiet", "--jobs", "2",
                    "--synths", "espeak"],
                   check=True, timeout=120)
    return out


RUNS = {"ds_cnn": ["--width", "16", "--epochs", "2"],
        "kws_raw": ["--width", "16", "--epochs", "2"],
        "kws_attn": ["--width", "8", "--epochs", "2"]}


@pytest.fixture(scope="module")
def runs(tiny_data, tmp_path_factory):
    res = {}
    for name, extra in RUNS.items():
        out = tmp_path_factory.mktemp(f"train_{name}")
        argv = [str(tiny_data), "--model", name, "--out", str(out), "--batch-size", "16",
                "--max-minutes", "0.5", "--threads", "1", "--quiet"] + extra
        rc = train.main(argv)
        res[name] = (rc, out, json.load(open(out / "report.json")))
    return res


@pytest.mark.parametrize("name", list(RUNS))
def test_outputs_exist_and_agree(runs, tiny_data, name):
    rc, out, rep = runs[name]
    # exit code and status agree; a degenerate model never passes
    assert rc in (0, train.EXIT_DEGENERATE)
    assert (rc == train.EXIT_DEGENERATE) == rep["degenerate"] == (rep["status"] == "DEGENERATE")
    if rep["degenerate"]:
        assert rep["degenerate_reasons"]
        assert "DEGENERATE" in (out / "report.md").read_text()
    q = train.DEPLOY.get(name, ("int8",))[0]          # the deployment export: int8, or mixed for kws_attn
    for key in ("checkpoint", "h5_float32", f"h5_{q}", "report_json", "report_md"):
        assert os.path.isfile(rep["files"][key]), key
    for key in ("float_torch", "float32_h5", f"{q}_h5"):
        assert os.path.isfile(rep["files"][f"confusion_{key}_csv"])
        png = rep["files"].get(f"confusion_{key}_png")
        assert png is None or open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n"

    # the report's numbers
    n_test = rep["data"]["counts"]["test"]
    assert rep["model"] == name and rep["labels"] == LABELS
    assert 1 <= rep["training"]["epochs_run"] <= rep["training"]["epochs_planned"]
    assert 0.0 <= rep["training"]["best_val_acc"] <= 1.0
    for key, res in rep["test"].items():
        assert res["n"] == n_test
        for f in ("accuracy", "macro_f1"):
            assert 0.0 <= res[f] <= 1.0
        for m in res["per_class"]:
            for f in ("precision", "recall", "f1"):
                assert 0.0 <= m[f] <= 1.0
        cm = np.asarray(res["confusion"])
        assert cm.shape == (12, 12) and cm.sum() == n_test
        assert np.trace(cm) / n_test == pytest.approx(res["accuracy"])
        assert sum(res["predicted_distribution"].values()) == n_test
        assert list(cm.sum(0)) == [res["predicted_distribution"][lab] for lab in LABELS]
        assert res["degenerate"] == train.degeneracy(cm)[0]
    for v in rep["agreement_with_float_torch"].values():
        assert 0.0 <= v <= 1.0

    # the .h5 files load, carry the frontend and the labels; the int8 oracle runs on the test features
    m8 = kwsnum.load(rep["files"][f"h5_{q}"])
    assert "int8" in {t.format for t in m8.tensors.values()}
    if q == "mixed":
        assert {"float16", "int8"} <= {t.format for t in m8.tensors.values()}
    m32 = kwsnum.load(rep["files"]["h5_float32"])
    assert m8.labels == LABELS and m32.labels == LABELS
    assert m8.frontend == m32.frontend
    assert m8.frontend.to_attrs() == rep["frontend"]["attrs"]
    clips, y = load_arrays(load_split(tiny_data, "test", balance_unknown=True))
    X = m8.frontend.compute_batch(clips)
    assert X.shape == (n_test,) + tuple(rep["frontend"]["shape"])
    logits8 = m8.run(X)
    assert logits8.shape == (n_test, 12) and np.isfinite(logits8).all()
    acc8 = float((logits8.argmax(1) == y).mean())
    assert acc8 == pytest.approx(rep["test"][f"{q}_h5"]["accuracy"])

    # the float checkpoint rebuilds the network; its predictions are the report's float_torch ones
    ck = torch.load(rep["files"]["checkpoint"], weights_only=False)
    assert ck["model"] == name and ck["labels"] == LABELS
    net = train.build_model(name, ck["args"])
    net.load_state_dict(ck["state_dict"])
    net.eval()
    with torch.no_grad():
        logits = net(torch.from_numpy(X)).numpy()
    assert float((logits.argmax(1) == y).mean()) == pytest.approx(rep["test"]["float_torch"]["accuracy"])
    # float32 oracle vs torch: same arithmetic up to float32 reordering
    np.testing.assert_allclose(m32.run(X), logits, rtol=1e-3, atol=1e-3)


def test_degeneracy_flag():
    n = 12
    y = np.repeat(np.arange(n), 5)
    one = train.confusion_matrix(y, np.full_like(y, 3), n)
    assert train.degeneracy(one)[0]
    few = train.confusion_matrix(y, y % 5, n)                    # 5 of 12 classes predicted
    assert train.degeneracy(few)[0]
    half = train.confusion_matrix(y, y % 6, n)                   # 6 of 12: not degenerate
    assert not train.degeneracy(half)[0]
    assert not train.degeneracy(train.confusion_matrix(y, y, n))[0]
    assert train.degeneracy(np.zeros((n, n), int))[0]
    res = train.evaluate_predictions(y, np.full_like(y, 0), LABELS)
    assert res["degenerate"] and res["accuracy"] == pytest.approx(1 / 12)
    assert res["predicted_distribution"]["silence"] == len(y)
    pc = {m["label"]: m for m in res["per_class"]}
    assert pc["silence"]["precision"] == pytest.approx(1 / 12) and pc["silence"]["recall"] == 1.0
    assert pc["yes"]["f1"] == 0.0 and not pc["yes"]["precision_defined"]


def test_shift_batch():
    x = torch.arange(2 * 1 * 3 * 8, dtype=torch.float32).reshape(2, 1, 3, 8)
    fill = torch.full((1, 1, 3, 8), -1.0)
    g = torch.Generator().manual_seed(0)
    y = train._shift_batch(torch, x, 3, fill, g, -1)
    assert y.shape == x.shape
    for i in range(2):
        row = y[i, 0, 0]
        kept = row[row >= 0]
        # a shifted window of the original row, the rest filled
        assert len(kept) >= 5 and torch.all(kept[1:] - kept[:-1] == 1)
        assert torch.all(row[row < 0] == -1)
    assert torch.equal(train._shift_batch(torch, x, 0, fill, g, -1), x)


def test_kws_mfcc_model_exports():
    from kwsnum.export import from_torch
    from kwsnum.models import KwsMfcc, randomize_
    fe = train.make_frontend("kws_mfcc", "mfcc")
    assert fe.output_shape == (40, 101)
    net = KwsMfcc()
    x = torch.randn(8, *fe.output_shape)
    assert net(x).shape == (8, 12)
    randomize_(net, seed=1, data=x)
    m = from_torch(net, x[:1], x, precision="int8", labels=LABELS, frontend=fe)
    out = m.run(x.numpy())
    assert out.shape == (8, 12) and np.isfinite(out).all()


def test_bad_model_frontend_pair(tmp_path, capsys):
    assert train.main([str(tmp_path), "--model", "ds_cnn", "--frontend", "raw", "--out", str(tmp_path / "o")]) == 2
    assert "ds_cnn takes logmel, mfcc or micro" in capsys.readouterr().err
    assert train.main([str(tmp_path / "missing"), "--out", str(tmp_path / "o")]) == 2


def test_kws_raw_archs():
    from kwsnum.models import RawCNN
    # "issue" is RawCNN's defaults (the issue's kws_raw)
    issue = train.model_args("kws_raw", 64, (1, 16000), 12, raw_arch="issue")
    ref, net = RawCNN(), train.build_model("kws_raw", issue)
    assert [type(m) for m in net.modules()] == [type(m) for m in ref.modules()]
    assert [tuple(p.shape) for p in net.parameters()] == [tuple(p.shape) for p in ref.parameters()]
    wide = train.model_args("kws_raw", 64, (1, 16000), 12, raw_arch="wide")
    assert wide["channels"] == (16, 32, 64, 64) and wide["pool"] == 8 and wide["kernel_size"] == 9
    net = train.init_for_training("kws_raw", train.build_model("kws_raw", wide))
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv1d)]
    assert [m.kernel_size for m in convs] == [(9,)] * 4
    assert all(float(m.bias.detach().abs().max()) == 0.0 for m in convs)
    assert net(torch.zeros(2, 1, 16000)).shape == (2, 12)
    with pytest.raises(ValueError):
        RawCNN(channels=(8, 16), kernel_size=(3, 3, 3))
    with pytest.raises(ValueError):
        RawCNN(channels=(8, 16), block_pool=(2, 2, 2))


def test_kws_raw_front_arch_is_the_default():
    from kwsnum.models import RawCNN
    assert train.DEFAULT_RAW_ARCH == "front"
    args = train.model_args("kws_raw", 64, (1, 16000), 12)
    assert args == train.model_args("kws_raw", 64, (1, 16000), 12, raw_arch="front")
    assert args["channels"] == (64,) * 4 and args["pool"] == 1
    assert args["front"] == dict(channels=64, kernel=400, stride=160, pool=1)
    from kwsnum import zoo                            # the zoo entry is the training default at W 64
    assert dict(zoo.ZOO["kws_raw_front"].args, n_classes=12) == args
    net = train.init_for_training("kws_raw", train.build_model("kws_raw", args))
    assert isinstance(net, RawCNN)
    layers = list(net.features)
    # no AvgPool1d: the learned front end (25 ms windows, 10 ms hop -> 100 frames) comes first
    assert isinstance(layers[0], torch.nn.Conv1d) and layers[0].kernel_size == (400,) and layers[0].stride == (160,)
    lns = [m for m in layers if isinstance(m, torch.nn.LayerNorm)]
    assert [tuple(m.normalized_shape) for m in lns] == [(64, 100), (64, 100), (64, 100), (64, 50), (64, 25)]
    assert sum(isinstance(m, torch.nn.AvgPool1d) for m in layers) == 0
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv1d)]
    assert all(float(m.bias.detach().abs().max()) == 0.0 for m in convs)
    net.train()
    assert net(torch.randn(2, 1, 16000)).shape == (2, 12)
    net.eval()
    x = torch.randn(2, 1, 16000)
    assert torch.equal(net(x), net(x))                # the dropout is off in eval mode


def test_kws_raw_front_exports_int8():
    from kwsnum.export import from_torch
    from kwsnum.models import randomize_
    fe = train.make_frontend("kws_raw", "raw")
    net = train.build_model("kws_raw", train.model_args("kws_raw", 16, fe.output_shape, 12))
    x = 0.05 * torch.randn(16, *fe.output_shape)
    randomize_(net, seed=1, data=x)
    with torch.no_grad():
        ref = net(x).numpy()
    m32 = from_torch(net, x[:1], x, precision="float32", labels=LABELS, frontend=fe)
    np.testing.assert_allclose(m32.run(x.numpy()), ref, rtol=1e-4, atol=1e-4)
    m8 = from_torch(net, x[:1], x, precision="int8", labels=LABELS, frontend=fe)
    assert "int8" in {t.format for t in m8.tensors.values()}
    out = m8.run(x.numpy())
    assert out.shape == (16, 12) and np.isfinite(out).all()


def test_recipe_defaults():
    a = train.parse_args(["d", "--model", "kws_raw", "--out", "o"])
    assert (a.noise_prob, a.label_smoothing, a.speed_perturb, a.raw_arch) == (0.5, 0.1, 0.1, "front")
    a = train.parse_args(["d", "--model", "kws_raw", "--out", "o", "--noise-prob", "0", "--label-smoothing", "0",
                          "--speed-perturb", "0"])
    assert (a.noise_prob, a.label_smoothing, a.speed_perturb) == (0.0, 0.0, 0.0)
    a = train.parse_args(["d", "--model", "ds_cnn", "--out", "o"])
    assert (a.noise_prob, a.label_smoothing, a.speed_perturb) == (0.0, 0.0, 0.0)


def test_raw_only_augmentations_refused_elsewhere(tmp_path, capsys):
    for flag in ("--noise-prob", "--speed-perturb"):
        assert train.main([str(tmp_path), "--model", "ds_cnn", "--out", str(tmp_path / "o"), flag, "0.5"]) == 2
        assert "needs the raw frontend" in capsys.readouterr().err


def test_speed_batch():
    g = torch.Generator().manual_seed(0)
    t = torch.arange(1001, dtype=torch.float32)
    x = torch.stack([t, 2 * t])[:, None, :]                   # (2, 1, 1001): linear ramps
    y = train._speed_batch(torch, x, 0.2, g)
    assert y.shape == x.shape
    # a linear ramp resampled about the centre stays a ramp through the centre sample
    for i in range(2):
        row = y[i, 0]
        assert float(row[500]) == pytest.approx(float(x[i, 0, 500]), rel=1e-5)
        mid = row[300:701]                                    # sources within the clip for any factor
        slope = (mid[1:] - mid[:-1]) / (1.0 + i)
        assert 0.8 - 1e-3 <= float(slope.mean()) <= 1.2 + 1e-3
        assert torch.allclose(slope, slope.mean().expand_as(slope), atol=1e-2)
    assert torch.equal(train._speed_batch(torch, x, 0.0, g), x)


def test_noise_batch():
    g = torch.Generator().manual_seed(0)
    x = torch.zeros(64, 1, 100)
    noise = [torch.ones(300), -torch.ones(200)]
    y = train._noise_batch(torch, x, noise, 0.5, 0.2, g)
    assert y.shape == x.shape and torch.equal(x, torch.zeros_like(x))        # not in place
    gains = y[:, 0, 0]
    assert torch.all(y == gains[:, None, None])                                # one gain per sample
    assert torch.all(gains.abs() <= 0.2)
    n_noisy = int((gains != 0).sum())
    assert 16 <= n_noisy <= 48                                                 # about half of them
    assert bool((gains > 0).any()) and bool((gains < 0).any())                 # both files used
    assert torch.equal(train._noise_batch(torch, x, noise, 0.0, 0.2, g), x)
    assert torch.equal(train._noise_batch(torch, x, [], 1.0, 0.2, g), x)


def test_from_checkpoint_reexports_the_same_net(runs, tiny_data, tmp_path, capsys):
    """--from-checkpoint: no training; the checkpoint's validation accuracy is reproduced, the float files
    equal the original run's, and a checkpoint of other arguments is refused in one line."""
    rc, out, rep = runs["ds_cnn"]
    base = [str(tiny_data), "--model", "ds_cnn", "--batch-size", "16", "--threads", "1", "--quiet"] + RUNS["ds_cnn"]
    again = tmp_path / "again"
    rc2 = train.main(base + ["--out", str(again), "--from-checkpoint", str(out / "ds_cnn.pt")])
    rep2 = json.load(open(again / "report.json"))
    assert rc2 == rc and rep2["training"]["history"] == []
    assert rep2["training"]["best_val_acc"] == rep["training"]["best_val_acc"]
    assert rep2["test"]["float_torch"]["accuracy"] == rep["test"]["float_torch"]["accuracy"]
    X = np.random.default_rng(0).normal(size=(4,) + tuple(rep["frontend"]["shape"])).astype(np.float32)
    np.testing.assert_array_equal(kwsnum.load(str(again / "ds_cnn_float32.h5")).run(X),
                                  kwsnum.load(str(out / "ds_cnn_float32.h5")).run(X))
    capsys.readouterr()
    assert train.main([str(tiny_data), "--model", "ds_cnn", "--width", "8", "--epochs", "1", "--quiet",
                       "--out", str(tmp_path / "bad"), "--from-checkpoint", str(out / "ds_cnn.pt")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "does not match" in err[0], err
