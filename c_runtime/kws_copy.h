/* kws_copy.h -- reshape / flatten (docs/numerics.md section 4, "reshape"): the same bytes, new shape. */
#ifndef KWS_COPY_H
#define KWS_COPY_H
#include <stdint.h>

/** y.flat[i] = x.flat[i] for nbytes bytes (a code generator may alias the buffers instead). */
void kws_copy(const void *input, void *output, int32_t nbytes);
#endif
