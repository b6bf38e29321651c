/* kws_delay.h -- the delay line along time (docs/numerics.md section 11, "delay"): the one stateful kernel. */
#ifndef KWS_DELAY_H
#define KWS_DELAY_H
#include <stdint.h>

/** One step of a delay line over `rows` rows (every axis but time), on bytes (any format):
 *    y[r]     = state[r] (state_bytes) followed by x[r] (in_bytes)
 *    state[r] = the last state_bytes of y[r]
 *  state: rows * state_bytes, x: rows * in_bytes, y: rows * (state_bytes + in_bytes); y overlaps neither. */
void kws_delay(void *state, const void *x, void *y, int32_t rows, int32_t state_bytes, int32_t in_bytes);
#endif
