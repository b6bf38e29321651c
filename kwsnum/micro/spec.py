"""The ``micro`` frontend kind: TFLM's fixed-point microfrontend as a kwsnum frontend.

A :class:`MicroFrontend` holds TFLM's configuration (its float parameters, stored for provenance) and the
integer tables derived from them (:class:`MicroTables`, computed once by :func:`derive` exactly as TFLM's
``*_util.c`` compute them, then stored in the model file and never recomputed by a runtime).
Spec: docs/frontend.md, "The micro frontend"; model file: docs/format.md.
"""
import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from ..errors import ModelError
from ..text import names_mismatch
from . import fft, filterbank, log_scale, noise_reduction, pcan, window

_WHERE = "/frontend"

# Bounds checked at load (and by the constructor).
MAX_SAMPLE_RATE = 96000
MIN_WINDOW, MAX_WINDOW = 8, 4096       # samples; fft_size <= 4096
MAX_CHANNELS = 256
MAX_CLIP = 10 * 96000

# (name, type) of the configuration attributes, in the order stored.
CONFIG_KEYS = (("sample_rate", int), ("clip_samples", int), ("window_size_ms", int), ("window_step_ms", int),
               ("num_channels", int), ("lower_band_limit", float), ("upper_band_limit", float),
               ("smoothing_bits", int), ("even_smoothing", float), ("odd_smoothing", float),
               ("min_signal_remaining", float), ("enable_pcan", bool), ("pcan_strength", float),
               ("pcan_offset", float), ("gain_bits", int), ("enable_log", bool), ("scale_shift", int),
               ("out_scale", float), ("layout", str), ("channel_axis", bool))
# integers of the tables stored as attributes
TABLE_INT_KEYS = ("window_size", "window_step", "fft_size", "fb_start_index", "fb_end_index", "nr_even",
                  "nr_odd", "nr_min", "pcan_snr_shift", "correction_bits")
# arrays of the tables stored as datasets of /frontend: name -> dtype
TABLE_ARRAYS = {"window": np.int16, "fft_twiddles": np.int16, "fft_super_twiddles": np.int16,
                "fb_frequency_starts": np.int16, "fb_weight_starts": np.int16, "fb_widths": np.int16,
                "fb_weights": np.int16, "fb_unweights": np.int16, "pcan_gain_lut": np.int16,
                "log_lut": np.uint16}


def _err(msg):
    return ModelError(msg, where=_WHERE)


def _msb(x):
    return int(x).bit_length()


@dataclass(frozen=True, eq=False)
class MicroTables:
    """Every integer the microfrontend runtimes need (docs/frontend.md M.1)."""
    window_size: int
    window_step: int
    fft_size: int
    fb_start_index: int
    fb_end_index: int
    nr_even: int
    nr_odd: int
    nr_min: int
    pcan_snr_shift: int
    correction_bits: int
    window: np.ndarray
    fft_twiddles: np.ndarray
    fft_super_twiddles: np.ndarray
    fb_frequency_starts: np.ndarray
    fb_weight_starts: np.ndarray
    fb_widths: np.ndarray
    fb_weights: np.ndarray
    fb_unweights: np.ndarray
    pcan_gain_lut: np.ndarray
    log_lut: np.ndarray

    def __eq__(self, other):
        if not isinstance(other, MicroTables):
            return NotImplemented
        return all(np.array_equal(getattr(self, f.name), getattr(other, f.name))
                   for f in dataclasses.fields(self))

    def nbytes(self):
        return sum(getattr(self, k).nbytes for k in TABLE_ARRAYS)


def derive(fe):
    """The integer tables of configuration ``fe``, as TFLM's FrontendPopulateState builds them."""
    size = fe.window_size_ms * fe.sample_rate // 1000
    step = fe.window_step_ms * fe.sample_rate // 1000
    if not MIN_WINDOW <= size <= MAX_WINDOW:
        raise _err(f"window of {size} samples (window_size_ms {fe.window_size_ms} at {fe.sample_rate} Hz) is "
                   f"outside [{MIN_WINDOW}, {MAX_WINDOW}]")
    if not 1 <= step <= size:
        raise _err(f"window step of {step} samples must be in [1, window size {size}]")
    n = fft.fft_size_for(size)
    try:
        fb = filterbank.tables(fe.num_channels, fe.lower_band_limit, fe.upper_band_limit, fe.sample_rate,
                               n // 2 + 1)
    except ValueError as e:
        raise _err(str(e)) from None
    corr = _msb(n) - 1 - filterbank.FILTERBANK_BITS // 2
    ev, od, mn = noise_reduction.constants(fe.even_smoothing, fe.odd_smoothing, fe.min_signal_remaining)
    input_bits = fe.smoothing_bits - corr
    if fe.enable_pcan and not 0 <= input_bits <= 31:
        raise _err(f"PCAN needs 0 <= smoothing_bits - correction_bits <= 31, got {fe.smoothing_bits} - {corr}")
    lut = (pcan.gain_lut(fe.pcan_strength, fe.pcan_offset, fe.gain_bits, input_bits) if fe.enable_pcan
           else np.zeros(pcan.LUT_SIZE, np.int16))
    return MicroTables(
        window_size=size, window_step=step, fft_size=n, fb_start_index=fb["start_index"],
        fb_end_index=fb["end_index"], nr_even=ev, nr_odd=od, nr_min=mn,
        pcan_snr_shift=fe.gain_bits - corr - pcan.PCAN_SNR_BITS, correction_bits=corr,
        window=window.coefficients(size), fft_twiddles=fft.twiddles(n), fft_super_twiddles=fft.super_twiddles(n),
        fb_frequency_starts=fb["frequency_starts"], fb_weight_starts=fb["weight_starts"],
        fb_widths=fb["widths"], fb_weights=fb["weights"], fb_unweights=fb["unweights"],
        pcan_gain_lut=lut, log_lut=log_scale.log_lut())


@dataclass(frozen=True)
class MicroFrontend:
    """TFLM's microfrontend (kind ``micro``). Defaults: TFLM's FrontendFillConfigWithDefaults (25 ms window,
    10 ms step, 32 channels 125-7500 Hz, noise reduction, no PCAN, log scale shift 6); see
    :meth:`microwakeword` for microWakeWord's (pymicro-features) settings.

    Output of ``compute(clip)``: float32 ``uint16 features * out_scale`` (one float32 multiply), shape
    (1, frames, channels) with the default layout ``time_major`` and ``channel_axis``.
    """
    kind: str = "micro"
    sample_rate: int = 16000
    clip_samples: int = 16000
    window_size_ms: int = 25
    window_step_ms: int = 10
    num_channels: int = 32
    lower_band_limit: float = 125.0
    upper_band_limit: float = 7500.0
    smoothing_bits: int = 10
    even_smoothing: float = 0.025
    odd_smoothing: float = 0.06
    min_signal_remaining: float = 0.05
    enable_pcan: bool = False
    pcan_strength: float = 0.95
    pcan_offset: float = 80.0
    gain_bits: int = 21
    enable_log: bool = True
    scale_shift: int = 6
    out_scale: float = 0.0390625
    layout: str = "time_major"
    channel_axis: bool = True
    tables: MicroTables = dataclasses.field(default=None, compare=True, repr=False)

    def __post_init__(self):
        self.validate_config()
        if self.tables is None:
            object.__setattr__(self, "tables", derive(self))
        self.validate()

    # ------------------------------------------------------------------ presets
    @classmethod
    def tflm(cls, **kw):
        return cls(**kw)

    @classmethod
    def microwakeword(cls, **kw):
        """microWakeWord / pymicro-features: 30 ms window, 10 ms step, 40 channels 125-7500 Hz, noise
        reduction (10 bits, 0.025 / 0.06, 0.05), PCAN (0.95, 80, 21 bits), log scale shift 6; features
        times 0.0390625 as pymicro-features returns them. 1 s clip -> (1, 98, 40)."""
        base = dict(window_size_ms=30, window_step_ms=10, num_channels=40, enable_pcan=True)
        base.update(kw)
        return cls(**base)

    def replace(self, **kw):
        if "tables" not in kw:
            kw["tables"] = None
        return dataclasses.replace(self, **kw)

    # ------------------------------------------------------------------ validation
    def validate_config(self):
        if self.kind != "micro":
            raise _err(f"kind must be 'micro', got {self.kind!r}")
        for key, typ in CONFIG_KEYS:
            v = getattr(self, key)
            if typ is int and (isinstance(v, bool) or not isinstance(v, (int, np.integer))):
                raise _err(f"{key} must be an integer, got {v!r}")
            if typ is float and (isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating))
                                 or not math.isfinite(float(v))):
                raise _err(f"{key} must be a finite number, got {v!r}")
        if not 1000 <= self.sample_rate <= MAX_SAMPLE_RATE:
            raise _err(f"sample_rate must be in [1000, {MAX_SAMPLE_RATE}] Hz, got {self.sample_rate}")
        if not 1 <= self.num_channels <= MAX_CHANNELS:
            raise _err(f"num_channels must be in [1, {MAX_CHANNELS}], got {self.num_channels}")
        if not 0 <= self.lower_band_limit < self.upper_band_limit < self.sample_rate / 2:
            raise _err(f"need 0 <= lower_band_limit < upper_band_limit < sample_rate / 2 = "
                       f"{self.sample_rate / 2:g}, got {self.lower_band_limit:g}, {self.upper_band_limit:g}")
        if not 0 <= self.smoothing_bits <= 16:
            raise _err(f"smoothing_bits must be in [0, 16], got {self.smoothing_bits}")
        for key in ("even_smoothing", "odd_smoothing", "min_signal_remaining"):
            if not 0.0 <= getattr(self, key) <= 1.0:
                raise _err(f"{key} must be in [0, 1], got {getattr(self, key)!r}")
        if not (0 < self.pcan_strength <= 4 and 0 < self.pcan_offset <= 1e6 and 1 <= self.gain_bits <= 30):
            raise _err(f"PCAN needs 0 < pcan_strength <= 4, 0 < pcan_offset <= 1e6, 1 <= gain_bits <= 30; got "
                       f"{self.pcan_strength:g}, {self.pcan_offset:g}, {self.gain_bits}")
        if not 0 <= self.scale_shift <= 16:
            raise _err(f"scale_shift must be in [0, 16], got {self.scale_shift}")
        if not self.out_scale > 0:
            raise _err(f"out_scale must be > 0, got {self.out_scale!r}")
        if self.layout not in ("time_major", "coeff_major"):
            raise _err(f"layout must be 'time_major' or 'coeff_major', got {self.layout!r}")

    def validate(self):
        """Bounds of the stored tables (so that no runtime reads out of bounds or overflows), and their
        consistency with the configuration's sizes."""
        self.validate_config()
        t = self.tables
        if not isinstance(t, MicroTables):
            raise _err("missing the microfrontend tables")
        size = self.window_size_ms * self.sample_rate // 1000
        step = self.window_step_ms * self.sample_rate // 1000
        if (t.window_size, t.window_step) != (size, step):
            raise _err(f"window_size / window_step {t.window_size} / {t.window_step} do not match "
                       f"{self.window_size_ms} / {self.window_step_ms} ms at {self.sample_rate} Hz = {size} / {step}")
        if not MIN_WINDOW <= size <= MAX_WINDOW or not 1 <= step <= size:
            raise _err(f"window {size} samples, step {step}: need {MIN_WINDOW} <= window <= {MAX_WINDOW} "
                       f"and 1 <= step <= window")
        if t.fft_size != fft.fft_size_for(size):
            raise _err(f"fft_size {t.fft_size} is not the power of two for a {size}-sample window "
                       f"({fft.fft_size_for(size)})")
        if not size <= self.clip_samples <= MAX_CLIP:
            raise _err(f"clip_samples must be in [window size {size}, {MAX_CLIP}], got {self.clip_samples}")
        n, bins, nch = t.fft_size, t.fft_size // 2 + 1, self.num_channels

        def arr(name, shape, lo, hi):
            a = getattr(t, name)
            if not isinstance(a, np.ndarray) or a.dtype != TABLE_ARRAYS[name]:
                raise _err(f"{name} must be a {np.dtype(TABLE_ARRAYS[name]).name} array")
            if shape is not None and a.shape != shape:
                raise _err(f"{name} shape {a.shape} does not match {shape}")
            if a.size and (int(a.min()) < lo or int(a.max()) > hi):
                raise _err(f"{name} values must be in [{lo}, {hi}], got [{int(a.min())}, {int(a.max())}]")
            return a.astype(np.int64)

        arr("window", (size,), -32768, 32767)
        arr("fft_twiddles", (n // 2, 2), -32767, 32767)
        arr("fft_super_twiddles", (n // 4, 2), -32767, 32767)
        fs = arr("fb_frequency_starts", (nch + 1,), 0, bins)
        ws = arr("fb_weight_starts", (nch + 1,), 0, 32767)
        wd = arr("fb_widths", (nch + 1,), 0, bins)
        w = arr("fb_weights", None, 0, 1 << filterbank.FILTERBANK_BITS)
        arr("fb_unweights", w.shape, 0, 1 << filterbank.FILTERBANK_BITS)
        if w.ndim != 1:
            raise _err("fb_weights must be 1-D")
        if np.any(fs + wd > bins):
            raise _err(f"a filterbank band reads past the {bins} FFT bins")
        if np.any(ws + wd > w.shape[0]):
            raise _err(f"a filterbank band reads past the {w.shape[0]} weights")
        if not 0 <= t.fb_start_index <= t.fb_end_index < bins:
            raise _err(f"need 0 <= fb_start_index <= fb_end_index < {bins}, got {t.fb_start_index}, "
                       f"{t.fb_end_index}")
        for k in ("nr_even", "nr_odd", "nr_min"):
            if not 0 <= getattr(t, k) <= 1 << noise_reduction.NOISE_REDUCTION_BITS:
                raise _err(f"{k} must be in [0, 16384], got {getattr(t, k)}")
        corr = _msb(n) - 1 - filterbank.FILTERBANK_BITS // 2
        if t.correction_bits != corr:
            raise _err(f"correction_bits {t.correction_bits} does not match fft_size {n} ({corr})")
        if not 0 <= t.pcan_snr_shift <= 32:
            raise _err(f"pcan_snr_shift must be in [0, 32], got {t.pcan_snr_shift}")
        arr("pcan_gain_lut", (pcan.LUT_SIZE,), -32768, 32767)
        arr("log_lut", (130,), 0, 65535)

    # ------------------------------------------------------------------ shapes
    @property
    def n_frames(self):
        return 1 + (self.clip_samples - self.tables.window_size) // self.tables.window_step

    @property
    def n_features(self):
        return self.num_channels

    @property
    def output_shape(self):
        s = (self.n_frames, self.num_channels)
        if self.layout == "coeff_major":
            s = s[::-1]
        return ((1,) + s) if self.channel_axis else s

    def describe(self):
        t = self.tables
        return (f"micro (TFLM microfrontend) {self.sample_rate} Hz, {self.clip_samples} samples, window "
                f"{t.window_size} step {t.window_step} (fft {t.fft_size}), {self.num_channels} channels "
                f"{self.lower_band_limit:g}-{self.upper_band_limit:g} Hz, noise reduction "
                f"{'+ PCAN ' if self.enable_pcan else ''}{'+ log' if self.enable_log else '(no log)'}, "
                f"uint16 x {self.out_scale:g}, {self.layout} -> {self.output_shape}")

    # ------------------------------------------------------------------ compute
    def features(self, samples):
        """uint16 (frames, channels) of one clip (padded / truncated to clip_samples), from a reset state."""
        from .pipeline import features
        return features(self, _fit(self, samples))

    def compute(self, samples):
        f = self.features(samples)
        x = f.astype(np.float32) * np.float32(self.out_scale)
        if self.layout == "coeff_major":
            x = x.T
        return np.ascontiguousarray(x[None] if self.channel_axis else x, np.float32)

    def compute_batch(self, clips):
        from ..frontend import _as_clip_list
        clips = _as_clip_list(clips)
        out = np.empty((len(clips),) + self.output_shape, np.float32)
        for i, c in enumerate(clips):
            out[i] = self.compute(c)
        return out

    def _fit_clip(self, samples):
        """The clip as ``features`` sees it: int16, zero-padded / truncated to clip_samples."""
        return _fit(self, samples)

    def stream(self):
        from .pipeline import Stream
        return Stream(self)

    # ------------------------------------------------------------------ attributes / datasets
    def to_attrs(self):
        from ..frontend import FRONTEND_VERSION
        out = {"version": FRONTEND_VERSION, "kind": "micro"}
        for key, typ in CONFIG_KEYS:
            v = getattr(self, key)
            out[key] = int(v) if typ in (int, bool) else (float(v) if typ is float else str(v))
        for key in TABLE_INT_KEYS:
            out[key] = int(getattr(self.tables, key))
        return out

    def to_datasets(self):
        return {k: np.asarray(getattr(self.tables, k), TABLE_ARRAYS[k]) for k in TABLE_ARRAYS}

    @classmethod
    def from_attrs(cls, items, datasets):
        """items: plain attribute dict without version/kind; datasets: name -> numpy array."""
        expected = [k for k, _ in CONFIG_KEYS] + list(TABLE_INT_KEYS)
        bad = (names_mismatch(items, expected, "attribute", " for kind 'micro'")
               or names_mismatch(datasets, list(TABLE_ARRAYS), "dataset", " for kind 'micro'"))
        if bad:
            raise _err(bad)
        kw = {}
        for key, typ in CONFIG_KEYS:
            v = items[key]
            if typ in (int, bool):
                if not isinstance(v, (int, np.integer)) or isinstance(v, (bool, np.bool_)):
                    raise _err(f"{key} must be an integer, got {v!r}")
                v = int(v)
                if typ is bool:
                    if v not in (0, 1):
                        raise _err(f"{key} must be 0 or 1, got {v}")
                    v = bool(v)
            elif typ is float:
                if not isinstance(v, (int, float, np.integer, np.floating)) or isinstance(v, (bool, np.bool_)):
                    raise _err(f"{key} must be a number, got {v!r}")
                v = float(v)
            elif not isinstance(v, str):
                raise _err(f"{key} must be a string, got {v!r}")
            kw[key] = v
        tk = {}
        for key in TABLE_INT_KEYS:
            v = items[key]
            if not isinstance(v, (int, np.integer)) or isinstance(v, (bool, np.bool_)):
                raise _err(f"{key} must be an integer, got {v!r}")
            tk[key] = int(v)
        for key, dt in TABLE_ARRAYS.items():
            a = np.asarray(datasets[key])
            if a.dtype != dt:
                raise _err(f"dataset {key!r} must be {np.dtype(dt).name}, got {a.dtype}")
            tk[key] = np.ascontiguousarray(a)
        return cls(tables=MicroTables(**tk), **kw)


def _fit(fe, samples):
    from ..frontend import _as_int16_clip
    x = _as_int16_clip(samples)
    n = fe.clip_samples
    if x.shape[0] >= n:
        return x[:n]
    return np.concatenate([x, np.zeros(n - x.shape[0], np.int16)])


__all__ = ["MicroFrontend", "MicroTables", "derive"]
