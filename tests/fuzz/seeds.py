"""Seed models for the mutation fuzz campaign: one small model of every kind kwsnum writes, saved with
kwsnum.save, each with a valid input (.npy, and .wav for models with a frontend).

Built in-process (torch for the exported ones) and cached in a temporary folder keyed by a digest of the
kwsnum sources and this file, so a change to kwsnum.save (e.g. an integrity digest) rebuilds them.
"""
import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]


def _source_digest():
    h = hashlib.sha256()
    files = sorted((REPO / "kwsnum").rglob("*.py")) + [Path(__file__), REPO / "tests" / "models_small.py"]
    for p in files:
        if p.is_file():
            h.update(str(p.relative_to(REPO)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


def _clip(n, seed):
    rng = np.random.default_rng(seed)
    t = np.arange(n) / 16000.0
    x = 6000 * np.sin(2 * np.pi * (300 + 200 * seed) * t) + rng.standard_normal(n) * 1500
    return np.clip(x, -32768, 32767).astype(np.int16)


# ----------------------------------------------------------------------------- builders
def _builder_seeds():
    from kwsnum.builder import GraphBuilder
    from kwsnum.frontend import Frontend
    from tests.models_small import tiny_float_model, tiny_int8_model
    out = {"int8_conv2d": tiny_int8_model(), "float32_conv1d": tiny_float_model()}
    # raw frontend -> quantize -> conv1d -> relu -> global_avgpool -> reshape -> dequantize (labels, meta)
    rng = np.random.default_rng(0)
    b = GraphBuilder(name="rawtiny")
    x = b.input("audio", (1, 256), "float32")
    q = b.add("quantize", "quant", [x], format="int8", scale=1 / 128, zero_point=0)
    h = b.add("conv1d", "conv", [q], dict(stride=(8,), act_min=-128, act_max=127),
              dict(weight=rng.integers(-127, 128, (3, 1, 8)).astype(np.int8), bias=np.zeros(3, np.int32),
                   multiplier=np.full(3, 1 << 30, np.int32), shift=np.full(3, -3, np.int32)),
              scale=0.05, zero_point=0)
    h = b.add("relu", "relu", [h], dict(act_min=0, act_max=127), scale=0.05, zero_point=0)
    g = b.add("global_avgpool", "gap", [h], dict(multiplier=1 << 30, shift=0, act_min=-128, act_max=127),
              scale=0.05, zero_point=0)
    r = b.add("reshape", "flat", [g], dict(shape=(3,)), scale=0.05, zero_point=0)
    y = b.add("dequantize", "deq", [r], format="float32")
    out["raw_frontend_builder"] = b.build([y], labels=["lo", "mid", "hi"], frontend=Frontend.raw(clip_samples=256),
                                          meta={"source": "tests/fuzz", "note": "builder"})
    return out


def _torch_seeds():
    import torch
    from torch import nn
    from kwsnum.export import from_torch
    from kwsnum.frontend import Frontend
    from kwsnum.models import DSCNN, KwsAttention, RawCNN, ResBlockNet
    from tests.models_small import random_module
    torch.set_num_threads(1)
    labels12 = ["yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go", "_silence_", "_unknown_"]

    def exp(factory, precision, seed=0, frontend=None, labels=labels12, **kw):
        module, calib, _ = random_module(factory, seed, data_seed=4000)
        return from_torch(module, calib[:1], calib[:16], precision=precision, frontend=frontend, labels=labels,
                          **kw)

    def dscnn():
        return DSCNN(width=4, n_blocks=1, in_shape=(1, 49, 10))

    def resnet():
        return ResBlockNet(width=4, n_blocks=1, in_shape=(1, 16, 8), n_classes=4)

    def raw():
        return RawCNN(n_classes=4, in_len=512, channels=(4, 8), pool=8, block_pool=2)

    def logmel_net():
        class LogmelNet(nn.Module):
            def __init__(self):
                super().__init__()
                self.in_shape = (1, 16, 26)
                self.body = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                          nn.Conv2d(4, 4, 3, padding=1, groups=4), nn.ReLU(), nn.AvgPool2d(2),
                                          nn.Flatten(), nn.Linear(4 * 4 * 6, 3))

            def forward(self, x):
                return self.body(x)
        return LogmelNet()

    mfcc = Frontend.mfcc(clip_samples=16000)                                     # (1, 49, 10)
    logmel = Frontend.logmel(clip_samples=4000, n_mels=16)                        # (1, 16, 26)
    rawfe = Frontend.raw(clip_samples=512)
    lab3 = ["a", "b", "c"]
    lab4 = ["w", "x", "y", "z"]
    out = {
        "dscnn_int8_mfcc": exp(dscnn, "int8", frontend=mfcc),
        "dscnn_int16": exp(dscnn, "int16"),
        "dscnn_float32": exp(dscnn, "float32"),
        "dscnn_float16_mfcc": exp(dscnn, "float16", frontend=mfcc),
        "dscnn_bfloat16": exp(dscnn, "bfloat16"),
        "dscnn_q8_trn_wrap": exp(dscnn, "q8", qround="TRN", qoverflow="WRAP"),
        "resnet_q16_rnd_sat": exp(resnet, "q16", labels=lab4, qround="RND", qoverflow="SAT"),
        "dscnn_q32_conv_satsym": exp(dscnn, "q32", qround="RND_CONV", qoverflow="SAT_SYM", rounding="single"),
        "resnet_int8_add": exp(resnet, "int8", labels=lab4),
        "raw_ln_int8": exp(raw, "int8", frontend=rawfe, labels=lab4),
        "raw_ln_float16": exp(raw, "float16", labels=lab4),
        "raw_int8_ln_float16": exp(raw, dict(default="int8", ops=dict(layernorm="float16")), frontend=rawfe,
                                   labels=lab4),
        "raw_q32_ln_q16": exp(raw, dict(default="q32", ops=dict(layernorm="q16")), labels=lab4),
        "dscnn_int8_fc_q16": exp(dscnn, dict(default="int8", layers={"fc": "q16", "features.3": "q16"})),
        "dscnn_q16_fp16_block": exp(dscnn, dict(default="q16", layers={"features.3": "float16"})),
        "dscnn_q8_fc_q32": exp(dscnn, dict(default="q8", layers={"fc": "q32"})),
        "dscnn_int8_fc_float32": exp(dscnn, dict(default="int8", layers={"fc": "float32", "features.3": "float16"})),
        "logmel_int8_pools": exp(logmel_net, "int8", frontend=logmel, labels=lab3),
        "attention_mixed": exp(lambda: KwsAttention(n_classes=3, n_mfcc=8, channels=8, dim=4, frames=12),
                               KwsAttention.PRECISION, labels=lab3),
    }
    return out


def _write_input(model, folder, name):
    """x.npy: a batch of 2 valid samples for the model input (float32 or the stored integer dtype); x.wav (when
    the model has a frontend): one clip."""
    spec = model.input
    rng = np.random.default_rng(7)
    shape = (2,) + tuple(spec.shape)
    if spec.format == "float32":
        x = rng.standard_normal(shape).astype(np.float32)
    else:
        info = np.iinfo(spec.dtype)
        x = rng.integers(max(info.min, -100), min(info.max, 100), shape).astype(spec.dtype)
    np.save(folder / f"{name}.npy", x)
    files = {"npy": f"{name}.npy"}
    if model.frontend is not None:
        from kwsnum.wav import write_wav
        write_wav(folder / f"{name}.wav", _clip(model.frontend.clip_samples, 3), model.frontend.sample_rate)
        files["wav"] = f"{name}.wav"
    return files


def build_seeds(folder=None, torch_seeds=True):
    """{name: dict(model=path, inputs={"npy": path, ["wav": path]}, tensors=[...], has_frontend=bool)}.

    Cached under ``folder`` (default: $TMPDIR/kwsnum-fuzz-seeds-<digest of the sources>)."""
    import kwsnum
    digest = _source_digest() + ("" if torch_seeds else "-notorch")
    folder = Path(folder or Path(tempfile.gettempdir()) / f"kwsnum-fuzz-seeds-{digest}")
    index = folder / "index.json"
    if index.exists():
        return json.loads(index.read_text())
    tmp = Path(tempfile.mkdtemp(prefix=".building-", dir=folder.parent if folder.parent.exists() else None))
    models = _builder_seeds()
    if torch_seeds:
        try:
            import torch  # noqa: F401
            models.update(_torch_seeds())
        except ImportError:
            pass
    seeds = {}
    for name, m in models.items():
        kwsnum.save(m, tmp / f"{name}.h5")
        files = _write_input(m, tmp, name)
        seeds[name] = dict(model=f"{name}.h5", inputs=files, has_frontend=m.frontend is not None,
                           frontend_kind=m.frontend.kind if m.frontend is not None else None,
                           input_shape=list(m.input.shape), input_format=m.input.format)
    (tmp / "index.json").write_text(json.dumps(seeds, indent=1))
    try:
        os.replace(tmp, folder)
    except OSError:           # another process built it meanwhile
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)
    out = json.loads(index.read_text())
    return out


def seed_paths(seeds, folder):
    """Absolute paths for an index returned by build_seeds."""
    folder = Path(folder)
    return {k: dict(v, model=str(folder / v["model"]), inputs={kk: str(folder / vv) for kk, vv in v["inputs"].items()})
            for k, v in seeds.items()}
