"""ctypes access to the microfrontend's C stages (c_runtime/kws_micro_*.c) for the three-way tests."""
import ctypes

import numpy as np

from tests.c_build import lib

P = ctypes.c_void_p
I32 = ctypes.c_int32


def _p(a):
    return ctypes.c_void_p(a.ctypes.data)


class Config(ctypes.Structure):
    _fields_ = [("window_size", I32), ("window_step", I32), ("fft_size", I32), ("num_channels", I32),
                ("window", P), ("fft_twiddles", P), ("fft_super_twiddles", P),
                ("fb_start_index", I32), ("fb_end_index", I32),
                ("fb_frequency_starts", P), ("fb_weight_starts", P), ("fb_widths", P),
                ("fb_weights", P), ("fb_unweights", P),
                ("smoothing_bits", I32), ("nr_even", I32), ("nr_odd", I32), ("nr_min", I32),
                ("enable_pcan", I32), ("pcan_snr_shift", I32), ("pcan_gain_lut", P),
                ("enable_log", I32), ("scale_shift", I32), ("correction_bits", I32), ("log_lut", P)]


class State(ctypes.Structure):
    _fields_ = [("buffer", P), ("used", I32), ("estimate", P), ("windowed", P), ("fft_scratch", P),
                ("spectrum", P), ("energy", P), ("work", P), ("signal", P)]


def window(inp, coef):
    inp = np.ascontiguousarray(inp, np.int16)
    coef = np.ascontiguousarray(coef, np.int16)
    out = np.zeros(inp.shape[0], np.int16)
    f = lib().kws_micro_window
    f.restype = ctypes.c_int16
    peak = f(_p(inp), _p(coef), I32(inp.shape[0]), _p(out))
    return out, int(peak)


def fft(win, shift, fft_size, tw, stw):
    win = np.ascontiguousarray(win, np.int16)
    tw = np.ascontiguousarray(tw, np.int16)
    stw = np.ascontiguousarray(stw, np.int16)
    scratch = np.zeros(2 * fft_size, np.int16)
    out = np.zeros((fft_size // 2 + 1, 2), np.int16)
    f = lib().kws_micro_fft
    f.restype = None
    f(_p(win), I32(win.shape[0]), I32(shift), I32(fft_size), _p(tw), _p(stw), _p(scratch), _p(out))
    return out


def energy(spec, start, end):
    spec = np.ascontiguousarray(spec, np.int16)
    out = np.zeros(spec.shape[0], np.int32)
    f = lib().kws_micro_energy
    f.restype = None
    f(_p(spec), I32(start), I32(end), I32(spec.shape[0]), _p(out))
    return out


def filterbank(en, fs, ws, wd, w, uw):
    en = np.ascontiguousarray(en, np.int32)
    arrs = [np.ascontiguousarray(a, np.int16) for a in (fs, ws, wd, w, uw)]
    work = np.zeros(arrs[0].shape[0], np.int64)
    f = lib().kws_micro_filterbank
    f.restype = None
    f(_p(en), *[_p(a) for a in arrs], I32(arrs[0].shape[0]), _p(work))
    return work


def filterbank_sqrt(work, shift):
    work = np.ascontiguousarray(work, np.int64)
    out = np.zeros(work.shape[0] - 1, np.uint32)
    f = lib().kws_micro_filterbank_sqrt
    f.restype = None
    f(_p(work), I32(out.shape[0]), I32(shift), _p(out))
    return out


def noise_reduction(signal, estimate, smoothing_bits, even, odd, mn):
    s = np.ascontiguousarray(signal, np.uint32).copy()
    e = np.ascontiguousarray(estimate, np.uint32).copy()
    f = lib().kws_micro_noise_reduction
    f.restype = None
    f(_p(s), _p(e), I32(s.shape[0]), I32(smoothing_bits), I32(even), I32(odd), I32(mn))
    return s, e


def pcan(signal, estimate, lut, snr_shift):
    s = np.ascontiguousarray(signal, np.uint32).copy()
    e = np.ascontiguousarray(estimate, np.uint32)
    lut = np.ascontiguousarray(lut, np.int16)
    f = lib().kws_micro_pcan
    f.restype = None
    f(_p(s), _p(e), I32(s.shape[0]), _p(lut), I32(snr_shift))
    return s


def log_scale(signal, correction_bits, scale_shift, enable_log, lut):
    s = np.ascontiguousarray(signal, np.uint32)
    lut = np.ascontiguousarray(lut, np.uint16)
    out = np.zeros(s.shape[0], np.uint16)
    f = lib().kws_micro_log_scale
    f.restype = None
    f(_p(s), I32(s.shape[0]), I32(correction_bits), I32(scale_shift), I32(int(enable_log)), _p(lut), _p(out))
    return out


class Frontend:
    """A C microfrontend instance over the tables of a MicroFrontend (keeps its arrays alive)."""

    def __init__(self, fe):
        t = fe.tables
        n, nch = t.fft_size, fe.num_channels
        self.nch = nch
        k = self._keep = {}

        def arr(name, a, dt):
            k[name] = np.ascontiguousarray(a, dt)
            return _p(k[name])

        self.cfg = Config(
            t.window_size, t.window_step, n, nch, arr("w", t.window, np.int16), arr("tw", t.fft_twiddles, np.int16),
            arr("stw", t.fft_super_twiddles, np.int16), t.fb_start_index, t.fb_end_index,
            arr("fs", t.fb_frequency_starts, np.int16), arr("ws", t.fb_weight_starts, np.int16),
            arr("wd", t.fb_widths, np.int16), arr("fw", t.fb_weights, np.int16), arr("fu", t.fb_unweights, np.int16),
            fe.smoothing_bits, t.nr_even, t.nr_odd, t.nr_min, int(fe.enable_pcan), t.pcan_snr_shift,
            arr("lut", t.pcan_gain_lut, np.int16), int(fe.enable_log), fe.scale_shift, t.correction_bits,
            arr("llut", t.log_lut, np.uint16))
        self.st = State(arr("buf", np.zeros(t.window_size), np.int16), 0, arr("est", np.zeros(nch), np.uint32),
                        arr("win", np.zeros(t.window_size), np.int16), arr("scr", np.zeros(2 * n), np.int16),
                        arr("spec", np.zeros(n + 2), np.int16), arr("en", np.zeros(n // 2 + 1), np.int32),
                        arr("work", np.zeros(nch + 1), np.int64), arr("sig", np.zeros(nch), np.uint32))
        self.reset()

    def reset(self):
        f = lib().kws_micro_reset
        f.restype = None
        f(ctypes.byref(self.cfg), ctypes.byref(self.st))

    def push(self, pcm):
        pcm = np.ascontiguousarray(pcm, np.int16)
        f = lib().kws_micro_process
        f.restype = ctypes.c_int
        frames, pos = [], 0
        used = ctypes.c_size_t(0)
        out = np.zeros(self.nch, np.uint16)
        while pos < pcm.shape[0]:
            got = f(ctypes.byref(self.cfg), ctypes.byref(self.st), ctypes.c_void_p(pcm.ctypes.data + 2 * pos),
                    ctypes.c_size_t(pcm.shape[0] - pos), ctypes.byref(used), _p(out))
            pos += used.value
            if got:
                frames.append(out.copy())
        return np.array(frames, np.uint16).reshape(-1, self.nch)
