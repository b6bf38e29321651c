"""Stage 2, the FFT: kissfft's real FFT in 16-bit fixed point (FIXED_POINT=16), as TFLM builds it.

TFLM: fft.c (FftCompute: the input shift, zero padding), kiss_fft_int16.cc = kissfft's kiss_fft.c and
tools/kiss_fftr.c with kiss_fft_scalar = int16_t. A real FFT of size N packs the input into N/2 complex
values, runs a complex FFT of size N/2 (radix-4 stages, one radix-2 stage when log2(N/2) is odd), and
untangles the result with the "super twiddles". Every butterfly input is pre-scaled (C_FIXDIV: times
32767 / p, rounded) so the transform is scaled by 1/N; every intermediate is an int16 store (wraps).
Spec: docs/frontend.md, M.3.
"""
import math

from .. import _numba as nb
import numpy as np

from .bits import wrap16, torch_wrap16

SAMP_MAX = 32767


def fft_size_for(input_size):
    """TFLM's FftPopulateState: the smallest power of two >= input_size."""
    n = 1
    while n < input_size:
        n <<= 1
    return n


def factors(n):
    """kissfft's kf_factor(n): [(p, m), ...] with p the radix of each stage (outermost first),
    m = n / (p_0 ... p_i). For a power of two: 4s, then a 2 if log2(n) is odd."""
    out = []
    p = 4
    floor_sqrt = math.floor(math.sqrt(n))
    while True:
        while n % p:
            p = 2 if p == 4 else (3 if p == 2 else p + 2)
            if p > floor_sqrt:
                p = n
        n //= p
        out.append((p, n))
        if n <= 1:
            break
    return out


def twiddles(fft_size):
    """(N/2, 2) int16: kiss_fft_alloc(N/2) twiddles floor(0.5 + 32767 cos|sin(-2 pi i / (N/2))), in double."""
    nc = fft_size // 2
    pi = 3.141592653589793238462643383279502884197169399375105820974944
    out = np.empty((nc, 2), np.int16)
    for i in range(nc):
        phase = -2 * pi * i / nc
        out[i, 0] = int(math.floor(0.5 + SAMP_MAX * math.cos(phase)))
        out[i, 1] = int(math.floor(0.5 + SAMP_MAX * math.sin(phase)))
    return out


def super_twiddles(fft_size):
    """(N/4, 2) int16: kiss_fftr_alloc's phases -pi ((i + 1) / (N/2) + 0.5), in double."""
    nc = fft_size // 2
    out = np.empty((nc // 2, 2), np.int16)
    for i in range(nc // 2):
        phase = -3.14159265358979323846264338327 * (float(i + 1) / nc + 0.5)
        out[i, 0] = int(math.floor(0.5 + SAMP_MAX * math.cos(phase)))
        out[i, 1] = int(math.floor(0.5 + SAMP_MAX * math.sin(phase)))
    return out


# ------------------------------------------------------------------------------------------ numba
@nb.njit(cache=True, inline="always")
def _sround(x):
    return wrap16((x + 16384) >> 15)


@nb.njit(cache=True, inline="always")
def _fixdiv(v, p):
    return _sround(v * (SAMP_MAX // p))


@nb.njit(cache=True)
def _cfft(re, im, tw, fac_p, fac_m, out_re, out_im):
    """kissfft's complex forward FFT (kf_work) of the n = len(re) values, iteratively: the mixed-radix
    digit-reversed copy, then the stages from the innermost (last factor) out."""
    n = re.shape[0]
    s = fac_p.shape[0]
    # digit reversal: output index sum k_i m_i takes input index sum k_i (p_0 ... p_{i-1})
    for o in range(n):
        rem = o
        src = 0
        stride = 1
        for i in range(s):
            k = rem // fac_m[i]
            rem -= k * fac_m[i]
            src += k * stride
            stride *= fac_p[i]
        out_re[o] = re[src]
        out_im[o] = im[src]
    for i in range(s - 1, -1, -1):
        p = fac_p[i]
        m = fac_m[i]
        fstride = 1
        for j in range(i):
            fstride *= fac_p[j]
        for b in range(fstride):
            base = b * p * m
            if p == 2:
                for u in range(m):
                    a = base + u
                    c = a + m
                    ar = _fixdiv(out_re[a], 2)
                    ai = _fixdiv(out_im[a], 2)
                    cr = _fixdiv(out_re[c], 2)
                    ci = _fixdiv(out_im[c], 2)
                    wr = np.int64(tw[u * fstride, 0])
                    wi = np.int64(tw[u * fstride, 1])
                    tr = _sround(cr * wr - ci * wi)
                    ti = _sround(cr * wi + ci * wr)
                    out_re[c] = wrap16(ar - tr)
                    out_im[c] = wrap16(ai - ti)
                    out_re[a] = wrap16(ar + tr)
                    out_im[a] = wrap16(ai + ti)
            else:  # p == 4 (validated: sizes are powers of two)
                for u in range(m):
                    i0 = base + u
                    i1 = i0 + m
                    i2 = i0 + 2 * m
                    i3 = i0 + 3 * m
                    f0r = _fixdiv(out_re[i0], 4)
                    f0i = _fixdiv(out_im[i0], 4)
                    f1r = _fixdiv(out_re[i1], 4)
                    f1i = _fixdiv(out_im[i1], 4)
                    f2r = _fixdiv(out_re[i2], 4)
                    f2i = _fixdiv(out_im[i2], 4)
                    f3r = _fixdiv(out_re[i3], 4)
                    f3i = _fixdiv(out_im[i3], 4)
                    w1r = np.int64(tw[u * fstride, 0])
                    w1i = np.int64(tw[u * fstride, 1])
                    w2r = np.int64(tw[2 * u * fstride, 0])
                    w2i = np.int64(tw[2 * u * fstride, 1])
                    w3r = np.int64(tw[3 * u * fstride, 0])
                    w3i = np.int64(tw[3 * u * fstride, 1])
                    s0r = _sround(f1r * w1r - f1i * w1i)
                    s0i = _sround(f1r * w1i + f1i * w1r)
                    s1r = _sround(f2r * w2r - f2i * w2i)
                    s1i = _sround(f2r * w2i + f2i * w2r)
                    s2r = _sround(f3r * w3r - f3i * w3i)
                    s2i = _sround(f3r * w3i + f3i * w3r)
                    s5r = wrap16(f0r - s1r)
                    s5i = wrap16(f0i - s1i)
                    f0r = wrap16(f0r + s1r)
                    f0i = wrap16(f0i + s1i)
                    s3r = wrap16(s0r + s2r)
                    s3i = wrap16(s0i + s2i)
                    s4r = wrap16(s0r - s2r)
                    s4i = wrap16(s0i - s2i)
                    out_re[i2] = wrap16(f0r - s3r)
                    out_im[i2] = wrap16(f0i - s3i)
                    out_re[i0] = wrap16(f0r + s3r)
                    out_im[i0] = wrap16(f0i + s3i)
                    out_re[i1] = wrap16(s5r + s4i)
                    out_im[i1] = wrap16(s5i - s4r)
                    out_re[i3] = wrap16(s5r - s4i)
                    out_im[i3] = wrap16(s5i + s4r)


@nb.njit(cache=True)
def compute(win, shift, fft_size, tw, stw, fac_p, fac_m, out):
    """FftCompute: x[i] = wrap16((win[i] & 0xFFFF) << shift) for i < len(win), 0 up to fft_size; the real
    FFT of x -> out, (fft_size/2 + 1, 2) int16 (real, imag)."""
    nc = fft_size // 2
    re = np.zeros(nc, np.int64)
    im = np.zeros(nc, np.int64)
    for i in range(win.shape[0]):
        v = wrap16((np.int64(win[i]) & 0xFFFF) << shift)
        if i & 1:
            im[i >> 1] = v
        else:
            re[i >> 1] = v
    tr = np.empty(nc, np.int64)
    ti = np.empty(nc, np.int64)
    _cfft(re, im, tw, fac_p, fac_m, tr, ti)
    dr = _fixdiv(tr[0], 2)
    di = _fixdiv(ti[0], 2)
    out[0, 0] = wrap16(dr + di)
    out[nc, 0] = wrap16(dr - di)
    out[0, 1] = 0
    out[nc, 1] = 0
    for k in range(1, nc // 2 + 1):
        pr = _fixdiv(tr[k], 2)
        pi_ = _fixdiv(ti[k], 2)
        qr = _fixdiv(tr[nc - k], 2)
        qi = _fixdiv(wrap16(-ti[nc - k]), 2)
        f1r = wrap16(pr + qr)
        f1i = wrap16(pi_ + qi)
        f2r = wrap16(pr - qr)
        f2i = wrap16(pi_ - qi)
        wr = np.int64(stw[k - 1, 0])
        wi = np.int64(stw[k - 1, 1])
        twr = _sround(f2r * wr - f2i * wi)
        twi = _sround(f2r * wi + f2i * wr)
        out[k, 0] = wrap16((f1r + twr) >> 1)
        out[k, 1] = wrap16((f1i + twi) >> 1)
        out[nc - k, 0] = wrap16((f1r - twr) >> 1)
        out[nc - k, 1] = wrap16((twi - f1i) >> 1)


# ------------------------------------------------------------------------------------------ torch
def _t_sround(x):
    return torch_wrap16((x + 16384) >> 15)


def _t_cmul(ar, ai, br, bi):
    return _t_sround(ar * br - ai * bi), _t_sround(ar * bi + ai * br)


def compute_torch(win, shift, fft_size, tw, stw):
    """Vectorised over frames: win (F, size) int64, shift (F,) int64, tw (N/2, 2), stw (N/4, 2) int64 ->
    (F, N/2 + 1, 2) int64. Each stage runs all its butterflies at once on index tensors."""
    import torch
    nc = fft_size // 2
    nf, size = win.shape
    x = torch.zeros((nf, fft_size), dtype=torch.int64)
    x[:, :size] = torch_wrap16((win & 0xFFFF) << shift[:, None])
    re, im = x[:, 0::2].clone(), x[:, 1::2].clone()
    fac = factors(nc)
    perm = _digit_reverse(nc, fac, torch)      # the input index feeding each output slot
    re, im = re[:, perm], im[:, perm]
    fstrides = [1]
    for p, _ in fac[:-1]:
        fstrides.append(fstrides[-1] * p)
    for (p, m), fstride in reversed(list(zip(fac, fstrides))):
        blocks = torch.arange(fstride)[:, None] * (p * m)
        u = torch.arange(m)[None, :]
        idx = [(blocks + u + q * m).reshape(-1) for q in range(p)]
        uu = u.expand(fstride, m).reshape(-1)
        div = SAMP_MAX // p
        F = [(_t_sround(re[:, ix] * div), _t_sround(im[:, ix] * div)) for ix in idx]
        W = [(tw[(q * uu * fstride), 0], tw[(q * uu * fstride), 1]) for q in range(p)]
        if p == 2:
            t = _t_cmul(F[1][0], F[1][1], W[1][0], W[1][1])
            re[:, idx[1]] = torch_wrap16(F[0][0] - t[0])
            im[:, idx[1]] = torch_wrap16(F[0][1] - t[1])
            re[:, idx[0]] = torch_wrap16(F[0][0] + t[0])
            im[:, idx[0]] = torch_wrap16(F[0][1] + t[1])
        else:
            s0 = _t_cmul(F[1][0], F[1][1], W[1][0], W[1][1])
            s1 = _t_cmul(F[2][0], F[2][1], W[2][0], W[2][1])
            s2 = _t_cmul(F[3][0], F[3][1], W[3][0], W[3][1])
            s5 = (torch_wrap16(F[0][0] - s1[0]), torch_wrap16(F[0][1] - s1[1]))
            f0 = (torch_wrap16(F[0][0] + s1[0]), torch_wrap16(F[0][1] + s1[1]))
            s3 = (torch_wrap16(s0[0] + s2[0]), torch_wrap16(s0[1] + s2[1]))
            s4 = (torch_wrap16(s0[0] - s2[0]), torch_wrap16(s0[1] - s2[1]))
            re[:, idx[2]] = torch_wrap16(f0[0] - s3[0])
            im[:, idx[2]] = torch_wrap16(f0[1] - s3[1])
            re[:, idx[0]] = torch_wrap16(f0[0] + s3[0])
            im[:, idx[0]] = torch_wrap16(f0[1] + s3[1])
            re[:, idx[1]] = torch_wrap16(s5[0] + s4[1])
            im[:, idx[1]] = torch_wrap16(s5[1] - s4[0])
            re[:, idx[3]] = torch_wrap16(s5[0] - s4[1])
            im[:, idx[3]] = torch_wrap16(s5[1] + s4[0])
    out = torch.zeros((nf, nc + 1, 2), dtype=torch.int64)
    d = (_t_sround(re[:, 0] * (SAMP_MAX // 2)), _t_sround(im[:, 0] * (SAMP_MAX // 2)))
    out[:, 0, 0] = torch_wrap16(d[0] + d[1])
    out[:, nc, 0] = torch_wrap16(d[0] - d[1])
    k = torch.arange(1, nc // 2 + 1)
    half = SAMP_MAX // 2
    pr, pi_ = _t_sround(re[:, k] * half), _t_sround(im[:, k] * half)
    qr, qi = _t_sround(re[:, nc - k] * half), _t_sround(torch_wrap16(-im[:, nc - k]) * half)
    f1 = (torch_wrap16(pr + qr), torch_wrap16(pi_ + qi))
    f2 = (torch_wrap16(pr - qr), torch_wrap16(pi_ - qi))
    t = _t_cmul(f2[0], f2[1], stw[k - 1, 0], stw[k - 1, 1])
    lo_r, lo_i = torch_wrap16((f1[0] + t[0]) >> 1), torch_wrap16((f1[1] + t[1]) >> 1)
    hi_r, hi_i = torch_wrap16((f1[0] - t[0]) >> 1), torch_wrap16((t[1] - f1[1]) >> 1)
    out[:, k, 0], out[:, k, 1] = lo_r, lo_i
    out[:, nc - k, 0], out[:, nc - k, 1] = hi_r, hi_i   # k = N/4 writes twice: the second store wins
    return out


def _digit_reverse(n, fac, torch):
    """perm[o] = input index feeding output slot o of kf_work, by unrolling the recursion level by level."""
    perm = torch.zeros(1, dtype=torch.int64)    # one block of size n, fed from offset 0 with stride 1
    stride = 1
    for p, m in fac:
        # each current block splits into p sub-blocks of size m; sub-block k reads from offset + k * stride
        perm = (perm[:, None] + torch.arange(p)[None, :] * stride).reshape(-1)
        stride *= p
    # the blocks are laid out sub-block after sub-block: slot o = sum k_i m_i
    return perm
