"""The HDF5 format: exact round trip, and one clear ModelError (with the HDF5 path) per defect."""
import h5py
import numpy as np
import pytest

import kwsnum
import kwsnum.io
from kwsnum.errors import ModelError, InputError
from tests.models_small import tiny_int8_model, tiny_float_model


def assert_same_model(a, b):
    assert a.name == b.name and a.rounding == b.rounding and a.labels == b.labels and a.meta == b.meta
    assert a.inputs == b.inputs and a.outputs == b.outputs
    assert list(a.tensors) == list(b.tensors)
    for k in a.tensors:
        assert a.tensors[k] == b.tensors[k]
    assert len(a.nodes) == len(b.nodes)
    for n, m in zip(a.nodes, b.nodes):
        assert (n.op, n.name, n.inputs, n.outputs) == (m.op, m.name, m.inputs, m.outputs)
        assert n.attrs.keys() == m.attrs.keys()
        for k in n.attrs:
            assert n.attrs[k] == m.attrs[k] and type(n.attrs[k]) is type(m.attrs[k]), k
        assert n.arrays.keys() == m.arrays.keys()
        for k in n.arrays:
            assert n.arrays[k].dtype == m.arrays[k].dtype and np.array_equal(n.arrays[k], m.arrays[k])


@pytest.mark.parametrize("make", [tiny_int8_model, tiny_float_model])
def test_round_trip_is_exact(tmp_path, make):
    m = make()
    p = tmp_path / "m.h5"
    kwsnum.save(m, p)
    m2 = kwsnum.load(p)
    assert_same_model(m, m2)
    x = np.random.default_rng(0).integers(-128, 128, (3,) + m.input.shape).astype(m.input.dtype)
    assert np.array_equal(m.run(x), m2.run(x))
    kwsnum.save(m2, tmp_path / "m2.h5")
    assert_same_model(m2, kwsnum.load(tmp_path / "m2.h5"))


def _corrupt(tmp_path, edit):
    p = tmp_path / "m.h5"
    kwsnum.save(tiny_int8_model(), p)
    with h5py.File(p, "r+") as f:
        edit(f)
    resign(p)
    return p


def resign(p):
    """After a deliberate edit, store a matching integrity digest, so that the edit reaches the validation it
    tests (an edit the structural checks refuse stays unsigned: load refuses it before the digest matters)."""
    try:
        kwsnum.io.sign(p)
    except kwsnum.errors.KwsnumError:
        pass


CASES = [
    (lambda f: f.attrs.__setitem__("format_version", 99), "/: unsupported format_version 99"),
    (lambda f: f.attrs.__delitem__("rounding"), "/: missing attribute 'rounding'"),
    (lambda f: f.attrs.__setitem__("rounding", "stochastic"), "unknown rounding mode 'stochastic'"),
    (lambda f: f["graph/0"].attrs.__setitem__("op", "conv3d"), "/graph/0 (conv3d): unknown op 'conv3d'"),
    (lambda f: f["graph/1"].__delitem__("bias"), "/graph/1 (conv2d): missing dataset 'bias'"),
    (lambda f: (f["graph/1"].__delitem__("weight"),
                f["graph/1"].create_dataset("weight", data=np.zeros((3, 5, 6, 5), np.int8))),
     "/graph/1 (conv2d): weight shape (3, 5, 6, 5) does not match in_channels=4"),
    (lambda f: (f["graph/0"].__delitem__("multiplier"),
                f["graph/0"].create_dataset("multiplier", data=np.zeros(4, np.float32))),
     "/graph/0 (conv2d): dataset 'multiplier' has dtype float32, expected int32"),
    (lambda f: f["tensors/1"].attrs.__setitem__("shape", np.array([4, 6, 7])),
     "/graph/0 (conv2d): output 'conv1' has shape (4, 6, 7), but the op computes (4, 6, 5)"),
    (lambda f: f["tensors/0"].attrs.__setitem__("shape", np.array([2, 1 << 30, 5])), "/tensors/0 (input): dimensions too large"),
    (lambda f: f["tensors/0"].attrs.__setitem__("zero_point", 300), "zero point must be in [-128, 127]"),
    (lambda f: f["graph/0"].attrs.__setitem__("stride", np.array([1])), "attribute 'stride' must be 2 integers"),
    (lambda f: f["graph/0"].attrs.__setitem__("inputs", np.array(["nope"], dtype=h5py.string_dtype())),
     "/graph/0 (conv2d): input tensor 'nope' is not declared"),
    (lambda f: f.__delitem__("tensors"), "missing group /tensors"),
    (lambda f: f["graph"].move("1", "7"), "/graph: members must be named 0..1"),
    (lambda f: f["graph/0"].attrs.__setitem__("frobnicate", 1), "unknown attribute(s) 'frobnicate'"),
]


@pytest.mark.parametrize("edit, message", CASES)
def test_load_errors_name_the_path(tmp_path, edit, message):
    p = _corrupt(tmp_path, edit)
    with pytest.raises(ModelError) as e:
        kwsnum.load(p)
    assert message in str(e.value)
    assert str(e.value).startswith(str(p))


def test_load_file_errors(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        kwsnum.load(tmp_path / "missing.h5")
    (tmp_path / "text.h5").write_text("hello")
    with pytest.raises(InputError, match="not an HDF5 file"):
        kwsnum.load(tmp_path / "text.h5")


def test_save_is_atomic(tmp_path, monkeypatch):
    """A failure while writing leaves neither a half-written file nor a temporary file."""
    m = tiny_int8_model()
    m.nodes[0].attrs["bad"] = object()
    with pytest.raises(TypeError):
        kwsnum.save(m, tmp_path / "m.h5")
    assert list(tmp_path.iterdir()) == []
