"""Acoustic augmentation of speech clips: deterministic from a numpy Generator, length-preserving.

Two entry points:

- ``augment_word(x, rng, rirs, cfg)``: what the generator (kwsnum.data.synth) applies to a trimmed,
  synthesized word before it is placed in the 1 s window: vocal-tract / pitch warp (resampling),
  room reverberation (the tail is kept, the caller truncates to the window), microphone colouration
  or a telephone band. Returns (samples, description dict).
- ``augment_clip(x, rng, noises, rirs, cfg)``: the whole chain on a finished clip (int16 or float,
  any length), for training-time copies (kwsnum.train ``--augment-copies``): speed / warp about the
  clip's centre, reverberation, colouration or telephone band, background noise at a drawn SNR, gain
  and mild clipping, time shift; the output has the input's length and dtype.

Every random choice comes from the ``rng`` given (``numpy.random.Generator``), in a fixed order that
does not depend on which steps are enabled (each step draws its parameters first, then decides), so
the same rng state gives the same output.

Room impulse responses: ``room_impulse_responses(seed, n)`` simulates ``n`` shoebox rooms with
pyroomacoustics' image-source method (RT60 0.15-0.9 s, Sabine absorption, source and microphone
drawn inside the room) when pyroomacoustics is installed, else uses a synthetic RIR of its own
(a direct path, a few early reflections and an exponentially decaying noise tail with the drawn RT60).
``rir_kind()`` says which.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SAMPLE_RATE = 16000


@dataclass(frozen=True)
class AugmentConfig:
    warp: tuple = (0.92, 1.08)        # pitch / formant / tempo factor range (resampling)
    p_warp: float = 0.5
    p_reverb: float = 0.5
    p_colour: float = 0.5             # microphone colouration (random peaking / shelving EQ)
    p_telephone: float = 0.1          # 300-3400 Hz band (instead of the colouration)
    p_noise: float = 0.8              # augment_clip only (the generator mixes its own noise)
    snr_db: tuple = (0.0, 30.0)
    gain_db: tuple = (-12.0, 6.0)     # augment_clip only
    p_clip: float = 0.1               # mild clipping: peaks cut 1-6 dB below the clip's peak
    max_shift: int = 1600             # augment_clip only: time shift of up to +- this many samples


DEFAULT = AugmentConfig()
NONE = AugmentConfig(p_warp=0.0, p_reverb=0.0, p_colour=0.0, p_telephone=0.0, p_noise=0.0,
                     gain_db=(0.0, 0.0), p_clip=0.0, max_shift=0)


# ------------------------------------------------------------------------------------------- rooms
def rir_kind():
    try:
        import pyroomacoustics  # noqa: F401
        return "pyroomacoustics"
    except ImportError:
        return "synthetic"


def _rir_synthetic(rng, rt60, sr):
    n = int(min(rt60, 1.0) * sr)
    t = np.arange(n) / sr
    h = np.zeros(n)
    h[0] = 1.0
    for _ in range(6):                                        # early reflections, 2-30 ms
        k = int(rng.uniform(0.002, 0.03) * sr)
        h[k] += rng.uniform(-0.6, 0.6)
    tail = rng.standard_normal(n) * np.exp(-6.9078 * t / rt60)    # -60 dB at rt60
    onset = int(0.005 * sr)
    tail[:onset] = 0.0
    h += tail * rng.uniform(0.05, 0.3)
    return h


def _rir_pra(rng, rt60, sr):
    import pyroomacoustics as pra
    dims = np.array([rng.uniform(3.0, 10.0), rng.uniform(2.5, 8.0), rng.uniform(2.4, 4.0)])
    try:
        absorption, max_order = pra.inverse_sabine(rt60, dims)
    except ValueError:                                        # RT60 too short for the room
        absorption, max_order = 0.9, 3
    src = np.array([rng.uniform(0.5, d - 0.5) for d in dims])
    mic = np.array([rng.uniform(0.5, d - 0.5) for d in dims])
    room = pra.ShoeBox(dims.tolist(), fs=sr, materials=pra.Material(float(absorption)),
                       max_order=int(min(max_order, 17)))
    room.add_source(src.tolist())
    room.add_microphone(mic.tolist())
    room.compute_rir()
    h = np.asarray(room.rir[0][0], np.float64)
    k = int(np.argmax(np.abs(h)))                            # start at the direct path
    return h[max(0, k - 8):]


def room_impulse_responses(seed, n=32, sr=SAMPLE_RATE):
    """n room impulse responses (1-D float64, direct path near sample 0, peak 1), deterministic in seed."""
    kind = rir_kind()
    out = []
    for i in range(n):
        rng = np.random.default_rng([int(seed), 0x524952, i])
        rt60 = float(rng.uniform(0.15, 0.9))
        h = _rir_pra(rng, rt60, sr) if kind == "pyroomacoustics" else _rir_synthetic(rng, rt60, sr)
        out.append(h / (np.max(np.abs(h)) + 1e-12))
    return out


# ------------------------------------------------------------------------------------------- steps
def resample_factor(x, factor):
    """x resampled so that pitch, formants and tempo are multiplied by ``factor`` (length / factor)."""
    from .voices import resample
    return resample(x, SAMPLE_RATE, SAMPLE_RATE / float(factor))


def reverberate(x, h, wet):
    """x convolved with the RIR h, mixed wet:dry, level-matched to x's RMS; length len(x)+len(h)-1."""
    from scipy.signal import fftconvolve
    y = fftconvolve(x, h)
    dry = np.pad(x, (0, len(y) - len(x)))
    out = wet * y + (1.0 - wet) * dry
    rx, ro = np.sqrt(np.mean(x ** 2)) + 1e-12, np.sqrt(np.mean(out[:len(x)] ** 2)) + 1e-12
    return out * (rx / ro)


def _peaking(f0, gain_db, q, sr):
    a = 10 ** (gain_db / 40)
    w = 2 * np.pi * f0 / sr
    al = np.sin(w) / (2 * q)
    b = np.array([1 + al * a, -2 * np.cos(w), 1 - al * a])
    den = np.array([1 + al / a, -2 * np.cos(w), 1 - al / a])
    return b / den[0], den / den[0]


def colour(x, params):
    """Microphone colouration: a high-pass (the microphone's low cut), then 3 peaking filters."""
    from scipy.signal import butter, lfilter, sosfilt
    hp, peaks = params
    y = sosfilt(butter(2, hp, "highpass", fs=SAMPLE_RATE, output="sos"), x)
    for f0, g, q in peaks:
        b, a = _peaking(f0, g, q, SAMPLE_RATE)
        y = lfilter(b, a, y)
    return y


def telephone(x):
    """The telephone band: 4th-order Butterworth band-pass 300-3400 Hz."""
    from scipy.signal import butter, sosfilt
    return sosfilt(butter(4, (300.0, 3400.0), "bandpass", fs=SAMPLE_RATE, output="sos"), x)


def _draw_colour(rng):
    hp = float(rng.uniform(40.0, 250.0))
    peaks = [(float(rng.uniform(f_lo, f_hi)), float(rng.uniform(-8.0, 8.0)), float(rng.uniform(0.5, 2.5)))
             for f_lo, f_hi in ((150.0, 600.0), (800.0, 3000.0), (3000.0, 7000.0))]
    return hp, peaks


def soft_clip(x, level):
    """Clip at +-level with a short tanh knee (mild, like an overdriven preamp)."""
    return level * np.tanh(x / level)


# ------------------------------------------------------------------------------------------- chains
def augment_word(x, rng, rirs, cfg=DEFAULT):
    """Warp, reverberate and colour one synthesized word (float 1-D). Returns (y, description)."""
    x = np.asarray(x, np.float64)
    # all draws first, in a fixed order
    w = float(rng.uniform(*cfg.warp))
    use_warp = rng.random() < cfg.p_warp
    k = int(rng.integers(len(rirs))) if rirs else 0
    wet = float(rng.uniform(0.3, 1.0))
    use_rev = rng.random() < cfg.p_reverb and bool(rirs)
    col = _draw_colour(rng)
    u = rng.random()
    desc = {}
    if use_warp and x.size:
        x = resample_factor(x, w)
        desc["warp"] = round(w, 4)
    if use_rev and x.size:
        x = reverberate(x, rirs[k], wet)
        desc["reverb"] = f"{k}:{wet:.2f}"
    if u < cfg.p_telephone:
        x = telephone(x)
        desc["band"] = "telephone"
    elif u < cfg.p_telephone + cfg.p_colour:
        x = colour(x, col)
        desc["band"] = "mic"
    return x, desc


def augment_clip(x, rng, noises=(), rirs=(), cfg=DEFAULT):
    """The whole chain on a clip; same length and dtype as x (int16 in and out, or float)."""
    x0 = np.asarray(x)
    is_int = np.issubdtype(x0.dtype, np.integer)
    n = x0.size
    y = x0.astype(np.float64) / (32768.0 if is_int else 1.0)
    # draws, fixed order
    w = float(rng.uniform(*cfg.warp))
    use_warp = rng.random() < cfg.p_warp
    k = int(rng.integers(len(rirs))) if rirs else 0
    wet = float(rng.uniform(0.3, 1.0))
    use_rev = rng.random() < cfg.p_reverb and bool(rirs)
    col = _draw_colour(rng)
    u = rng.random()
    j = int(rng.integers(len(noises))) if len(noises) else 0
    start = rng.random()
    snr = float(rng.uniform(*cfg.snr_db))
    use_noise = rng.random() < cfg.p_noise and len(noises) > 0
    gain = float(rng.uniform(*cfg.gain_db))
    clip_db = float(rng.uniform(1.0, 6.0))
    use_clip = rng.random() < cfg.p_clip
    shift = int(rng.integers(-cfg.max_shift, cfg.max_shift + 1)) if cfg.max_shift > 0 else 0
    desc = {}
    active = y[np.abs(y) > 1e-4]
    speech_rms = float(np.sqrt(np.mean(active ** 2))) if active.size else 0.0
    if use_warp and n:
        z = resample_factor(y, w)                     # about the centre, cut or zero-padded to n
        c = (z.size - n) // 2
        y = z[c:c + n] if c >= 0 else np.pad(z, (-c, n - z.size + c))
        desc["warp"] = round(w, 4)
    if use_rev and n:
        y = reverberate(y, rirs[k], wet)[:n]
        desc["reverb"] = f"{k}:{wet:.2f}"
    if u < cfg.p_telephone:
        y = telephone(y)
        desc["band"] = "telephone"
    elif u < cfg.p_telephone + cfg.p_colour:
        y = colour(y, col)
        desc["band"] = "mic"
    if shift:
        y = np.roll(y, shift)
        if shift > 0:
            y[:shift] = 0.0
        else:
            y[shift:] = 0.0
        desc["shift"] = shift
    if use_noise and speech_rms > 0:
        nz = np.asarray(noises[j], np.float64)
        if nz.size >= n:
            off = int(start * (nz.size - n + 1))
            seg = nz[off:off + n]
        else:
            seg = np.resize(nz, n)
        seg = seg / (np.sqrt(np.mean(seg ** 2)) + 1e-12)
        y = y + seg * speech_rms * 10 ** (-snr / 20)
        desc["noise"] = f"{j}:{snr:.1f}dB"
    y = y * 10 ** (gain / 20)
    desc["gain_db"] = round(gain, 2)
    if use_clip:
        peak = float(np.max(np.abs(y))) if n else 0.0
        if peak > 0:
            y = soft_clip(y, peak * 10 ** (-clip_db / 20))
            desc["clip_db"] = round(clip_db, 2)
    if is_int:
        return np.clip(np.round(y * 32768.0), -32768, 32767).astype(x0.dtype), desc
    return y.astype(x0.dtype, copy=False), desc
