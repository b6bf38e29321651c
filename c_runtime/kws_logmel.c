/* kws_logmel.c -- see kws_logmel.h. The FFT is a mixed-radix decimation-in-time transform (the digit-reversed
 * copy, then one generic butterfly per stage, innermost first), complex, on the windowed real frame. */
#include <math.h>
#include <stddef.h>
#include "kws_logmel.h"

static void kws_logmel_fft(const kws_logmel_config *c, const float *in, float *out, float *tmp)
{
    const int32_t n = c->n_fft;
    int32_t o, s, b, u, q, k;
    for (o = 0; o < n; o++) {
        int32_t rem = o, src = 0, stride = 1;
        for (s = 0; s < c->n_stages; s++) {
            int32_t d = rem / c->factors[2 * s + 1];
            rem -= d * c->factors[2 * s + 1];
            src += d * stride;
            stride *= c->factors[2 * s];
        }
        out[2 * o] = in[src];
        out[2 * o + 1] = 0.0f;
    }
    for (s = c->n_stages - 1; s >= 0; s--) {
        const int32_t p = c->factors[2 * s], m = c->factors[2 * s + 1];
        int32_t fstride = 1;
        for (k = 0; k < s; k++) fstride *= c->factors[2 * k];
        for (b = 0; b < fstride; b++) {
            float *f = out + 2 * b * p * m;
            for (u = 0; u < m; u++) {
                int32_t q1;
                for (q = 0; q < p; q++) {
                    tmp[2 * q] = f[2 * (u + q * m)];
                    tmp[2 * q + 1] = f[2 * (u + q * m) + 1];
                }
                for (q1 = 0; q1 < p; q1++) {
                    const int32_t kk = u + q1 * m;
                    float re = tmp[0], im = tmp[1];
                    int32_t tw = 0;
                    for (q = 1; q < p; q++) {
                        float wr, wi;
                        tw += fstride * kk;
                        if (tw >= n) tw %= n;
                        wr = c->twiddles[2 * tw];
                        wi = c->twiddles[2 * tw + 1];
                        re += tmp[2 * q] * wr - tmp[2 * q + 1] * wi;
                        im += tmp[2 * q] * wi + tmp[2 * q + 1] * wr;
                    }
                    f[2 * kk] = re;
                    f[2 * kk + 1] = im;
                }
            }
        }
    }
}

void kws_logmel(const kws_logmel_config *c, const int16_t *pcm, float *scratch, float *out)
{
    const int32_t L = c->clip_samples, n = c->n_fft, pad = c->center ? n / 2 : 0;
    float *x = scratch;                         /* L + 2 pad <= L + n */
    float *frame = x + L + n;                   /* n */
    float *spec = frame + n;                    /* 2 n */
    float *tmp = spec + 2 * n;                  /* 2 * max radix <= 2 n */
    float *pw = tmp + 2 * n;                    /* n_freqs */
    float *mel = pw + c->n_freqs;               /* n_mels */
    int32_t i, t, k, m;
    for (i = 0; i < L; i++) x[pad + i] = (float)pcm[i] / 32768.0f;
    for (i = 0; i < pad; i++) {                 /* reflect, the edge sample not repeated */
        x[pad - 1 - i] = x[pad + 1 + i];
        x[pad + L + i] = x[pad + L - 2 - i];
    }
    for (t = 0; t < c->n_frames; t++) {
        for (i = 0; i < n; i++) frame[i] = x[t * c->hop_length + i] * c->window[i];
        kws_logmel_fft(c, frame, spec, tmp);
        for (k = 0; k < c->n_freqs; k++) {
            float p2 = spec[2 * k] * spec[2 * k] + spec[2 * k + 1] * spec[2 * k + 1];
            pw[k] = c->power == 2.0f ? p2 : (c->power == 1.0f ? sqrtf(p2) : powf(sqrtf(p2), c->power));
        }
        for (m = 0; m < c->n_mels; m++) {
            float acc = 0.0f;
            const float *w = c->mel_w + c->mel_offset[m];
            for (k = 0; k < c->mel_len[m]; k++) acc += pw[c->mel_start[m] + k] * w[k];
            mel[m] = logf(acc + c->log_offset);
        }
        for (k = 0; k < c->n_coeffs; k++) {
            float v = mel[k < c->n_mels ? k : 0];
            if (c->dct != NULL) {
                v = 0.0f;
                for (m = 0; m < c->n_mels; m++) v += c->dct[k * c->n_mels + m] * mel[m];
            }
            v = (v - c->mean) / c->std;
            if (c->time_major) out[t * c->n_coeffs + k] = v;
            else out[k * c->n_frames + t] = v;
        }
    }
}
