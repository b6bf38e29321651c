/* kws_cast.c -- see kws_cast.h. Spec: docs/numerics.md section 7. */
#include "kws_cast.h"
#include "kws_storage.h"

/* y[i] = x[i] converted from storage type tin to storage type tout through its exact float32 value. */
KWS_ST_INLINE void cast_float(const void *x, int tin, void *y, int tout, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; i++)
        kws_stf(y, tout, i, kws_ldf(x, tin, i));
}

void kws_cast_f32_f16(const float *x, uint16_t *y, int32_t n) { cast_float(x, KWS_ST_F32, y, KWS_ST_F16, n); }
void kws_cast_f32_bf16(const float *x, uint16_t *y, int32_t n) { cast_float(x, KWS_ST_F32, y, KWS_ST_BF16, n); }
void kws_cast_f16_f32(const uint16_t *x, float *y, int32_t n) { cast_float(x, KWS_ST_F16, y, KWS_ST_F32, n); }
void kws_cast_bf16_f32(const uint16_t *x, float *y, int32_t n) { cast_float(x, KWS_ST_BF16, y, KWS_ST_F32, n); }
void kws_cast_f16_bf16(const uint16_t *x, uint16_t *y, int32_t n) { cast_float(x, KWS_ST_F16, y, KWS_ST_BF16, n); }
void kws_cast_bf16_f16(const uint16_t *x, uint16_t *y, int32_t n) { cast_float(x, KWS_ST_BF16, y, KWS_ST_F16, n); }
