"""The HDF5 model format (docs/format.md): save, load, validate.

Every problem found while loading raises ModelError naming the HDF5 path and what is wrong.
"""
import os
import stat
import tempfile

import numpy as np

from .errors import KwsnumError, ModelError, InputError
from .h5child import run_isolated, time_limit
from .h5safe import H5File, warm
from .integrity import ALGORITHM, DIGEST_PATH, item_digest
from .model import AFFINE, MAX_CONSTANT_BYTES, QFORMATS, Model, Node, TensorSpec
from .text import printable, short_repr

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
                if t.format in AFFINE:
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
        _sign_checked(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)       # mkstemp creates 0600; a saved model gets the usual permissions
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


# ------------------------------------------------------------------ load
ROOT_ATTRS = ("format_version", "producer", "name", "rounding", "inputs", "outputs")
ROOT_MEMBERS = ("labels", "meta", "frontend", "tensors", "graph", DIGEST_PATH)
TENSOR_ATTRS = ("name", "shape", "format", "scale", "zero_point", "frac_bits")
MAX_FILE_BYTES = 1 << 30       # a model file larger than this is refused before it is opened
MAX_NAME_CHARS = 256           # tensor, node, op and label names
MAX_ITEMS = 1 << 16            # tensors, nodes, labels, meta entries


def _as_str(v, key, where):
    if not isinstance(v, str):
        raise ModelError(f"attribute {key!r} must be a string, got {short_repr(v)}", where=where)
    return v


def _name(v, key, where):
    v = _as_str(v, key, where)
    if not v or len(v) > MAX_NAME_CHARS:
        raise ModelError(f"attribute {key!r} must be a name of 1 to {MAX_NAME_CHARS} characters, got "
                         f"{len(v)} characters", where=where)
    return v


def _get_attr(attrs, key, where, kind):
    """A typed root / tensor attribute from the dict :class:`kwsnum.h5safe.H5File` read."""
    if key not in attrs:
        raise ModelError(f"missing attribute {key!r}", where=where)
    v = attrs[key]
    if kind == "str":
        return _as_str(v, key, where)
    if kind == "name":
        return _name(v, key, where)
    if kind == "names":
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            raise ModelError(f"attribute {key!r} must be a list of strings, got {short_repr(v)}", where=where)
        return [_name(x, key, where) for x in v]
    arr = np.asarray(v) if not isinstance(v, (str, list)) else None
    if kind == "int":
        if arr is None or arr.ndim != 0 or arr.dtype.kind not in "iu":
            raise ModelError(f"attribute {key!r} must be an integer, got {short_repr(v)}", where=where)
        return int(arr)
    if kind == "ints":
        if arr is None or arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
            raise ModelError(f"attribute {key!r} must be a 1-D list of integers, got {short_repr(v)}", where=where)
        return tuple(int(x) for x in arr)
    if kind == "float":
        if arr is None or arr.ndim != 0 or arr.dtype.kind not in "fiu":
            raise ModelError(f"attribute {key!r} must be a number, got {short_repr(v)}", where=where)
        return float(arr)
    raise AssertionError(kind)


def _numbered(names, where):
    if len(names) > MAX_ITEMS:
        raise ModelError(f"{len(names)} members (at most {MAX_ITEMS})", where=where)
    if sorted(names, key=lambda k: (len(k), k)) != [str(i) for i in range(len(names))]:
        shown = ", ".join(printable(n, 20) for n in sorted(names)[:8])
        raise ModelError(f"members must be named 0..{len(names) - 1}, got {shown}", where=where)
    return [f"{where}/{i}" for i in range(len(names))]


def _no_unknown(names, known, where, what="attribute"):
    unknown = sorted(set(names) - set(known))
    if unknown:
        shown = ", ".join(repr(printable(u, 40)) for u in unknown[:5])
        raise ModelError(f"unknown {what}{'s' if len(unknown) > 1 else ''} {shown} "
                         f"({'known: ' + ', '.join(known) if known else 'none is allowed here'})", where=where)


def regular_file(path, what, limit):
    """os.stat of ``path``, which must be a regular file (never a FIFO, socket or device: reading one could block
    forever) of at most ``limit`` bytes; InputError otherwise. ``what``: "model files", "inputs", ..."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise InputError("no such file", file=path) from None
    except OSError as e:
        raise InputError(f"cannot read: {e.strerror or e}", file=path) from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"is a folder; {what} are files", file=path)
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"is not a regular file (a FIFO, socket or device); {what} must be regular files",
                         file=path)
    if st.st_size > limit:
        raise InputError(f"is {st.st_size} bytes; {what} are at most {limit} bytes", file=path)
    return st


def _check_file(path):
    """The model path must name a readable regular file of bounded size (never a FIFO or a device)."""
    st = regular_file(path, "model files", MAX_FILE_BYTES)
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
    except OSError as e:
        raise InputError(f"cannot read: {e.strerror or e}", file=path) from None
    if head != b"\x89HDF\r\n\x1a\n":
        # HDF5 also allows a user block before the signature; kwsnum never writes one
        raise InputError("not an HDF5 file (kwsnum model files start with the HDF5 signature)", file=path)
    return st


def load(path):
    """Load and validate a model. Raises ModelError (file errors: InputError) naming the file and path.

    The file is read through :mod:`kwsnum.h5safe` (structure, datatypes and sizes checked before any data is
    read; links and external storage refused), its integrity digest is checked, then every node is validated
    against its op's schema (docs/format.md)."""
    path = os.fspath(path)
    st = _check_file(path)
    warm()
    try:
        raw = run_isolated(_read_raw_path, path, time_limit(st.st_size))
        return _build(raw)
    except KwsnumError as e:
        raise e.with_file(path) from None


def _read_raw_path(path):
    with H5File(path) as f:
        return _read_raw(f)


def read_raw(path):
    """The raw content of a model file as :func:`load` reads it (checked, in an isolated child): for tools."""
    st = _check_file(os.fspath(path))
    warm()
    return run_isolated(_read_raw_path, os.fspath(path), time_limit(st.st_size))


def _read_raw(f):
    """Everything a model holds, as plain values, plus the digest of every item in canonical order."""
    root = "/"
    members = f.members(root)
    _no_unknown(members, ROOT_MEMBERS, root, "member")
    root_attrs = f.attrs(root)
    _no_unknown(root_attrs, ROOT_ATTRS, root)
    raw = dict(root=root_attrs, items=[], labels=None, meta=None, frontend=None, frontend_arrays={}, tensors=[],
               nodes=[], digest=None)
    raw["items"].append(("/", item_digest("/", attrs=root_attrs)))
    for grp in ("tensors", "graph"):
        if grp not in members or f.kind(f"/{grp}") != "group":
            raise ModelError(f"missing group /{grp}", where=root)
    if "labels" in members:
        if f.kind("/labels") != "dataset":
            raise ModelError("must be a 1-D dataset of strings", where="/labels")
        _no_unknown(f.attr_names("/labels"), (), "/labels")
        shape, kind, _ = f.dataset_info("/labels")
        if kind != "str" or len(shape) != 1:
            raise ModelError("must be a 1-D dataset of strings", where="/labels")
        if shape[0] > MAX_ITEMS:
            raise ModelError(f"{shape[0]} labels (at most {MAX_ITEMS})", where="/labels")
        labels = f.dataset("/labels", strings=True)
        for i, lab in enumerate(labels):
            if len(lab) > MAX_NAME_CHARS:
                raise ModelError(f"label {i} has {len(lab)} characters (at most {MAX_NAME_CHARS})", where="/labels")
        raw["labels"] = labels
        raw["items"].append(("/labels", item_digest("/labels", array=None, attrs={"labels": labels})))
    for grp in ("meta", "frontend"):
        if grp in members:
            where = f"/{grp}"
            if f.kind(where) != "group" or (grp == "meta" and f.members(where)):
                raise ModelError("must be a group of attributes (no members)", where=where)
            a = f.attrs(where)
            if len(a) > MAX_ITEMS:
                raise ModelError(f"{len(a)} attributes (at most {MAX_ITEMS})", where=where)
            raw[grp] = a
            raw["items"].append((where, item_digest(where, attrs=a)))
            if grp == "frontend":          # the micro frontend's tables (docs/format.md)
                for k in sorted(f.members(where)):
                    dpath = f"{where}/{k}"
                    if f.kind(dpath) != "dataset":
                        raise ModelError("must be a dataset", where=dpath)
                    _no_unknown(f.attr_names(dpath), (), dpath)
                    raw["frontend_arrays"][k] = f.dataset(dpath)
                    raw["items"].append((dpath, item_digest(dpath, array=raw["frontend_arrays"][k])))
    for where in _numbered(f.members("/tensors"), "/tensors"):
        if f.kind(where) != "group" or f.members(where):
            raise ModelError("must be a group of attributes (no members)", where=where)
        a = f.attrs(where)
        _no_unknown(a, TENSOR_ATTRS, where)
        raw["tensors"].append(a)
        raw["items"].append((where, item_digest(where, attrs=a)))
    total = 0
    for where in _numbered(f.members("/graph"), "/graph"):
        if f.kind(where) != "group":
            raise ModelError("must be a group", where=where)
        a = f.attrs(where)
        names = sorted(f.members(where))
        arrays = {}
        raw["items"].append((where, item_digest(where, attrs=a)))
        for k in names:
            dpath = f"{where}/{k}"
            if f.kind(dpath) != "dataset":
                raise ModelError("must be a dataset", where=dpath)
            shape, kind, dtype = f.dataset_info(dpath)
            if kind == "str":
                raise ModelError("must hold numbers, not strings", where=dpath)
            _no_unknown(f.attr_names(dpath), (), dpath)         # datasets carry no attributes
            total += int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
            if total > MAX_CONSTANT_BYTES:
                raise ModelError(f"the model's constant arrays exceed {MAX_CONSTANT_BYTES} bytes", where=dpath)
        for k in names:
            dpath = f"{where}/{k}"
            arrays[k] = f.dataset(dpath)
            raw["items"].append((dpath, item_digest(dpath, array=arrays[k])))
        raw["nodes"].append((a, arrays))
    if DIGEST_PATH in members:
        where = f"/{DIGEST_PATH}"
        if f.kind(where) != "dataset":
            raise ModelError("must be a dataset", where=where)
        shape, kind, dtype = f.dataset_info(where)
        if kind != "int" or dtype != np.uint8 or len(shape) != 2 or shape[1] != 32:
            raise ModelError("must be a uint8 dataset of shape (items, 32) (SHA-256 digests)", where=where)
        a = f.attrs(where)
        _no_unknown(a, ("algorithm",), where)
        if not isinstance(a.get("algorithm"), str) or a["algorithm"] != ALGORITHM:
            raise ModelError(f"attribute 'algorithm' must be {ALGORITHM!r}", where=where)
        raw["digest"] = f.dataset(where)
    return raw


def _check_integrity(raw):
    """'verified', or 'none' for a file saved without a digest. A mismatch raises ModelError naming the first
    item (root attributes, a group's attributes, or a dataset) whose content differs from what was saved."""
    stored = raw["digest"]
    if stored is None:
        return "none"
    items = raw["items"]
    for k, (where, d) in enumerate(items):
        if k >= len(stored):
            raise ModelError(f"integrity check failed: the file holds more items than were saved ({len(items)} > "
                             f"{len(stored)}); it was modified after it was saved", where=where)
        if bytes(stored[k]) != d:
            what = "the data differs" if _is_dataset_item(where) else "the attributes differ"
            raise ModelError(f"integrity check failed: {what} from what was saved with the model (the file was "
                             f"corrupted or modified after it was saved)", where=where)
    if len(stored) != len(items):
        raise ModelError(f"integrity check failed: {len(stored) - len(items)} saved item(s) are missing from the "
                         f"file", where=f"/{DIGEST_PATH}")
    return "verified"


def _is_dataset_item(where):
    return where == "/labels" or where.startswith("/frontend/") or where.count("/") >= 3


def _build(raw):
    root = "/"
    r = raw["root"]
    version = _get_attr(r, "format_version", root, "int")
    if version != FORMAT_VERSION:
        raise ModelError(f"unsupported format_version {version} (this kwsnum reads version {FORMAT_VERSION})",
                         where=root)
    integrity = _check_integrity(raw)
    name = _get_attr(r, "name", root, "str")
    if len(name) > MAX_NAME_CHARS:
        raise ModelError(f"the model name has {len(name)} characters (at most {MAX_NAME_CHARS})", where=root)
    rounding = _get_attr(r, "rounding", root, "str")
    if "producer" in r:
        _get_attr(r, "producer", root, "str")
    inputs = _get_attr(r, "inputs", root, "names")
    outputs = _get_attr(r, "outputs", root, "names")
    if len(inputs) != 1 or len(outputs) != 1:
        raise ModelError(f"models have one input and one output, got {len(inputs)} and {len(outputs)}", where=root)
    meta = {}
    for k, v in (raw["meta"] or {}).items():
        if not isinstance(v, str):
            raise ModelError(f"attribute {printable(k, 40)!r} must be a string, got {short_repr(v)}", where="/meta")
        meta[k] = v
    frontend = None
    if raw["frontend"] is not None:
        from .frontend import frontend_from_parts
        frontend = frontend_from_parts(raw["frontend"], raw["frontend_arrays"])
    tensors = []
    for i, a in enumerate(raw["tensors"]):
        where = f"/tensors/{i}"
        tname = _get_attr(a, "name", where, "name")
        shape = _get_attr(a, "shape", where, "ints")
        fmt = _get_attr(a, "format", where, "str")
        scale = zp = frac = None
        if fmt in AFFINE:
            scale = _get_attr(a, "scale", where, "float")
            zp = _get_attr(a, "zero_point", where, "int")
        if fmt in QFORMATS:
            frac = _get_attr(a, "frac_bits", where, "int")
        extra = [k for k in ("scale", "zero_point") if k in a and fmt not in AFFINE]
        extra += [k for k in ("frac_bits",) if k in a and fmt not in QFORMATS]
        if extra:
            raise ModelError(f"attribute {extra[0]!r} does not belong to a {printable(fmt, 20)} tensor", where=where)
        tensors.append(TensorSpec(tname, shape, fmt, scale, zp, frac))
    names = [t.name for t in tensors]
    if len(set(names)) != len(names):
        seen = set()
        dup = next(n for n in names if n in seen or seen.add(n))
        raise ModelError(f"tensor name {printable(dup)!r} is declared twice", where="/tensors")
    nodes = []
    for i, (a, arrays) in enumerate(raw["nodes"]):
        where = f"/graph/{i}"
        op = _get_attr(a, "op", where, "name")
        where = f"/graph/{i} ({printable(op, 40)})"
        node = Node(op, _get_attr(a, "name", where, "name"), _get_attr(a, "inputs", where, "names"),
                    _get_attr(a, "outputs", where, "names"), index=i)
        for k, v in a.items():
            if k in RESERVED:
                continue
            node.attrs[k] = v
        node.arrays.update(arrays)
        nodes.append(node)
    return Model(tensors, nodes, inputs, outputs, labels=raw["labels"], rounding=rounding, name=name, meta=meta,
                 frontend=frontend, strict=True, integrity=integrity)


def sign(path):
    """Recompute and store the integrity digest of the model file at ``path`` (in place). For tools that edit a
    model file on purpose; ``kwsnum.save`` signs what it writes."""
    path = os.fspath(path)
    st = _check_file(path)
    warm()
    try:
        raw = run_isolated(_read_raw_path, path, time_limit(st.st_size))
        _write_digest(path, raw)
    except KwsnumError as e:
        raise e.with_file(path) from None
    return path


def _sign_checked(path):
    """Read back what save wrote, check that load accepts it (the loader's limits hold), and sign it."""
    with H5File(path) as f:
        raw = _read_raw(f)
    _build(dict(raw, digest=None))
    _write_digest(path, raw)


def _write_digest(path, raw):
    h5py = _h5py()
    digests = np.frombuffer(b"".join(d for _, d in raw["items"]), dtype=np.uint8).reshape(-1, 32)
    with h5py.File(path, "r+") as f:
        if DIGEST_PATH in f:
            del f[DIGEST_PATH]
        d = f.create_dataset(DIGEST_PATH, data=digests)
        d.attrs["algorithm"] = ALGORITHM
    return path
