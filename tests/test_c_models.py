"""Whole models in C == oracle on every tensor: DS-CNN (width 16, (1, 49, 10)), RawCNN (in_len 4000) and the
residual CNN (add path), exported from PyTorch in int8 (both rounding modes) and float32."""
import functools

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from kwsnum.export import from_torch                                 # noqa: E402
from kwsnum.models import DSCNN, RawCNN, ResBlockNet, randomize_     # noqa: E402
from tests.c_build import run_c, assert_same                         # noqa: E402

N_CALIB = 32
N_TEST = 4

CASES = {
    "dscnn": lambda: DSCNN(width=16, in_shape=(1, 49, 10)),
    "rawcnn": lambda: RawCNN(in_len=4000),
    "resnet": lambda: ResBlockNet(width=8, n_blocks=1),
}


def make(name, seed=0):
    torch.manual_seed(seed)
    m = CASES[name]()
    g = torch.Generator().manual_seed(1000 + seed)
    calib = torch.randn((N_CALIB,) + m.in_shape, generator=g)
    test = torch.randn((N_TEST,) + m.in_shape, generator=g)
    randomize_(m, seed, calib)
    return m, calib, test


@functools.lru_cache(maxsize=None)
def exported(name, precision, rounding):
    """(kwsnum model, float32 test batch), exported once per session (shared with test_c_sanitizers.py)."""
    module, calib, test = make(name)
    model = from_torch(module, calib[:1], calib, precision=precision, rounding=rounding)
    return model, test.numpy().astype(np.float32)


@pytest.mark.parametrize("precision, rounding", [("int8", "double"), ("int8", "single"), ("float32", "double")])
@pytest.mark.parametrize("name", list(CASES))
def test_c_whole_model_equals_oracle(name, precision, rounding):
    model, x = exported(name, precision, rounding)
    ref = model.run(x, trace=True)
    got = run_c(model, x)
    assert_same(got, ref)
    ops = {n.op for n in model.nodes}
    assert {"dscnn": {"conv2d", "global_avgpool", "linear"}, "rawcnn": {"avgpool1d", "conv1d", "layernorm",
            "maxpool1d", "global_avgpool"}, "resnet": {"add", "conv2d"}}[name] <= ops, ops
