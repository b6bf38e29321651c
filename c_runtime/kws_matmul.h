/* kws_matmul.h -- matmul: y = op(A) @ op(B) for one sample (docs/numerics.md section 4, "matmul").
 * A is stored (m, k), or (k, m) when transpose_a; B is stored (k, n), or (n, k) when transpose_b; y is (m, n),
 * row-major. float32: for each (i, j) acc = 0; acc += a[i][p] * b[p][j] for p = 0 .. k-1 (product rounded,
 * then sum: no FMA); y = clamp_f(acc, act_min, act_max). */
#ifndef KWS_MATMUL_H
#define KWS_MATMUL_H
#include <stdint.h>

void kws_matmul_f32(const float *a, const float *b, float *output, int32_t m, int32_t k, int32_t n,
                    int32_t transpose_a, int32_t transpose_b, float act_min, float act_max);

/** fp16 / bf16 storage (docs/numerics.md section 7): the float32 kernel on the exactly widened inputs
 * (uint16_t bit patterns), each output rounded once. Same arguments. */
void kws_matmul_f16(const uint16_t *a, const uint16_t *b, uint16_t *output, int32_t m, int32_t k, int32_t n,
                    int32_t transpose_a, int32_t transpose_b, float act_min, float act_max);
void kws_matmul_bf16(const uint16_t *a, const uint16_t *b, uint16_t *output, int32_t m, int32_t k, int32_t n,
                     int32_t transpose_a, int32_t transpose_b, float act_min, float act_max);
#endif
