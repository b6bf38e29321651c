/* kws_matmul.c -- see kws_matmul.h. Spec: docs/numerics.md section 4, "matmul". */
#include "kws_matmul.h"
#include "kws_fixedpoint.h"
#include "kws_storage.h"

/* The float kernel, once, for every storage type st (kws_storage.h). */
KWS_ST_INLINE void matmul_float(const void *a, const void *b, void *output, int32_t m, int32_t k, int32_t n,
                                int32_t transpose_a, int32_t transpose_b, float act_min, float act_max, int st)
{
    int32_t i, j, p;
    for (i = 0; i < m; i++) {
        for (j = 0; j < n; j++) {
            float acc = 0.0f;
            for (p = 0; p < k; p++) {
                const float x = kws_ldf(a, st, transpose_a ? p * m + i : i * k + p);
                const float w = kws_ldf(b, st, transpose_b ? j * k + p : p * n + j);
                const float prod = x * w;
                acc = acc + prod;
            }
            kws_stf(output, st, i * n + j, kws_clamp_f32(acc, act_min, act_max));
        }
    }
}

void kws_matmul_f32(const float *a, const float *b, float *output, int32_t m, int32_t k, int32_t n,
                    int32_t transpose_a, int32_t transpose_b, float act_min, float act_max)
{
    matmul_float(a, b, output, m, k, n, transpose_a, transpose_b, act_min, act_max, KWS_ST_F32);
}

void kws_matmul_f16(const uint16_t *a, const uint16_t *b, uint16_t *output, int32_t m, int32_t k, int32_t n,
                    int32_t transpose_a, int32_t transpose_b, float act_min, float act_max)
{
    matmul_float(a, b, output, m, k, n, transpose_a, transpose_b, act_min, act_max, KWS_ST_F16);
}

void kws_matmul_bf16(const uint16_t *a, const uint16_t *b, uint16_t *output, int32_t m, int32_t k, int32_t n,
                     int32_t transpose_a, int32_t transpose_b, float act_min, float act_max)
{
    matmul_float(a, b, output, m, k, n, transpose_a, transpose_b, act_min, act_max, KWS_ST_BF16);
}
