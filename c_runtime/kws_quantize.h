/* kws_quantize.h -- quantize / dequantize (docs/numerics.md section 4, "quantize, dequantize"). */
#ifndef KWS_QUANTIZE_H
#define KWS_QUANTIZE_H
#include <stdint.h>

/** quantize (float32 -> int8, the OUTPUT tensor's scale, zp): v = x / scale (one float32 division);
 * NaN -> zp; else q = clamp(roundf(v) + zp, -128, 127) (float32 comparisons and int32 arithmetic: no double). */
void kws_quantize_f32_s8(const float *input, int8_t *output, int32_t size, float scale, int32_t zp);

/** quantize from fp16 / bf16 storage (uint16_t bit patterns, docs/numerics.md section 7): x widened exactly to
 * float32, then kws_quantize_f32_s8's arithmetic. Same arguments. */
void kws_quantize_f16_s8(const uint16_t *input, int8_t *output, int32_t size, float scale, int32_t zp);
void kws_quantize_bf16_s8(const uint16_t *input, int8_t *output, int32_t size, float scale, int32_t zp);

/** dequantize (int8 -> float32, the INPUT tensor's scale, zp): y = (float)(q - zp) * scale (one float32
 * multiplication). */
void kws_dequantize_s8_f32(const int8_t *input, float *output, int32_t size, float scale, int32_t zp);

/** dequantize to fp16 / bf16 storage: kws_dequantize_s8_f32's float32 value, rounded once (nearest even) to
 * 16 bits. Same arguments. */
void kws_dequantize_s8_f16(const int8_t *input, uint16_t *output, int32_t size, float scale, int32_t zp);
void kws_dequantize_s8_bf16(const int8_t *input, uint16_t *output, int32_t size, float scale, int32_t zp);

/** dequantize of uint8 (edge storage, docs/numerics.md sections 2 and 4; zp in [0, 255]): the int8 formula,
 * y = (float)(q - zp) * scale, to float32 or rounded once to fp16 / bf16. */
void kws_dequantize_u8_f32(const uint8_t *input, float *output, int32_t size, float scale, int32_t zp);
void kws_dequantize_u8_f16(const uint8_t *input, uint16_t *output, int32_t size, float scale, int32_t zp);
void kws_dequantize_u8_bf16(const uint8_t *input, uint16_t *output, int32_t size, float scale, int32_t zp);

/** int16 (TFLite 16x8, docs/numerics.md 9.4; zero point 0): quantize q = clamp(roundf(x / scale), -32768, 32767)
 * (NaN -> 0), from float32 or fp16 / bf16 storage (widened exactly); dequantize
 * y = (float)q * scale (one float32 multiplication), to float32 or rounded once to fp16 / bf16. */
void kws_quantize_f32_s16(const float *input, int16_t *output, int32_t size, float scale);
void kws_quantize_f16_s16(const uint16_t *input, int16_t *output, int32_t size, float scale);
void kws_quantize_bf16_s16(const uint16_t *input, int16_t *output, int32_t size, float scale);
void kws_dequantize_s16_f32(const int16_t *input, float *output, int32_t size, float scale);
void kws_dequantize_s16_f16(const int16_t *input, uint16_t *output, int32_t size, float scale);
void kws_dequantize_s16_bf16(const int16_t *input, uint16_t *output, int32_t size, float scale);

/** Q-format quantize (docs/numerics.md 10.3, "quantize"): float32 (or fp16 / bf16 storage, widened exactly) ->
 * q8 / q16 / q32 (int8_t / int16_t / int32_t) with the output's frac_bits n in [-32, 62]: t = x * 2**n (one float32
 * multiplication); NaN -> 0; else round_float(t, qround) clamped to [-2**62, 2**62], to int64, then
 * overflow(v, bits, qoverflow) (kws_quantize_q). qround / qoverflow: section 8's codes. */
void kws_quantize_f32_q8(const float *input, int8_t *output, int32_t size, int32_t frac_bits, int32_t qround,
                         int32_t qoverflow);
void kws_quantize_f32_q16(const float *input, int16_t *output, int32_t size, int32_t frac_bits, int32_t qround,
                          int32_t qoverflow);
void kws_quantize_f32_q32(const float *input, int32_t *output, int32_t size, int32_t frac_bits, int32_t qround,
                          int32_t qoverflow);
void kws_quantize_f16_q8(const uint16_t *input, int8_t *output, int32_t size, int32_t frac_bits, int32_t qround,
                         int32_t qoverflow);
void kws_quantize_f16_q16(const uint16_t *input, int16_t *output, int32_t size, int32_t frac_bits, int32_t qround,
                          int32_t qoverflow);
void kws_quantize_f16_q32(const uint16_t *input, int32_t *output, int32_t size, int32_t frac_bits, int32_t qround,
                          int32_t qoverflow);
void kws_quantize_bf16_q8(const uint16_t *input, int8_t *output, int32_t size, int32_t frac_bits, int32_t qround,
                          int32_t qoverflow);
void kws_quantize_bf16_q16(const uint16_t *input, int16_t *output, int32_t size, int32_t frac_bits, int32_t qround,
                           int32_t qoverflow);
void kws_quantize_bf16_q32(const uint16_t *input, int32_t *output, int32_t size, int32_t frac_bits, int32_t qround,
                           int32_t qoverflow);

/** Q-format dequantize (docs/numerics.md 10.3, "dequantize"): y = (float)q * 2**-n (the int -> float32 conversion
 * rounds to nearest even for |q| > 2**24, q32 only; then one float32 multiplication), n = the input's frac_bits;
 * fp16 / bf16 outputs: that value rounded once (nearest even). */
void kws_dequantize_q8_f32(const int8_t *input, float *output, int32_t size, int32_t frac_bits);
void kws_dequantize_q8_f16(const int8_t *input, uint16_t *output, int32_t size, int32_t frac_bits);
void kws_dequantize_q8_bf16(const int8_t *input, uint16_t *output, int32_t size, int32_t frac_bits);
void kws_dequantize_q16_f32(const int16_t *input, float *output, int32_t size, int32_t frac_bits);
void kws_dequantize_q16_f16(const int16_t *input, uint16_t *output, int32_t size, int32_t frac_bits);
void kws_dequantize_q16_bf16(const int16_t *input, uint16_t *output, int32_t size, int32_t frac_bits);
void kws_dequantize_q32_f32(const int32_t *input, float *output, int32_t size, int32_t frac_bits);
void kws_dequantize_q32_f16(const int32_t *input, uint16_t *output, int32_t size, int32_t frac_bits);
void kws_dequantize_q32_bf16(const int32_t *input, uint16_t *output, int32_t size, int32_t frac_bits);

/** int16 PCM -> int8, integer only (the generated <name>_invoke_pcm of a raw-waveform model): output[i] =
 * q_lo + #{k : pcm[i] > thresholds[k]} over 255 thresholds (thresholds[0..254] sorted; thresholds[255] unused;
 * unused entries 32767). The generator computes q_lo and the table from the model's input quantize of pcm / 32768
 * on every int16 value, so this equals kws_quantize_f32_s8(pcm / 32768.0f) exactly; q_lo + k is in [-128, 127]. */
void kws_quantize_pcm_s8(const int16_t *pcm, int8_t *output, int32_t size, const int16_t *thresholds, int32_t q_lo);
#endif
