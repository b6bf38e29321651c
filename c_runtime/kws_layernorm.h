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
