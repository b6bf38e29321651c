"""tanh: TFLite / TFLM TANH, elementwise, int8 (gemmlowp fixed point, reference_integer_ops::Tanh) and int16
(TFLM's sigmoid table, tanh(x) = 2 sigmoid(2x) - 1).

int8 in, int8 out with zero point 0 (scale 1/128 by TFLite's convention); int16 in and out with zero point 0,
output scale 2**-15. The arithmetic and the parameter derivation are LOGISTIC's (:mod:`kwsnum.ops.sigmoid`).
Spec: docs/numerics.md 11.9.
"""
from .sigmoid import INPUT_INT_BITS, TANH, SigmoidFamily, int8_params, int16_arrays, int16_params  # noqa: F401


def tanh_params(s_in):
    """TFLM's int8 TANH Prepare: LOGISTIC's (:func:`kwsnum.ops.sigmoid.int8_params`)."""
    return int8_params(s_in)


def tanh_params16(s_in):
    """TFLM's int16 TANH Prepare: (attributes, arrays); unlike LOGISTIC a power-of-two scale with shift 1 also
    takes the multiplier-0 path (:func:`kwsnum.ops.sigmoid.int16_params`)."""
    return int16_params(s_in, TANH), int16_arrays()


class Tanh(SigmoidFamily):
    name = "tanh"
    KIND = TANH
    OUT_ZP8 = 0
    C_NAME = "kws_tanh"


OPS = [Tanh()]
