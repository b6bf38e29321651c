/* kws_runtime.h -- the whole kwsnum C runtime (docs/numerics.md). One sample per call, no malloc. */
#ifndef KWS_RUNTIME_H
#define KWS_RUNTIME_H
#include "kws_fixedpoint.h"
#include "kws_conv.h"
#include "kws_linear.h"
#include "kws_pool.h"
#include "kws_global_avgpool.h"
#include "kws_relu.h"
#include "kws_add.h"
#include "kws_quantize.h"
#include "kws_requantize.h"
#include "kws_layernorm.h"
#include "kws_copy.h"
#include "kws_float16.h"
#include "kws_cast.h"
#include "kws_matmul.h"
#include "kws_div.h"
#include "kws_delay.h"
#endif
