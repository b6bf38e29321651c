"""The HDF5 model format (docs/format.md): save, load, validate.

Every problem found while loading raises ModelError naming the HDF5 path and what is wrong.
"""
import os
import tempfile

import numpy as np

from .errors import ModelError, InputError
from .model import QFORMATS, QUANTIZED, Model, Node, TensorSpec

FORMAT_VERSION = 1
RESERVED = ("op", "name", "inputs", "outputs")


def _h5py():
    import h5py
    return h5py


# ------------------------------------------------------------------ save
def _attr_value(v):
    if isinstance(v, (bool, np.bool_)):
        return np.bool_(v)
    if isinstance(v, (int, np.integer)):
        return np.int64(v)
    if isinstance(v, (float, np.floating)):
        return np.float64(v)
    if isinstance(v, str):
        return v
    if isinstance(v, (tuple, list)):
        return np.asarray(v, dtype=np.int64)
    raise TypeError(f"cannot store attribute value {v!r}")


def _str_list(values):
    h5py = _h5py()
    return np.array(list(values), dtype=h5py.string_dtype("utf-8"))


def save(model, path):
    """Write ``model`` to ``path`` atomically (temporary file in the same folder, then renamed)."""
    h5py = _h5py()
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".kwsnum-", suffix=".h5.tmp", dir=folder)
    os.close(fd)
    try:
        with h5py.File(tmp, "w") as f:
            from . import __version__
            f.attrs["format_version"] = np.int64(FORMAT_VERSION)
            f.attrs["producer"] = f"kwsnum {__version__}"
            f.attrs["name"] = model.name
            f.attrs["rounding"] = model.rounding
            f.attrs["inputs"] = _str_list(model.inputs)
            f.attrs["outputs"] = _str_list(model.outputs)
            if model.labels is not None:
                f.create_dataset("labels", data=_str_list(model.labels))
            if model.frontend is not None:
                from .frontend import frontend_to_group
                frontend_to_group(model.frontend, f.create_group("frontend"))
            meta = f.create_group("meta")
            for k, v in model.meta.items():
                meta.attrs[k] = str(v)
            tg = f.create_group("tensors")
            for i, t in enumerate(model.tensors.values()):
                g = tg.create_group(str(i))
                g.attrs["name"] = t.name
                g.attrs["shape"] = np.asarray(t.shape, dtype=np.int64)
                g.attrs["format"] = t.format
                if t.format in QUANTIZED:
                    g.attrs["scale"] = np.float32(t.scale)
                    g.attrs["zero_point"] = np.int32(t.zero_point)
                if t.format in QFORMATS:
                    g.attrs["frac_bits"] = np.int32(t.frac_bits)
            gg = f.create_group("graph")
            for i, n in enumerate(model.nodes):
                g = gg.create_group(str(i))
                g.attrs["op"] = n.op
                g.attrs["name"] = n.name
                g.attrs["inputs"] = _str_list(n.inputs)
                g.attrs["outputs"] = _str_list(n.outputs)
                for k, v in n.attrs.items():
                    if k in RESERVED:
                        raise ModelError(f"attribute name {k!r} is reserved", where=n.where)
                    g.attrs[k] = _attr_value(v)
                for k, a in n.arrays.items():
                    g.create_dataset(k, data=np.asarray(a))
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


# ------------------------------------------------------------------ load
def _s(v):
    return v.decode() if isinstance(v, bytes) else v


def _get_attr(obj, key, where, kind):
    if key not in obj.attrs:
        raise ModelError(f"missing attribute {key!r}", where=where)
    v = obj.attrs[key]
    try:
        if kind == "str":
            v = _s(v)
            if not isinstance(v, str):
                raise TypeError
            return v
        if kind == "strs":
            arr = np.asarray(v)
            if arr.ndim != 1:
                raise TypeError
            out = [_s(x) for x in arr.tolist()]
            if not all(isinstance(x, str) for x in out):
                raise TypeError
            return out
        if kind == "int":
            arr = np.asarray(v)
            if arr.ndim != 0 or arr.dtype.kind not in "iu":
                raise TypeError
            return int(arr)
        if kind == "ints":
            arr = np.asarray(v)
            if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
                raise TypeError
            return tuple(int(x) for x in arr)
        if kind == "float":
            arr = np.asarray(v)
            if arr.ndim != 0 or arr.dtype.kind not in "fiu":
                raise TypeError
            return float(arr)
    except (TypeError, ValueError):
        raise ModelError(f"attribute {key!r} has the wrong type (expected {kind}), got {v!r}", where=where) \
            from None
    raise AssertionError(kind)


def _numbered(group, where):
    keys = list(group.keys())
    if sorted(keys, key=lambda k: (len(k), k)) != [str(i) for i in range(len(keys))]:
        raise ModelError(f"members must be named 0..{len(keys) - 1}, got {sorted(keys)[:8]}", where=where)
    return [group[str(i)] for i in range(len(keys))]


def load(path):
    """Load and validate a model. Raises ModelError (file errors: InputError) naming the file and path."""
    h5py = _h5py()
    path = os.fspath(path)
    if not os.path.exists(path):
        raise InputError("no such file", file=path)
    if os.path.isdir(path):
        raise InputError("is a folder, not a model file", file=path)
    try:
        is_h5 = h5py.is_hdf5(path)
    except OSError as e:
        raise InputError(f"cannot read: {e}", file=path) from None
    if not is_h5:
        raise InputError("not an HDF5 file", file=path)
    try:
        with h5py.File(path, "r") as f:
            return _read(f)
    except ModelError as e:
        raise e.with_file(path) from None
    except OSError as e:
        raise InputError(f"cannot read HDF5 content: {e}", file=path) from None


def _read(f):
    root = "/"
    version = _get_attr(f, "format_version", root, "int")
    if version != FORMAT_VERSION:
        raise ModelError(f"unsupported format_version {version} (this kwsnum reads version {FORMAT_VERSION})",
                         where=root)
    name = _get_attr(f, "name", root, "str")
    rounding = _get_attr(f, "rounding", root, "str")
    inputs = _get_attr(f, "inputs", root, "strs")
    outputs = _get_attr(f, "outputs", root, "strs")
    if len(inputs) != 1 or len(outputs) != 1:
        raise ModelError(f"models have one input and one output, got {len(inputs)} and {len(outputs)}", where=root)
    labels = None
    if "labels" in f:
        d = f["labels"]
        if not isinstance(d, h5py_dataset()) or d.ndim != 1:
            raise ModelError("must be a 1-D dataset of strings", where="/labels")
        labels = [_s(x) for x in d[()].tolist()]
        if not all(isinstance(x, str) for x in labels):
            raise ModelError("must be a 1-D dataset of strings", where="/labels")
    meta = {}
    if "meta" in f:
        meta = {k: _s(v) if isinstance(v, (bytes, str)) else str(v) for k, v in f["meta"].attrs.items()}
    frontend = None
    if "frontend" in f:
        from .frontend import frontend_from_group
        if not isinstance(f["frontend"], h5py_group()):
            raise ModelError("must be a group of attributes", where="/frontend")
        frontend = frontend_from_group(f["frontend"])
    for grp in ("tensors", "graph"):
        if grp not in f or not isinstance(f[grp], h5py_group()):
            raise ModelError(f"missing group /{grp}", where=root)
    tensors = []
    for i, g in enumerate(_numbered(f["tensors"], "/tensors")):
        where = f"/tensors/{i}"
        tname = _get_attr(g, "name", where, "str")
        shape = _get_attr(g, "shape", where, "ints")
        fmt = _get_attr(g, "format", where, "str")
        scale = zp = frac = None
        if fmt in QUANTIZED:
            scale = _get_attr(g, "scale", where, "float")
            zp = _get_attr(g, "zero_point", where, "int")
        if fmt in QFORMATS:
            frac = _get_attr(g, "frac_bits", where, "int")
        tensors.append(TensorSpec(tname, shape, fmt, scale, zp, frac))
    names = [t.name for t in tensors]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise ModelError(f"tensor name {dup!r} is declared twice", where="/tensors")
    nodes = []
    for i, g in enumerate(_numbered(f["graph"], "/graph")):
        where = f"/graph/{i}"
        op = _get_attr(g, "op", where, "str")
        where = f"/graph/{i} ({op})"
        node = Node(op, _get_attr(g, "name", where, "str"), _get_attr(g, "inputs", where, "strs"),
                    _get_attr(g, "outputs", where, "strs"), index=i)
        for k, v in g.attrs.items():
            if k in RESERVED:
                continue
            node.attrs[k] = _s(v) if isinstance(v, bytes) else v
        for k, d in g.items():
            if not isinstance(d, h5py_dataset()):
                raise ModelError(f"{k!r} must be a dataset", where=where)
            node.arrays[k] = d[()]
        nodes.append(node)
    return Model(tensors, nodes, inputs, outputs, labels=labels, rounding=rounding, name=name, meta=meta,
                 frontend=frontend)


def h5py_dataset():
    return _h5py().Dataset


def h5py_group():
    return _h5py().Group
