"""The microfrontend pipeline: streaming push (numba, the oracle) and a whole-clip torch reference.

Spec: docs/frontend.md, "The micro frontend". The state across frames is the window's sample buffer (and
how much of it is filled) and the noise reduction's per-channel estimate; ``reset`` zeroes both.
"""
from .. import _numba as nb
import numpy as np

from . import fft, filterbank, log_scale, noise_reduction, pcan, window
from .bits import msb


@nb.njit(cache=True)
def _push(pcm, buf, used, estimate, coef, step, fft_size, tw, stw, fac_p, fac_m, fb_start, fb_end,
          fstarts, wstarts, widths, weights, unweights, smoothing_bits, nr_even, nr_odd, nr_min,
          enable_pcan, gain_lut, snr_shift, correction_bits, scale_shift, enable_log, llut, out):
    """Feed pcm (int16) through the window buffer; write each completed frame's uint16 features to out
    (rows). used: a 1-element int64 array (state). Returns the number of frames written."""
    size = coef.shape[0]
    nch = fstarts.shape[0] - 1
    win = np.empty(size, np.int64)
    spec = np.empty((fft_size // 2 + 1, 2), np.int64)
    en = np.empty(fft_size // 2 + 1, np.int64)
    work = np.empty(nch + 1, np.int64)
    sig = np.empty(nch, np.int64)
    o = np.empty(nch, np.int64)
    pos = 0
    nf = 0
    n = pcm.shape[0]
    while pos < n:
        k = min(size - used[0], n - pos)
        for j in range(k):
            buf[used[0] + j] = pcm[pos + j]
        pos += k
        used[0] += k
        if used[0] < size:
            break
        mx = window.apply(buf, coef, win)
        shift = 15 - msb(mx)
        fft.compute(win, shift, fft_size, tw, stw, fac_p, fac_m, spec)
        filterbank.energy(spec, fb_start, fb_end, en)
        filterbank.accumulate(en, fstarts, wstarts, widths, weights, unweights, work)
        filterbank.sqrt_scale(work, shift, sig)
        noise_reduction.apply(sig, estimate, smoothing_bits, nr_even, nr_odd, nr_min)
        if enable_pcan:
            pcan.apply(sig, estimate, gain_lut, snr_shift)
        log_scale.apply(sig, correction_bits, scale_shift, enable_log, llut, o)
        for c in range(nch):
            out[nf, c] = o[c]
        nf += 1
        for j in range(size - step):
            buf[j] = buf[j + step]
        used[0] -= step
    return nf


class Stream:
    """Streaming state of one microfrontend (the oracle). ``push(pcm)`` -> (frames, channels) uint16 of the
    frames completed by these samples; any chunking of a signal gives the frames of one push."""

    def __init__(self, fe):
        self.fe = fe
        t = fe.tables
        self._size = t.window.shape[0]
        self._fac = fft.factors(t.fft_size // 2)
        self._args = None
        self.reset()

    def reset(self):
        self._buf = np.zeros(self._size, np.int64)
        self._used = np.zeros(1, np.int64)
        self._est = np.zeros(self.fe.num_channels, np.int64)

    def state(self):
        return {"window_buffer": self._buf.copy(), "window_used": int(self._used[0]),
                "noise_estimate": self._est.copy()}

    def _static(self):
        if self._args is None:
            fe, t = self.fe, self.fe.tables
            i64 = lambda a: np.ascontiguousarray(a, np.int64)  # noqa: E731
            self._args = (i64(t.window), int(t.window_step), int(t.fft_size), i64(t.fft_twiddles),
                          i64(t.fft_super_twiddles), i64([p for p, _ in self._fac]),
                          i64([m for _, m in self._fac]), int(t.fb_start_index), int(t.fb_end_index),
                          i64(t.fb_frequency_starts), i64(t.fb_weight_starts), i64(t.fb_widths),
                          i64(t.fb_weights), i64(t.fb_unweights), int(fe.smoothing_bits), int(t.nr_even),
                          int(t.nr_odd), int(t.nr_min), bool(fe.enable_pcan), i64(t.pcan_gain_lut),
                          int(t.pcan_snr_shift), int(t.correction_bits), int(fe.scale_shift),
                          bool(fe.enable_log), i64(t.log_lut))
        return self._args

    def push(self, pcm):
        pcm = np.ascontiguousarray(pcm, np.int64)
        a = self._static()
        out = np.zeros(((int(self._used[0]) + pcm.shape[0]) // a[1] + 1, self.fe.num_channels), np.int64)
        nf = _push(pcm, self._buf, self._used, self._est, *a, out)
        return out[:nf].astype(np.uint16)


def features(fe, pcm):
    """uint16 (frames, channels) of one signal from a reset state (every frame of one push)."""
    return Stream(fe).push(pcm)


def features_torch(fe, pcm):
    """Independent torch reference (int64 tensors) of ``features``: frames cut with unfold, every stage
    vectorised over frames except the noise estimate's recursion over time. Returns a numpy uint16 array."""
    import torch
    from .bits import torch_msb
    t = fe.tables
    T = lambda a: torch.as_tensor(np.asarray(a, np.int64))  # noqa: E731
    x = T(pcm)
    size, step = t.window.shape[0], int(t.window_step)
    if x.shape[0] < size:
        return np.zeros((0, fe.num_channels), np.uint16)
    frames = x.unfold(0, size, step)                                     # (F, size)
    win, mx = window.apply_torch(frames, T(t.window))
    shift = 15 - torch_msb(mx)
    spec = fft.compute_torch(win, shift, int(t.fft_size), T(t.fft_twiddles), T(t.fft_super_twiddles))
    en = filterbank.energy_torch(spec, int(t.fb_start_index), int(t.fb_end_index))
    work = filterbank.accumulate_torch(en, T(t.fb_frequency_starts), T(t.fb_weight_starts),
                                       T(t.fb_widths), T(t.fb_weights), T(t.fb_unweights))
    sig = filterbank.sqrt64_torch(work[:, 1:]) >> shift[:, None]
    est = torch.zeros(fe.num_channels, dtype=torch.int64)
    outs, ests = [], []
    for f in range(sig.shape[0]):
        s, est = noise_reduction.apply_torch(sig[f], est, fe.smoothing_bits, t.nr_even, t.nr_odd, t.nr_min)
        outs.append(s)
        ests.append(est)
    sig = torch.stack(outs)
    if fe.enable_pcan:
        sig = pcan.apply_torch(sig, torch.stack(ests), T(t.pcan_gain_lut), int(t.pcan_snr_shift))
    out = log_scale.apply_torch(sig, int(t.correction_bits), fe.scale_shift, fe.enable_log, T(t.log_lut))
    return out.numpy().astype(np.uint16)
