"""A stand-in CLI that misbehaves on command, so the campaign's detectors can be shown to fire whatever state
kwsnum is in (tests/test_fuzz.py runs the worker with KWSNUM_FUZZ_TARGET=tests.fuzz.selftest:main).

argv[0] picks the behaviour: ok, clean, segv, abort, sleep, open FILE, escape, multiline, internal, raise,
leftover, tmpleft, clobber FILE, memory, exit1.
"""
import os
import sys
import time


def main(argv):
    what = argv[0]
    if what == "ok":
        print("fine\twith a tab")
        sys.exit(0)
    if what == "clean":
        print("kwsnum: error: m.h5: /graph/0 (conv2d): a clean one-line error", file=sys.stderr)
        sys.exit(2)
    if what == "segv":
        import ctypes
        ctypes.string_at(0)
    if what == "abort":
        os.abort()
    if what == "sleep":
        time.sleep(3600)
    if what == "open":
        with open(argv[1], "rb") as fh:
            fh.read(16)
        sys.exit(0)
    if what == "escape":
        print("label \x1b]0;title\x07 \x1b[31mred\x1b[0m")
        sys.exit(0)
    if what == "multiline":
        print("kwsnum: error: first line\nkwsnum: error: forged second line", file=sys.stderr)
        sys.exit(2)
    if what == "internal":
        print("kwsnum: error: internal error: KeyError: 'x' (set KWSNUM_DEBUG=1 for a traceback)", file=sys.stderr)
        sys.exit(3)
    if what == "raise":
        raise KeyError("escaped")
    if what == "leftover":
        os.mkdir(".kwsnum_codegen_half")
        print("kwsnum: error: failed half way", file=sys.stderr)
        sys.exit(2)
    if what == "clobber":
        os.unlink(argv[1])
        sys.exit(0)
    if what == "memory":
        try:
            b = bytearray(8 << 30)
            del b
        except MemoryError:
            print("kwsnum: error: internal error: MemoryError:  (set KWSNUM_DEBUG=1 for a traceback)",
                  file=sys.stderr)
            sys.exit(3)
        sys.exit(0)
    if what == "tmpleft":
        import tempfile
        tempfile.mkdtemp(prefix="kwsnum_verify_")
        sys.exit(0)
    if what == "exit1":
        sys.exit(1)
    raise SystemExit(f"selftest: unknown behaviour {what!r}")
