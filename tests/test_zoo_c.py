"""Every zoo model (kwsnum.zoo) and the bundled default: generated C compiles warning-free (-Werror) and the
three-way gate agrees on 200 inputs: C == oracle bit for bit on the output, torch reference == oracle on every
tensor. Every model in its deployment precision (kwsnum.zoo: int8, or int8 + float16 for kws_attn), some in the
float formats too."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from kwsnum import default, load, zoo         # noqa: E402
from kwsnum.codegen import build, generate    # noqa: E402
from kwsnum.export import from_torch          # noqa: E402
from kwsnum.verify import Gate                # noqa: E402
from kwsnum.wav import read_wav               # noqa: E402
from tests import c_build                     # noqa: E402

N = 200
# each model in its deployment precision (int8; kws_attn mixed int8 / float16), and a few in float formats
CASES = [(name, "deploy") for name in zoo.ZOO] + [("ds_cnn_mlperf", "float32"), ("kws_mfcc", "float32"),
                                                  ("kws_mfcc", "float16"), ("kws_raw", "bfloat16")]


def _need_cc():
    if c_build.compiler() is None:
        pytest.skip("no C compiler found")


def _gate(model, x, tmp_path):
    project = generate(model, tmp_path / "c", name="zoo")
    build(project.path, werror=True)                       # warning-free
    with Gate(model, trace=False, c_dir=tmp_path / "gate") as gate:
        for i in range(0, len(x), 50):
            gate.add(x[i:i + 50])
        return gate.result()


@pytest.mark.parametrize("name, precision", CASES)
def test_zoo_model_c_is_bit_exact_on_200_inputs(name, precision, tmp_path):
    _need_cc()
    e = zoo.ZOO[name]
    module, calib, g = zoo.example(name, data_seed=7)
    model = from_torch(module, calib[:1], calib, precision=zoo.precision_of(name, precision), name=name)
    # in-distribution inputs plus a tail of larger ones (saturation paths)
    x = torch.randn((N,) + tuple(e.in_shape), generator=g) * torch.linspace(0.5, 3.0, N).reshape(
        (N,) + (1,) * len(e.in_shape))
    res = _gate(model, x.numpy().astype(np.float32), tmp_path)
    assert res.n == N
    for p in res.pairs:
        assert p.ok, f"{name} {precision}: {p.title()}: {p.n_agree}/{p.n}, first sample {p.first_sample}"
    assert len(np.unique(res.predicted)) > 1             # not a degenerate random model


def test_bundled_default_c_is_bit_exact_on_200_inputs(tmp_path):
    _need_cc()
    m = load(default.model_path())
    clips = [m.frontend.compute(read_wav(p)[0]) for p, _ in default.clips()]
    rng = np.random.default_rng(3)
    feats = np.stack(clips).astype(np.float32)
    # the bundled clips, then clips with noise added and gains applied in the (normalised) feature domain
    extra = feats[rng.integers(0, len(feats), N - len(feats))]
    extra = extra * rng.uniform(0.5, 1.5, (len(extra), 1, 1, 1)) + rng.normal(0, 0.5, extra.shape)
    x = np.concatenate([feats, extra.astype(np.float32)])
    res = _gate(m, x, tmp_path)
    assert res.n == N and res.ok, [(p.title(), p.n_agree) for p in res.pairs]
