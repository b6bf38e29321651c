/* kws_micro_fft.c -- see kws_micro_fft.h. The complex FFT of size nc = fft_size / 2 is kissfft's kf_work
 * unrolled: the mixed-radix digit-reversed copy, then the stages (radix 4, and radix 2 when log2(nc) is
 * odd, innermost) from the last factor out. Every product is formed in int64; every store wraps to int16. */
#include "kws_micro_fft.h"
#include "kws_micro_common.h"

#define KWS_MICRO_MAX_STAGES 12

/* kissfft's sround: wrap16(floor((x + 2**14) / 2**15)) */
KWS_INLINE int16_t kws_micro_sround(int64_t x) { return kws_micro_wrap16(kws_floor_shift(x + 16384, 15)); }

/* C_FIXDIV(v, p): sround(v * (32767 / p)) */
KWS_INLINE int16_t kws_micro_fixdiv(int16_t v, int32_t p) { return kws_micro_sround((int64_t)v * (32767 / p)); }

/* C_MUL: (ar + i ai)(br + i bi), each part rounded by sround */
KWS_INLINE void kws_micro_cmul(int16_t ar, int16_t ai, int16_t br, int16_t bi, int16_t *r, int16_t *i)
{
    *r = kws_micro_sround((int64_t)ar * br - (int64_t)ai * bi);
    *i = kws_micro_sround((int64_t)ar * bi + (int64_t)ai * br);
}

static void kws_micro_bfly2(int16_t *f, int32_t m, int32_t fstride, const int16_t *tw)
{
    int32_t u;
    for (u = 0; u < m; u++) {
        int16_t *a = f + 2 * u, *c = f + 2 * (u + m);
        int16_t ar = kws_micro_fixdiv(a[0], 2), ai = kws_micro_fixdiv(a[1], 2);
        int16_t cr = kws_micro_fixdiv(c[0], 2), ci = kws_micro_fixdiv(c[1], 2);
        int16_t tr, ti;
        kws_micro_cmul(cr, ci, tw[2 * u * fstride], tw[2 * u * fstride + 1], &tr, &ti);
        c[0] = kws_micro_wrap16((int32_t)ar - tr);
        c[1] = kws_micro_wrap16((int32_t)ai - ti);
        a[0] = kws_micro_wrap16((int32_t)ar + tr);
        a[1] = kws_micro_wrap16((int32_t)ai + ti);
    }
}

static void kws_micro_bfly4(int16_t *f, int32_t m, int32_t fstride, const int16_t *tw)
{
    int32_t u, q;
    for (u = 0; u < m; u++) {
        int16_t x[4][2], s0[2], s1[2], s2[2], s3[2], s4[2], s5[2];
        int16_t *o[4];
        for (q = 0; q < 4; q++) {
            o[q] = f + 2 * (u + q * m);
            x[q][0] = kws_micro_fixdiv(o[q][0], 4);
            x[q][1] = kws_micro_fixdiv(o[q][1], 4);
        }
        kws_micro_cmul(x[1][0], x[1][1], tw[2 * u * fstride], tw[2 * u * fstride + 1], &s0[0], &s0[1]);
        kws_micro_cmul(x[2][0], x[2][1], tw[4 * u * fstride], tw[4 * u * fstride + 1], &s1[0], &s1[1]);
        kws_micro_cmul(x[3][0], x[3][1], tw[6 * u * fstride], tw[6 * u * fstride + 1], &s2[0], &s2[1]);
        s5[0] = kws_micro_wrap16((int32_t)x[0][0] - s1[0]);
        s5[1] = kws_micro_wrap16((int32_t)x[0][1] - s1[1]);
        x[0][0] = kws_micro_wrap16((int32_t)x[0][0] + s1[0]);
        x[0][1] = kws_micro_wrap16((int32_t)x[0][1] + s1[1]);
        s3[0] = kws_micro_wrap16((int32_t)s0[0] + s2[0]);
        s3[1] = kws_micro_wrap16((int32_t)s0[1] + s2[1]);
        s4[0] = kws_micro_wrap16((int32_t)s0[0] - s2[0]);
        s4[1] = kws_micro_wrap16((int32_t)s0[1] - s2[1]);
        o[2][0] = kws_micro_wrap16((int32_t)x[0][0] - s3[0]);
        o[2][1] = kws_micro_wrap16((int32_t)x[0][1] - s3[1]);
        o[0][0] = kws_micro_wrap16((int32_t)x[0][0] + s3[0]);
        o[0][1] = kws_micro_wrap16((int32_t)x[0][1] + s3[1]);
        o[1][0] = kws_micro_wrap16((int32_t)s5[0] + s4[1]);
        o[1][1] = kws_micro_wrap16((int32_t)s5[1] - s4[0]);
        o[3][0] = kws_micro_wrap16((int32_t)s5[0] - s4[1]);
        o[3][1] = kws_micro_wrap16((int32_t)s5[1] + s4[0]);
    }
}

void kws_micro_fft(const int16_t *win, int32_t n_in, int32_t shift, int32_t fft_size, const int16_t *tw,
                   const int16_t *stw, int16_t *scratch, int16_t *out)
{
    const int32_t nc = fft_size / 2;
    int16_t *x = scratch;              /* the packed complex input: nc values */
    int16_t *t = scratch + fft_size;   /* the complex FFT's output: nc values */
    int32_t p[KWS_MICRO_MAX_STAGES], m[KWS_MICRO_MAX_STAGES];
    int32_t ns = 0, n = nc, i, k, o, b;
    int16_t dr, di;
    for (i = 0; i < fft_size; i++)
        x[i] = i < n_in ? kws_micro_wrap16((int64_t)(((uint32_t)(uint16_t)win[i]) << shift)) : 0;
    /* kf_factor for a power of two: radix 4 while possible, then a radix 2 */
    while (n > 1 && ns < KWS_MICRO_MAX_STAGES) {
        p[ns] = (n % 4 == 0) ? 4 : 2;
        n /= p[ns];
        m[ns] = n;
        ns++;
    }
    /* digit reversal: output slot sum k_s m_s reads input sum k_s (p_0 ... p_{s-1}) */
    for (o = 0; o < nc; o++) {
        int32_t rem = o, src = 0, stride = 1, s;
        for (s = 0; s < ns; s++) {
            int32_t d = rem / m[s];
            rem -= d * m[s];
            src += d * stride;
            stride *= p[s];
        }
        t[2 * o] = x[2 * src];
        t[2 * o + 1] = x[2 * src + 1];
    }
    for (k = ns - 1; k >= 0; k--) {
        int32_t fstride = 1;
        for (i = 0; i < k; i++) fstride *= p[i];
        for (b = 0; b < fstride; b++) {
            int16_t *blk = t + 2 * b * p[k] * m[k];
            if (p[k] == 2) kws_micro_bfly2(blk, m[k], fstride, tw);
            else kws_micro_bfly4(blk, m[k], fstride, tw);
        }
    }
    /* kiss_fftr: split the packed transform into the real input's spectrum */
    dr = kws_micro_fixdiv(t[0], 2);
    di = kws_micro_fixdiv(t[1], 2);
    out[0] = kws_micro_wrap16((int32_t)dr + di);
    out[1] = 0;
    out[2 * nc] = kws_micro_wrap16((int32_t)dr - di);
    out[2 * nc + 1] = 0;
    for (k = 1; k <= nc / 2; k++) {
        int16_t pr = kws_micro_fixdiv(t[2 * k], 2), pi = kws_micro_fixdiv(t[2 * k + 1], 2);
        int16_t qr = kws_micro_fixdiv(t[2 * (nc - k)], 2);
        int16_t qi = kws_micro_fixdiv(kws_micro_wrap16(-(int32_t)t[2 * (nc - k) + 1]), 2);
        int16_t f1r = kws_micro_wrap16((int32_t)pr + qr), f1i = kws_micro_wrap16((int32_t)pi + qi);
        int16_t f2r = kws_micro_wrap16((int32_t)pr - qr), f2i = kws_micro_wrap16((int32_t)pi - qi);
        int16_t twr, twi;
        kws_micro_cmul(f2r, f2i, stw[2 * (k - 1)], stw[2 * (k - 1) + 1], &twr, &twi);
        out[2 * k] = kws_micro_wrap16(kws_floor_shift((int64_t)f1r + twr, 1));
        out[2 * k + 1] = kws_micro_wrap16(kws_floor_shift((int64_t)f1i + twi, 1));
        out[2 * (nc - k)] = kws_micro_wrap16(kws_floor_shift((int64_t)f1r - twr, 1));
        out[2 * (nc - k) + 1] = kws_micro_wrap16(kws_floor_shift((int64_t)twi - f1i, 1));
    }
}
