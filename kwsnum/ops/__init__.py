"""The op registry: one line per op. Each op lives in its own module (``kwsnum/ops/<op>.py``)."""
from ..errors import ModelError

_REGISTRY = {}


def register(op):
    _REGISTRY[op.name] = op
    return op


def get(name, node=None):
    _load()
    if name not in _REGISTRY:
        msg = f"unknown op {name!r} (known: {', '.join(sorted(_REGISTRY))})"
        raise node.error(msg) if node is not None else ModelError(msg)
    return _REGISTRY[name]


def names():
    _load()
    return sorted(_REGISTRY)


_loaded = False


def _load():
    global _loaded
    if _loaded:
        return
    # The registry: one line per op module.
    from . import conv            # conv1d, conv2d (incl. depthwise / grouped)
    from . import linear          # linear
    from . import pool            # avgpool1d/2d, maxpool1d/2d
    from . import global_avgpool  # global_avgpool
    from . import relu            # relu, relu6 (standalone clamps)
    from . import reshape         # reshape (flatten)
    from . import add             # add
    from . import quantize        # quantize (float32 -> int8), dequantize (int8 -> float32)
    from . import layernorm       # layernorm over the last k dims
    from . import cast            # cast between float32, float16, bfloat16
    from . import matmul          # matmul of two activations (attention)
    from . import div             # elementwise a / (b + eps), b broadcast (attention normaliser)
    from . import requantize      # requantize between int8, int16 and Q formats (TFLite QUANTIZE, integer to integer)
    from . import qcast           # qcast between Q formats (docs/numerics.md 10.3)
    from . import softmax         # softmax: TFLM's int8 SOFTMAX (docs/numerics.md 11.4)
    from . import logistic        # logistic: TFLM's int8 LOGISTIC (docs/numerics.md 11.5)
    from . import concat          # concat along an axis (TFLite CONCATENATION, torch.cat; numerics 11.6)
    from . import pad             # constant padding (TFLite PAD / PADV2; numerics 11.7)
    from . import slice           # strided window (TFLite STRIDED_SLICE; numerics 11.8)
    from . import tanh            # tanh: TFLM's int8 TANH (numerics 11.9)
    from . import transpose       # axes permuted (TFLite TRANSPOSE; NHWC <-> NCHW around reshapes; 11.10)
    from . import mul             # elementwise int8 product with broadcasting (TFLite MUL; 11.11)
    from . import delay           # delay line along time: the stateful op (docs/numerics.md 12, kwsnum/streaming.py)
    for mod in (conv, linear, pool, global_avgpool, relu, reshape, add, quantize, layernorm, cast, requantize, matmul, div,
                qcast, softmax, logistic, concat, pad, slice, tanh, transpose, mul, delay):
        for op in mod.OPS:
            register(op)
    _loaded = True
