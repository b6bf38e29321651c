/* kws_layernorm.c -- see kws_layernorm.h. Spec: docs/numerics.md section 4, 9.4 and 10.3, "layernorm".
 * The integer kernels only (no float, no libm); the float ones are in kws_layernorm_float.c. */
#include "kws_layernorm.h"
#include "kws_fixedpoint.h"
#include "kws_storage.h"

#define KWS_LN_F_BITS 8   /* fractional bits of the mean, 8-bit input (int8, q8) */
#define KWS_LN_F_BITS16 6 /* fractional bits of the mean, 16-bit input (int16, q16; docs/numerics.md 9.4) */
#define KWS_LN_Z_BITS 16  /* fractional bits of the normalized value */
#define KWS_LN_SD_BITS 8  /* extra fractional bits of the standard deviation */

/* The integer kernel, once, for the storage type it of input and output (KWS_ST_S8: int8 / q8, F = 8;
 * KWS_ST_S16: int16 / q16, F = 6, docs/numerics.md 9.4), affine (q == 0: section 4's last line,
 * shift_round_away + out_zp) or Q-format (q == 1, docs/numerics.md 10.3: in_zp = 0, last line
 * qcast(acc, 16 + gamma_shift, qround, bits, qoverflow)). |c| < 2**16 (8-bit) or 2**22 (16-bit, D <= 2**19). */
KWS_ST_INLINE void layernorm_int(const void *input, const int32_t *gamma, const int64_t *beta, void *output,
                                 int32_t groups, int32_t size, int32_t in_zp, int32_t out_zp, int64_t eps_q,
                                 int32_t gamma_shift, int32_t act_min, int32_t act_max, int32_t qround,
                                 int32_t qoverflow, int it, int q)
{
    const int64_t d = size;
    const int64_t one_f = (int64_t)1 << (it == KWS_ST_S8 ? KWS_LN_F_BITS : KWS_LN_F_BITS16);
    const int64_t zmul = (int64_t)1 << (KWS_LN_SD_BITS + KWS_LN_Z_BITS);
    const int oshift = KWS_LN_Z_BITS + (int)gamma_shift; /* <= 62 (checked at load) */
    int32_t g, j;
    for (g = 0; g < groups; g++) {
        const void *x = kws_cadv(input, it, (int64_t)g * size);
        void *y = kws_adv(output, it, (int64_t)g * size);
        int64_t s = 0, ss = 0, mean_f, var_f, v, sd;
        for (j = 0; j < size; j++)
            s += (int64_t)kws_ldi(x, it, j) - in_zp;
        mean_f = kws_div_round_away(s * one_f, d);
        for (j = 0; j < size; j++) {
            const int64_t c = ((int64_t)kws_ldi(x, it, j) - in_zp) * one_f - mean_f;
            ss += c * c;                                   /* < D * 2**32 <= 2**60 (16-bit: D * 2**44 < 2**63) */
        }
        var_f = kws_div_round_away(ss, d);
        v = var_f + eps_q;                                 /* < 2**41 (16-bit: < 2**43) */
        sd = (int64_t)kws_isqrt((uint64_t)(v * ((int64_t)1 << (2 * KWS_LN_SD_BITS))));
        for (j = 0; j < size; j++) {
            const int64_t c = ((int64_t)kws_ldi(x, it, j) - in_zp) * one_f - mean_f;
            const int64_t z = sd != 0 ? kws_div_round_away(c * zmul, sd) : 0;
            const int64_t acc = z * (int64_t)gamma[j] + beta[j]; /* bounded at load: < 2**63 */
            const int64_t out = q ? kws_qcast(acc, oshift, (int)qround, kws_st_bits(it), (int)qoverflow)
                                  : kws_shift_round_away(acc, oshift) + out_zp;
            kws_sti(y, it, j, kws_clamp(out, act_min, act_max));
        }
    }
}

void kws_layernorm_s8(const int8_t *input, const int32_t *gamma, const int64_t *beta, int8_t *output,
                      int32_t groups, int32_t size, int32_t in_zp, int32_t out_zp, int64_t eps_q,
                      int32_t gamma_shift, int32_t act_min, int32_t act_max)
{
    layernorm_int(input, gamma, beta, output, groups, size, in_zp, out_zp, eps_q, gamma_shift, act_min, act_max,
                  0, 0, KWS_ST_S8, 0);
}

void kws_layernorm_s16(const int16_t *input, const int32_t *gamma, const int64_t *beta, int16_t *output,
                       int32_t groups, int32_t size, int64_t eps_q, int32_t gamma_shift, int32_t act_min,
                       int32_t act_max)
{
    layernorm_int(input, gamma, beta, output, groups, size, 0, 0, eps_q, gamma_shift, act_min, act_max,
                  0, 0, KWS_ST_S16, 0);
}

void kws_layernorm_q8(const int8_t *input, const int32_t *gamma, const int64_t *beta, int8_t *output,
                      int32_t groups, int32_t size, int64_t eps_q, int32_t gamma_shift, int32_t act_min,
                      int32_t act_max, int32_t qround, int32_t qoverflow)
{
    layernorm_int(input, gamma, beta, output, groups, size, 0, 0, eps_q, gamma_shift, act_min, act_max,
                  qround, qoverflow, KWS_ST_S8, 1);
}

void kws_layernorm_q16(const int16_t *input, const int32_t *gamma, const int64_t *beta, int16_t *output,
                       int32_t groups, int32_t size, int64_t eps_q, int32_t gamma_shift, int32_t act_min,
                       int32_t act_max, int32_t qround, int32_t qoverflow)
{
    layernorm_int(input, gamma, beta, output, groups, size, 0, 0, eps_q, gamma_shift, act_min, act_max,
                  qround, qoverflow, KWS_ST_S16, 1);
}
