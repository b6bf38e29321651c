"""The integrity digest of a model file (docs/format.md, "Integrity").

``kwsnum.save`` lists every item of the file (the root attributes, ``/labels``, ``/meta``, ``/frontend``, each
tensor group's attributes, each node group's attributes and each node dataset), hashes each with SHA-256 over a
canonical encoding of its values (names, dtypes, shapes and little-endian bytes; strings as UTF-8) and stores
the digests in ``/integrity`` (uint8, one row of 32 bytes per item, in the order below). ``kwsnum.load``
recomputes them from what it read and names the first item that differs.

This detects accidental corruption (a flipped bit in a weight, a truncated copy, a file edited by hand); it
is not a signature: whoever can write the file can write a matching digest (``sign`` does it for tools
that edit models on purpose).
"""
import hashlib
import struct

import numpy as np

__all__ = ["item_digest", "DIGEST_PATH", "ALGORITHM"]

DIGEST_PATH = "integrity"
ALGORITHM = "sha256"


def _value_bytes(v):
    if isinstance(v, str):
        b = v.encode("utf-8", "surrogatepass")
        return b"s" + struct.pack("<Q", len(b)) + b
    if isinstance(v, (list, tuple)) and all(isinstance(x, str) for x in v):
        return b"L" + struct.pack("<Q", len(v)) + b"".join(_value_bytes(x) for x in v)
    a = np.asarray(v)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"cannot hash a value of dtype {a.dtype}")
    dt = a.dtype.newbyteorder("<") if a.dtype.byteorder == ">" else a.dtype
    a = np.ascontiguousarray(a, dtype=dt)
    head = f"{dt.str}{a.shape}".encode()
    return b"a" + struct.pack("<Q", len(head)) + head + a.tobytes()


def item_digest(path, attrs=None, array=None):
    """SHA-256 (32 bytes) of one item: its path, its attributes (sorted by name) or its array."""
    h = hashlib.sha256()
    h.update(_value_bytes(path))
    if attrs is not None:
        h.update(b"A" + struct.pack("<Q", len(attrs)))
        for k in sorted(attrs):
            h.update(_value_bytes(k))
            h.update(_value_bytes(attrs[k]))
    if array is not None:
        h.update(b"D")
        h.update(_value_bytes(array))
    return h.digest()
