"""Reading an HDF5 file that may be hostile: the one place where kwsnum touches h5py when loading.

Everything libhdf5 reports (OSError, KeyError, RuntimeError, ValueError, ... from h5py) becomes a
:class:`ModelError` naming the HDF5 path, here and nowhere else. Before any data is read, its structure is
checked with the low-level API, so libhdf5 is never asked to convert or fetch something malformed:

- only hard links: soft links, external links and user-defined links are refused (never followed);
- datatypes are whitelisted before reading: IEEE floats, two's-complement integers, h5py's boolean enum and
  strings (ASCII or UTF-8, fixed or variable length); variable-length sequences, compounds, references, opaque
  and array types are refused (a byte flip that turns a string's datatype into a variable-length sequence of
  integers made libhdf5 itself crash while reading it);
- dataspaces are scalar or simple, with a bounded rank and element count, checked before the read (a tiny
  compressed dataset may declare 2**40 elements);
- datasets are compact, contiguous or chunked, with no external storage (which would read any local file),
  no virtual layout (which maps other files) and only the filters h5py itself ships (deflate, shuffle,
  fletcher32, lzf): libhdf5 would otherwise look for a plugin library to load;
- strings are read as bytes and decoded once, strictly, as UTF-8.
"""
import numpy as np

from .errors import ModelError

__all__ = ["H5File", "MAX_ATTR_ELEMENTS", "MAX_ARRAY_ELEMENTS", "MAX_ARRAY_RANK", "MAX_STRING_BYTES"]

MAX_ATTR_ELEMENTS = 1 << 16      # elements of one attribute
MAX_ARRAY_ELEMENTS = 1 << 26     # elements of one dataset
MAX_ARRAY_RANK = 8
MAX_STRING_BYTES = 1 << 16       # bytes of one string
ALLOWED_FILTERS = {1: "deflate", 2: "shuffle", 3: "fletcher32", 32000: "lzf"}

_H5_ERRORS = (OSError, RuntimeError, ValueError, KeyError, TypeError, IndexError, OverflowError, UnicodeError,
              AttributeError, SystemError, MemoryError, NotImplementedError)


def _h5py():
    import h5py
    return h5py


def warm():
    """Import h5py and build the type tables once, in the parent, before a child reads (kwsnum.h5child): the
    child then inherits them instead of paying for them on every load."""
    _h5py()
    _STD_INTS()
    _STD_FLOATS()


def _message(e):
    text = str(e).strip() or type(e).__name__
    return text.splitlines()[0][:200]


class _Guard:
    """``with _Guard(where):`` turns any h5py / libhdf5 failure into ModelError(where=...)."""

    def __init__(self, where, what="cannot read"):
        self.where, self.what = where, what

    def __enter__(self):
        return self

    def __exit__(self, typ, exc, tb):
        if typ is not None and issubclass(typ, _H5_ERRORS) and not issubclass(typ, ModelError):
            raise ModelError(f"{self.what}: corrupt or unsupported HDF5 structure ({_message(exc)})",
                             where=self.where) from None
        return False


def _join(path, name):
    return f"/{name}" if path == "/" else f"{path}/{name}"


class H5File:
    """A model file opened read-only, read through checked accessors. Objects are addressed by path; every
    accessor checks the links on the way and returns plain Python / numpy values."""

    def __init__(self, path):
        h5py = _h5py()
        self.path = path
        self._checked = set()
        with _Guard("/", "cannot open"):
            # the 'core' driver would be faster but reads the whole file; the default sec2 driver is fine.
            self.f = h5py.File(path, "r", locking=False)

    def close(self):
        try:
            self.f.close()
        except _H5_ERRORS:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    # ---------------------------------------------------------------- structure
    def members(self, path):
        """Names of the members of the group at ``path`` (which must be a group), each checked to be a hard
        link. Order: as libhdf5 lists them (the caller sorts)."""
        g = self._group(path)
        h5py = _h5py()
        with _Guard(path):
            names = list(g.keys())
            for name in names:
                if not isinstance(name, str):
                    raise ModelError("member names must be strings", where=path)
                info = g.id.links.get_info(name.encode("utf-8", "surrogateescape"))
                if info.type != h5py.h5l.TYPE_HARD:
                    kind = {h5py.h5l.TYPE_SOFT: "a soft link", h5py.h5l.TYPE_EXTERNAL: "an external link"}.get(
                        info.type, "a user-defined link")
                    raise ModelError(f"is {kind}; model files may only contain their own groups and datasets "
                                     f"(links are never followed)", where=_join(path, _printable(name)))
        return names

    def kind(self, path):
        """'group', 'dataset' or 'other' for the member at ``path`` (its link checked by :meth:`members`)."""
        h5py = _h5py()
        obj = self._get(path)
        if isinstance(obj, h5py.Group):
            return "group"
        if isinstance(obj, h5py.Dataset):
            return "dataset"
        return "other"

    def _get(self, path):
        if path == "/":
            return self.f
        parent = path.rpartition("/")[0] or "/"
        if parent not in self._checked:
            self._group(parent)
            self.members(parent)             # every member of every group on the way is a hard link
            self._checked.add(parent)
        with _Guard(path):
            return self.f[path]

    def _group(self, path):
        obj = self._get(path)
        if not isinstance(obj, _h5py().Group):
            raise ModelError("must be a group", where=path)
        return obj

    # ---------------------------------------------------------------- attributes
    def attr_names(self, path):
        obj = self._get(path)
        with _Guard(path):
            names = list(obj.attrs.keys())
        for n in names:
            if not isinstance(n, str):
                raise ModelError("attribute names must be strings", where=path)
        return names

    def attrs(self, path):
        """{name: value} of every attribute of the object at ``path``. Values: str, list of str, numpy scalars
        and 1-D/2-D numpy arrays (bool, integer or float), all type- and size-checked before reading."""
        obj = self._get(path)
        out = {}
        for name in self.attr_names(path):
            out[name] = self._read_attr(obj, path, name)
        return out

    def _read_attr(self, obj, path, name):
        h5py = _h5py()
        where = f"{path} (attribute {_printable(name)!r})"
        with _Guard(where):
            aid = h5py.h5a.open(obj.id, name.encode("utf-8", "surrogateescape"))
            shape = _check_space(aid.get_space(), where, MAX_ATTR_ELEMENTS, 2)
            t = aid.get_type()
            kind = _check_type(t, where)
            if kind == "str":
                return self._read_strings(aid, t, shape, where)
            dtype = _numpy_dtype(t, kind)
            arr = np.empty(shape, dtype=dtype)
            aid.read(arr, mtype=h5py.h5t.py_create(dtype))
        if kind == "bool":
            arr = arr.astype(np.bool_)
        return arr[()] if arr.ndim == 0 else arr

    def _read_strings(self, oid, t, shape, where, dataset=False):
        """Read a string attribute / dataset as bytes, then decode strictly as UTF-8."""
        h5py = _h5py()
        if t.is_variable_str():
            arr = np.empty(shape, dtype=h5py.string_dtype("ascii"))
            mt = h5py.h5t.py_create(h5py.string_dtype("ascii"))
        else:
            size = t.get_size()
            if size > MAX_STRING_BYTES:
                raise ModelError(f"string of {size} bytes (at most {MAX_STRING_BYTES})", where=where)
            arr = np.empty(shape, dtype=f"S{size}")
            mt = h5py.h5t.py_create(arr.dtype)
        if dataset:
            oid.read(h5py.h5s.ALL, h5py.h5s.ALL, arr, mtype=mt)
        else:
            oid.read(arr, mtype=mt)
        vals = [_decode(v, where) for v in arr.reshape(-1).tolist()]
        if arr.ndim == 0:
            return vals[0]
        if arr.ndim != 1:
            raise ModelError(f"strings must be a scalar or a 1-D list, got shape {arr.shape}", where=where)
        return vals

    # ---------------------------------------------------------------- datasets
    def dataset_info(self, path):
        """(shape, kind, dtype or None for strings) of the dataset at ``path``, checked, without reading it."""
        h5py = _h5py()
        obj = self._get(path)
        if not isinstance(obj, h5py.Dataset):
            raise ModelError("must be a dataset", where=path)
        with _Guard(path):
            did = obj.id
            shape = _check_space(did.get_space(), path, MAX_ARRAY_ELEMENTS, MAX_ARRAY_RANK)
            t = did.get_type()
            kind = _check_type(t, path)
            _check_layout(did.get_create_plist(), path)
        return shape, kind, (None if kind == "str" else _numpy_dtype(t, kind))

    def dataset(self, path, strings=False):
        """The dataset at ``path`` as a numpy array (or a list of str when ``strings``), checked first."""
        h5py = _h5py()
        shape, kind, dtype = self.dataset_info(path)
        obj = self._get(path)
        with _Guard(path):
            if kind == "str":
                if not strings:
                    raise ModelError("must hold numbers, not strings", where=path)
                return self._read_strings(obj.id, obj.id.get_type(), shape, path, dataset=True)
            if strings:
                raise ModelError("must hold strings", where=path)
            arr = np.empty(shape, dtype=dtype)
            if arr.size:
                obj.id.read(h5py.h5s.ALL, h5py.h5s.ALL, arr, mtype=h5py.h5t.py_create(dtype))
        return arr.astype(np.bool_) if kind == "bool" else arr


# -------------------------------------------------------------------- checks on low-level objects
def _printable(s):
    from .text import printable
    return printable(s, 80)


def _decode(b, where):
    if isinstance(b, str):
        return b
    b = bytes(b)
    if len(b) > MAX_STRING_BYTES:
        raise ModelError(f"string of {len(b)} bytes (at most {MAX_STRING_BYTES})", where=where)
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ModelError(f"string is not valid UTF-8 (byte {e.start}: {b[e.start:e.start + 1]!r})",
                         where=where) from None


def _check_space(space, where, max_elements, max_rank):
    h5py = _h5py()
    st = space.get_simple_extent_type()
    if st == h5py.h5s.SCALAR:
        return ()
    if st != h5py.h5s.SIMPLE:
        raise ModelError("has an empty (null) dataspace", where=where)
    rank = space.get_simple_extent_ndims()
    if not 0 <= rank <= max_rank:
        raise ModelError(f"has rank {rank} (at most {max_rank})", where=where)
    dims = tuple(int(d) for d in space.get_simple_extent_dims())
    n = 1
    for d in dims:
        n *= d
    if n > max_elements:
        raise ModelError(f"declares shape {dims}: {n} elements (at most {max_elements})", where=where)
    return dims


def _check_type(t, where):
    """'int', 'float', 'bool' or 'str' for a whitelisted datatype; ModelError otherwise."""
    h5py = _h5py()
    h5t = h5py.h5t
    cls = t.get_class()
    if cls == h5t.INTEGER:
        if t.get_size() in (1, 2, 4, 8) and any(t.equal(s) for s in _STD_INTS()):
            return "int"
    elif cls == h5t.FLOAT:
        if any(t.equal(s) for s in _STD_FLOATS()):
            return "float"
    elif cls == h5t.ENUM:
        # h5py stores numpy bools as an enum of int8 {FALSE: 0, TRUE: 1}
        try:
            base_ok = t.get_super().equal(h5t.STD_I8LE) or t.get_super().equal(h5t.STD_I8BE)
            members = [(t.get_member_name(i), t.get_member_value(i)) for i in range(t.get_nmembers())]
        except _H5_ERRORS:
            base_ok, members = False, []
        if base_ok and sorted(members) == [(b"FALSE", 0), (b"TRUE", 1)]:
            return "bool"
    elif cls == h5t.STRING:
        if t.get_cset() in (h5t.CSET_ASCII, h5t.CSET_UTF8) and (t.is_variable_str() or
                                                               0 < t.get_size() <= MAX_STRING_BYTES):
            return "str"
    names = {h5t.INTEGER: "integer", h5t.FLOAT: "float", h5t.STRING: "string", h5t.ENUM: "enum",
             h5t.VLEN: "variable-length sequence", h5t.COMPOUND: "compound", h5t.REFERENCE: "reference",
             h5t.OPAQUE: "opaque", h5t.ARRAY: "array", h5t.BITFIELD: "bitfield", h5t.TIME: "time"}
    raise ModelError(f"has an unsupported {names.get(cls, f'class {cls}')} datatype (model files hold "
                     f"integers, IEEE floats, booleans and UTF-8 strings)", where=where)


_INTS = _FLOATS = None


def _STD_INTS():
    global _INTS
    if _INTS is None:
        h5t = _h5py().h5t
        _INTS = [getattr(h5t, f"STD_{s}{b}{e}") for s in "IU" for b in (8, 16, 32, 64) for e in ("LE", "BE")]
    return _INTS


def _STD_FLOATS():
    global _FLOATS
    if _FLOATS is None:
        h5t = _h5py().h5t
        _FLOATS = [getattr(h5t, f"IEEE_F{b}{e}") for b in (32, 64) for e in ("LE", "BE")]
        for name in ("IEEE_F16LE", "IEEE_F16BE"):
            if hasattr(h5t, name):
                _FLOATS.append(getattr(h5t, name))
    return _FLOATS


def _numpy_dtype(t, kind):
    if kind == "bool":
        return np.dtype(np.int8)
    size = t.get_size()
    if kind == "float":
        return np.dtype(f"<f{size}")
    signed = t.get_sign() == _h5py().h5t.SGN_2
    return np.dtype(f"<{'i' if signed else 'u'}{size}")


def _check_layout(dcpl, where):
    h5py = _h5py()
    if dcpl.get_external_count() > 0:
        raise ModelError("uses HDF5 external storage (its data would be read from another file); model files "
                         "must hold their own data", where=where)
    layout = dcpl.get_layout()
    if layout not in (h5py.h5d.COMPACT, h5py.h5d.CONTIGUOUS, h5py.h5d.CHUNKED):
        raise ModelError("has a virtual or unknown storage layout (it would map data from other files); model "
                         "files must hold their own data", where=where)
    for i in range(dcpl.get_nfilters()):
        code = dcpl.get_filter(i)[0]
        if code not in ALLOWED_FILTERS:
            raise ModelError(f"uses HDF5 filter {code}, which kwsnum does not read (allowed: "
                             f"{', '.join(ALLOWED_FILTERS.values())})", where=where)
