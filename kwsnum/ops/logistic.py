"""logistic: TFLite / TFLM LOGISTIC, elementwise, int8 (gemmlowp fixed point, reference_integer_ops::Logistic)
and int16 (TFLM's sigmoid table with interpolation).

int8 in, int8 out with zero point -128 (scale 1/256 by TFLite's convention); int16 in and out with zero point 0,
output scale 2**-15. The arithmetic and the parameter derivation are shared with tanh
(:mod:`kwsnum.ops.sigmoid`). Spec: docs/numerics.md 11.5.
"""
from .sigmoid import INPUT_INT_BITS, LOGISTIC, SigmoidFamily, int8_params, int16_arrays, int16_params  # noqa: F401


def logistic_params(s_in):
    """TFLM's int8 LOGISTIC Prepare (:func:`kwsnum.ops.sigmoid.int8_params`)."""
    return int8_params(s_in)


def logistic_params16(s_in):
    """TFLM's int16 LOGISTIC Prepare: (attributes, arrays) (:func:`kwsnum.ops.sigmoid.int16_params`)."""
    return int16_params(s_in, LOGISTIC), int16_arrays()


class Logistic(SigmoidFamily):
    name = "logistic"
    KIND = LOGISTIC
    OUT_ZP8 = -128
    C_NAME = "kws_logistic"


OPS = [Logistic()]
