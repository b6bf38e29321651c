"""TFLM's int16 lookup tables and the float32 computations that build them (docs/numerics.md 11.4, 11.5).

Import / export only (kwsnum run never rebuilds a table: the tables are stored in the model file):

- :func:`lut_populate_int16` is TFLM's ``LUTPopulateInt16<float>`` (tensorflow/lite/kernels/internal/common.h):
  513 int16 entries, every step in float32 as TFLM's float instantiation computes it, the transform through the
  C library's float32 function (``expf``) as TFLM calls ``std::exp(float)``;
- :func:`checked_log2` is TFLM's ``CheckedLog2`` (float32 ``logf``, round half away, |frac| < 1e-3);
- :data:`SIGMOID_TABLE` is TFLM's constant ``sigmoid_table_uint16`` (sigmoid(i/24) in 0.16, 256 entries: not a
  formula's rounding, TFLM ships the numbers), which int16 LOGISTIC and TANH interpolate.

:func:`kwsnum.fixedpoint.lut_lookup16` (numba) is TFLM's ``LUTLookup(int16_t, const int16_t*)``, the oracle's one copy.
"""
import ctypes
import ctypes.util

import numpy as np

from ..quant import round_half_away

LUT16_SIZE = 513

SIGMOID_TABLE = np.array([
    32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149, 40794, 41432, 42064, 42688,
    43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369, 47911, 48443, 48964, 49475, 49975, 50464, 50942, 51409,
    51865, 52311, 52745, 53169, 53581, 53983, 54374, 54755, 55125, 55485, 55834, 56174, 56503, 56823, 57133, 57433,
    57724, 58007, 58280, 58544, 58800, 59048, 59288, 59519, 59743, 59959, 60168, 60370, 60565, 60753, 60935, 61110,
    61279, 61441, 61599, 61750, 61896, 62036, 62172, 62302, 62428, 62549, 62666, 62778, 62886, 62990, 63090, 63186,
    63279, 63368, 63454, 63536, 63615, 63691, 63765, 63835, 63903, 63968, 64030, 64090, 64148, 64204, 64257, 64308,
    64357, 64405, 64450, 64494, 64536, 64576, 64614, 64652, 64687, 64721, 64754, 64786, 64816, 64845, 64873, 64900,
    64926, 64950, 64974, 64997, 65019, 65039, 65060, 65079, 65097, 65115, 65132, 65149, 65164, 65179, 65194, 65208,
    65221, 65234, 65246, 65258, 65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360, 65367,
    65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425, 65429, 65433, 65438, 65442, 65445, 65449,
    65453, 65456, 65459, 65462, 65465, 65468, 65471, 65474, 65476, 65479, 65481, 65483, 65485, 65488, 65489, 65491,
    65493, 65495, 65497, 65498, 65500, 65501, 65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513,
    65514, 65515, 65516, 65517, 65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522, 65523, 65523, 65524, 65524,
    65525, 65525, 65526, 65526, 65526, 65527, 65527, 65528, 65528, 65528, 65529, 65529, 65529, 65529, 65530, 65530,
    65530, 65530, 65531, 65531, 65531, 65531, 65531, 65532, 65532, 65532, 65532, 65532, 65532, 65533, 65533, 65533,
    65533, 65533, 65533, 65533, 65533, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65535,], dtype=np.uint16)


def _libm_f32(name, numpy_fallback):
    try:
        lib = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
        f = getattr(lib, name)
    except (OSError, AttributeError):      # no C library to ask: numpy's float32 function
        return lambda v: np.float32(numpy_fallback(np.float32(v)))
    f.restype, f.argtypes = ctypes.c_float, [ctypes.c_float]
    return lambda v: np.float32(f(float(np.float32(v))))


expf = _libm_f32("expf", np.exp)
logf = _libm_f32("logf", np.log)


def round_f32(v):
    """TfLiteRound on a float32: round half away from zero (:func:`kwsnum.quant.round_half_away`, exact for every
    float32), the result a float32."""
    return np.float32(round_half_away(np.float32(v)))


def checked_log2(x):
    """TFLM CheckedLog2(float x): (round(log(x) * (1 / log(2))), |fractional part| < 1e-3), in float32."""
    f = np.float32
    x_log2 = f(logf(f(x)) * f(f(1.0) / logf(f(2.0))))
    r = round_f32(x_log2)
    return int(r), bool(abs(f(x_log2 - r)) < f(1e-3))


def lut_populate_int16(transform, input_scale, input_zp, output_scale, output_zp):
    """TFLM LUTPopulateInt16<float>: 512 steps over the int16 input range, each entry the sample minus half the
    midpoint's interpolation error, plus the end point; ``transform`` maps a float32 to a float32."""
    f = np.float32
    input_scale, output_scale = f(input_scale), f(output_scale)
    input_min = f(input_scale * f(-32768 - input_zp))
    input_max = f(input_scale * f(32767 - input_zp))
    output_min = f(output_scale * f(-32768 - output_zp))
    output_max = f(output_scale * f(32767 - output_zp))
    nb_steps = 512
    step = f(f(input_max - input_min) / f(nb_steps))
    half_step = f(step / f(2))
    inv = f(f(65536) / f(output_max - output_min))
    lut = np.empty(LUT16_SIZE, dtype=np.int16)
    for i in range(nb_steps):
        at = f(input_min + f(f(i) * step))
        val = transform(at)
        val_mid = transform(f(at + half_step))
        val_next = transform(f(input_min + f(f(i + 1) * step)))
        sample = round_f32(f(val * inv))
        mid_interp = round_f32(f(f(f(val_next * inv) + round_f32(f(val * inv))) / f(2)))
        mid = round_f32(f(val_mid * inv))
        bias = round_f32(f(f(mid_interp - mid) / f(2)))
        lut[i] = int(min(max(f(sample - bias), f(-32768)), f(32767)))
    lut[nb_steps] = int(min(max(round_f32(f(transform(input_max) * inv)), f(-32768)), f(32767)))
    return lut


def softmax_luts():
    """TFLM's int16 SOFTMAX tables (InitializeLutForInt16): exp on [-10, 0] and 1 / (1 + x) on [0, 1], both with
    output scale 2 / 65535 (zero point 0)."""
    f = np.float32
    rng = f(65535)
    exp_lut = lut_populate_int16(expf, f(f(10.0) / rng), 32767, f(f(2.0) / rng), 0)
    recip_lut = lut_populate_int16(lambda v: f(f(1.0) / f(f(1.0) + f(v))), f(f(1.0) / rng), -32768,
                                   f(f(2.0) / rng), 0)
    return exp_lut, recip_lut

