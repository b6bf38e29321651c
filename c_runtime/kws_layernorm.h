/* kws_layernorm.h -- layernorm (docs/numerics.md section 4, "layernorm").
 * The sample is `groups` consecutive groups of `size` (= D) elements (row-major), each normalized
 * independently; gamma / beta are indexed by the element's position j in its group. No scratch memory. */
#ifndef KWS_LAYERNORM_H
#define KWS_LAYERNORM_H
#include <stdint.h>

/** int8 ("int8"): x = q - in_zp; mean_f = div_round_away(sum x * 256, D); c = 256 x - mean_f;
 * var_f = div_round_away(sum c*c, D); sd = isqrt((var_f + eps_q) * 65536);
 * z = sd ? div_round_away(c * 2**24, sd) : 0; acc = z * gamma_q[j] + beta_q[j];
 * y = clamp(shift_round_away(acc, 16 + gamma_shift) + out_zp, act_min, act_max). All int64. */
void kws_layernorm_s8(const int8_t *input, const int32_t *gamma, const int64_t *beta, int8_t *output,
                      int32_t groups, int32_t size, int32_t in_zp, int32_t out_zp, int64_t eps_q,
                      int32_t gamma_shift, int32_t act_min, int32_t act_max);

/** int16 layernorm (docs/numerics.md 9.4, "layernorm"; kwsnum's own): kws_layernorm_s8's algorithm with zero
 * points 0 and the mean's fractional bits F = 6 instead of 8: mean_f = div_round_away(sum x * 2**6, D),
 * c = x * 2**6 - mean_f; sd, z, acc, the final shift_round_away(acc, 16 + gamma_shift) and the clamp unchanged.
 * All int64 (D <= 2**19, checked at load). */
void kws_layernorm_s16(const int16_t *input, const int32_t *gamma, const int64_t *beta, int16_t *output,
                       int32_t groups, int32_t size, int64_t eps_q, int32_t gamma_shift, int32_t act_min,
                       int32_t act_max);

/** Q-format layernorm, q8 and q16 (docs/numerics.md 10.3, "layernorm"): q8 is kws_layernorm_s8's algorithm, q16
 * kws_layernorm_s16's (F = 6), with zero points 0 and the last line y = clamp(qcast(acc, 16 + gamma_shift,
 * qround, bits, qoverflow), act_min, act_max) (bits 8 / 16); gamma_q, beta_q, gamma_shift, eps_q from int8_params
 * with s_in = 2**-n_in, s_out = 2**-n_out (and f_bits = F). qround / qoverflow: section 8's codes. */
void kws_layernorm_q8(const int8_t *input, const int32_t *gamma, const int64_t *beta, int8_t *output,
                      int32_t groups, int32_t size, int64_t eps_q, int32_t gamma_shift, int32_t act_min,
                      int32_t act_max, int32_t qround, int32_t qoverflow);
void kws_layernorm_q16(const int16_t *input, const int32_t *gamma, const int64_t *beta, int16_t *output,
                       int32_t groups, int32_t size, int64_t eps_q, int32_t gamma_shift, int32_t act_min,
                       int32_t act_max, int32_t qround, int32_t qoverflow);

/** float32 ("float32"): s = sum x (j ascending); mean = s / (float)D; ss = sum (x - mean)**2 (j ascending);
 * var = ss / (float)D; rstd = 1.0f / sqrtf(var + eps); y = ((x - mean) * rstd) * gamma[j] + beta[j];
 * clamp_f. Each operation one float32 operation, no FMA. */
void kws_layernorm_f32(const float *input, const float *gamma, const float *beta, float *output,
                       int32_t groups, int32_t size, float eps, float act_min, float act_max);

/** fp16 / bf16 storage (docs/numerics.md section 7): the float32 kernel above on the exactly widened input, gamma and beta
 * (uint16_t bit patterns), each output rounded once (nearest even) to 16 bits. Same arguments. */
void kws_layernorm_f16(const uint16_t *input, const uint16_t *gamma, const uint16_t *beta, uint16_t *output,
                       int32_t groups, int32_t size, float eps, float act_min, float act_max);
void kws_layernorm_bf16(const uint16_t *input, const uint16_t *gamma, const uint16_t *beta, uint16_t *output,
                        int32_t groups, int32_t size, float eps, float act_min, float act_max);
#endif
