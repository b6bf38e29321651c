"""Reading and writing 16-bit PCM mono WAV files (stdlib :mod:`wave`, no resampling).

``read_wav(path, expected_rate=16000)`` returns ``(samples, rate)`` with ``samples`` a 1-D
``numpy.int16`` array. Anything else -- a missing file, a file that is not RIFF/WAVE, a sample
format other than 16-bit integer PCM, more than one channel, a sample rate other than
``expected_rate``, no samples, a data chunk shorter than its header says -- raises
:class:`kwsnum.errors.InputError` with ``file=path`` and a one-line message saying what was found
and what is expected. kwsnum never resamples, mixes down or converts silently: only when asked,
``resample=True`` (``kwsnum run --resample``) converts another sample rate with
``scipy.signal.resample_poly`` (exact rational ratio, Kaiser-windowed polyphase filter), and
``mix=True`` (``--mix``) averages the channels of a multi-channel file; each conversion done is
described in the ``notes`` list the caller passes.
"""

import os
import stat
import struct
import wave

import numpy as np

from .errors import InputError
from .text import printable

MAX_WAV_BYTES = 1 << 30

__all__ = ["read_wav", "write_wav"]

# WAVE format tags (mmreg.h) that the wave module refuses, named for the error message.
_FORMAT_NAMES = {
    0x0002: "Microsoft ADPCM",
    0x0003: "IEEE float",
    0x0006: "A-law",
    0x0007: "mu-law",
    0x0011: "IMA ADPCM",
    0x0031: "GSM 6.10",
    0x0055: "MPEG Layer 3",
    0xFFFE: "WAVE_FORMAT_EXTENSIBLE",
}

_EXPECTED = "expected 16-bit PCM mono"


def _fmt_chunk(path):
    """Best-effort (format_tag, channels, rate, bits_per_sample) from the raw fmt chunk, or None."""
    try:
        with open(path, "rb") as f:
            head = f.read(1 << 16)
    except OSError:
        return None
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    pos = 12
    while pos + 8 <= len(head):
        name, size = head[pos:pos + 4], struct.unpack_from("<I", head, pos + 4)[0]
        body = head[pos + 8:pos + 8 + size]
        if name == b"fmt " and len(body) >= 16:
            tag, ch, rate, _, _, bits = struct.unpack_from("<HHIIHH", body)
            if tag == 0xFFFE and len(body) >= 26:  # extensible: the real tag is the GUID's first 2 bytes
                sub = struct.unpack_from("<H", body, 24)[0]
                return tag, ch, rate, bits, sub
            return tag, ch, rate, bits, None
        pos += 8 + size + (size & 1)
    return None


def _format_description(path, tag_text):
    info = _fmt_chunk(path)
    if info is None:
        return f"unsupported WAV format ({tag_text})"
    tag, ch, rate, bits, sub = info
    name = _FORMAT_NAMES.get(tag, f"format tag {tag}")
    if tag == 0xFFFE:
        subname = {1: "PCM", 3: "IEEE float"}.get(sub, f"subformat {sub}")
        name = f"{name} ({subname})"
    return f"sample format is {bits}-bit {name}, {_EXPECTED}"


def read_wav(path, expected_rate=16000, resample=False, mix=False, notes=None):
    """Read a 16-bit PCM mono WAV file: returns ``(samples int16 (n,), sample_rate)``.

    ``expected_rate``: the rate the caller needs (the model frontend's ``sample_rate``); a file at
    another rate is an error unless ``resample=True``, which converts it (:func:`resample_int16`;
    the returned rate is then ``expected_rate``). ``None`` accepts any rate. A file with more than one
    channel is an error unless ``mix=True``, which averages the channels (rounded to int16).
    ``notes``: a list to which a one-line description of each conversion is appended.
    """
    fname = os.fspath(path)
    if not os.path.exists(fname):
        raise InputError("file not found", file=fname)
    if os.path.isdir(fname):
        raise InputError("is a directory, expected a WAV file", file=fname)
    try:
        st = os.stat(fname)
    except OSError as e:
        raise InputError(f"cannot read file: {e.strerror or e}", file=fname) from None
    if not stat.S_ISREG(st.st_mode):
        raise InputError("is not a regular file (a FIFO, socket or device); give a WAV file", file=fname)
    if st.st_size > MAX_WAV_BYTES:
        raise InputError(f"is {st.st_size} bytes; kwsnum reads WAV files of at most {MAX_WAV_BYTES} bytes",
                         file=fname)
    try:
        with open(fname, "rb") as f:
            magic = f.read(12)
    except OSError as e:
        raise InputError(f"cannot read file: {e.strerror or e}", file=fname) from None
    if len(magic) == 0:
        raise InputError("empty file (0 bytes), not a WAV file", file=fname)
    if magic[:4] != b"RIFF" or len(magic) < 12 or magic[8:12] != b"WAVE":
        raise InputError("not a WAV file (no RIFF/WAVE header)", file=fname)
    try:
        with wave.open(fname, "rb") as w:
            nch, width, rate, nframes = w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()
            if width != 2:
                kind = "8-bit unsigned" if width == 1 else f"{8 * width}-bit"
                raise InputError(f"sample format is {kind} PCM, {_EXPECTED}", file=fname)
            if nch != 1 and not mix:
                raise InputError(f"{nch} channels, expected mono (1 channel); kwsnum does not mix down "
                                 "unless asked: pass --mix to average the channels", file=fname)
            if expected_rate is not None and rate != int(expected_rate) and not resample:
                raise InputError(f"sample rate {rate} Hz, expected {int(expected_rate)} Hz; "
                                 "kwsnum does not resample unless asked: pass --resample to convert it",
                                 file=fname)
            if nframes == 0:
                raise InputError("no samples (empty data chunk)", file=fname)
            data = w.readframes(min(nframes, st.st_size // (2 * nch)))   # never more than the file can hold
    except InputError:
        raise
    except wave.Error as e:
        msg = str(e)
        if msg.startswith("unknown format"):
            raise InputError(_format_description(fname, msg), file=fname) from None
        raise InputError(f"malformed WAV file: {msg}", file=fname) from None
    except EOFError:
        raise InputError("truncated WAV header", file=fname) from None
    except (OSError, struct.error, RuntimeError, ValueError, OverflowError, MemoryError) as e:
        # the stdlib parser's other failures on a corrupt header (e.g. a chunk size of 0xFFFFFFF0)
        raise InputError(f"malformed WAV file: {printable(str(e) or type(e).__name__, 120)}", file=fname) from None
    if len(data) < 2 * nch * nframes:
        raise InputError(f"truncated data: header says {nframes} samples, file holds "
                         f"{len(data) // (2 * nch)}", file=fname)
    x = np.frombuffer(data, dtype="<i2").astype(np.int16)
    if nch != 1:
        x = mix_down(x.reshape(-1, nch))
        if notes is not None:
            notes.append(f"{fname}: mixed {nch} channels down to mono (average)")
    if expected_rate is not None and rate != int(expected_rate):
        x = resample_int16(x, rate, int(expected_rate), file=fname)
        if notes is not None:
            notes.append(f"{fname}: resampled {rate} Hz -> {int(expected_rate)} Hz "
                         f"(scipy.signal.resample_poly), {nframes} -> {x.size} samples")
        rate = int(expected_rate)
    return x, rate


def mix_down(frames):
    """int16 (n, channels) -> int16 (n,): the channels' mean, rounded half to even."""
    return np.round(np.asarray(frames, np.float64).mean(axis=1)).astype(np.int16)


def resample_int16(x, rate_in, rate_out, file=None):
    """Resample int16 samples from rate_in to rate_out Hz with scipy.signal.resample_poly (the exact ratio
    rate_out / rate_in reduced by their gcd; its default Kaiser-windowed FIR, beta 5), rounded and saturated
    to int16. Raises InputError if scipy is not installed."""
    import math
    try:
        from scipy.signal import resample_poly
    except ImportError:
        raise InputError("resampling needs scipy (pip install scipy)", file=file) from None
    g = math.gcd(int(rate_in), int(rate_out))
    y = resample_poly(np.asarray(x, np.float64), int(rate_out) // g, int(rate_in) // g)
    return np.clip(np.round(y), -32768, 32767).astype(np.int16)


def write_wav(path, samples, rate=16000):
    """Write ``samples`` (1-D int16, or integers within int16 range) as a 16-bit PCM mono WAV."""
    x = np.asarray(samples)
    if x.ndim != 1:
        raise InputError(f"samples must be 1-D (mono), got shape {x.shape}", file=os.fspath(path))
    if x.dtype != np.int16:
        if not np.issubdtype(x.dtype, np.integer) or (x.size and (x.min() < -32768 or x.max() > 32767)):
            raise InputError(f"samples must be int16, got {x.dtype}", file=os.fspath(path))
        x = x.astype(np.int16)
    if int(rate) <= 0:
        raise InputError(f"sample rate must be positive, got {rate}", file=os.fspath(path))
    with wave.open(os.fspath(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(int(rate))
        w.writeframes(x.astype("<i2").tobytes())
