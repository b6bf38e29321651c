"""Sanitizing and literals of the C generator: C identifiers only ever come from :func:`c_ident` (the project
name, array names), comments only from :func:`c_comment` (a short, restricted character set: no ``*/``, no
newline, no trigraph, no backslash), string literals only from :func:`c_string`, numbers from :func:`lit`."""
import os
import re

import numpy as np

CTYPE = {"int8": "int8_t", "uint8": "uint8_t", "int16": "int16_t", "uint16": "uint16_t", "int32": "int32_t",
         "int64": "int64_t", "float32": "float",
         "float16": "uint16_t", "bfloat16": "uint16_t",    # tensor formats: 16-bit floats as bit patterns
         "q8": "int8_t", "q16": "int16_t", "q32": "int32_t"}
C_KEYWORDS = set("""auto break case char const continue default do double else enum extern float for goto if
inline int long register restrict return short signed sizeof static struct switch typedef union unsigned void
volatile while _Bool _Complex _Imaginary main errno assert""".split())
# file stems that would shadow a standard header (the project compiles with -I.)
# file stems that would shadow a header of the C library or its internals (glibc's <features.h> is included by
# every glibc header; newlib's <_ansi.h>, <newlib.h> ...): a generated file is never named like one
STD_HEADERS = set("""assert complex ctype errno fenv float inttypes iso646 limits locale math setjmp signal stdalign
stdarg stdatomic stdbool stddef stdint stdio stdlib stdnoreturn string tgmath threads time uchar wchar wctype
features stdc-predef stdc_predef alloca endian byteswap unistd fcntl strings sched pthread malloc memory getopt libgen
regex dirent poll termios syslog grp pwd dlfcn link elf argp error execinfo fnmatch glob iconv langinfo monetary
netdb nl_types search semaphore spawn tar utime utmp wordexp aio cpio fmtmsg ftw mqueue ndbm arpa net netinet sys
bits gnu asm linux newlib _ansi reent machine ieeefp _newlib_version _syslist envlock sys_types cmsis_compiler
arm_acle arm_math arm_neon arm_mve config""".split())

# ------------------------------------------------------------------ sanitizing
def c_ident(s, default="model"):
    """A valid, non-reserved C identifier (and file stem) from any string: [a-z0-9_], not starting with a digit
    or an underscore, not a keyword, not clashing with the runtime (``kws_``) or the harness (``main``)."""
    s = re.sub(r"[^A-Za-z0-9_]", "_", str(s)).lower()
    s = re.sub(r"_+", "_", s).strip("_")[:48].strip("_") or default
    if s[0].isdigit():
        s = "m_" + s
    if s in C_KEYWORDS or s in STD_HEADERS or _clashes_with_runtime(s):
        s = "m_" + s
    return s


_RUNTIME_NAMES = None


def _runtime_names():
    """Every kws_/KWS_ identifier and file stem of the C runtime (read once from c_runtime/)."""
    global _RUNTIME_NAMES
    if _RUNTIME_NAMES is None:
        from kwsnum import c_runtime
        names = set()
        for f in os.listdir(c_runtime.path()):
            if f.endswith((".c", ".h")):
                names.add(f[:-2])
                with open(os.path.join(c_runtime.path(), f), encoding="utf-8") as fh:
                    names.update(re.findall(r"\b(?:kws|KWS)_\w+", fh.read()))
        _RUNTIME_NAMES = names
    return _RUNTIME_NAMES


def _clashes_with_runtime(name):
    """Would a project named ``name`` define an identifier or file the runtime also has? The generator
    defines name, name_{weights,arena,labels,invoke,main,main_trace,trace}, name_n<i>_*, and NAME_{H,WEIGHTS_H,
    ALIGNED,NUM_CLASSES,HAS_LABELS,ARENA_BYTES,WEIGHT_BYTES,TRACE,TRACE_LAYER,NUM_LAYERS,INPUT_*,OUTPUT_*}."""
    up = name.upper()
    exact = {name} | {f"{name}_{s}" for s in ("weights", "arena", "labels", "invoke", "main", "main_trace",
                                              "trace", "frontend", "frontend_reset", "frontend_push",
                                              "classify_pcm", "invoke_float", "invoke_pcm", "float", "pcm",
                                              "float_in", "float_out", "pcm_in", "pcm_thresholds")} | \
        {f"{up}_{s}" for s in ("H", "WEIGHTS_H", "ALIGNED", "NUM_CLASSES", "HAS_LABELS", "ARENA_BYTES",
                               "WEIGHT_BYTES", "TRACE", "TRACE_LAYER", "NUM_LAYERS", "HAS_FLOAT_API", "HAS_PCM_API",
                               "SCRATCH_BYTES", "FLOAT_WRAPPER_BYTES")}
    for r in _runtime_names():
        if r in exact or r.startswith((f"{up}_INPUT_", f"{up}_OUTPUT_", f"{up}_FLOAT_INPUT_", f"{up}_FLOAT_OUTPUT_",
                                       f"{up}_FRONTEND_", f"{name}_fe_")) or \
                re.match(re.escape(name) + r"_n\d", r):
            return True
    return False


def c_comment(s, limit=80):
    """Text safe inside a ``/* ... */`` comment: letters, digits and ``_ .,:;=+-()[]<>#%`` only."""
    s = re.sub(r"[^A-Za-z0-9_ .,:;=+\-()\[\]<>#%]", "_", str(s))
    return s[:limit]


def c_string(s):
    """A C string literal (with its quotes) for any text: printable ASCII kept (quote, backslash and '?' escaped,
    so no trigraph); every other byte of the UTF-8 encoding as a 3-digit octal escape."""
    out = []
    text = str(s)
    while len(text.encode("utf-8")) > 4000:       # cut the text (never its escapes, never inside a character)
        text = text[:len(text) - max(1, (len(text.encode("utf-8")) - 4000) // 4)]
    for byte in text.encode("utf-8", "replace"):
        ch = chr(byte)
        if ch in '"\\?':
            out.append("\\" + ch)
        elif 32 <= byte < 127:
            out.append(ch)
        else:
            out.append(f"\\{byte:03o}")
    return '"' + "".join(out) + '"'


# ------------------------------------------------------------------ literals
def lit(v, dtype):
    """A C literal of value v for a C type of numpy dtype name ``dtype`` (exact; float32 as hex float)."""
    if dtype == "float32":
        f = float(np.float32(v))
        if np.isnan(f):
            return "NAN"
        if np.isinf(f):
            return "INFINITY" if f > 0 else "(-INFINITY)"
        return f.hex() + "f"
    v = int(v)
    if dtype == "int64":
        return "(INT64_C(-9223372036854775807) - 1)" if v == -(2 ** 63) else f"INT64_C({v})"
    if dtype == "int32" and v == -(2 ** 31):
        return "(-2147483647 - 1)"
    return str(v)


def _array_body(a):
    dt = str(a.dtype)
    flat = a.reshape(-1)
    if flat.size == 0:
        return "0"
    per = 16 if dt in ("int8", "uint8", "int16") else 6
    items = [lit(v, dt) for v in flat]
    return ",\n".join("    " + ", ".join(items[i:i + per]) for i in range(0, len(items), per))


