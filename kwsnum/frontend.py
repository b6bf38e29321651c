"""The audio frontend: a 16-bit clip -> the model's float32 input. Spec: docs/frontend.md.

A :class:`Frontend` describes the feature extraction completely (kind, STFT, mel, DCT, layout,
normalisation); ``to_attrs()`` / ``Frontend.from_attrs()`` convert it to and from a flat dict of
HDF5-friendly attributes (the model file stores it under ``/frontend``).

Two implementations of the same spec, both computing in float64 and casting the result to float32:

* numpy: ``frontend.compute(samples)`` (one clip), ``frontend.compute_batch(clips)``; no torch import;
* torch: ``compute_torch(frontend, samples)`` (torch.stft, torch.hann_window, a filterbank and DCT
  built with torch ops; torchaudio is not used).

They agree within ``TOLERANCE_ATOL + TOLERANCE_RTOL * |x|`` (see docs/frontend.md, "Tolerance").
"""

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from .errors import InputError, ModelError
from .text import names_mismatch

__all__ = ["Frontend", "c_tolerance", "frontend_from_parts", "frontend_to_group", "fit_normalisation", "mel_filterbank", "dct_matrix", "hann_window",
           "compute_torch", "hz_to_mel", "mel_to_hz", "TOLERANCE_ATOL", "TOLERANCE_RTOL",
           "FRONTEND_VERSION"]

FRONTEND_VERSION = 1
KINDS = ("logmel", "mfcc", "raw")
ALL_KINDS = KINDS + ("micro",)   # "micro": kwsnum.micro.MicroFrontend (TFLM's fixed-point microfrontend)
LAYOUTS = ("coeff_major", "time_major")
# numpy vs torch: |a - b| <= ATOL + RTOL * |b| elementwise on the float32 outputs.
TOLERANCE_ATOL = 1e-4
TOLERANCE_RTOL = 1e-6
# float32 C (c_runtime/kws_logmel.c) vs numpy: |c - numpy| <= C_ATOL / std + C_RTOL * |numpy| (docs/frontend.md,
# "The float frontends in C": C_ATOL in natural-log units before normalisation); raw is exact.
C_TOLERANCE_ATOL = 2e-2
C_TOLERANCE_ATOL_MAGNITUDE = 6e-2     # power != 2: log(|X|^p + offset) reaches far deeper below the peak
C_TOLERANCE_RTOL = 1e-4


def c_tolerance(fe):
    """(atol in log units before normalisation, rtol) of the float32 C frontend of ``fe`` against numpy."""
    return (C_TOLERANCE_ATOL if fe.power == 2.0 else C_TOLERANCE_ATOL_MAGNITUDE), C_TOLERANCE_RTOL

_WHERE = "/frontend"
# Bounds on the parameters (docs/frontend.md): what a model file may ask the frontend to allocate and compute.
LIMITS = {"sample_rate": 192000, "clip_samples": 1 << 22, "n_fft": 1 << 14, "win_length": 1 << 14,
          "hop_length": 1 << 14, "n_mels": 1024}

# Per kind: the attribute keys stored by to_attrs (besides "version" and "kind").
_SPECTRAL_KEYS = ("sample_rate", "clip_samples", "n_fft", "win_length", "hop_length", "window",
                  "center", "pad_mode", "power", "n_mels", "fmin", "fmax", "mel_scale", "mel_norm",
                  "log_offset", "layout", "channel_axis", "mean", "std")
_KEYS = {
    "logmel": _SPECTRAL_KEYS,
    "mfcc": _SPECTRAL_KEYS + ("n_mfcc",),
    "raw": ("sample_rate", "clip_samples"),
}
_INT_KEYS = {"sample_rate", "clip_samples", "n_fft", "win_length", "hop_length", "center",
             "n_mels", "n_mfcc", "channel_axis"}
_FLOAT_KEYS = {"power", "fmin", "fmax", "log_offset", "mean", "std"}
_STR_KEYS = {"kind", "window", "pad_mode", "mel_scale", "mel_norm", "layout"}


def _err(msg):
    return ModelError(msg, where=_WHERE)


@dataclass(frozen=True)
class Frontend:
    """Feature extraction of a KWS model. Defaults: the tiny-kws DS-CNN log-mel (1 x 64 x 101).

    kind          "logmel" | "mfcc" | "raw"
    sample_rate   Hz of the input clip (a WAV at another rate is refused, never resampled)
    clip_samples  samples per clip; shorter clips are zero-padded at the end, longer truncated
    n_fft, win_length, hop_length   STFT sizes in samples (n_fft even, win_length <= n_fft)
    window        "hann_periodic" (only value)
    center        True: reflect-pad n_fft // 2 samples on both sides before framing
    pad_mode      "reflect" (only value)
    power         exponent of |X|: 2.0 (power spectrum) or any > 0 (1.0 = magnitude)
    n_mels, fmin, fmax   triangular HTK mel filters between fmin and fmax Hz
    mel_scale     "htk" (only value);  mel_norm "none" (only value)
    log_offset    features = ln(mel + log_offset)
    n_mfcc        mfcc only: first n_mfcc coefficients of the orthonormal DCT-II over mels
    layout        "coeff_major": (coeff, time);  "time_major": (time, coeff)
    channel_axis  True: prepend an axis of size 1 (the conv input channel)
    mean, std     global normalisation: (features - mean) / std (identity: 0.0, 1.0)
    """

    kind: str = "logmel"
    sample_rate: int = 16000
    clip_samples: int = 16000
    n_fft: int = 400
    win_length: int = 400
    hop_length: int = 160
    window: str = "hann_periodic"
    center: bool = True
    pad_mode: str = "reflect"
    power: float = 2.0
    n_mels: int = 64
    fmin: float = 20.0
    fmax: float = 7600.0
    mel_scale: str = "htk"
    mel_norm: str = "none"
    log_offset: float = 1e-6
    n_mfcc: int = 0
    layout: str = "coeff_major"
    channel_axis: bool = True
    mean: float = 0.0
    std: float = 1.0

    def __post_init__(self):
        self.validate()

    # ----------------------------------------------------------------------------- presets
    @classmethod
    def logmel(cls, **kw):
        """tiny-kws DS-CNN log-mel: 16 kHz, 400/400/160, 64 mels 20-7600 Hz -> (1, 64, 101)."""
        return cls(kind="logmel", **kw)

    @classmethod
    def mfcc(cls, **kw):
        """MFCC; defaults = the MLPerf Tiny KWS DS-CNN input (1, 49, 10), see mlperf_mfcc."""
        params = dict(kind="mfcc", n_fft=640, win_length=640, hop_length=320, center=False,
                      power=2.0, n_mels=40, fmin=20.0, fmax=4000.0, n_mfcc=10, layout="time_major",
                      channel_axis=True)
        params.update(kw)
        return cls(**params)

    @classmethod
    def mlperf_mfcc(cls, **kw):
        """MLPerf Tiny KWS DS-CNN: 40 ms / 20 ms frames, no centering -> 49 frames, 40 mels
        20-4000 Hz, 10 MFCCs, (1, 49, 10) = (channel, time, coeff)."""
        return cls.mfcc(**kw)

    @classmethod
    def raw(cls, clip_samples=16000, sample_rate=16000):
        """Raw waveform: x / 32768, shape (1, clip_samples)."""
        return cls(kind="raw", clip_samples=clip_samples, sample_rate=sample_rate)

    # ----------------------------------------------------------------------------- checks
    def validate(self):
        """Raise ModelError(where="/frontend") if any field is out of range."""
        k = self.kind
        if k not in KINDS:
            raise _err(f"kind {k!r} is not one of {', '.join(KINDS)}")
        for name in ("sample_rate", "clip_samples"):
            v = getattr(self, name)
            if not _is_int(v) or not 0 < v <= LIMITS[name]:
                raise _err(f"{name} must be a positive integer (at most {LIMITS[name]}), got {v!r}")
        if k == "raw":
            return
        for name in ("n_fft", "win_length", "hop_length", "n_mels"):
            v = getattr(self, name)
            if not _is_int(v) or not 0 < v <= LIMITS[name]:
                raise _err(f"{name} must be a positive integer (at most {LIMITS[name]}), got {v!r}")
        if self.n_fft % 2:
            raise _err(f"n_fft must be even, got {self.n_fft}")
        if self.win_length > self.n_fft:
            raise _err(f"win_length {self.win_length} exceeds n_fft {self.n_fft}")
        if self.window != "hann_periodic":
            raise _err(f"window {self.window!r} is not supported (only 'hann_periodic')")
        if self.pad_mode != "reflect":
            raise _err(f"pad_mode {self.pad_mode!r} is not supported (only 'reflect')")
        if self.mel_scale != "htk":
            raise _err(f"mel_scale {self.mel_scale!r} is not supported (only 'htk')")
        if self.mel_norm != "none":
            raise _err(f"mel_norm {self.mel_norm!r} is not supported (only 'none')")
        if not isinstance(self.center, (bool, np.bool_)) and self.center not in (0, 1):
            raise _err(f"center must be 0 or 1, got {self.center!r}")
        if not isinstance(self.channel_axis, (bool, np.bool_)) and self.channel_axis not in (0, 1):
            raise _err(f"channel_axis must be 0 or 1, got {self.channel_axis!r}")
        if self.center:
            if self.clip_samples <= self.n_fft // 2:
                raise _err(f"clip_samples {self.clip_samples} must exceed n_fft // 2 = "
                           f"{self.n_fft // 2} for reflect padding")
        elif self.clip_samples < self.n_fft:
            raise _err(f"clip_samples {self.clip_samples} is shorter than n_fft {self.n_fft} "
                       "(center=False)")
        for name in ("power", "fmin", "fmax", "log_offset", "mean", "std"):
            v = getattr(self, name)
            if not _is_real(v) or not math.isfinite(v):
                raise _err(f"{name} must be a finite number, got {v!r}")
        if self.power <= 0:
            raise _err(f"power must be > 0, got {self.power}")
        nyq = self.sample_rate / 2
        if not 0 <= self.fmin < self.fmax <= nyq:
            raise _err(f"need 0 <= fmin < fmax <= sample_rate / 2 = {nyq:g}, "
                       f"got fmin {self.fmin:g}, fmax {self.fmax:g}")
        if self.log_offset <= 0:
            raise _err(f"log_offset must be > 0, got {self.log_offset}")
        if self.std <= 0:
            raise _err(f"std must be > 0, got {self.std}")
        if self.layout not in LAYOUTS:
            raise _err(f"layout {self.layout!r} is not one of {', '.join(LAYOUTS)}")
        if k == "mfcc":
            if not _is_int(self.n_mfcc) or not 1 <= self.n_mfcc <= self.n_mels:
                raise _err(f"n_mfcc must be an integer in [1, n_mels={self.n_mels}], got {self.n_mfcc!r}")
        elif self.n_mfcc != 0:
            raise _err(f"n_mfcc is only for kind 'mfcc' (got {self.n_mfcc} for {k!r})")

    # ----------------------------------------------------------------------------- shapes
    @property
    def n_frames(self):
        if self.kind == "raw":
            return self.clip_samples
        padded = self.clip_samples + (2 * (self.n_fft // 2) if self.center else 0)
        return 1 + (padded - self.n_fft) // self.hop_length

    @property
    def n_features(self):
        """Coefficients per frame: n_mels (logmel), n_mfcc (mfcc), 1 (raw)."""
        return {"logmel": self.n_mels, "mfcc": self.n_mfcc, "raw": 1}[self.kind]

    @property
    def output_shape(self):
        """Shape of compute(clip) (one clip, no batch axis)."""
        if self.kind == "raw":
            return (1, self.clip_samples)
        t, f = self.n_frames, self.n_features
        s = (f, t) if self.layout == "coeff_major" else (t, f)
        return ((1,) + s) if self.channel_axis else s

    def describe(self):
        if self.kind == "raw":
            return f"raw {self.sample_rate} Hz, {self.clip_samples} samples / 32768 -> {self.output_shape}"
        s = (f"{self.kind} {self.sample_rate} Hz, {self.clip_samples} samples, n_fft {self.n_fft} "
             f"win {self.win_length} hop {self.hop_length}, {'center' if self.center else 'no center'}, "
             f"power {self.power:g}, {self.n_mels} mels {self.fmin:g}-{self.fmax:g} Hz")
        if self.kind == "mfcc":
            s += f", {self.n_mfcc} MFCC"
        return s + f", mean {self.mean:.6g} std {self.std:.6g}, {self.layout} -> {self.output_shape}"

    # ----------------------------------------------------------------------------- attrs
    def to_attrs(self):
        """Flat dict of HDF5 attributes: str, int, float only. Keys: "version", "kind" and the
        fields of that kind (see docs/frontend.md). Bools are stored as int 0/1."""
        out = {"version": FRONTEND_VERSION, "kind": self.kind}
        for key in _KEYS[self.kind]:
            v = getattr(self, key)
            if key in _INT_KEYS:
                v = int(v)
            elif key in _FLOAT_KEYS:
                v = float(v)
            else:
                v = str(v)
            out[key] = v
        return out

    @classmethod
    def from_attrs(cls, attrs):
        """Inverse of to_attrs. Accepts values as read back by h5py (numpy scalars, bytes, 0-d
        arrays). Raises ModelError(where="/frontend") on missing, unknown or bad values."""
        try:
            items = dict(attrs)
        except (TypeError, ValueError):
            raise _err(f"attributes must be a mapping, got {type(attrs).__name__}") from None
        items = {str(k): _plain(v) for k, v in items.items()}
        if "version" not in items:
            raise _err("missing attribute 'version'")
        version = items.pop("version")
        if not _is_int(version) or version != FRONTEND_VERSION:
            raise _err(f"frontend version {version!r} is not supported (this kwsnum reads version "
                       f"{FRONTEND_VERSION})")
        if "kind" not in items:
            raise _err("missing attribute 'kind'")
        kind = items.pop("kind")
        if kind == "micro":
            raise _err("kind 'micro' stores tables as datasets: read it with frontend_from_parts")
        if kind not in KINDS:
            raise _err(f"kind {kind!r} is not one of {', '.join(ALL_KINDS)}")
        expected = _KEYS[kind]
        bad = names_mismatch(items, expected, "attribute", f" for kind {kind!r}")
        if bad:
            raise _err(bad)
        kw = {"kind": kind}
        for key in expected:
            v = items[key]
            if key in _INT_KEYS:
                if not _is_int(v):
                    raise _err(f"{key} must be an integer, got {v!r}")
                v = int(v)
                if key in ("center", "channel_axis"):
                    if v not in (0, 1):
                        raise _err(f"{key} must be 0 or 1, got {v}")
                    v = bool(v)
            elif key in _FLOAT_KEYS:
                if not _is_real(v):
                    raise _err(f"{key} must be a number, got {v!r}")
                v = float(v)
            elif not isinstance(v, str):
                raise _err(f"{key} must be a string, got {v!r}")
            kw[key] = v
        return cls(**kw)

    # ----------------------------------------------------------------------------- compute
    def compute(self, samples):
        """One clip (1-D int16) -> float32 array of shape output_shape."""
        return _compute64(self, _fit_length(self, _as_int16_clip(samples)), normalise=True).astype(np.float32)

    def compute_batch(self, clips):
        """A 2-D int16 array (N, L) or a sequence of 1-D int16 clips -> (N,) + output_shape float32."""
        clips = _as_clip_list(clips)
        out = np.empty((len(clips),) + self.output_shape, np.float32)
        for i, c in enumerate(clips):
            out[i] = self.compute(c)
        return out

    def replace(self, **kw):
        return dataclasses.replace(self, **kw)


# --------------------------------------------------------------------------------- HDF5 group

def frontend_to_group(fe, group):
    """Write a frontend (any kind) into the h5py group ``/frontend``: attributes, and for ``micro`` its
    integer tables as datasets."""
    for k, v in fe.to_attrs().items():
        group.attrs[k] = v
    for k, v in (fe.to_datasets().items() if hasattr(fe, "to_datasets") else ()):
        group.create_dataset(k, data=v)


def frontend_from_parts(attrs, datasets):
    """A frontend from the attributes and datasets of ``/frontend`` as kwsnum.io's checked reader returns them:
    a :class:`Frontend`, or a ``kwsnum.micro.MicroFrontend`` for kind ``micro``. Raises
    ModelError(where="/frontend...") on any defect."""
    attrs = {str(k): _plain(v) for k, v in dict(attrs).items()}
    datasets = dict(datasets)
    for k, d in datasets.items():
        if d.ndim > 2 or d.size > (1 << 20):
            raise ModelError(f"dataset shape {d.shape} is out of bounds", where=f"{_WHERE}/{k}")
    if attrs.get("kind") != "micro":
        if datasets:
            raise _err(f"unexpected dataset{'s' if len(datasets) > 1 else ''} "
                       f"{', '.join(repr(k) for k in sorted(datasets))} for kind {attrs.get('kind')!r}")
        return Frontend.from_attrs(attrs)
    if attrs.get("version") != FRONTEND_VERSION or not _is_int(attrs.get("version")):
        raise _err(f"frontend version {attrs.get('version')!r} is not supported (this kwsnum reads version "
                   f"{FRONTEND_VERSION})")
    from .micro import MicroFrontend
    items = {k: v for k, v in attrs.items() if k not in ("version", "kind")}
    return MicroFrontend.from_attrs(items, datasets)


# --------------------------------------------------------------------------------- helpers

def _is_int(v):
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _is_real(v):
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


def _plain(v):
    """h5py attribute value -> python scalar / str where possible."""
    if isinstance(v, bytes):
        try:
            return v.decode("utf-8")
        except UnicodeDecodeError:
            return v
    if isinstance(v, np.ndarray) and v.ndim == 0:
        v = v[()]
    if isinstance(v, np.str_):
        return str(v)
    if isinstance(v, np.bytes_):
        return _plain(bytes(v))
    return v


def _as_int16_clip(samples):
    x = np.asarray(samples)
    if x.ndim != 1:
        raise InputError(f"a clip must be 1-D (mono samples), got shape {x.shape}")
    if x.dtype != np.int16:
        if not np.issubdtype(x.dtype, np.integer):
            raise InputError(f"clip samples must be int16, got {x.dtype}")
        if x.size and (x.min() < -32768 or x.max() > 32767):
            raise InputError(f"clip samples out of int16 range [{x.min()}, {x.max()}]")
        x = x.astype(np.int16)
    return x


def _as_clip_list(clips):
    if isinstance(clips, np.ndarray):
        if clips.ndim == 1:
            raise InputError("compute_batch takes (N, L) or a list of clips; got one 1-D clip "
                             "(use compute)")
        if clips.ndim != 2:
            raise InputError(f"a batch of clips must be 2-D (N, L), got shape {clips.shape}")
        return [_as_int16_clip(c) for c in clips]
    return [_as_int16_clip(c) for c in clips]


def _fit_length(fe, x):
    """Zero-pad at the end or truncate to clip_samples."""
    n = fe.clip_samples
    if x.shape[0] == n:
        return x
    if x.shape[0] > n:
        return x[:n]
    return np.concatenate([x, np.zeros(n - x.shape[0], np.int16)])


def hz_to_mel(f):
    """HTK mel: 2595 log10(1 + f / 700)."""
    return 2595.0 * np.log10(1.0 + np.asarray(f, np.float64) / 700.0)


def mel_to_hz(m):
    """Inverse HTK mel: 700 (10^(m / 2595) - 1)."""
    return 700.0 * (10.0 ** (np.asarray(m, np.float64) / 2595.0) - 1.0)


def hann_window(win_length, n_fft=None):
    """Periodic Hann window w[n] = 0.5 - 0.5 cos(2 pi n / N), N = win_length, zero-padded
    centred to n_fft (left pad (n_fft - win_length) // 2), float64."""
    n_fft = win_length if n_fft is None else n_fft
    n = np.arange(win_length, dtype=np.float64)
    w = 0.5 - 0.5 * np.cos(2.0 * np.pi * n / win_length)
    out = np.zeros(n_fft, np.float64)
    left = (n_fft - win_length) // 2
    out[left:left + win_length] = w
    return out


def mel_filterbank(fe):
    """(n_freqs, n_mels) float64 HTK triangular filterbank, no normalisation (torchaudio's
    melscale_fbanks(norm=None, mel_scale='htk') with all_freqs = linspace(0, sr/2, n_fft//2 + 1))."""
    n_freqs = fe.n_fft // 2 + 1
    freqs = np.linspace(0.0, fe.sample_rate / 2.0, n_freqs)
    m_pts = np.linspace(hz_to_mel(fe.fmin), hz_to_mel(fe.fmax), fe.n_mels + 2)
    f_pts = mel_to_hz(m_pts)
    lo, c, hi = f_pts[:-2], f_pts[1:-1], f_pts[2:]
    rising = (freqs[:, None] - lo[None, :]) / (c - lo)[None, :]
    falling = (hi[None, :] - freqs[:, None]) / (hi - c)[None, :]
    return np.maximum(0.0, np.minimum(rising, falling))


def dct_matrix(n_out, n_in):
    """(n_out, n_in) rows of the orthonormal DCT-II: D[k, m] = s_k cos(pi k (m + 1/2) / n_in),
    s_0 = sqrt(1 / n_in), s_k = sqrt(2 / n_in)."""
    k = np.arange(n_out, dtype=np.float64)[:, None]
    m = np.arange(n_in, dtype=np.float64)[None, :]
    d = np.cos(np.pi * k * (m + 0.5) / n_in) * math.sqrt(2.0 / n_in)
    d[0] *= 1.0 / math.sqrt(2.0)
    return d


def _features64(fe, x):
    """Unnormalised features of one fixed-length int16 clip, float64, (frames, coeffs) or raw (L,)."""
    x = x.astype(np.float64) / 32768.0
    if fe.kind == "raw":
        return x
    if fe.center:
        p = fe.n_fft // 2
        x = np.pad(x, (p, p), mode="reflect")
    t = fe.n_frames
    idx = np.arange(t)[:, None] * fe.hop_length + np.arange(fe.n_fft)[None, :]
    frames = x[idx] * hann_window(fe.win_length, fe.n_fft)[None, :]
    spec = np.fft.rfft(frames, axis=-1)                               # (T, n_freqs)
    if fe.power == 2.0:
        p = spec.real * spec.real + spec.imag * spec.imag
    else:
        p = np.abs(spec) ** fe.power
    feats = np.log(p @ mel_filterbank(fe) + fe.log_offset)           # (T, n_mels)
    if fe.kind == "mfcc":
        feats = feats @ dct_matrix(fe.n_mfcc, fe.n_mels).T            # (T, n_mfcc)
    return feats


def _compute64(fe, x, normalise):
    from .parallel import blas_single_thread
    with blas_single_thread():     # a small matrix product: OpenBLAS's own threads cost 100x on a busy machine
        f = _features64(fe, x)
    if fe.kind == "raw":
        return f[None, :]
    if normalise:
        f = (f - fe.mean) / fe.std
    if fe.layout == "coeff_major":
        f = f.T
    return f[None] if fe.channel_axis else f


def fit_normalisation(frontend, clips):
    """Global mean and (population) std of the unnormalised features of ``clips`` (an iterable
    of 1-D int16 clips or a 2-D array), over every value of every clip. Returns a new Frontend
    with mean/std set. Streaming (Chan et al. pairwise update, float64)."""
    if frontend.kind == "raw":
        raise ModelError("kind 'raw' has no normalisation", where=_WHERE)
    if isinstance(clips, np.ndarray) and clips.ndim == 1:
        raise InputError("fit_normalisation takes (N, L) or a list of clips, got one 1-D clip")
    n, mean, m2 = 0, 0.0, 0.0
    for c in clips:
        f = _features64(frontend, _fit_length(frontend, _as_int16_clip(c)))
        nb, mb = f.size, float(f.mean())
        m2b = float(((f - mb) ** 2).sum())
        delta = mb - mean
        tot = n + nb
        mean += delta * nb / tot
        m2 += m2b + delta * delta * n * nb / tot
        n = tot
    if n == 0:
        raise InputError("fit_normalisation needs at least one clip")
    std = math.sqrt(m2 / n)
    if not std > 0:
        raise InputError("features have zero variance over these clips (all silence?); "
                         "cannot normalise")
    return dataclasses.replace(frontend, mean=float(mean), std=float(std))


# --------------------------------------------------------------------------------- torch

def compute_torch(frontend, samples):
    """Independent torch implementation of the spec (float64 inside, float32 out).

    ``samples``: one clip (1-D int16 numpy array or torch tensor) -> torch.float32 tensor of
    ``frontend.output_shape``; a 2-D (N, L) array/tensor or a list of 1-D clips -> (N,) + shape.
    """
    import torch

    fe = frontend
    if isinstance(samples, (list, tuple)):
        return torch.stack([compute_torch(fe, s) for s in samples])
    x = samples if isinstance(samples, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(samples))
    if x.dtype.is_floating_point or x.dtype == torch.bool or x.dtype.is_complex:
        raise InputError(f"clip samples must be int16, got {x.dtype}")
    if x.dim() == 2:
        return torch.stack([compute_torch(fe, r) for r in x])
    if x.dim() != 1:
        raise InputError(f"a clip must be 1-D (mono samples), got shape {tuple(x.shape)}")
    n = fe.clip_samples
    x = x.to(torch.float64)
    if x.shape[0] < n:
        x = torch.nn.functional.pad(x, (0, n - x.shape[0]))
    x = x[:n] / 32768.0
    if fe.kind == "raw":
        return x.unsqueeze(0).to(torch.float32)
    win = torch.hann_window(fe.win_length, periodic=True, dtype=torch.float64)
    spec = torch.stft(x, n_fft=fe.n_fft, hop_length=fe.hop_length, win_length=fe.win_length,
                      window=win, center=bool(fe.center), pad_mode="reflect", normalized=False,
                      onesided=True, return_complex=True)                 # (n_freqs, T)
    if fe.power == 2.0:
        p = spec.real.square() + spec.imag.square()
    else:
        p = spec.abs().pow(fe.power)
    mel = torch.matmul(_torch_fbank(fe, torch).T, p)                     # (n_mels, T)
    feats = torch.log(mel + fe.log_offset)
    if fe.kind == "mfcc":
        feats = torch.matmul(_torch_dct(fe.n_mfcc, fe.n_mels, torch), feats)   # (n_mfcc, T)
    feats = (feats - fe.mean) / fe.std
    if fe.layout == "time_major":
        feats = feats.T
    if fe.channel_axis:
        feats = feats.unsqueeze(0)
    return feats.contiguous().to(torch.float32)


def _torch_fbank(fe, torch):
    """torchaudio.functional.melscale_fbanks(norm=None, mel_scale='htk'), rewritten."""
    n_freqs = fe.n_fft // 2 + 1
    all_freqs = torch.linspace(0, fe.sample_rate / 2, n_freqs, dtype=torch.float64)
    m_min = 2595.0 * math.log10(1.0 + fe.fmin / 700.0)
    m_max = 2595.0 * math.log10(1.0 + fe.fmax / 700.0)
    m_pts = torch.linspace(m_min, m_max, fe.n_mels + 2, dtype=torch.float64)
    f_pts = 700.0 * (torch.pow(10.0, m_pts / 2595.0) - 1.0)
    f_diff = f_pts[1:] - f_pts[:-1]
    slopes = f_pts.unsqueeze(0) - all_freqs.unsqueeze(1)                 # (n_freqs, n_mels + 2)
    down = (-1.0 * slopes[:, :-2]) / f_diff[:-1]
    up = slopes[:, 2:] / f_diff[1:]
    return torch.clamp(torch.min(down, up), min=0.0)                     # (n_freqs, n_mels)


def _torch_dct(n_out, n_in, torch):
    k = torch.arange(n_out, dtype=torch.float64).unsqueeze(1)
    m = torch.arange(n_in, dtype=torch.float64).unsqueeze(0)
    d = torch.cos(math.pi / n_in * (m + 0.5) * k)
    scale = torch.full((n_out, 1), math.sqrt(2.0 / n_in), dtype=torch.float64)
    scale[0, 0] = math.sqrt(1.0 / n_in)
    return d * scale
