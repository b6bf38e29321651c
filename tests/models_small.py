"""Small hand-built models for the format and CLI tests (no torch needed), and random_module for the export
tests (torch imported when called)."""
import numpy as np

from kwsnum.builder import GraphBuilder


def tiny_int8_model(rounding="double"):
    """input int8 (2, 6, 5) -> conv2d 3x3 -> conv2d 1x1 to 3 channels; labels a, b, c."""
    rng = np.random.default_rng(0)
    b = GraphBuilder(name="tiny", rounding=rounding)
    x = b.input("input", (2, 6, 5), "int8", 0.05, -3)
    h = b.add("conv2d", "conv1", [x], dict(stride=(1, 1), padding=(1, 1, 1, 1), act_min=-10, act_max=127),
              dict(weight=rng.integers(-127, 128, (4, 2, 3, 3)).astype(np.int8),
                   bias=rng.integers(-500, 500, 4).astype(np.int32),
                   multiplier=np.full(4, 1 << 30, np.int32), shift=np.full(4, -6, np.int32)),
              scale=0.1, zero_point=-10)
    y = b.add("conv2d", "conv2", [h], dict(stride=(6, 5), act_min=-128, act_max=127),
              dict(weight=rng.integers(-127, 128, (3, 4, 6, 5)).astype(np.int8),
                   bias=np.zeros(3, np.int32), multiplier=np.full(3, 1 << 30, np.int32),
                   shift=np.full(3, -8, np.int32)),
              scale=0.2, zero_point=0)
    return b.build([y], labels=["a", "b", "c"], meta={"purpose": "test"})


def tiny_float_model():
    rng = np.random.default_rng(1)
    b = GraphBuilder(name="tinyf")
    x = b.input("input", (2, 9), "float32")
    y = b.add("conv1d", "conv", [x], dict(stride=(3,), padding=(1, 1), act_min_f=0.0),
              dict(weight=rng.standard_normal((3, 2, 3)).astype(np.float32),
                   bias=rng.standard_normal(3).astype(np.float32)))
    return b.build([y])


def random_module(factory, seed=0, data_seed=2000):
    """(module, calibration batch of 64, held-out batch of 64): ``factory()`` with trained-looking random
    parameters (kwsnum.models.randomize_) and standard normal inputs, all seeded."""
    import torch
    from kwsnum.models import randomize_
    torch.manual_seed(seed)
    m = factory()
    g = torch.Generator().manual_seed(data_seed + seed)
    calib = torch.randn((64,) + m.in_shape, generator=g)
    test = torch.randn((64,) + m.in_shape, generator=g)
    randomize_(m, seed, calib)
    return m, calib, test
