"""The command line: outputs, --json, --trace, and one-line errors with exit code 2 (never a traceback)."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import kwsnum
from tests.models_small import tiny_int8_model


def kw(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "kwsnum", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=600)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    m = tiny_int8_model()
    kwsnum.save(m, d / "m.h5")
    rng = np.random.default_rng(0)
    x = rng.integers(-128, 128, (4,) + m.input.shape).astype(np.int8)
    np.save(d / "batch.npy", x)
    (d / "folder").mkdir()
    for i in range(2):
        np.save(d / "folder" / f"s{i}.npy", x[i])
    return d, m, x


def test_run_prints_one_line_per_input(files):
    d, m, x = files
    r = kw("run", d / "m.h5", d / "folder")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith(str(d / "folder" / "s0.npy"))
    out = m.run(x[:2]).reshape(2, -1)
    for line, row in zip(lines, out):
        assert line.split("\t")[1].split()[0] == m.labels[int(np.argmax(row))]


def test_run_json_matches_the_oracle(files):
    d, m, x = files
    r = kw("run", d / "m.h5", d / "batch.npy", "--json", "--top", "3")
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)["results"]
    assert len(res) == 4 and [p["index"] for p in res] == [0, 1, 2, 3]
    out = m.run(x).reshape(4, -1)
    for rec, row in zip(res, out):
        assert rec["output"] == row.tolist()
        assert len(rec["predictions"]) == 3


def test_run_trace_writes_every_layer(files, tmp_path):
    d, m, x = files
    r = kw("run", d / "m.h5", d / "batch.npy", "--trace", tmp_path / "trace")
    assert r.returncode == 0, r.stderr
    index = json.loads((tmp_path / "trace" / "index.json").read_text())
    assert [e["tensor"] for e in index] == list(m.tensors)
    full = m.run(x, trace=True)
    for e in index:
        assert np.array_equal(np.load(tmp_path / "trace" / e["file"]), full[e["tensor"]])


def test_inspect_table_and_json(files):
    d, m, x = files
    r = kw("inspect", d / "m.h5")
    assert r.returncode == 0, r.stderr
    assert "conv1" in r.stdout and "conv2" in r.stdout and "peak activation bytes" in r.stdout
    r = kw("inspect", d / "m.h5", "--json")
    info = json.loads(r.stdout)
    assert [l["name"] for l in info["layers"]] == ["conv1", "conv2"]
    assert info["total_macs"] == 4 * 6 * 5 * 2 * 9 + 3 * 4 * 6 * 5
    assert info["weight_bytes"] == sum(a.nbytes for n in m.nodes for a in n.arrays.values())
    # input 60 B + conv1 output 120 B live together
    assert info["peak_activation_bytes"] == 2 * 6 * 5 + 4 * 6 * 5


@pytest.mark.parametrize("make_args, message", [
    (lambda d: ("run", d / "missing.h5", d / "batch.npy"), "missing.h5: no such file"),
    (lambda d: ("run", d / "fake.h5", d / "batch.npy"), "fake.h5: not an HDF5 file"),
    (lambda d: ("run", d / "m.h5", d / "nothere.npy"), "nothere.npy: no such file"),
    (lambda d: ("run", d / "m.h5", d / "wrong_shape.npy"), "wrong_shape.npy: input shape (3, 3) does not match"),
    (lambda d: ("run", d / "m.h5", d / "wrong_dtype.npy"), "does not match the model input format int8"),
    (lambda d: ("run", d / "m.h5", d / "garbage.npy"), "garbage.npy: not a readable .npy file"),
    (lambda d: ("run", d / "m.h5", d / "m.h5"), "inputs must be .npy or .wav files"),
    (lambda d: ("inspect", d / "garbage.npy"), "not an HDF5 file"),
    (lambda d: ("run", d / "m.h5"), "give INPUT files"),
])
def test_errors_are_one_line_with_exit_code_2(files, make_args, message):
    d, m, x = files
    np.save(d / "wrong_shape.npy", np.zeros((3, 3), np.int8))
    np.save(d / "wrong_dtype.npy", np.zeros(m.input.shape, np.float32))
    (d / "garbage.npy").write_bytes(b"not numpy at all")
    (d / "fake.h5").write_bytes(b"not hdf5 at all")
    r = kw(*make_args(d))
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stderr.startswith("kwsnum: error: "), r.stderr
    assert message in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_usage_error_exit_code_2(files):
    r = kw("run", "--top", "many")
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_run_does_not_import_torch(files):
    d, m, x = files
    code = ("import sys; from kwsnum.cli.main import main\n"
            "try:\n    main(sys.argv[1:])\nexcept SystemExit as e:\n    assert e.code == 0, e.code\n"
            "assert 'torch' not in sys.modules, 'torch was imported'\n")
    for args in (["run", str(d / "m.h5"), str(d / "batch.npy")], ["inspect", str(d / "m.h5")]):
        r = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stderr


def test_train_subcommand_passes_through(tmp_path):
    """kwsnum train is python -m kwsnum.train: its options, its errors and exit codes."""
    pytest.importorskip("torch")
    r = kw("train", "--help")
    assert r.returncode == 0 and "--model" in r.stdout and "--epochs" in r.stdout
    r = kw("train", tmp_path / "missing", "--model", "ds_cnn", "--out", tmp_path / "out")
    assert r.returncode == 2 and "not a directory" in r.stderr and "Traceback" not in r.stderr
