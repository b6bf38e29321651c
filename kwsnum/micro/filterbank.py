"""Stage 3, the filterbank: |X|^2 per FFT bin, triangular mel-spaced channels (Q12 weights), square root.

TFLM: filterbank.c (FilterbankConvertFftComplexToEnergy, FilterbankAccumulateChannels, FilterbankSqrt) and
filterbank_util.c (the channel tables, float32). Spec: docs/frontend.md, M.4.

Layout of the tables (TFLM's): num_channels + 1 bands; band c covers energies
``frequency_starts[c] .. frequency_starts[c] + widths[c] - 1`` with weights/unweights starting at
``weight_starts[c]``. Band c's weighted sum closes channel c, its unweighted sum opens channel c + 1; the
output is channels 1..num_channels.
"""
from .. import _numba as nb
import numpy as np

from . import f32

FILTERBANK_BITS = 12        # kFilterbankBits
INDEX_ALIGNMENT = 2         # kFilterbankIndexAlignment (4 bytes) / sizeof(int16_t)
CHANNEL_BLOCK = 4           # kFilterbankChannelBlockSize


def _mel(freq):
    F = f32.F
    return F(1127.0) * f32.log1pf(F(freq) / F(700.0))


def tables(num_channels, lower, upper, sample_rate, spectrum_size):
    """FilterbankPopulateState in float32. Returns a dict of start_index, end_index (ints) and the int16
    arrays frequency_starts, weight_starts, widths (num_channels + 1), weights, unweights."""
    F = f32.F
    n1 = num_channels + 1
    mel_low = _mel(F(lower))
    mel_hi = _mel(F(upper))
    spacing = (mel_hi - mel_low) / F(n1)
    center = [mel_low + spacing * F(i + 1) for i in range(n1)]
    hz_per_sbin = F(F(0.5) * F(sample_rate)) / (F(spectrum_size) - F(1))
    start_index = int(F(1.5) + F(lower) / hz_per_sbin)
    freq_starts = np.zeros(n1, np.int64)
    weight_starts = np.zeros(n1, np.int64)
    widths = np.zeros(n1, np.int64)
    actual_starts = np.zeros(n1, np.int64)
    actual_widths = np.zeros(n1, np.int64)
    chan_start = start_index
    weight_index = 0
    needs_zeros = False
    for c in range(n1):
        f = chan_start
        while _mel(F(f) * hz_per_sbin) <= center[c]:
            f += 1
            if f > 1 << 20:
                raise ValueError("filterbank band does not close (upper band limit above the spectrum?)")
        width = f - chan_start
        actual_starts[c] = chan_start
        actual_widths[c] = width
        if width == 0:
            freq_starts[c] = 0
            weight_starts[c] = 0
            widths[c] = CHANNEL_BLOCK
            if not needs_zeros:
                needs_zeros = True
                weight_starts[:c] += CHANNEL_BLOCK
                weight_index += CHANNEL_BLOCK
        else:
            aligned = (chan_start // INDEX_ALIGNMENT) * INDEX_ALIGNMENT
            aligned_width = chan_start - aligned + width
            padded = ((aligned_width - 1) // CHANNEL_BLOCK + 1) * CHANNEL_BLOCK
            freq_starts[c] = aligned
            weight_starts[c] = weight_index
            widths[c] = padded
            weight_index += padded
        chan_start = f
    weights = np.zeros(weight_index, np.int64)
    unweights = np.zeros(weight_index, np.int64)
    end_index = 0
    for c in range(n1):
        freq = int(actual_starts[c])
        off = freq - int(freq_starts[c])
        denom = mel_low if c == 0 else center[c - 1]
        for j in range(int(actual_widths[c])):
            w = (center[c] - _mel(F(freq) * hz_per_sbin)) / (center[c] - denom)
            k = int(weight_starts[c]) + off + j
            weights[k] = int(f32.floorf(w * F(1 << FILTERBANK_BITS) + F(0.5)))
            unweights[k] = int(f32.floorf((F(1.0) - w) * F(1 << FILTERBANK_BITS) + F(0.5)))
            freq += 1
        end_index = max(end_index, freq)
    if end_index >= spectrum_size:
        raise ValueError(f"filterbank end index {end_index} is not below the spectrum size {spectrum_size} "
                         f"(upper band limit too close to sample_rate / 2)")
    i16 = lambda a: np.asarray(a, np.int16)   # noqa: E731
    return dict(start_index=start_index, end_index=end_index, frequency_starts=i16(freq_starts),
                weight_starts=i16(weight_starts), widths=i16(widths), weights=i16(weights),
                unweights=i16(unweights))


# ------------------------------------------------------------------------------------------ numba
@nb.njit(cache=True)
def energy(spec, start, end, out):
    """out[k] = re^2 + im^2 for start <= k < end, as TFLM's int32 store (2**31 wraps to -2**31), else 0."""
    for k in range(out.shape[0]):
        out[k] = 0
    for k in range(start, end):
        r = np.int64(spec[k, 0])
        i = np.int64(spec[k, 1])
        e = r * r + i * i
        if e >= 2147483648:
            e -= 4294967296
        out[k] = e


@nb.njit(cache=True)
def accumulate(en, freq_starts, weight_starts, widths, weights, unweights, work):
    """work[c] (c = 0..num_channels): sum of weight * energy over band c plus the previous band's
    unweighted sum. Exact in int64 (|terms| < 2**46, <= 2**12 of them); TFLM's uint64 is this mod 2**64."""
    carry = np.int64(0)
    for c in range(freq_starts.shape[0]):
        acc = carry
        un = np.int64(0)
        f0 = np.int64(freq_starts[c])
        w0 = np.int64(weight_starts[c])
        for j in range(np.int64(widths[c])):
            m = en[f0 + j]
            acc += np.int64(weights[w0 + j]) * m
            un += np.int64(unweights[w0 + j]) * m
        work[c] = acc
        carry = un


@nb.njit(cache=True)
def _sqrt_bits(num, top):
    """Digit-by-digit square root of num (an unsigned value held in a uint64), TFLM's Sqrt32/Sqrt64 loop
    with ``top`` = 32 or 64: floor(sqrt), then +1 when the remainder exceeds the root (round to nearest),
    except at the type's maximum root."""
    one = np.uint64(1)
    n = np.uint64(num)
    nbits = 0
    t = n
    while t > np.uint64(0):
        nbits += 1
        t >>= one
    mbn = (top - nbits) | 1
    bit = one << np.uint64(top - 1 - mbn)
    res = np.uint64(0)
    it = (top - 1 - mbn) // 2 + 1
    for _ in range(it):
        if n >= res + bit:
            n -= res + bit
            res = (res >> one) + bit
        else:
            res >>= one
        bit >>= np.uint64(2)
    lim = np.uint64(0xFFFF) if top == 32 else np.uint64(0xFFFFFFFF)
    if n > res and res != lim:
        res += one
    return res


@nb.njit(cache=True)
def sqrt64(v):
    """TFLM's Sqrt64 of the uint64 bit pattern of the int64 v (a uint32 result)."""
    u = np.uint64(v)   # two's complement reinterpretation
    if (u >> np.uint64(32)) == np.uint64(0):
        if u == np.uint64(0):
            return np.int64(0)
        return np.int64(_sqrt_bits(u, 32))
    return np.int64(_sqrt_bits(u, 64))


@nb.njit(cache=True)
def sqrt_scale(work, shift, out):
    """out[c] = Sqrt64(work[c + 1]) >> shift, c = 0..num_channels - 1 (uint32 values in int64)."""
    for c in range(out.shape[0]):
        out[c] = sqrt64(work[c + 1]) >> shift


# ------------------------------------------------------------------------------------------ torch
_MIN = -(2 ** 63)


def _ult(a, b):
    """unsigned a < b on int64 bit patterns."""
    return (a ^ _MIN) < (b ^ _MIN)


def sqrt64_torch(v):
    """Elementwise TFLM Sqrt64 of the uint64 bit patterns of int64 tensor v, vectorised: every element runs
    the digit-by-digit loop from its own starting bit, masked once its iterations are done."""
    import torch
    from .bits import torch_msb
    neg = v < 0
    nbits = torch.where(neg, torch.full_like(v, 64), torch_msb(torch.where(neg, torch.zeros_like(v), v)))
    small = (~neg) & (v < 2 ** 32)
    top = torch.where(small, torch.full_like(v, 32), torch.full_like(v, 64))
    mbn = (top - nbits) | 1
    bitpos = top - 1 - mbn
    bit = torch.ones_like(v) << bitpos.clamp(min=0)
    iters = bitpos // 2 + 1
    n = v.clone()
    res = torch.zeros_like(v)
    for it in range(32):
        active = it < iters
        s = res + bit
        take = active & ~_ult(n, s)
        n = torch.where(take, n - s, n)
        res = torch.where(take, (res >> 1) + bit, torch.where(active, res >> 1, res))
        bit = torch.where(active, bit >> 2, bit)
    lim = torch.where(small, torch.full_like(v, 0xFFFF), torch.full_like(v, 0xFFFFFFFF))
    res = torch.where(_ult(res, n) & (res != lim), res + 1, res)
    return torch.where(v == 0, torch.zeros_like(v), res)


def energy_torch(spec, start, end):
    """spec (F, bins, 2) int64 -> (F, bins) int64."""
    import torch
    e = spec[..., 0] * spec[..., 0] + spec[..., 1] * spec[..., 1]
    e = torch.where(e >= 2 ** 31, e - 2 ** 32, e)
    k = torch.arange(spec.shape[1])
    return torch.where((k >= start) & (k < end), e, torch.zeros_like(e))


def accumulate_torch(en, freq_starts, weight_starts, widths, weights, unweights):
    """en (F, bins) -> work (F, num_channels + 1) int64: a dense (bins, bands) weight matrix product."""
    import torch
    nb_ = freq_starts.shape[0]
    bins = en.shape[1]
    W = torch.zeros((bins, nb_), dtype=torch.int64)
    U = torch.zeros((bins, nb_), dtype=torch.int64)
    for c in range(nb_):
        f0, w0, wd = int(freq_starts[c]), int(weight_starts[c]), int(widths[c])
        W[f0:f0 + wd, c] += weights[w0:w0 + wd]
        U[f0:f0 + wd, c] += unweights[w0:w0 + wd]
    acc = en @ W
    un = en @ U
    carry = torch.zeros_like(un)
    carry[:, 1:] = un[:, :-1]
    return acc + carry
