"""The model zoo by name: each entry a :mod:`kwsnum.models` class, its constructor arguments and the frontend
its input comes from (this module needs torch only when a model is built).

    from kwsnum import zoo
    module = zoo.build("ds_cnn_mlperf")          # a torch module, untrained
    zoo.ZOO["ds_cnn_mlperf"].in_shape            # (1, 49, 10)

The bench scripts and the zoo tests iterate over ``ZOO``; training (``python -m kwsnum.train``) builds the same
classes from its own flags.
"""
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Entry:
    cls: str                  # class name in kwsnum.models
    args: dict = field(default_factory=dict)
    in_shape: tuple = ()
    frontend: str = ""        # the frontend kind the input comes from (kwsnum.frontend)
    title: str = ""
    precision: object = "int8"   # the deployment precision config (from_torch(..., precision=...))


ZOO = {
    "ds_cnn": Entry("DSCNN", dict(width=160, in_shape=(1, 64, 101)), (1, 64, 101), "logmel",
                    "DS-CNN, tiny-kws size (W=160, n=4) on 64 log-mel x 101 frames"),
    "ds_cnn_mlperf": Entry("DSCNN", dict(width=64, in_shape=(1, 49, 10), variant="mlperf"), (1, 49, 10),
                           "mlperf_mfcc", "DS-CNN, MLPerf Tiny KWS (W=64, n=4, no stride in the blocks) on 49x10 MFCC"),
    "ds_cnn_w64": Entry("DSCNN", dict(width=64, in_shape=(1, 64, 101)), (1, 64, 101), "logmel",
                        "DS-CNN W=64 on log-mel (the bundled default's architecture)"),
    "kws_raw": Entry("RawCNN", dict(in_len=16000), (1, 16000), "raw",
                     "raw-waveform 1-D CNN with LayerNorm over [C, L] on 16000 samples"),
    "kws_raw_front": Entry("RawCNN", dict(in_len=16000, channels=(64, 64, 64, 64), pool=1, kernel_size=3,
                                          block_pool=(1, 2, 2, 2), dropout=0.2,
                                          front=dict(channels=64, kernel=400, stride=160, pool=1)),
                           (1, 16000), "raw",
                           "raw-waveform 1-D CNN, learned Conv1d(1, 64, 400, stride 160) front end + 4 k3 blocks, "
                           "LayerNorm over [C, L] (kwsnum.train's default kws_raw)"),
    "kws_mfcc": Entry("KwsMfcc", dict(n_mfcc=40), (40, 101), "mfcc", "1-D CNN on 40 MFCC x 101 frames"),
    "kws_attn": Entry("KwsAttention", dict(n_mfcc=40), (40, 101), "mfcc",
                      "int8 conv frontend + float16 linear attention + int8 classifier on 40 MFCC x 101 frames",
                      {"default": "int8", "layers": {"attn": "float16"}}),
    "kws_tcn": Entry("TemporalConvNet", dict(n_mels=40), (40, 98), "logmel",
                     "streaming temporal conv net (microWakeWord style): strided Conv1d(40, 32, 5, stride 3), "
                     "3 depthwise k5 (dilation 1, 2, 4) + pointwise blocks, Linear over the last 4 frames; "
                     "step 3 frames (kwsnum.streaming)"),
}


def build(name, n_classes=12, **overrides):
    """A fresh (untrained) torch module of zoo entry ``name``."""
    from . import models
    if name not in ZOO:
        raise KeyError(f"unknown zoo model {name!r}; choose one of {', '.join(ZOO)}")
    e = ZOO[name]
    return getattr(models, e.cls)(n_classes=n_classes, **dict(e.args, **overrides))


def example(name, seed=0, n_calib=64, data_seed=1):
    """(module, calibration batch, torch.Generator): zoo model ``name`` with trained-looking random parameters
    (``models.randomize_`` on the batch: BN statistics measured, classifier centred) and a standard-normal
    batch of its input shape; the generator continues the data stream for more inputs. For tests and benches
    where the values do not matter but realistic ranges do."""
    import torch
    from .models import randomize_
    e = ZOO[name]
    torch.manual_seed(seed)
    module = build(name)
    g = torch.Generator().manual_seed(data_seed)
    calib = torch.randn((n_calib,) + tuple(e.in_shape), generator=g)
    randomize_(module, seed, calib)
    return module, calib, g


def precision_of(name, precision="deploy"):
    """The precision config to export zoo model ``name`` with: "deploy" is the entry's deployment precision."""
    return ZOO[name].precision if precision == "deploy" else precision


__all__ = ["ZOO", "Entry", "build", "example", "precision_of"]
