"""Mutators: each turns a copy of a seed model (or its input) into one hostile mutant, deterministically from a
numpy Generator, and says what it did.

A mutator is ``fn(ctx) -> detail`` registered with ``@mutator(name, kind, weight)``:
  kind "semantic": an HDF5-level edit with h5py; comes in two variants, "raw" (the file keeps whatever integrity
        digest it had) and "resigned" (kwsnum's own digest routine is run on the result, see ``resign``);
  kind "bytes":    a byte-level edit of the file (raw only);
  kind "input":    the model stays valid, the input or the command line is hostile (the mutator sets ctx.ops).
It raises ``Skip`` when the seed has nothing to mutate that way (the campaign then draws again).
``ctx.changed`` lists the HDF5 paths whose values the mutant changed for sure (for "undetected-corruption").
"""
import os
import struct

import numpy as np

MUTATORS = {}


class Skip(Exception):
    pass


def mutator(name, kind, weight=1.0):
    def deco(fn):
        MUTATORS[name] = dict(fn=fn, kind=kind, weight=weight, name=name)
        return fn
    return deco


def _h5py():
    import h5py
    return h5py


# ----------------------------------------------------------------------------- digest hooks
SIGN_HOOKS = ("sign", "resign", "write_digest")


def sign_hook():
    """kwsnum's own routine that (re)writes the integrity digest of a model file in place, if kwsnum has one:
    the first of kwsnum.io.sign / resign / write_digest that exists (called as fn(path))."""
    try:
        from kwsnum import io as kio
    except ImportError:
        return None
    for name in SIGN_HOOKS:
        fn = getattr(kio, name, None)
        if callable(fn):
            return fn
    return None


def resign(path, timeout=30, memory=2 << 30):
    """Re-sign ``path`` with kwsnum's digest routine; False when kwsnum has none, or it refuses (or cannot finish
    on) the mutated file -- the mutant then stays as it is, still a valid test. The routine runs in a forked child
    with a memory limit and an alarm, so a mutant that makes it crash, hang or allocate without bound cannot take
    the campaign down."""
    fn = sign_hook()
    if fn is None:
        return False
    import resource
    import signal
    pid = os.fork()
    if pid == 0:                                   # the child: sign, then leave without any cleanup
        code = 1
        try:
            signal.alarm(int(timeout))
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
            fd = os.open(os.devnull, os.O_WRONLY)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            fn(path)
            code = 0
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


def has_digest(path):
    """True when the file carries an integrity digest (a /integrity member or a root attribute naming one)."""
    h5py = _h5py()
    with h5py.File(path, "r") as f:
        if "integrity" in f:
            return True
        return any(k == "integrity" or "digest" in k for k in f.attrs.keys())


# ----------------------------------------------------------------------------- context
class Ctx:
    """What a mutator works on. ``model``: the mutant's model file (a copy of the seed), ``folder``: the
    mutant's folder (cwd of its operations), ``seed``: the seed's index entry (absolute paths), ``sentinels``:
    dict(bin=path of a non-HDF5 file, h5=path of a copy of this seed, folder=...) outside the mutant."""

    def __init__(self, rng, folder, model, seed, seed_name, sentinels):
        self.rng, self.folder, self.model, self.seed, self.seed_name = rng, folder, model, seed, seed_name
        self.sentinels = sentinels
        self.changed = []
        self.ops = None            # input mutators set their own operations
        self.run_input = None      # model mutators may pick the run input

    def choice(self, seq):
        seq = list(seq)
        if not seq:
            raise Skip("nothing to choose from")
        return seq[int(self.rng.integers(len(seq)))]

    def coin(self, p=0.5):
        return bool(self.rng.random() < p)

    def int(self, lo, hi):
        return int(self.rng.integers(lo, hi))


# ----------------------------------------------------------------------------- HDF5 walking
def _walk(f):
    """(groups, datasets): the HDF5 paths of every group and dataset (soft links are not followed)."""
    h5py = _h5py()
    groups, datasets = ["/"], []

    def visit(name, obj):
        if isinstance(obj, h5py.Group):
            groups.append("/" + name)
        elif isinstance(obj, h5py.Dataset):
            datasets.append("/" + name)
    f.visititems(visit)
    return groups, datasets


def _attr_kind(v):
    a = np.asarray(v)
    if a.dtype.kind in "OSU":
        return "str" if a.ndim == 0 else "strs"
    if a.dtype.kind == "b":
        return "bool"
    if a.dtype.kind in "iu":
        return "int" if a.ndim == 0 else "ints"
    if a.dtype.kind == "f":
        return "float" if a.ndim == 0 else "floats"
    return "other"


def _attrs(f, kinds=None, under=None):
    """[(object path, attribute name, kind)] over the whole file."""
    groups, datasets = _walk(f)
    out = []
    for p in groups + datasets:
        if under and not (p == under or p.startswith(under.rstrip("/") + "/")):
            continue
        obj = f[p]
        for k in obj.attrs.keys():
            try:
                kind = _attr_kind(obj.attrs[k])
            except Exception:
                kind = "other"
            if kinds is None or kind in kinds:
                out.append((p, k, kind))
    return out


def _pick_attr(ctx, f, kinds=None, under=None):
    cands = _attrs(f, kinds, under)
    if not cands:
        raise Skip("no attribute of that kind")
    # a third of the time an op attribute (the richest validation surface)
    op_attrs = [c for c in cands if c[0].startswith("/graph/") and c[1] not in ("op", "name", "inputs", "outputs")]
    if op_attrs and ctx.coin(0.35):
        return ctx.choice(op_attrs)
    return ctx.choice(cands)


def _set_attr(ctx, f, path, key, value, dtype=None):
    obj = f[path]
    if key in obj.attrs:
        del obj.attrs[key]
    if dtype is not None:
        obj.attrs.create(key, data=value, dtype=dtype)
    else:
        obj.attrs[key] = value
    ctx.changed.append(f"{path}@{key}")


def _open(ctx):
    return _h5py().File(ctx.model, "r+")


def _short(v, n=60):
    r = repr(v)
    return r if len(r) <= n else r[:n] + f"...({len(r)} chars)"


# ----------------------------------------------------------------------------- values
INT_EXTREMES = [0, -1, 1, 2 ** 31, -2 ** 31, 2 ** 31 - 1, 2 ** 32, 2 ** 63 - 1, -(2 ** 63 - 1), -2 ** 63,
                65536, 2 ** 24 + 1, 2 ** 28]
FLOAT_SPECIALS = [float("nan"), float("inf"), float("-inf"), 1e38, -1e38, 3.5e38, 5e-324, -0.0, 0.0, 1e-45]
HOSTILE_STRINGS = [
    "", " ", "x\nkwsnum: error: forged second line", "\x1b[31mRED\x1b[0m", "\x1b]0;pwned title\x07",
    "\x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\", "\x1b[2J\x1b[H", "\u009b31mC1 CSI", "nul\x00inside",
    "cr\rover", "bell\x07", "del\x7f", "\u202eevil-bidi", "tab\tname", "A" * 300, "B" * 5000, "\ufeffbom",
    "é" * 3000,
]
HUGE_STRING = "H" * (1 << 20)
NON_UTF8 = [b"\xff\xfe\x80abc", b"ok\xc3", b"\xed\xa0\x80", b"\xc0\xaf", b"\x80" * 40]


def _non_utf8_value(ctx):
    """A string attribute value that is not valid UTF-8, in one of the ways HDF5 can store it."""
    h5py = _h5py()
    raw = ctx.choice(NON_UTF8)
    how = ctx.choice(["vlen-utf8", "vlen-ascii", "fixed"])
    if how == "vlen-utf8":
        return raw, h5py.string_dtype("utf-8"), how
    if how == "vlen-ascii":
        return raw, h5py.string_dtype("ascii"), how
    return np.bytes_(raw), None, how


# ----------------------------------------------------------------------------- attribute mutators
@mutator("attr_int_extreme", "semantic", 2.0)
def attr_int_extreme(ctx):
    with _open(ctx) as f:
        p, k, kind = _pick_attr(ctx, f, kinds=("int", "ints", "float", "bool"))
        v = ctx.choice(INT_EXTREMES)
        old = f[p].attrs[k]
        if kind == "ints" and np.asarray(old).size:
            arr = np.asarray(old).astype(np.int64).copy()
            i = ctx.int(0, arr.size)
            if v >= 2 ** 63:
                v = 2 ** 63 - 1
            arr.flat[i] = v
            _set_attr(ctx, f, p, k, arr)
            return f"{p}@{k}[{i}] = {v}"
        if v >= 2 ** 63:
            _set_attr(ctx, f, p, k, np.uint64(v))
        else:
            _set_attr(ctx, f, p, k, np.int64(v))
        return f"{p}@{k} = {v}"


@mutator("attr_float_special", "semantic", 1.5)
def attr_float_special(ctx):
    with _open(ctx) as f:
        p, k, kind = _pick_attr(ctx, f, kinds=("float", "int", "ints"))
        v = ctx.choice(FLOAT_SPECIALS)
        dt = ctx.choice([np.float64, np.float32])
        with np.errstate(over="ignore"):
            _set_attr(ctx, f, p, k, dt(v))
        return f"{p}@{k} = {dt.__name__}({v})"


@mutator("attr_string_hostile", "semantic", 2.0)
def attr_string_hostile(ctx):
    with _open(ctx) as f:
        p, k, kind = _pick_attr(ctx, f, kinds=("str", "strs"))
        v = HUGE_STRING if ctx.coin(0.1) else ctx.choice(HOSTILE_STRINGS)
        if kind == "strs":
            old = [x.decode() if isinstance(x, bytes) else x for x in np.asarray(f[p].attrs[k]).tolist()]
            if not old:
                raise Skip("empty string array")
            old[ctx.int(0, len(old))] = v.replace("\x00", "")
            _set_attr(ctx, f, p, k, np.array(old, dtype=_h5py().string_dtype("utf-8")))
        elif "\x00" in v:      # HDF5 variable-length strings cannot hold NUL: a fixed-length one
            _set_attr(ctx, f, p, k, np.bytes_(v.encode()))
        else:
            _set_attr(ctx, f, p, k, v)
        return f"{p}@{k} = {_short(v)}"


@mutator("attr_non_utf8", "semantic", 1.5)
def attr_non_utf8(ctx):
    with _open(ctx) as f:
        p, k, kind = _pick_attr(ctx, f, kinds=("str", "strs"))
        raw, dt, how = _non_utf8_value(ctx)
        if kind == "strs" and dt is not None:
            old = [x if isinstance(x, bytes) else x.encode("utf-8", "surrogateescape")
                   for x in np.asarray(f[p].attrs[k]).tolist()]
            old[ctx.int(0, len(old))] = raw
            _set_attr(ctx, f, p, k, np.array(old, dtype=object), dtype=dt)
        else:
            _set_attr(ctx, f, p, k, raw, dtype=dt)
        return f"{p}@{k} = {_short(raw)} ({how})"


@mutator("attr_2d_array", "semantic", 1.0)
def attr_2d_array(ctx):
    with _open(ctx) as f:
        p, k, kind = _pick_attr(ctx, f)
        v = ctx.choice([np.arange(6, dtype=np.int64).reshape(2, 3), np.ones((3, 3), np.float64),
                        np.arange(40, dtype=np.int32).reshape(4, 10),
                        np.array([["a", "b"], ["c", "d"]], dtype=_h5py().string_dtype("utf-8")),
                        np.zeros((0, 2), np.int64), np.zeros((2, 2, 2), np.int64)])
        _set_attr(ctx, f, p, k, v)
        return f"{p}@{k} = array shape {v.shape} {v.dtype}"


@mutator("attr_bool", "semantic", 1.0)
def attr_bool(ctx):
    with _open(ctx) as f:
        p, k, kind = _pick_attr(ctx, f, kinds=("int", "float", "ints", "str"))
        v = np.bool_(ctx.coin())
        if kind == "ints" and ctx.coin():
            v = np.ones(max(1, np.asarray(f[p].attrs[k]).size), dtype=np.bool_)
        _set_attr(ctx, f, p, k, v)
        return f"{p}@{k} = {v!r}"


@mutator("attr_wrong_dtype", "semantic", 1.5)
def attr_wrong_dtype(ctx):
    h5py = _h5py()
    with _open(ctx) as f:
        p, k, kind = _pick_attr(ctx, f)
        old = np.asarray(f[p].attrs[k])
        opts = {
            "int": [np.float64(1.5), "3", np.complex128(1 + 2j), np.uint8(3), np.array([1, 2], np.int64),
                    np.float16(2.0), np.int8(-1)],
            "ints": [(old.astype(np.float64) + 0.5 if old.size else np.array([0.5])) if kind == "ints" else None,
                     "1,1", np.array(["1", "2"], dtype=h5py.string_dtype()), np.int64(1),
                     old.astype(np.uint8) if kind == "ints" else None],
            "float": ["0.5", np.array([1.0, 2.0]), np.complex64(1j), np.int64(3)],
            "str": [np.int64(7), np.float64(0.5), np.array(["a", "b"], dtype=h5py.string_dtype()),
                    np.array([1, 2], np.int64)],
            "strs": ["single", np.int64(1), np.array([1, 2], np.int64)],
        }.get(kind, [np.int64(1), "s"])
        v = ctx.choice([o for o in opts if o is not None])
        _set_attr(ctx, f, p, k, v)
        return f"{p}@{k} ({kind}) = {_short(v)}"


@mutator("attr_delete", "semantic", 2.0)
def attr_delete(ctx):
    with _open(ctx) as f:
        p, k, kind = _pick_attr(ctx, f)
        del f[p].attrs[k]
        ctx.changed.append(f"{p}@{k}")
        return f"del {p}@{k}"


@mutator("attr_unknown", "semantic", 1.0)
def attr_unknown(ctx):
    with _open(ctx) as f:
        groups, datasets = _walk(f)
        p = ctx.choice([g for g in groups if not g.startswith("/meta")] + datasets)
        k = ctx.choice(["bogus", "act_min_f", "act_max", "weight_frac", "zero_point", "scale", "frac_bits",
                        "groups", "dilation", "padding", "version", "x" * 300])
        if k in f[p].attrs:
            k = "bogus_" + k
        v = ctx.choice([np.int64(1), np.float64(0.0), "yes", np.array([1, 1], np.int64)])
        _set_attr(ctx, f, p, k, v)
        return f"add {p}@{k[:40]} = {_short(v)}"


# ----------------------------------------------------------------------------- dataset mutators
def _pick_dataset(ctx, f, under="/graph"):
    _, datasets = _walk(f)
    ds = [d for d in datasets if d.startswith(under)]
    if not ds:
        raise Skip("no dataset")
    return ctx.choice(ds)


def _replace_dataset(ctx, f, path, **kw):
    parent, name = path.rsplit("/", 1)
    g = f[parent or "/"]
    del g[name]
    g.create_dataset(name, **kw)
    ctx.changed.append(path)


@mutator("ds_wrong_shape", "semantic", 1.5)
def ds_wrong_shape(ctx):
    with _open(ctx) as f:
        p = _pick_dataset(ctx, f, under=ctx.choice(["/graph", "/graph", "/"]))
        a = f[p][()]
        a = np.asarray(a)
        how = ctx.choice(["drop-dim", "add-dim", "grow", "shrink", "transpose", "flatten"])
        if how == "drop-dim" and a.ndim >= 1:
            b = a.reshape(a.shape[:-2] + (-1,)) if a.ndim >= 2 else a[:1].reshape(())
        elif how == "add-dim":
            b = a[None]
        elif how == "grow" and a.ndim:
            b = np.concatenate([a, a[:1]], axis=0)
        elif how == "shrink" and a.ndim and a.shape[0] > 1:
            b = a[:-1]
        elif how == "transpose" and a.ndim >= 2:
            b = np.ascontiguousarray(a.T)
        else:
            b = a.reshape(-1)
        _replace_dataset(ctx, f, p, data=b)
        return f"{p}: {how} {a.shape} -> {b.shape}"


@mutator("ds_wrong_dtype", "semantic", 1.5)
def ds_wrong_dtype(ctx):
    with _open(ctx) as f:
        p = _pick_dataset(ctx, f)
        a = np.asarray(f[p][()])
        dt = ctx.choice([np.float64, np.float32, np.float16, np.int64, np.int32, np.int16, np.int8, np.uint8,
                         np.uint16, np.uint64, np.bool_, np.complex64])
        if a.dtype == dt:
            dt = np.float64
        with np.errstate(all="ignore"):
            b = a.astype(dt)
        _replace_dataset(ctx, f, p, data=b)
        return f"{p}: {a.dtype} -> {np.dtype(dt)}"


@mutator("ds_empty", "semantic", 1.0)
def ds_empty(ctx):
    with _open(ctx) as f:
        p = _pick_dataset(ctx, f)
        a = np.asarray(f[p][()])
        shape = (0,) if ctx.coin() or a.ndim == 0 else (0,) + a.shape[1:]
        how = ctx.choice(["zero-size", "null-dataspace"])
        if how == "null-dataspace":
            _replace_dataset(ctx, f, p, data=_h5py().Empty(a.dtype))
        else:
            _replace_dataset(ctx, f, p, shape=shape, dtype=a.dtype)
        return f"{p}: {how} {shape if how == 'zero-size' else ''}"


@mutator("ds_scalar", "semantic", 1.0)
def ds_scalar(ctx):
    with _open(ctx) as f:
        p = _pick_dataset(ctx, f)
        a = np.asarray(f[p][()])
        _replace_dataset(ctx, f, p, data=a.reshape(-1)[:1].reshape(()) if a.size else np.zeros((), a.dtype))
        return f"{p}: scalar"


@mutator("ds_huge_declared", "semantic", 1.0)
def ds_huge_declared(ctx):
    """A chunked gzip dataset declared (2**20, 2**20) (or (2**31,)), a few hundred bytes on disk."""
    with _open(ctx) as f:
        p = _pick_dataset(ctx, f, under=ctx.choice(["/graph", "/graph", "/labels"]))
        a = np.asarray(f[p][()])
        dt = a.dtype if a.dtype.kind != "O" else np.int8
        shape = ctx.choice([(2 ** 20, 2 ** 20), (2 ** 31,), (2 ** 16, 2 ** 16, 16)])
        chunks = tuple([1] * (len(shape) - 1) + [min(1024, shape[-1])])
        _replace_dataset(ctx, f, p, shape=shape, dtype=dt, chunks=chunks, compression="gzip")
        f[p][tuple([0] * (len(shape) - 1) + [slice(0, 8)])] = np.ones(8, dt)
        return f"{p}: gzip chunked {shape} {np.dtype(dt)}"


def _contiguous_datasets(f, under="/graph"):
    out = []
    for d in _walk(f)[1]:
        if not d.startswith(under):
            continue
        ds = f[d]
        if ds.chunks is None and ds.id.get_offset() is not None and ds.id.get_storage_size() > 0 \
                and ds.dtype.kind in "iuf":
            out.append((d, ds.id.get_offset(), ds.id.get_storage_size()))
    return out


@mutator("weight_bitflip", "semantic", 2.0)
def weight_bitflip(ctx):
    """One bit of one dataset's data (found by its offset); resigned: then re-signed (a legitimate edit)."""
    with _h5py().File(ctx.model, "r") as f:
        cands = _contiguous_datasets(f)
    p, off, n = ctx.choice(cands)
    byte = off + ctx.int(0, n)
    bit = ctx.int(0, 8)
    with open(ctx.model, "r+b") as fh:
        fh.seek(byte)
        b = fh.read(1)[0]
        fh.seek(byte)
        fh.write(bytes([b ^ (1 << bit)]))
    ctx.changed.append(p)
    return f"{p}: bit {bit} of byte {byte - off} (file offset {byte})"


# ----------------------------------------------------------------------------- structure mutators
def _numbered(f, grp):
    return sorted((k for k in f[grp].keys()), key=lambda k: (len(k), k))


@mutator("node_delete", "semantic", 1.0)
def node_delete(ctx):
    return _member_delete(ctx, "/graph")


@mutator("tensor_delete", "semantic", 1.0)
def tensor_delete(ctx):
    return _member_delete(ctx, "/tensors")


def _member_delete(ctx, grp):
    with _open(ctx) as f:
        keys = _numbered(f, grp)
        k = ctx.choice(keys)
        del f[grp][k]
        how = "hole"
        if ctx.coin():          # renumber the rest: numbering stays 0..n-2
            how = "renumbered"
            for j in range(int(k) + 1, len(keys)):
                f[grp].move(str(j), str(j - 1))
        ctx.changed.append(f"{grp}/{k}")
        return f"del {grp}/{k} ({how})"


@mutator("node_duplicate", "semantic", 1.0)
def node_duplicate(ctx):
    return _member_duplicate(ctx, "/graph")


@mutator("tensor_duplicate", "semantic", 1.0)
def tensor_duplicate(ctx):
    return _member_duplicate(ctx, "/tensors")


def _member_duplicate(ctx, grp):
    with _open(ctx) as f:
        keys = _numbered(f, grp)
        k = ctx.choice(keys)
        n = len(keys)
        if ctx.coin():
            f.copy(f"{grp}/{k}", f"{grp}/{n}")
            how = "appended"
        else:                   # inserted right after the original, the rest shifted
            for j in range(n - 1, int(k), -1):
                f[grp].move(str(j), str(j + 1))
            f.copy(f"{grp}/{k}", f"{grp}/{int(k) + 1}")
            how = "inserted"
        ctx.changed.append(f"{grp}/{k}")
        return f"dup {grp}/{k} ({how})"


@mutator("node_swap", "semantic", 1.0)
def node_swap(ctx):
    grp = ctx.choice(["/graph", "/graph", "/tensors"])
    with _open(ctx) as f:
        keys = _numbered(f, grp)
        if len(keys) < 2:
            raise Skip("one member")
        i = ctx.int(0, len(keys) - 1)
        j = i + 1 if ctx.coin() else ctx.int(0, len(keys))
        if i == j:
            j = (i + 1) % len(keys)
        f[grp].move(str(i), "tmp_swap")
        f[grp].move(str(j), str(i))
        f[grp].move("tmp_swap", str(j))
        ctx.changed.append(f"{grp}/{i}")
        return f"swap {grp}/{i} <-> {grp}/{j}"


@mutator("member_rename", "semantic", 1.0)
def member_rename(ctx):
    with _open(ctx) as f:
        groups, datasets = _walk(f)
        p = ctx.choice([g for g in groups if g != "/"] + datasets)
        parent, name = p.rsplit("/", 1)
        new = ctx.choice(["x", "-1", "01", "1e3", " 0", "0 ", "10000", name + "_", name.upper(), "a" * 300,
                          "name\nwith newline", "\x1b[31mred", "weights", "é"])
        if new in f[parent or "/"]:
            new = new + "_"
        f[parent or "/"].move(name, new)
        ctx.changed.append(p)
        return f"rename {p} -> {_short(new)}"


def _rename_tensor_everywhere(f, old, new):
    h5py = _h5py()
    sdt = h5py.string_dtype("utf-8")

    def fix_list(obj, key):
        vals = [x.decode() if isinstance(x, bytes) else x for x in np.asarray(obj.attrs[key]).tolist()]
        if old in vals:
            obj.attrs[key] = np.array([new if v == old else v for v in vals], dtype=sdt)
    for key in ("inputs", "outputs"):
        fix_list(f, key)
    for k in f["tensors"]:
        g = f["tensors"][k]
        n = g.attrs["name"]
        if (n.decode() if isinstance(n, bytes) else n) == old:
            g.attrs["name"] = new
    for k in f["graph"]:
        for key in ("inputs", "outputs"):
            fix_list(f["graph"][k], key)


def _tensor_names(f):
    out = []
    for k in _numbered(f, "/tensors"):
        n = f["tensors"][k].attrs["name"]
        out.append(n.decode() if isinstance(n, bytes) else n)
    return out


@mutator("name_long", "semantic", 1.0)
def name_long(ctx):
    """300-character (and longer) names: a tensor renamed consistently (the model stays valid), a node's layer name,
    the model name."""
    with _open(ctx) as f:
        what = ctx.choice(["tensor", "node", "model"])
        n = ctx.choice([300, 256, 1000, 5000])
        if what == "tensor":
            old = ctx.choice(_tensor_names(f))
            new = (old + "_" + "t" * n)[:n]
            _rename_tensor_everywhere(f, old, new)
            ctx.changed.append(f"/tensors@name={old}")
            return f"tensor {old!r} -> {n} chars"
        if what == "node":
            k = ctx.choice(_numbered(f, "/graph"))
            _set_attr(ctx, f, f"/graph/{k}", "name", "L" * n)
            return f"/graph/{k}@name -> {n} chars"
        _set_attr(ctx, f, "/", "name", "M" * n)
        return f"/@name -> {n} chars"


@mutator("name_hostile", "semantic", 2.0)
def name_hostile(ctx):
    """Names with newlines and terminal escapes, kept consistent so the model stays valid: a tensor, a layer,
    the model, a label."""
    with _open(ctx) as f:
        what = ctx.choice(["tensor", "node", "model", "label", "label"] if "labels" in f
                          else ["tensor", "node", "model"])
        s = ctx.choice([h for h in HOSTILE_STRINGS if h.strip() and len(h) < 1000 and "\x00" not in h])
        if what == "tensor":
            old = ctx.choice(_tensor_names(f))
            _rename_tensor_everywhere(f, old, old + s)
            ctx.changed.append(f"/tensors@name={old}")
            return f"tensor {old!r} -> {_short(old + s)}"
        if what == "node":
            k = ctx.choice(_numbered(f, "/graph"))
            _set_attr(ctx, f, f"/graph/{k}", "name", "layer" + s)
            return f"/graph/{k}@name = {_short('layer' + s)}"
        if what == "model":
            _set_attr(ctx, f, "/", "name", "model" + s)
            return f"/@name = {_short('model' + s)}"
        labels = [x.decode() if isinstance(x, bytes) else x for x in f["labels"][()].tolist()]
        i = ctx.int(0, len(labels))
        labels[i] = labels[i] + s
        del f["labels"]
        f.create_dataset("labels", data=np.array(labels, dtype=_h5py().string_dtype("utf-8")))
        ctx.changed.append("/labels")
        return f"/labels[{i}] = {_short(labels[i])}"


@mutator("labels_mutate", "semantic", 1.5)
def labels_mutate(ctx):
    h5py = _h5py()
    with _open(ctx) as f:
        if "labels" not in f:
            raise Skip("no labels")
        labels = [x.decode() if isinstance(x, bytes) else x for x in f["labels"][()].tolist()]
        how = ctx.choice(["non-utf8", "non-utf8-fixed", "count+1", "count-1", "2-D", "int", "long-4000",
                          "long-utf8", "empty-strings", "delete", "group", "escape-long"])
        del f["labels"]
        ctx.changed.append("/labels")
        if how == "non-utf8":
            raw = [x.encode() for x in labels]
            raw[ctx.int(0, len(raw))] = ctx.choice(NON_UTF8)
            f.create_dataset("labels", data=np.array(raw, dtype=object), dtype=h5py.string_dtype("utf-8"))
        elif how == "non-utf8-fixed":
            raw = [x.encode() for x in labels]
            raw[ctx.int(0, len(raw))] = ctx.choice(NON_UTF8)
            f.create_dataset("labels", data=np.array(raw, dtype="S"))
        elif how in ("count+1", "count-1"):
            new = labels + ["extra"] if how == "count+1" else labels[:-1]
            f.create_dataset("labels", data=np.array(new, dtype=h5py.string_dtype("utf-8")))
        elif how == "2-D":
            f.create_dataset("labels", data=np.array([labels, labels], dtype=h5py.string_dtype("utf-8")))
        elif how == "int":
            f.create_dataset("labels", data=np.arange(len(labels)))
        elif how in ("long-4000", "long-utf8", "escape-long"):
            unit = {"long-4000": "a", "long-utf8": "\u00e9\u20ac", "escape-long": "\"\\\n"}[how]
            new = list(labels)
            new[ctx.int(0, len(new))] = unit * (4100 // len(unit))
            f.create_dataset("labels", data=np.array(new, dtype=h5py.string_dtype("utf-8")))
        elif how == "empty-strings":
            f.create_dataset("labels", data=np.array([""] * len(labels), dtype=h5py.string_dtype("utf-8")))
        elif how == "group":
            f.create_group("labels")
        return f"/labels: {how}"


@mutator("meta_mutate", "semantic", 1.0)
def meta_mutate(ctx):
    with _open(ctx) as f:
        if "meta" not in f:
            f.create_group("meta")
        g = f["meta"]
        keys = list(g.attrs.keys()) or ["note"]
        k = ctx.choice(keys)
        how = ctx.choice(["non-utf8", "huge", "hostile", "2-D", "int", "subgroup", "dataset", "key-escape"])
        if how == "non-utf8":
            raw, dt, sub = _non_utf8_value(ctx)
            _set_attr(ctx, f, "/meta", k, raw, dtype=dt)
            how += f" ({sub})"
        elif how == "huge":
            _set_attr(ctx, f, "/meta", k, HUGE_STRING)
        elif how == "hostile":
            v = ctx.choice(HOSTILE_STRINGS)
            _set_attr(ctx, f, "/meta", k, np.bytes_(v.encode()) if "\x00" in v else v)
        elif how == "2-D":
            _set_attr(ctx, f, "/meta", k, np.arange(12).reshape(3, 4))
        elif how == "int":
            _set_attr(ctx, f, "/meta", k, np.int64(-1))
        elif how == "subgroup":
            g.create_group("nested").attrs["x"] = 1
            ctx.changed.append("/meta/nested")
        elif how == "dataset":
            g.create_dataset("blob", data=np.arange(10))
            ctx.changed.append("/meta/blob")
        else:
            _set_attr(ctx, f, "/meta", "key\x1b[31m\nforged", "v")
        return f"/meta@{k}: {how}"


FRONTEND_VALUES = {
    "clip_samples": [1_600_000_000, 2 ** 31, 2 ** 40, 0, -1, 1],
    "sample_rate": [0, -1, 2 ** 31, 1],
    "n_fft": [0, 2 ** 30, 3, 1],
    "win_length": [0, 2 ** 30, -1],
    "hop_length": [0, -1, 1, 2 ** 31],
    "n_mels": [0, 10 ** 6, 2 ** 31],
    "n_mfcc": [0, 10 ** 6, -1],
    "fmin": [float("nan"), -1.0, 1e38],
    "fmax": [float("inf"), 0.0, 1e9],
    "power": [0.0, float("nan"), -2.0, 1e38],
    "log_offset": [0.0, -1.0, float("nan")],
    "mean": [float("nan"), float("inf")],
    "std": [0.0, float("nan"), -1.0, 1e-45],
    "center": [2, -1],
    "channel_axis": [2],
    "version": [0, 2, -1],
    "kind": ["spectrogram", "raw\n", ""],
    "layout": ["x"], "window": ["hamming"],
}


@mutator("frontend_mutate", "semantic", 1.5)
def frontend_mutate(ctx):
    with _open(ctx) as f:
        if "frontend" not in f:
            raise Skip("no frontend")
        g = f["frontend"]
        keys = [k for k in g.attrs.keys() if k in FRONTEND_VALUES]
        k = ctx.choice(keys)
        v = ctx.choice(FRONTEND_VALUES[k])
        if isinstance(v, int):
            v = np.int64(v) if v < 2 ** 63 else np.uint64(v)
        elif isinstance(v, float):
            v = np.float64(v)
        _set_attr(ctx, f, "/frontend", k, v)
        return f"/frontend@{k} = {_short(v)}"


# ----------------------------------------------------------------------------- links
def _replace_with_link(ctx, f, path, link):
    parent, name = path.rsplit("/", 1)
    g = f[parent or "/"]
    del g[name]
    g[name] = link
    ctx.changed.append(path)


def _link_target(ctx, f):
    groups, datasets = _walk(f)
    cands = [g for g in groups if g.count("/") == 2 and g.startswith(("/graph/", "/tensors/"))]
    cands += [d for d in datasets if d.startswith("/graph/")]
    cands += [p for p in ("/labels", "/frontend", "/meta", "/tensors", "/graph") if p in f]
    return ctx.choice(cands)


@mutator("softlink_broken", "semantic", 1.0)
def softlink_broken(ctx):
    with _open(ctx) as f:
        p = _link_target(ctx, f)
        _replace_with_link(ctx, f, p, _h5py().SoftLink("/nowhere/" + p.rsplit("/", 1)[1]))
        return f"{p} -> soft link to /nowhere"


@mutator("softlink_other", "semantic", 1.0)
def softlink_other(ctx):
    """A member replaced by a soft link to another member of the same kind (or to itself's copy), so the link
    resolves."""
    with _open(ctx) as f:
        p = _link_target(ctx, f)
        parent = p.rsplit("/", 1)[0] or "/"
        same = []
        if p.startswith(("/graph/", "/tensors/")):
            groups, datasets = _walk(f)
            pool = groups if isinstance(f[p], _h5py().Group) else datasets
            top = "/" + p.split("/")[1] + "/"
            same = [q for q in pool if q != p and q.count("/") == p.count("/") and q.startswith(top)]
        if same and ctx.coin(0.7):
            target = ctx.choice(same)
        else:                   # a copy of the member under another name, linked back: resolves to the same data
            target = parent.rstrip("/") + "/_orig_" + p.rsplit("/", 1)[1]
            f.move(p, target)
            f[p] = _h5py().SoftLink(target)
            ctx.changed.append(p)
            return f"{p} moved to {target}, soft link in its place"
        _replace_with_link(ctx, f, p, _h5py().SoftLink(target))
        return f"{p} -> soft link to {target}"


@mutator("extlink_h5", "semantic", 1.5)
def extlink_h5(ctx):
    """A member replaced by an external link to the same member of a copy of the seed in the sentinel folder: the
    link resolves to identical content, so only a read-outside detector can notice."""
    with _open(ctx) as f:
        p = _link_target(ctx, f)
        target = p if ctx.coin(0.8) else "/graph/0"
        fname = ctx.sentinels["h5"] if ctx.coin(0.7) else os.path.relpath(ctx.sentinels["h5"], ctx.folder)
        _replace_with_link(ctx, f, p, _h5py().ExternalLink(fname, target))
        return f"{p} -> external link {fname}:{target}"


@mutator("extlink_nonh5", "semantic", 1.0)
def extlink_nonh5(ctx):
    with _open(ctx) as f:
        p = _link_target(ctx, f)
        _replace_with_link(ctx, f, p, _h5py().ExternalLink(ctx.sentinels["bin"], "/graph/0"))
        return f"{p} -> external link to the non-HDF5 {ctx.sentinels['bin']}"


@mutator("external_storage", "semantic", 1.5)
def external_storage(ctx):
    """A weight dataset replaced by one with HDF5 external storage: its bytes live in a file outside the model
    (a non-HDF5 sentinel, or the very same bytes inside the sentinel copy of the seed)."""
    h5py = _h5py()
    with h5py.File(ctx.sentinels["h5"], "r") as s:
        cands = _contiguous_datasets(s)
    p, off, n = ctx.choice(cands)
    with _open(ctx) as f:
        ds = f[p]
        shape, dtype = ds.shape, ds.dtype
        if ctx.coin():
            ext, how = [(ctx.sentinels["h5"], off, n)], "same bytes in the sentinel copy"
        else:
            ext, how = [(ctx.sentinels["bin"], 0, n)], "sentinel.bin"
        _replace_dataset(ctx, f, p, shape=shape, dtype=dtype, external=ext)
    return f"{p}: external storage -> {how} ({n} bytes)"


# ----------------------------------------------------------------------------- resources
def _reinfer_shapes(f):
    """Recompute every node's output shape with kwsnum's shape rules (in file order) and write changed shapes
    back; returns the tensor paths changed. Stops quietly at the first node the rules refuse."""
    from kwsnum import ops
    from kwsnum.model import Node
    tpath = {}
    shapes = {}
    for k in _numbered(f, "/tensors"):
        g = f["tensors"][k]
        n = g.attrs["name"]
        n = n.decode() if isinstance(n, bytes) else n
        tpath[n] = g
        shapes[n] = tuple(int(d) for d in g.attrs["shape"])
    changed = []
    for k in _numbered(f, "/graph"):
        g = f["graph"][k]

        def strs(key):
            return [x.decode() if isinstance(x, bytes) else x for x in np.asarray(g.attrs[key]).tolist()]
        attrs = {}
        for a, v in g.attrs.items():
            if a in ("op", "name", "inputs", "outputs"):
                continue
            v = v.decode() if isinstance(v, bytes) else v
            if isinstance(v, np.ndarray) and v.dtype.kind in "iu":
                v = tuple(int(x) for x in v)
            attrs[a] = v
        arrays = {a: d[()] for a, d in g.items()}
        op = g.attrs["op"]
        op = op.decode() if isinstance(op, bytes) else op
        node = Node(op, "n", strs("inputs"), strs("outputs"), attrs, arrays, index=int(k))
        try:
            out = tuple(int(d) for d in ops.get(op, node).output_shapes(node, [shapes[t] for t in node.inputs])[0])
        except Exception:
            return changed
        t = node.outputs[0]
        if out != shapes[t]:
            shapes[t] = out
            tpath[t].attrs["shape"] = np.asarray(out, np.int64)
            changed.append(tpath[t].name)
    return changed


@mutator("conv_padding_huge", "semantic", 1.0)
def conv_padding_huge(ctx):
    """padding 65536 (or more) on one conv, the declared shapes downstream recomputed so the model still validates
    where the following ops allow it (a conv before a global average pool): a resource bound."""
    with _open(ctx) as f:
        convs = []
        for k in _numbered(f, "/graph"):
            op = f["graph"][k].attrs["op"]
            op = op.decode() if isinstance(op, bytes) else op
            if op in ("conv1d", "conv2d") and "padding" in f["graph"][k].attrs:
                convs.append(k)
        k = ctx.choice(convs[-2:] if ctx.coin(0.7) else convs)
        pad = ctx.choice([65536, 65536, 2 ** 20, 2 ** 31 - 1])
        old = np.asarray(f["graph"][k].attrs["padding"])
        _set_attr(ctx, f, f"/graph/{k}", "padding", np.full(old.shape, pad, np.int64))
        changed = _reinfer_shapes(f)
        ctx.changed += changed
        return f"/graph/{k}@padding = {pad} (shapes updated: {len(changed)})"


# ----------------------------------------------------------------------------- byte-level
def _read(path):
    with open(path, "rb") as fh:
        return bytearray(fh.read())


def _write(path, data):
    with open(path, "wb") as fh:
        fh.write(data)


@mutator("bitflip", "bytes", 3.0)
def bitflip(ctx):
    data = _read(ctx.model)
    n = ctx.int(1, 17)
    offs = []
    for _ in range(n):
        o = ctx.int(0, len(data))
        data[o] ^= 1 << ctx.int(0, 8)
        offs.append(o)
    _write(ctx.model, data)
    return f"{n} bit flips at {sorted(offs)[:6]}{'...' if n > 6 else ''}"


@mutator("byte_overwrite", "bytes", 2.0)
def byte_overwrite(ctx):
    data = _read(ctx.model)
    n = ctx.int(1, 65)
    o = ctx.int(0, max(1, len(data) - n))
    fill = ctx.choice(["random", "zero", "ff", "7f"])
    if fill == "random":
        chunk = bytes(ctx.rng.integers(0, 256, n, dtype=np.uint8))
    else:
        chunk = bytes([{"zero": 0, "ff": 255, "7f": 127}[fill]]) * n
    data[o:o + n] = chunk
    _write(ctx.model, data[:len(data)])
    return f"{n} bytes at {o} overwritten ({fill})"


@mutator("truncate", "bytes", 1.5)
def truncate(ctx):
    size = os.path.getsize(ctx.model)
    how = ctx.choice(["random", "near-end", "near-start"])
    if how == "near-end":
        n = size - ctx.int(1, min(size, 4096))
    elif how == "near-start":
        n = ctx.int(0, min(size, 4096))
    else:
        n = ctx.int(0, size)
    os.truncate(ctx.model, n)
    return f"truncated to {n} of {size} bytes ({how})"


def _attr_byte_regions(path, under=None):
    """[(label, offset, length)]: where the bytes of attribute names and string values occur in the file."""
    h5py = _h5py()
    data = bytes(_read(path))
    regions = []
    with h5py.File(path, "r") as f:
        for p, k, kind in _attrs(f, under=under):
            needles = [("name", k.encode())]
            try:
                v = f[p].attrs[k]
                if isinstance(v, (str, bytes)):
                    needles.append(("value", v.encode() if isinstance(v, str) else v))
            except Exception:
                pass
            for what, needle in needles:
                if len(needle) < 2:
                    continue
                i = data.find(needle)
                while i >= 0 and len(regions) < 4000:
                    regions.append((f"{p}@{k} {what}", i, len(needle)))
                    i = data.find(needle, i + 1)
    return regions


@mutator("attr_bytes_flip", "bytes", 2.0)
def attr_bytes_flip(ctx):
    """Flips inside (or just around) the stored bytes of one attribute's name or value."""
    return _flip_regions(ctx, _attr_byte_regions(ctx.model))


@mutator("meta_byteflip", "bytes", 1.0)
def meta_byteflip(ctx):
    """Flips in the bytes of a /meta attribute (the float16 model's /meta flip segfaulted libhdf5)."""
    return _flip_regions(ctx, _attr_byte_regions(ctx.model, under="/meta"))


def _flip_regions(ctx, regions):
    if not regions:
        raise Skip("no attribute bytes found")
    label, off, n = ctx.choice(regions)
    data = _read(ctx.model)
    flips = []
    if label.endswith(" name") and ctx.coin(0.4):
        # the attribute message's datatype right after its NUL-padded name (padded to 8 bytes in version 1
        # messages): one byte of it inverted -- the /meta flip that segfaults libhdf5 is such a byte
        o = min(len(data) - 1, off + ((n + 1 + 7) // 8) * 8 + ctx.int(0, 16))
        data[o] ^= 0xFF
        _write(ctx.model, data)
        return f"{label} at {off}: datatype byte {o} inverted"
    for _ in range(ctx.int(1, 5)):
        o = min(len(data) - 1, max(0, off + ctx.int(-8, n + 8)))
        if ctx.coin(0.5):
            data[o] ^= 1 << ctx.int(0, 8)
        else:
            data[o] = ctx.int(0, 256)
        flips.append(o)
    _write(ctx.model, data)
    return f"{label} at {off}: bytes {sorted(flips)} changed"


# ----------------------------------------------------------------------------- inputs
def _seed_input_array(ctx):
    return np.load(ctx.seed["inputs"]["npy"])


def _run_op(*args):
    return [dict(op="run", argv=["run", "m.h5", *args])]


@mutator("npy_zero_batch", "input", 0.5)
def npy_zero_batch(ctx):
    x = _seed_input_array(ctx)
    np.save(os.path.join(ctx.folder, "x.npy"), x[:0])
    ctx.ops = _run_op("x.npy")
    return f"x.npy shape {x[:0].shape}"


def _npy_header(shape, dtype="<f4"):
    d = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (dtype, repr(tuple(shape)))
    h = d.encode("latin1")
    pad = 64 - (10 + len(h) + 1) % 64
    h += b" " * pad + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h


@mutator("npy_huge_header", "input", 0.5)
def npy_huge_header(ctx):
    x = _seed_input_array(ctx)
    per = int(np.prod(x.shape[1:]))
    how = ctx.choice(["batch", "elements"])
    shape = (max(1, 2 ** 31 // per),) + x.shape[1:] if how == "elements" else (2 ** 31,) + x.shape[1:]
    with open(os.path.join(ctx.folder, "x.npy"), "wb") as fh:
        fh.write(_npy_header(shape, x.dtype.str))
        fh.write(x.tobytes())
    ctx.ops = _run_op("x.npy")
    return f"x.npy header shape {shape}, {x.nbytes} data bytes"


@mutator("npy_truncated", "input", 0.5)
def npy_truncated(ctx):
    data = open(ctx.seed["inputs"]["npy"], "rb").read()
    n = ctx.int(0, len(data))
    open(os.path.join(ctx.folder, "x.npy"), "wb").write(data[:n])
    ctx.ops = _run_op("x.npy")
    return f"x.npy truncated to {n} of {len(data)}"


@mutator("npy_garbage", "input", 0.5)
def npy_garbage(ctx):
    x = _seed_input_array(ctx)
    how = ctx.choice(["random-bytes", "object-dtype", "complex", "bool", "string", "big-endian", "fortran",
                      "nonfinite", "bad-header", "0-d"])
    p = os.path.join(ctx.folder, "x.npy")
    if how == "random-bytes":
        open(p, "wb").write(bytes(ctx.rng.integers(0, 256, ctx.int(0, 2000), dtype=np.uint8)))
    elif how == "object-dtype":
        np.save(p, np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    elif how == "complex":
        np.save(p, x.astype(np.complex64))
    elif how == "bool":
        np.save(p, x > 0)
    elif how == "string":
        np.save(p, np.full(x.shape, "a"))
    elif how == "big-endian":
        np.save(p, x.astype(x.dtype.newbyteorder(">")))
    elif how == "fortran":
        np.save(p, np.asfortranarray(x))
    elif how == "nonfinite":
        y = x.astype(np.float32)
        y.flat[::3] = np.nan
        y.flat[1::3] = np.inf
        y.flat[2::5] = -3.4e38
        np.save(p, y)
    elif how == "bad-header":
        open(p, "wb").write(b"\x93NUMPY\x01\x00\xff\xff{'descr': '<f4', 'shape': (" + b"9" * 200 + b",)}")
    else:
        np.save(p, np.float32(1.0))
    ctx.ops = _run_op("x.npy")
    return f"x.npy {how}"


def _wav_bytes(samples, rate=16000, channels=1, bits=16, fmt_size=16, data_size=None, tag=1):
    data = samples.astype("<i2").tobytes() if bits == 16 else bytes(len(samples))
    fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * channels * bits // 8, channels * bits // 8, bits)
    chunks = b"fmt " + struct.pack("<I", fmt_size) + fmt
    chunks += b"data" + struct.pack("<I", len(data) if data_size is None else data_size) + data
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks


def _need_frontend(ctx):
    if "wav" not in ctx.seed["inputs"]:
        raise Skip("the seed has no frontend")


@mutator("wav_fmt_huge", "input", 0.5)
def wav_fmt_huge(ctx):
    _need_frontend(ctx)
    size = ctx.choice([0xFFFFFFF0, 0xFFFFFFFF, 0x7FFFFFFF, 0, 2, 15])
    clip = np.zeros(256, np.int16)
    open(os.path.join(ctx.folder, "x.wav"), "wb").write(_wav_bytes(clip, fmt_size=size))
    ctx.ops = _run_op("x.wav")
    return f"x.wav fmt chunk size {size:#x}"


@mutator("wav_truncated", "input", 0.5)
def wav_truncated(ctx):
    _need_frontend(ctx)
    data = open(ctx.seed["inputs"]["wav"], "rb").read()
    n = ctx.int(0, min(len(data), 200)) if ctx.coin() else ctx.int(0, len(data))
    open(os.path.join(ctx.folder, "x.wav"), "wb").write(data[:n])
    ctx.ops = _run_op("x.wav")
    return f"x.wav truncated to {n} of {len(data)}"


@mutator("wav_garbage", "input", 0.5)
def wav_garbage(ctx):
    _need_frontend(ctx)
    clip = np.zeros(300, np.int16)
    how = ctx.choice(["random-bytes", "8-bit", "stereo", "44k", "float", "extensible", "data-size-huge",
                      "no-data", "zero-channels", "zero-rate", "riff-only", "bitflips"])
    if how == "random-bytes":
        b = b"RIFF" + bytes(ctx.rng.integers(0, 256, ctx.int(0, 400), dtype=np.uint8))
    elif how == "8-bit":
        b = _wav_bytes(clip, bits=8)
    elif how == "stereo":
        b = _wav_bytes(clip, channels=2)
    elif how == "44k":
        b = _wav_bytes(clip, rate=44100)
    elif how == "float":
        b = _wav_bytes(clip, tag=3, bits=32)
    elif how == "extensible":
        b = _wav_bytes(clip, tag=0xFFFE)
    elif how == "data-size-huge":
        b = _wav_bytes(clip, data_size=0xFFFFFFF0)
    elif how == "no-data":
        b = _wav_bytes(clip[:0])
    elif how == "zero-channels":
        b = _wav_bytes(clip, channels=0)
    elif how == "zero-rate":
        b = _wav_bytes(clip, rate=0)
    elif how == "riff-only":
        b = b"RIFF\x04\x00\x00\x00WAVE"
    else:
        b = bytearray(open(ctx.seed["inputs"]["wav"], "rb").read())
        for _ in range(ctx.int(1, 9)):
            o = ctx.int(0, min(len(b), 64))
            b[o] ^= 1 << ctx.int(0, 8)
        b = bytes(b)
    open(os.path.join(ctx.folder, "x.wav"), "wb").write(b)
    ctx.ops = _run_op("x.wav")
    return f"x.wav {how}"


@mutator("fifo_input", "input", 0.1)
def fifo_input(ctx):
    name = ctx.choice(["x.npy", "x.wav"] if "wav" in ctx.seed["inputs"] else ["x.npy"])
    os.mkfifo(os.path.join(ctx.folder, name))
    ctx.ops = _run_op(name)
    return f"{name} is a FIFO"


@mutator("fifo_model", "input", 0.05)
def fifo_model(ctx):
    os.unlink(ctx.model)
    os.mkfifo(ctx.model)
    ctx.ops = [dict(op="inspect", argv=["inspect", "m.h5"])]
    return "m.h5 is a FIFO"


def _copy_input(ctx):
    import shutil
    shutil.copy(ctx.seed["inputs"]["npy"], os.path.join(ctx.folder, "x.npy"))


@mutator("trace_unwritable", "input", 0.3)
def trace_unwritable(ctx):
    _copy_input(ctx)
    how = ctx.choice(["under-a-file", "read-only-folder"])
    if how == "under-a-file":
        open(os.path.join(ctx.folder, "file.txt"), "w").write("a regular file\n")
        target = "file.txt/trace"
    else:     # effective for a non-root user only (root ignores the mode bits)
        ro = os.path.join(ctx.folder, "ro")
        os.mkdir(ro)
        os.chmod(ro, 0o500)
        target = "ro/trace"
    ctx.ops = _run_op("x.npy", "--trace", target)
    return f"--trace {target} ({how})"


@mutator("trace_nonempty", "input", 0.3)
def trace_nonempty(ctx):
    _copy_input(ctx)
    d = os.path.join(ctx.folder, "results")
    os.mkdir(d)
    open(os.path.join(d, "keep.txt"), "w").write("the user's own file\n")
    ctx.ops = _run_op("x.npy", "--trace", "results")
    return "--trace into an existing non-empty folder (results/keep.txt)"


@mutator("trace_long_names", "input", 0.3)
def trace_long_names(ctx):
    _copy_input(ctx)
    with _open(ctx) as f:
        names = _tensor_names(f)
        k = ctx.int(1, min(len(names), 4) + 1)
        for old in names[-k:]:
            _rename_tensor_everywhere(f, old, (old + "_" + "n" * 300)[:300])
    r = resign(ctx.model)
    ctx.ops = _run_op("x.npy", "--trace", "trace")
    return f"{k} tensors renamed to 300 characters{' (re-signed)' if r else ''}, --trace trace"


def weights(kinds=None):
    names = [n for n, m in MUTATORS.items() if kinds is None or m["kind"] in kinds]
    w = np.array([MUTATORS[n]["weight"] for n in names], dtype=np.float64)
    return names, w / w.sum()


@mutator("codegen_hostile", "input", 0.3)
def codegen_hostile(ctx):
    """codegen of a valid model in the ways that broke it: a model (or --name) called ``features`` (shadows the C
    library's <features.h>), labels of 4,000+ characters with quotes, backslashes, newlines or multi-byte UTF-8 (cut
    after escaping), -o under a regular file, -o an existing non-empty folder, a --name with escapes."""
    h5py = _h5py()
    how = ctx.choice(["model-features", "name-features", "long-labels", "long-utf8-labels", "out-under-file",
                      "out-nonempty", "name-escape"])
    argv = ["codegen", "m.h5", "-o", "out"]
    if how == "model-features":
        with _open(ctx) as f:
            f.attrs["name"] = "features"
        resign(ctx.model)
    elif how == "name-features":
        argv += ["--name", "features"]
    elif how in ("long-labels", "long-utf8-labels"):
        with _open(ctx) as f:
            if "labels" not in f:
                raise Skip("no labels")
            labels = [x.decode() if isinstance(x, bytes) else x for x in f["labels"][()].tolist()]
            unit = "\"\\\n?" if how == "long-labels" else "\u00e9\u20ac\U0001f600"
            labels[ctx.int(0, len(labels))] = unit * (4100 // len(unit) + ctx.int(0, 3))
            del f["labels"]
            f.create_dataset("labels", data=np.array(labels, dtype=h5py.string_dtype("utf-8")))
        resign(ctx.model)
    elif how == "out-under-file":
        open(os.path.join(ctx.folder, "file.txt"), "w").write("a regular file\n")
        argv[3] = "file.txt/out"
    elif how == "out-nonempty":
        os.mkdir(os.path.join(ctx.folder, "out"))
        open(os.path.join(ctx.folder, "out", "keep.c"), "w").write("/* the user's */\n")
    else:
        argv += ["--name", "n\x1b[31m\nforged"]
    if how not in ("out-under-file", "out-nonempty") or ctx.coin(0.3):
        argv.append("--build")
    ctx.ops = [dict(op="codegen", argv=argv)]
    return f"codegen {how}"


FORMATS = ("int8", "int16", "float32", "float16", "bfloat16", "q8", "q16", "q32", "uint8")


def _str(v):
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)


@mutator("format_swap", "semantic", 1.5)
def format_swap(ctx):
    """A tensor re-declared in another valid format, with the quantization attributes that format needs, so the
    load gets past the tensor checks to the op checks (an int8 pool whose output is float32, a q16 conv whose
    output is int8, ...)."""
    with _open(ctx) as f:
        k = ctx.choice(_numbered(f, "/tensors"))
        g = f["tensors"][k]
        old = _str(g.attrs["format"])
        new = ctx.choice([x for x in FORMATS if x != old])
        _set_attr(ctx, f, f"/tensors/{k}", "format", new)
        if new in ("int8", "int16", "uint8"):
            if "scale" not in g.attrs:
                g.attrs["scale"] = np.float32(0.05)
            if new == "int16" or "zero_point" not in g.attrs:
                g.attrs["zero_point"] = np.int32(0)
        if new in ("q8", "q16", "q32") and "frac_bits" not in g.attrs:
            g.attrs["frac_bits"] = np.int32({"q8": 5, "q16": 12, "q32": 24}[new])
        if ctx.coin(0.3):                      # and the stale attributes of the old format removed
            for a in ("scale", "zero_point", "frac_bits"):
                if a in g.attrs and not ((a == "frac_bits") == (new in ("q8", "q16", "q32")) and
                                         new not in ("float32", "float16", "bfloat16")):
                    del g.attrs[a]
        return f"/tensors/{k} ({_str(g.attrs['name'])}) format {old} -> {new}"


@mutator("op_swap", "semantic", 1.0)
def op_swap(ctx):
    """A node's op replaced by another registered op (its attributes and arrays stay)."""
    from kwsnum import ops
    with _open(ctx) as f:
        k = ctx.choice(_numbered(f, "/graph"))
        old = _str(f["graph"][k].attrs["op"])
        new = ctx.choice([n for n in ops.names() if n != old])
        _set_attr(ctx, f, f"/graph/{k}", "op", new)
        return f"/graph/{k} op {old} -> {new}"


@mutator("attr_transplant", "semantic", 1.0)
def attr_transplant(ctx):
    """An attribute or dataset of one node copied over the same-named one of another node (plausible values in the
    wrong place: another layer's multipliers, shifts, clamps, modes)."""
    with _open(ctx) as f:
        nodes = _numbered(f, "/graph")
        pairs = []
        for a in nodes:
            for b in nodes:
                if a == b:
                    continue
                ga, gb = f["graph"][a], f["graph"][b]
                for key in ga.attrs.keys():
                    if key not in ("op", "name", "inputs", "outputs") and key in gb.attrs:
                        pairs.append((a, b, key, "attr"))
                for key in ga.keys():
                    if key in gb:
                        pairs.append((a, b, key, "dataset"))
        if not pairs:
            raise Skip("no shared attribute names")
        a, b, key, what = pairs[ctx.int(0, len(pairs))] if len(pairs) < 5000 else ctx.choice(pairs[:5000])
        if what == "attr":
            _set_attr(ctx, f, f"/graph/{b}", key, f["graph"][a].attrs[key])
        else:
            _replace_dataset(ctx, f, f"/graph/{b}/{key}", data=f["graph"][a][key][()])
        return f"/graph/{a} {what} {key} copied over /graph/{b}'s"
