"""Three-way tests of TFLM's microfrontend (docs/frontend.md, "The micro frontend"), stage by stage and whole:
the numba oracle (kwsnum.micro.<stage>), the torch int64 reference (<stage>.*_torch) and C
(c_runtime/kws_micro_<stage>.c) agree exactly (==) on random inputs and on each stage's edge cases.
The equality with TFLM itself (pymicro-features) is tests/test_micro_pymicro.py."""
import numpy as np
import pytest
from hypothesis import given, strategies as st, assume

torch = pytest.importorskip("torch")

from kwsnum.micro import MicroFrontend, Stream, features, features_torch   # noqa: E402
from kwsnum.micro import fft, filterbank, log_scale, noise_reduction, pcan, window   # noqa: E402
from tests import micro_c   # noqa: E402

T = lambda a: torch.tensor(np.asarray(a, np.int64))   # a copy (numba kernels work in place)  # noqa: E731
I64 = lambda a: np.ascontiguousarray(a, np.int64)   # noqa: E731

U32 = st.one_of(st.integers(0, 2 ** 32 - 1), st.sampled_from([0, 1, 2, 3, 2 ** 31, 2 ** 32 - 1, 8191, 8192]))


def int16_signal(n):
    """int16 arrays of length n: uniform, full-scale square waves, clipped, silence, DC, small values."""
    def build(kind, seed, amp, period):
        rng = np.random.default_rng(seed)
        if kind == "uniform":
            return rng.integers(-32768, 32768, n)
        if kind == "square":
            return np.where((np.arange(n) // period) % 2 == 0, 32767, -32768)
        if kind == "min":
            return np.full(n, -32768)
        if kind == "silence":
            return np.zeros(n, np.int64)
        if kind == "dc":
            return np.full(n, amp) + rng.integers(-3, 4, n)
        if kind == "clipped":
            return np.clip(rng.standard_normal(n) * 40000, -32768, 32767).astype(np.int64)
        return rng.integers(-amp, amp + 1, n)      # small
    return st.builds(lambda *a: np.clip(build(*a), -32768, 32767).astype(np.int64),   # dc + noise can pass 32767
                     st.sampled_from(["uniform", "square", "min", "silence", "dc", "clipped", "small"]),
                     st.integers(0, 2 ** 31), st.integers(1, 32767), st.integers(1, 9))


# ------------------------------------------------------------------------------------------ window
@given(data=st.data(), n=st.integers(8, 700), derived=st.booleans())
def test_window_three_way(data, n, derived):
    x = data.draw(int16_signal(n))
    coef = window.coefficients(n) if derived else data.draw(int16_signal(n))
    out = np.zeros(n, np.int64)
    peak = window.apply(I64(x), I64(coef), out)
    tv, tpeak = window.apply_torch(T(x), T(coef))
    cv, cpeak = micro_c.window(x, coef)
    assert np.array_equal(out, tv.numpy()) and peak == int(tpeak)
    assert np.array_equal(out, cv) and peak == cpeak


# ------------------------------------------------------------------------------------------ fft
@given(data=st.data(), log2n=st.integers(3, 10), shift=st.integers(0, 15))
def test_fft_three_way(data, log2n, shift):
    n = 1 << log2n
    n_in = data.draw(st.integers(n // 2 + 1, n))
    x = data.draw(int16_signal(n_in))
    tw, stw = fft.twiddles(n), fft.super_twiddles(n)
    fac = fft.factors(n // 2)
    out = np.zeros((n // 2 + 1, 2), np.int64)
    fft.compute(I64(x), shift, n, I64(tw), I64(stw), I64([p for p, _ in fac]), I64([m for _, m in fac]), out)
    ref = fft.compute_torch(T(x)[None], T([shift]), n, T(tw), T(stw))[0].numpy()
    assert np.array_equal(out, ref)
    assert np.array_equal(out, micro_c.fft(x, shift, n, tw, stw))


def test_fft_factors_are_kissfft():
    assert fft.factors(256) == [(4, 64), (4, 16), (4, 4), (4, 1)]
    assert fft.factors(128) == [(4, 32), (4, 8), (4, 2), (2, 1)]
    assert fft.factors(4) == [(4, 1)] and fft.factors(2) == [(2, 1)]


def test_fft_is_a_scaled_dft():
    """Sanity of the algorithm (not of bit-exactness): a small-signal FFT matches numpy's rfft / N."""
    n = 512
    x = (np.sin(2 * np.pi * 37 * np.arange(n) / n) * 16000).astype(np.int64)
    fac = fft.factors(n // 2)
    out = np.zeros((n // 2 + 1, 2), np.int64)
    fft.compute(x, 0, n, I64(fft.twiddles(n)), I64(fft.super_twiddles(n)), I64([p for p, _ in fac]),
                I64([m for _, m in fac]), out)
    ref = np.fft.rfft(x) / n
    assert np.max(np.abs(out[:, 0] + 1j * out[:, 1] - ref)) < 8


# ------------------------------------------------------------------------------------------ filterbank
configs = st.builds(
    lambda sr, ms, ch, lo, hi_frac: dict(sample_rate=sr, window_size_ms=ms, num_channels=ch, lower_band_limit=lo,
                                         upper_band_limit=hi_frac * sr / 2),
    st.sampled_from([8000, 16000, 22050, 32000, 48000]), st.integers(2, 64), st.integers(1, 80),
    st.floats(0.0, 300.0), st.floats(0.5, 0.95))


def _fe(cfg, **kw):
    try:
        return MicroFrontend(window_step_ms=1, clip_samples=cfg["sample_rate"], **cfg, **kw)
    except Exception as e:   # a band that cannot close, a window out of bounds: not this test's subject
        assume(False)
        raise e


@given(data=st.data(), cfg=configs)
def test_filterbank_three_way(data, cfg):
    fe = _fe(cfg)
    t = fe.tables
    bins = t.fft_size // 2 + 1
    kind = data.draw(st.sampled_from(["uniform", "min", "small", "square"]))
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 31)))
    if kind == "uniform":
        spec = rng.integers(-32768, 32768, (bins, 2))
    elif kind == "min":
        spec = np.full((bins, 2), -32768)        # energy 2**31: TFLM's int32 wraps it negative
    elif kind == "small":
        spec = rng.integers(-40, 41, (bins, 2))
    else:
        spec = np.where(rng.integers(0, 2, (bins, 2)) == 1, 32767, -32768)
    shift = data.draw(st.integers(0, 15))
    en = np.zeros(bins, np.int64)
    filterbank.energy(I64(spec), t.fb_start_index, t.fb_end_index, en)
    work = np.zeros(fe.num_channels + 1, np.int64)
    tabs = [I64(a) for a in (t.fb_frequency_starts, t.fb_weight_starts, t.fb_widths, t.fb_weights, t.fb_unweights)]
    filterbank.accumulate(en, *tabs, work)
    sig = np.zeros(fe.num_channels, np.int64)
    filterbank.sqrt_scale(work, shift, sig)
    ten = filterbank.energy_torch(T(spec)[None], t.fb_start_index, t.fb_end_index)
    twork = filterbank.accumulate_torch(ten, *[T(a) for a in tabs])
    tsig = filterbank.sqrt64_torch(twork[:, 1:]) >> shift
    assert np.array_equal(en, ten[0].numpy()) and np.array_equal(work, twork[0].numpy())
    assert np.array_equal(sig, tsig[0].numpy())
    cen = micro_c.energy(spec, t.fb_start_index, t.fb_end_index)
    cwork = micro_c.filterbank(cen, *tabs)
    assert np.array_equal(en, cen) and np.array_equal(work, cwork)
    assert np.array_equal(sig, micro_c.filterbank_sqrt(cwork, shift))


@given(st.lists(st.one_of(st.integers(-2 ** 63, 2 ** 63 - 1), st.integers(0, 2 ** 33),
                          st.sampled_from([0, 1, 2, 3, 2 ** 32 - 1, 2 ** 32, 0xFFFF * 0xFFFF, 2 ** 64 - 2 ** 63 - 1,
                                           -1, -2 ** 31 * 4096, (2 ** 32 - 1) ** 2 - 2 ** 64])),
                min_size=1, max_size=40))
def test_sqrt64_three_way(vals):
    v = np.array(vals, np.int64)
    ours = np.array([filterbank.sqrt64(int(x)) for x in v], np.int64)
    ref = filterbank.sqrt64_torch(T(v)).numpy()
    work = np.concatenate([[0], v])
    assert np.array_equal(ours, ref)
    assert np.array_equal(ours, micro_c.filterbank_sqrt(work, 0))
    # the definition: round-to-nearest root of the unsigned value, saturating at 2**16 - 1 / 2**32 - 1
    import math
    for x, r in zip(v.tolist(), ours.tolist()):
        u = x % 2 ** 64
        f = math.isqrt(u)
        lim = 0xFFFF if u < 2 ** 32 else 0xFFFFFFFF
        assert r == (f + 1 if u - f * f > f and f != lim else f)


# ------------------------------------------------------------------------------------------ noise reduction
@given(data=st.data(), nch=st.integers(1, 48), frames=st.integers(1, 6), bits=st.integers(0, 16),
       q=st.tuples(*[st.integers(0, 16384)] * 3))
def test_noise_reduction_three_way(data, nch, frames, bits, q):
    est = I64(data.draw(st.lists(U32, min_size=nch, max_size=nch)))
    test, cest = T(est), est.astype(np.uint32)
    for _ in range(frames):
        sig = I64(data.draw(st.lists(U32, min_size=nch, max_size=nch)))
        s = sig.copy()
        noise_reduction.apply(s, est, bits, *q)
        ts, test = noise_reduction.apply_torch(T(sig), test, bits, *q)
        cs, cest = micro_c.noise_reduction(sig, cest, bits, *q)
        assert np.array_equal(s, ts.numpy()) and np.array_equal(est, test.numpy())
        assert np.array_equal(s, cs) and np.array_equal(est, cest)


# ------------------------------------------------------------------------------------------ pcan
@given(data=st.data(), nch=st.integers(1, 48), strength=st.floats(0.05, 2.0), offset=st.floats(0.5, 500.0),
       gain_bits=st.integers(10, 24), input_bits=st.integers(0, 20), snr_shift=st.integers(0, 32),
       random_lut=st.booleans())
def test_pcan_three_way(data, nch, strength, offset, gain_bits, input_bits, snr_shift, random_lut):
    if random_lut:   # any int16 LUT (a stored table is only range-checked): the interpolation's wrap paths
        lut = np.array(data.draw(st.lists(st.integers(-32768, 32767), min_size=125, max_size=125)), np.int16)
    else:
        lut = pcan.gain_lut(strength, offset, gain_bits, input_bits)
    sig = I64(data.draw(st.lists(U32, min_size=nch, max_size=nch)))
    est = I64(data.draw(st.lists(U32, min_size=nch, max_size=nch)))
    s = sig.copy()
    pcan.apply(s, est, I64(lut), snr_shift)
    ref = pcan.apply_torch(T(sig), T(est), T(lut), snr_shift).numpy()
    assert np.array_equal(s, ref)
    assert np.array_equal(s, micro_c.pcan(sig, est, lut, snr_shift))


# ------------------------------------------------------------------------------------------ log scale
@given(data=st.data(), n=st.integers(1, 64), corr=st.integers(-8, 12), scale_shift=st.integers(0, 16),
       enable=st.booleans())
def test_log_scale_three_way(data, n, corr, scale_shift, enable):
    sig = I64(data.draw(st.lists(U32, min_size=n, max_size=n)))
    lut = log_scale.log_lut()
    out = np.zeros(n, np.int64)
    log_scale.apply(sig, corr, scale_shift, enable, I64(lut), out)
    ref = log_scale.apply_torch(T(sig), corr, scale_shift, enable, T(lut)).numpy()
    assert np.array_equal(out, ref)
    assert np.array_equal(out, micro_c.log_scale(sig, corr, scale_shift, enable, lut))


def test_log_scale_is_a_log():
    """Sanity: ln(x) * 2**scale_shift within 1 LSB-ish (the LUT approximates log2 to ~1e-4)."""
    x = np.array([2, 3, 10, 1000, 65535, 10 ** 6, 2 ** 31], np.int64)
    out = np.zeros(x.shape[0], np.int64)
    log_scale.apply(x, 0, 6, True, I64(log_scale.log_lut()), out)
    assert np.all(np.abs(out - np.log(x) * 64) <= 1.0)


# ------------------------------------------------------------------------------------------ whole frontend
def pcm_signal(n):
    def build(kind, seed, amp, freq):
        rng = np.random.default_rng(seed)
        t = np.arange(n)
        if kind == "noise":
            x = rng.standard_normal(n) * amp
        elif kind == "tone":
            x = np.sin(2 * np.pi * freq * t / 16000) * amp
        elif kind == "square":
            x = np.where(np.sin(2 * np.pi * freq * t / 16000) >= 0, 32767, -32768)
        elif kind == "silence":
            x = np.zeros(n)
        elif kind == "dc":
            x = np.full(n, amp / 2) + rng.standard_normal(n) * 10
        else:   # clipped noise bursts
            x = rng.standard_normal(n) * 60000 * (((t // 1600) % 2) == 0)
        return np.clip(np.round(x), -32768, 32767).astype(np.int16)
    return st.builds(build, st.sampled_from(["noise", "tone", "square", "silence", "dc", "clipped"]),
                     st.integers(0, 2 ** 31), st.integers(1, 32767), st.integers(20, 7900))


frontends = st.builds(
    lambda ms, step, ch, pcan_on, log_on, lo, hi: dict(window_size_ms=ms, window_step_ms=step, num_channels=ch,
                                                      enable_pcan=pcan_on, enable_log=log_on,
                                                      lower_band_limit=lo, upper_band_limit=hi),
    st.integers(10, 40), st.integers(5, 10), st.integers(4, 48), st.booleans(),
    st.sampled_from([True, True, False]), st.floats(20.0, 300.0), st.floats(3000.0, 7800.0))


@given(data=st.data(), kw=frontends)
def test_frontend_three_way_and_chunked(data, kw):
    fe = MicroFrontend(clip_samples=4000, **kw)
    x = data.draw(pcm_signal(data.draw(st.integers(0, 4000))))
    ours = features(fe, x)
    assert np.array_equal(ours, features_torch(fe, x))
    c = micro_c.Frontend(fe)
    assert np.array_equal(ours, c.push(x))
    # chunked pushes (random chunk sizes, including 0) == one push, in the oracle and in C
    cuts = sorted(data.draw(st.lists(st.integers(0, x.shape[0]), max_size=8)))
    s = Stream(fe)
    c.reset()
    got, cgot, prev = [], [], 0
    for cut in cuts + [x.shape[0]]:
        got.append(s.push(x[prev:cut]))
        cgot.append(c.push(x[prev:cut]))
        prev = cut
    assert np.array_equal(np.concatenate(got), ours)
    assert np.array_equal(np.concatenate(cgot), ours)
    # reset: the same signal again gives the same frames
    s.reset()
    assert np.array_equal(s.push(x), ours)


def test_frontend_state_carries_across_pushes():
    """The noise estimate is state: a frame after loud noise differs from the same frame after a reset."""
    fe = MicroFrontend.microwakeword(clip_samples=16000)
    rng = np.random.default_rng(1)
    loud = (rng.standard_normal(8000) * 8000).astype(np.int16)
    tone = (np.sin(np.arange(4800) * 0.3) * 3000).astype(np.int16)
    s = Stream(fe)
    s.push(loud)
    after = s.push(tone)
    s.reset()
    fresh = s.push(tone)
    assert after.shape[0] == fresh.shape[0] + 2 and not np.array_equal(after[-5:], fresh[-5:])
