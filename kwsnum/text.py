"""Model strings on their way to a person: escaped once, kept short, one line.

A model file is data from someone else. Its strings (layer, tensor and label names, meta values) may hold
newlines, ANSI / OSC escape sequences or bidirectional overrides. Every place that writes such a string to a
terminal or into an error message passes it through :func:`printable`; values of unknown shape (an attribute
that should have been a number) go through :func:`short_repr`. JSON output needs neither (``json.dumps``
escapes control characters itself).
"""
import unicodedata

import numpy as np

__all__ = ["printable", "short_repr", "one_line", "MAX_SHOWN"]

MAX_SHOWN = 160          # characters of one model string shown in a message or table cell


def _escape(ch):
    o = ord(ch)
    if o < 0x100:
        return f"\\x{o:02x}"
    if o < 0x10000:
        return f"\\u{o:04x}"
    return f"\\U{o:08x}"


def _safe(ch):
    """Is ``ch`` harmless on a terminal? Letters, marks, numbers, punctuation, symbols and the plain space;
    never control (Cc), format (Cf: bidi overrides, zero-width joiners), separators other than ' ',
    surrogates or unassigned code points."""
    if ch == " ":
        return True
    cat = unicodedata.category(ch)
    return cat[0] in "LMNPS"


def printable(s, limit=MAX_SHOWN):
    """``s`` (any object; bytes are decoded with replacement) as one line of harmless characters: every other
    character becomes ``\\xNN`` / ``\\uNNNN``, and a text longer than ``limit`` characters is cut (at a character
    boundary, after escaping) with ``...`` and the original length."""
    if isinstance(s, (bytes, bytearray)):
        s = bytes(s).decode("utf-8", errors="backslashreplace")
    elif not isinstance(s, str):
        s = str(s)
    out = "".join(ch if _safe(ch) else _escape(ch) for ch in s)
    if limit is not None and len(out) > limit:
        out = out[:max(0, limit - 3)] + f"...({len(s)} chars)"
    return out


def short_repr(v, limit=80):
    """A short one-line description of an attribute value for an error message: scalars and short sequences as
    themselves, arrays as ``array of shape (2, 3) int64``, everything escaped."""
    if isinstance(v, np.ndarray) and v.ndim > 1:
        return f"an array of shape {v.shape} {v.dtype}"
    if isinstance(v, np.ndarray) and v.size > 8:
        return f"an array of {v.size} {v.dtype}"
    if isinstance(v, (bytes, bytearray)):
        text = repr(bytes(v[:limit]))
    else:
        text = repr(v.tolist() if isinstance(v, np.ndarray) else v)
    return printable(text, limit)


def one_line(message, limit=2000):
    """A whole error message as one harmless line (model strings inside it included)."""
    return printable(message, limit)


def names_mismatch(have, expected, noun, where=""):
    """The message for a set of names (``have``) that is not exactly ``expected``: the missing ones first, then
    the unknown ones, e.g. "missing attributes 'a', 'b' for kind 'micro'"; None when they match. ``where`` is
    appended as it is (" for kind 'micro'")."""
    have = list(have)
    missing = [k for k in expected if k not in have]
    if missing:
        return f"missing {noun}{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))}{where}"
    unknown = sorted(k for k in have if k not in expected)
    if unknown:
        return f"unknown {noun}{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}{where}"
    return None
