"""Train a zoo KWS model on a Speech Commands-style folder on CPU, export it, evaluate it honestly.

``python -m kwsnum.train DATA_DIR --model ds_cnn --out OUT_DIR`` (see docs/training.md).

Pipeline: load train / validation / test (balance_unknown=True) -> features once with the numpy
frontend (float32, in memory) -> normalisation fitted on the training clips -> Adam + cosine LR with a
feature-level random time shift -> best-validation checkpoint -> float .pt, int8 and float32 .h5
(frontend and labels inside) -> test: float torch, float32 .h5 oracle, int8 .h5 oracle accuracy,
per-class precision/recall/F1, confusion matrices, predicted-class distribution -> report.json / report.md.

A model whose test predictions cover fewer than half of the classes (or one class) is DEGENERATE:
the report says so and main() returns 3.
"""
import argparse
import copy
import json
import os
import platform
import sys
import time

import numpy as np

from .data import LABELS, load_arrays, load_split
from .frontend import Frontend, fit_normalisation

MODELS = ("ds_cnn", "kws_raw", "kws_mfcc", "kws_attn")
DEFAULT_FRONTEND = {"ds_cnn": "logmel", "kws_raw": "raw", "kws_mfcc": "mfcc", "kws_attn": "mfcc"}
DEFAULT_WIDTH = {"ds_cnn": 64, "kws_raw": 64, "kws_mfcc": 64, "kws_attn": 64}
DEFAULT_LR = {"ds_cnn": 3e-3, "kws_raw": 5e-3, "kws_mfcc": 3e-3, "kws_attn": 3e-3}
# the deployment export besides float32: (name, precision config); kws_attn is int8 with a float16 attention
DEPLOY = {"kws_attn": ("mixed", {"default": "int8", "layers": {"attn": "float16"}})}
# kws_raw (RawCNN) architectures. "issue": the architecture of the issue (RawCNN's defaults): AvgPool1d(16),
# 3 blocks of k3 convs, channels (W/4, W/2, W). "wide": AvgPool1d(8) (2 kHz), 4 blocks of k9 convs, channels
# (W/4, W/2, W, W). "front" (the training default): a learned filterbank-like front end instead of the AvgPool1d,
# Conv1d(1, W, 400, stride 160, padding 120) (25 ms windows, 10 ms hop, 100 frames) -> LayerNorm([W, 100]) -> ReLU,
# then 4 blocks of k3 convs with W channels (MaxPool1d(2) after blocks 2-4: 100 -> 50 -> 25 -> 12 frames) and a
# Dropout(0.2) before the Linear. "channels" are multiples of --width W, and so is a front's "channels".
# See docs/training.md ("kws_raw") for the measurements.
RAW_ARCHS = {"issue": dict(pool=16, kernel_size=3, block_pool=4, channels=(0.25, 0.5, 1)),
             "wide": dict(pool=8, kernel_size=9, block_pool=4, channels=(0.25, 0.5, 1, 1)),
             "front": dict(pool=1, kernel_size=3, block_pool=(1, 2, 2, 2), channels=(1, 1, 1, 1),
                           front=dict(channels=1, kernel=400, stride=160, pool=1), dropout=0.2)}
DEFAULT_RAW_ARCH = "front"
# training recipe defaults per model (absent: 0). kws_raw: background-noise mixing, label smoothing and speed
# perturbation of the waveform (measured with the "front" architecture in docs/training.md: 20-minute runs on one
# core, seed 0: validation / test accuracy 92.4 % / 89.8 % without and 95.8 % / 95.1 % with the speed
# perturbation; seed 1 with it: 90.8 % / 88.6 %)
DEFAULT_NOISE_PROB = {"kws_raw": 0.5}
DEFAULT_LABEL_SMOOTHING = {"kws_raw": 0.1}
DEFAULT_SPEED_PERTURB = {"kws_raw": 0.1}
MAX_SHIFT_S = 0.1          # feature-level time shift: up to +-100 ms
CALIB_SAMPLES = 200
EXIT_DEGENERATE = 3
EXIT_ERROR = 2


# ------------------------------------------------------------------------------------------ setup
def make_frontend(model_name, kind):
    """The frontend (unnormalised) for a model / frontend kind pair; raises ValueError if they do not fit."""
    if model_name == "kws_raw":
        if kind != "raw":
            raise ValueError(f"kws_raw takes the raw waveform (--frontend raw), not {kind!r}")
        return Frontend.raw()
    if model_name == "ds_cnn":
        if kind == "logmel":
            return Frontend.logmel()                 # (1, 64, 101)
        if kind == "mfcc":
            return Frontend.mlperf_mfcc()            # (1, 49, 10)
        if kind == "micro":
            from .micro import MicroFrontend
            return MicroFrontend.microwakeword()     # (1, 98, 40): TFLM's microfrontend, uint16 * 10/256
        raise ValueError(f"ds_cnn takes logmel, mfcc or micro features, not {kind!r}")
    if model_name in ("kws_mfcc", "kws_attn"):
        if kind != "mfcc":
            raise ValueError(f"{model_name} takes mfcc features (--frontend mfcc), not {kind!r}")
        return Frontend.mfcc(n_mels=40, n_mfcc=40, hop_length=160, center=True, layout="coeff_major",
                             channel_axis=False)     # (40, 101)
    raise ValueError(f"unknown model {model_name!r}; choose one of {', '.join(MODELS)}")


def model_args(model_name, width, in_shape, n_classes, raw_arch=DEFAULT_RAW_ARCH):
    """Constructor keyword arguments of the zoo model (stored in the .pt checkpoint)."""
    w = int(width)
    if model_name == "ds_cnn":
        return dict(n_classes=n_classes, width=w, in_shape=tuple(in_shape))
    if model_name == "kws_raw":
        arch = dict(RAW_ARCHS[raw_arch])
        args = dict(n_classes=n_classes, channels=tuple(max(1, int(w * f)) for f in arch.pop("channels")),
                    in_len=in_shape[-1])
        if arch.get("front"):
            front = dict(arch.pop("front"))
            front["channels"] = max(1, int(w * front["channels"]))
            args["front"] = front
        args.update(arch)
        return args
    if model_name == "kws_mfcc":
        return dict(n_classes=n_classes, n_mfcc=in_shape[0], channels=(max(1, w // 2), w))
    if model_name == "kws_attn":
        return dict(n_classes=n_classes, n_mfcc=in_shape[0], channels=w, dim=16, frames=in_shape[1])
    raise ValueError(model_name)


def build_model(model_name, args):
    from .models import DSCNN, KwsAttention, KwsMfcc, RawCNN
    cls = {"ds_cnn": DSCNN, "kws_raw": RawCNN, "kws_mfcc": KwsMfcc, "kws_attn": KwsAttention}[model_name]
    return cls(**args)


def init_for_training(model_name, net):
    """Initialisation before training. kws_raw: conv biases start at zero (PyTorch's default uniform bias is
    ~0.5 while the waveform after AvgPool1d is ~0.01, so the LayerNorm over [C, L] would mostly see the
    per-channel bias offsets and the following ReLU would pass or block whole channels; measured: 16 % ->
    35 % validation accuracy after 15 epochs of the issue's architecture)."""
    if model_name == "kws_raw":
        import torch
        with torch.no_grad():
            for m in net.modules():
                if isinstance(m, torch.nn.Conv1d) and m.bias is not None:
                    m.bias.zero_()
    return net


def time_axis(fe):
    """Axis (negative, in one sample's feature array) that runs over time."""
    if fe.kind == "raw" or fe.layout == "coeff_major":
        return -1
    return -2


# ------------------------------------------------------------------------------------------ metrics
def confusion_matrix(y_true, y_pred, n_classes):
    cm = np.zeros((n_classes, n_classes), np.int64)
    np.add.at(cm, (np.asarray(y_true, np.int64), np.asarray(y_pred, np.int64)), 1)
    return cm


def per_class_metrics(cm, labels):
    """Precision / recall / F1 per class from a confusion matrix (rows: true, columns: predicted).
    An undefined ratio (no prediction / no example of the class) is reported as 0.0 with defined=False."""
    out = []
    for k, name in enumerate(labels):
        tp = int(cm[k, k])
        pred = int(cm[:, k].sum())
        sup = int(cm[k, :].sum())
        p = tp / pred if pred else 0.0
        r = tp / sup if sup else 0.0
        f1 = 2 * p * r / (p + r) if p + r > 0 else 0.0
        out.append(dict(label=name, precision=p, recall=r, f1=f1, support=sup, predicted=pred,
                        precision_defined=pred > 0, recall_defined=sup > 0))
    return out


def degeneracy(cm):
    """(is_degenerate, reason) for a confusion matrix: degenerate if the predictions cover one class, or
    fewer than half of the classes present in the true labels."""
    cm = np.asarray(cm)
    predicted = int((cm.sum(0) > 0).sum())
    present = int((cm.sum(1) > 0).sum())
    if cm.sum() == 0:
        return True, "no test predictions"
    if predicted <= 1:
        return True, f"predicts a single class for all {int(cm.sum())} test samples"
    if predicted * 2 < present:
        return True, f"predictions cover {predicted} of the {present} classes present in the test labels (< half)"
    return False, f"predictions cover {predicted} of the {present} classes present in the test labels"


def evaluate_predictions(y_true, y_pred, labels):
    n = len(labels)
    cm = confusion_matrix(y_true, y_pred, n)
    pcm = per_class_metrics(cm, labels)
    deg, why = degeneracy(cm)
    counts = np.bincount(np.asarray(y_pred, np.int64), minlength=n)
    defined = [m["f1"] for m in pcm if m["recall_defined"]]
    return dict(accuracy=float((np.asarray(y_true) == np.asarray(y_pred)).mean()) if len(y_true) else 0.0,
                n=int(len(y_true)), macro_f1=float(np.mean(defined)) if defined else 0.0,
                per_class=pcm, confusion=cm.tolist(),
                predicted_distribution={labels[k]: int(counts[k]) for k in range(n)},
                degenerate=bool(deg), degenerate_reason=why)


# ------------------------------------------------------------------------------------------ plots
def save_confusion(cm, labels, path_png, title):
    """Write the matrix as CSV (always) and as a PNG (if matplotlib imports). Returns (png_or_None, csv, note)."""
    csv = os.path.splitext(path_png)[0] + ".csv"
    with open(csv, "w") as f:
        f.write("true\\pred," + ",".join(labels) + "\n")
        for k, row in enumerate(np.asarray(cm)):
            f.write(labels[k] + "," + ",".join(str(int(v)) for v in row) + "\n")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None, csv, "matplotlib is not installed: the confusion matrix is written as CSV only"
    cm = np.asarray(cm)
    fig, ax = plt.subplots(figsize=(7.5, 6.5))
    rows = cm.sum(1, keepdims=True)
    norm = np.divide(cm, rows, out=np.zeros(cm.shape, float), where=rows > 0)
    im = ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            if cm[i, j]:
                ax.text(j, i, str(int(cm[i, j])), ha="center", va="center", fontsize=7,
                        color="white" if norm[i, j] > 0.5 else "black")
    ax.set_xticks(range(len(labels)), labels, rotation=60, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    fig.colorbar(im, ax=ax, label="fraction of the true class")
    fig.tight_layout()
    fig.savefig(path_png, dpi=110)
    plt.close(fig)
    return path_png, csv, None


# ------------------------------------------------------------------------------------------ progress
class Progress:
    def __init__(self, stream=sys.stderr, quiet=False):
        self.stream, self.quiet, self.last = stream, quiet, 0.0
        self.width = 0

    def update(self, text, force=False):
        if self.quiet:
            return
        now = time.time()
        if not force and now - self.last < 0.3:
            return
        self.last = now
        pad = max(0, self.width - len(text))
        self.width = len(text)
        self.stream.write("\r" + text + " " * pad)
        self.stream.flush()

    def end(self):
        if not self.quiet and self.width:
            self.stream.write("\n")
            self.stream.flush()
            self.width = 0


def log(msg, quiet=False):
    if not quiet:
        sys.stderr.write(msg + "\n")
        sys.stderr.flush()


# ------------------------------------------------------------------------------------------ training
def _shift_batch(torch, x, max_shift, fill, gen, axis):
    """Randomly shift every sample of x along ``axis`` by an integer in [-max_shift, max_shift];
    vacated positions take ``fill`` (the features of silence at that position, broadcastable)."""
    if max_shift <= 0:
        return x
    xt = x.movedim(axis, -1)
    T = xt.shape[-1]
    s = torch.randint(-max_shift, max_shift + 1, (x.shape[0],), generator=gen)
    idx = torch.arange(T)[None, :] - s[:, None]                       # out[t] = in[t - s]
    valid = (idx >= 0) & (idx < T)
    idx = idx.clamp(0, T - 1)
    shape = (x.shape[0],) + (1,) * (xt.ndim - 2) + (T,)
    g = torch.gather(xt, -1, idx.reshape(shape).expand_as(xt))
    f = fill.movedim(axis, -1).expand_as(xt) if fill is not None else torch.zeros_like(xt)
    out = torch.where(valid.reshape(shape), g, f)
    return out.movedim(-1, axis)


def _noise_batch(torch, x, noise, prob, max_gain, gen):
    """Raw waveform batch x (N, 1, T): with probability ``prob`` per sample, add a random crop of a random
    background-noise file (float, int16 / 32768) times a gain uniform in [0, max_gain]."""
    if prob <= 0 or not noise:
        return x
    n, T = x.shape[0], x.shape[-1]
    use = torch.rand(n, generator=gen) < prob
    if not bool(use.any()):
        return x
    out = x.clone()
    for i in torch.nonzero(use).flatten().tolist():
        src = noise[int(torch.randint(len(noise), (1,), generator=gen))]
        off = int(torch.randint(len(src) - T + 1, (1,), generator=gen))
        g = float(torch.rand(1, generator=gen)) * max_gain
        out[i, ..., :] += g * src[off:off + T]
    return out


def _speed_batch(torch, x, max_change, gen):
    """Raw waveform batch x (N, 1, T): resample every sample by a random factor r uniform in
    [1 - max_change, 1 + max_change] about the clip's centre (out[t] = x[c + (t - c) r], linear interpolation,
    zeros outside the clip): tempo and pitch change together (speed perturbation)."""
    if max_change <= 0:
        return x
    n, T = x.shape[0], x.shape[-1]
    r = 1.0 + (2.0 * torch.rand(n, generator=gen) - 1.0) * max_change
    gx = torch.linspace(-1.0, 1.0, T)[None, :] * r[:, None]                       # align_corners: -1 is 0, 1 is T-1
    grid = torch.stack([gx, torch.zeros_like(gx)], -1)[:, None]                  # (N, 1, T, 2)
    y = torch.nn.functional.grid_sample(x.reshape(n, -1, 1, T), grid, mode="bilinear", padding_mode="zeros",
                                        align_corners=True)
    return y.reshape(x.shape)


def schedule_progress(step, total_steps, elapsed, budget):
    """Fraction of the schedule done: the larger of steps / planned steps and elapsed / time budget, so
    that the learning rate anneals fully whichever of the two ends training."""
    p = step / max(total_steps, 1)
    if budget:
        p = max(p, elapsed / budget)
    return min(p, 1.0)


def lr_at(base, schedule, progress):
    """cosine: base * (1 + cos(pi p)) / 2; step: base * 0.1 ** k for k = 0, 1, 2 over thirds of the schedule."""
    import math
    if schedule == "cosine":
        return base * 0.5 * (1.0 + math.cos(math.pi * progress))
    return base * 0.1 ** min(2, int(3 * progress))


def _predict(torch, net, X, batch=256):
    net.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(X), batch):
            out.append(net(torch.from_numpy(X[i:i + batch])).argmax(1).numpy())
    return np.concatenate(out) if out else np.zeros(0, np.int64)


def _oracle_predict(model, X, batch=64):
    out = []
    for i in range(0, len(X), batch):
        out.append(np.asarray(model.run(X[i:i + batch])).reshape(len(X[i:i + batch]), -1).argmax(1))
    return np.concatenate(out) if out else np.zeros(0, np.int64)


def synth_selection(root, synths=None, holdout=None):
    """None (every clip), or {"train": speaker ids for train / validation, "test": speaker ids for the test,
    "test_all_lists": bool, "synths": {...}} from a generated folder's speakers.txt."""
    if not synths and not holdout:
        return None
    from .data.synth import read_speakers
    if not os.path.exists(os.path.join(root, "speakers.txt")):
        raise ValueError(f"{root}: --synths / --holdout-synth need the speakers.txt of a generated folder")
    table = read_speakers(root)
    present = sorted({sp.synth for sp, _ in table.values()})
    want = [x for x in synths.split(",") if x] if synths else list(present)
    for n in want + ([holdout] if holdout else []):
        if n not in present:
            raise ValueError(f"{root}: no speaker of synthesizer {n!r} (present: {', '.join(present)})")
    train_synths = [n for n in want if n != holdout]
    if not train_synths:
        raise ValueError("--holdout-synth leaves no synthesizer to train on")
    sel = dict(train={sid for sid, (sp, _) in table.items() if sp.synth in train_synths},
               synths=dict(train=train_synths, test=[holdout] if holdout else train_synths),
               test_all_lists=bool(holdout))
    sel["test"] = {sid for sid, (sp, _) in table.items() if sp.synth == holdout} if holdout else sel["train"]
    return sel


def load_items(root, selection=None, seed=0):
    """{"train", "validation", "test": items} (balance_unknown=True), restricted to a synth_selection. With a
    held-out synthesizer, the test items are that synthesizer's clips of all three lists (its speakers are
    never trained on) plus the test split's share of silence."""
    from .data.speech_commands import silence_items
    if selection is None:
        return {s: load_split(root, s, balance_unknown=True, seed=seed) for s in ("train", "validation", "test")}
    out = {s: load_split(root, s, balance_unknown=True, seed=seed, speakers=selection["train"])
           for s in ("train", "validation")}
    if selection["test_all_lists"]:
        test = []
        for s in ("train", "validation", "test"):
            test += load_split(root, s, balance_unknown=True, seed=seed, speakers=selection["test"],
                               silence_fraction=0.0)
        out["test"] = test + silence_items(root, "test", int(round(0.1 * len(test))), seed)
    else:
        out["test"] = load_split(root, "test", balance_unknown=True, seed=seed, speakers=selection["test"])
    return out


def augmented_copies(root, clips, k, seed):
    """k augmented copies (int16 [k * N, T]) of clips, copy j of clip i from default_rng([seed, 0x415547, j, i]),
    with the folder's _background_noise_ files and 32 simulated rooms of their own (seed + 1000)."""
    from .data import augment
    from .data.speech_commands import _noise, background_files
    noises = [_noise(f).astype(np.float64) for f in background_files(root)]
    rirs = augment.room_impulse_responses(seed + 1000)
    out = np.empty((k * len(clips),) + clips.shape[1:], clips.dtype)
    for j in range(k):
        for i, x in enumerate(clips):
            out[j * len(clips) + i] = augment.augment_clip(x, np.random.default_rng([seed, 0x415547, j, i]),
                                                           noises, rirs)[0]
    return out


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m kwsnum.train",
                                description="Train a kwsnum zoo KWS model on a Speech Commands-style folder "
                                            "(CPU), export int8/float32 .h5 and evaluate on the test split.")
    p.add_argument("data_dir", metavar="DATA_DIR")
    p.add_argument("--model", choices=MODELS, default="ds_cnn")
    p.add_argument("--frontend", choices=("logmel", "mfcc", "raw", "micro"), default=None,
                   help="default: ds_cnn logmel (1x64x101), kws_raw raw (1x16000), kws_mfcc mfcc (40x101); "
                        "micro: TFLM's fixed-point microfrontend, microWakeWord's settings (ds_cnn, 1x98x40)")
    p.add_argument("--width", type=int, default=None,
                   help="ds_cnn channels; kws_raw channels (W/4, W/2, W[, W]) ('issue', 'wide') or W everywhere "
                        "('front'); kws_mfcc (W/2, W). Default 64")
    p.add_argument("--raw-arch", choices=tuple(RAW_ARCHS), default=DEFAULT_RAW_ARCH,
                   help="kws_raw only: 'issue' = AvgPool1d(16), 3 blocks of k3 convs (RawCNN's defaults); "
                        "'wide' = AvgPool1d(8), 4 blocks of k9 convs; 'front' = a learned Conv1d(1, W, 400, "
                        "stride 160) front end, 4 blocks of k3 convs. Default %(default)s")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=None,
                   help="Adam learning rate; default 3e-3 (kws_raw: 5e-3)")
    p.add_argument("--lr-schedule", choices=("cosine", "step"), default="cosine")
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--max-shift-ms", type=float, default=MAX_SHIFT_S * 1000,
                   help="feature-level random time shift, +- this many ms (0: off). Default %(default)s")
    p.add_argument("--noise-prob", type=float, default=None,
                   help="raw frontend (kws_raw) only: probability of adding a random crop of a _background_noise_ "
                        "file to a training sample (0: off). Default: kws_raw 0.5, other models 0")
    p.add_argument("--noise-gain", type=float, default=0.3,
                   help="the added noise is the file's samples times a gain uniform in [0, this]. Default %(default)s")
    p.add_argument("--speed-perturb", type=float, default=None,
                   help="raw frontend (kws_raw) only: resample each training sample by a random factor in "
                        "[1 - S, 1 + S] (tempo and pitch; 0: off). Default: kws_raw 0.1, other models 0")
    p.add_argument("--label-smoothing", type=float, default=None,
                   help="cross-entropy label smoothing. Default: kws_raw 0.1, other models 0")
    p.add_argument("--synths", default=None,
                   help="comma-separated synthesizers (a generated folder's speakers.txt): train, validate "
                        "and test on these synthesizers' speakers only. Default: all")
    p.add_argument("--holdout-synth", default=None, metavar="SYNTH",
                   help="held-out-synthesizer protocol: train and validate without SYNTH's speakers, test on "
                        "every clip of SYNTH (all three lists; its speakers are never seen in training)")
    p.add_argument("--augment-copies", type=int, default=0, metavar="K",
                   help="add K acoustically augmented copies of every training clip (kwsnum.data.augment: "
                        "warp, reverberation, colouration / telephone band, noise, gain, clipping, shift), "
                        "made once before the features. Default 0")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, metavar="OUT_DIR")
    p.add_argument("--max-minutes", type=float, default=None,
                   help="training time budget (the training loop only); stop after the batch that exceeds it")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: all cores)")
    p.add_argument("--calib-samples", type=int, default=CALIB_SAMPLES)
    p.add_argument("--from-checkpoint", default=None, metavar="PT",
                   help="skip training: export and evaluate this .pt (from a run with the same data and "
                        "arguments; its validation accuracy is recomputed and must match). The calibration "
                        "clips are then drawn from a fresh seeded generator, so the int8 file can differ from "
                        "the one the original run would have written")
    p.add_argument("--quiet", action="store_true")
    a = p.parse_args(argv)
    if a.lr is None:
        a.lr = DEFAULT_LR[a.model]
    if a.noise_prob is None:
        a.noise_prob = DEFAULT_NOISE_PROB.get(a.model, 0.0) if (a.frontend or DEFAULT_FRONTEND[a.model]) == "raw" \
            else 0.0
    if a.speed_perturb is None:
        a.speed_perturb = DEFAULT_SPEED_PERTURB.get(a.model, 0.0) \
            if (a.frontend or DEFAULT_FRONTEND[a.model]) == "raw" else 0.0
    if a.label_smoothing is None:
        a.label_smoothing = DEFAULT_LABEL_SMOOTHING.get(a.model, 0.0)
    if a.augment_copies < 0:
        p.error("need --augment-copies >= 0")
    if a.epochs < 1 or a.batch_size < 2 or a.lr <= 0:
        p.error("need --epochs >= 1, --batch-size >= 2, --lr > 0")
    if not 0.0 <= a.noise_prob <= 1.0 or a.noise_gain < 0 or not 0.0 <= a.label_smoothing < 1.0 or \
            not 0.0 <= a.speed_perturb < 1.0:
        p.error("need 0 <= --noise-prob <= 1, --noise-gain >= 0, 0 <= --label-smoothing < 1, "
                "0 <= --speed-perturb < 1")
    return a


def main(argv=None):
    a = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        return run(a, argv)
    except (ValueError, OSError, FileNotFoundError) as e:
        sys.stderr.write(f"kwsnum.train: error: {e}\n")
        return EXIT_ERROR


def run(a, argv):
    import torch

    from . import load, save
    from .export import from_torch

    t_start = time.time()
    q = a.quiet
    if a.threads:
        torch.set_num_threads(int(a.threads))
    n_threads = torch.get_num_threads()
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    gen = torch.Generator().manual_seed(a.seed)
    os.makedirs(a.out, exist_ok=True)
    kind = a.frontend or DEFAULT_FRONTEND[a.model]
    width = a.width or DEFAULT_WIDTH[a.model]
    fe = make_frontend(a.model, kind)
    if a.speed_perturb > 0 and fe.kind != "raw":
        raise ValueError("--speed-perturb needs the raw frontend (kws_raw): it resamples the waveform")
    if a.noise_prob > 0 and fe.kind != "raw":
        raise ValueError("--noise-prob needs the raw frontend (kws_raw): the noise is mixed into the waveform")
    labels = list(LABELS)
    n_classes = len(labels)

    # ---- data
    if not os.path.isdir(a.data_dir):
        raise ValueError(f"{a.data_dir}: not a directory")
    t0 = time.time()
    splits = {}
    selection = synth_selection(a.data_dir, a.synths, a.holdout_synth)
    for split, items in load_items(a.data_dir, selection, a.seed).items():
        if not items:
            raise ValueError(f"{a.data_dir}: the {split} split is empty")
        clips, y = load_arrays(items)
        splits[split] = (clips, np.asarray(y, np.int64))
    if a.augment_copies:
        t1 = time.time()
        clips, y = splits["train"]
        extra = augmented_copies(a.data_dir, clips, a.augment_copies, a.seed)
        splits["train"] = (np.concatenate([clips, extra]), np.concatenate([y] * (a.augment_copies + 1)))
        log(f"augmentation: {a.augment_copies} augmented copies of {len(y)} training clips "
            f"({time.time() - t1:.1f} s)", q)
    log("data: " + ", ".join(f"{k} {len(v[1])}" for k, v in splits.items()) + f" clips ({time.time() - t0:.1f} s)", q)
    if fe.kind not in ("raw", "micro"):      # micro: integer features, used as TFLM gives them (x 10/256)
        fe = fit_normalisation(fe, splits["train"][0])
    feats = {}
    for split, (clips, y) in splits.items():
        feats[split] = (np.ascontiguousarray(fe.compute_batch(clips), np.float32), y)
    silence_feat = fe.compute(np.zeros(fe.clip_samples, np.int16))
    feature_seconds = time.time() - t0
    norm = f", mean {fe.mean:.4g} std {fe.std:.4g}" if hasattr(fe, "mean") else ""
    log(f"features: {fe.describe()}, shape {fe.output_shape}{norm} ({feature_seconds:.1f} s incl. loading)", q)
    Xtr, ytr = feats["train"]
    Xva, yva = feats["validation"]
    Xte, yte = feats["test"]

    # ---- model
    margs = model_args(a.model, width, fe.output_shape, n_classes, raw_arch=a.raw_arch)
    net = init_for_training(a.model, build_model(a.model, margs))
    n_params = int(sum(p.numel() for p in net.parameters()))
    log(f"model: {a.model} {margs} ({n_params} parameters)", q)

    # ---- training
    ax = time_axis(fe)
    step_s = 1.0 / fe.sample_rate if fe.kind == "raw" else (
        fe.tables.window_step if fe.kind == "micro" else fe.hop_length) / fe.sample_rate
    max_shift = int(round(a.max_shift_ms / 1000.0 / step_s))
    fill = torch.from_numpy(silence_feat)[None]
    noise = []
    if a.noise_prob > 0:
        from .data.speech_commands import _noise, background_files
        noise = [torch.from_numpy(_noise(f).astype(np.float32) / 32768.0)
                 for f in background_files(a.data_dir) if len(_noise(f)) >= fe.clip_samples]
        if not noise:
            raise ValueError(f"{a.data_dir}: --noise-prob needs _background_noise_/ files of >= 1 s")
    n_batches = max(1, len(Xtr) // a.batch_size) if len(Xtr) >= a.batch_size else 1
    total_steps = a.epochs * n_batches
    opt = torch.optim.Adam(net.parameters(), lr=a.lr, weight_decay=a.weight_decay)
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=a.label_smoothing)
    budget = None if a.max_minutes is None else 60.0 * a.max_minutes
    best = dict(val_acc=-1.0, epoch=0, state=None)
    history = []
    stopped_by_budget = False
    prog = Progress(quiet=q)
    val_acc = float("nan")
    t_train = time.time()
    Xtr_t, ytr_t = torch.from_numpy(Xtr), torch.from_numpy(ytr)
    step = 0
    if a.from_checkpoint:   # export and evaluate a trained checkpoint: no training steps
        ck = torch.load(a.from_checkpoint, map_location="cpu", weights_only=False)
        if ck.get("model") != a.model or dict(ck.get("args", {})) != dict(margs) or ck.get("labels") != labels:
            raise ValueError(f"{a.from_checkpoint}: checkpoint of {ck.get('model')} {ck.get('args')} does not match "
                             f"--model {a.model} {margs} on this data")
        net.load_state_dict(ck["state_dict"])
        val_acc = float((_predict(torch, net, Xva) == yva).mean())
        if abs(val_acc - float(ck["val_acc"])) > 1e-9:
            raise ValueError(f"{a.from_checkpoint}: validation accuracy {val_acc:.4f} here, {ck['val_acc']:.4f} "
                             "when it was saved: not the same data or frontend")
        best = dict(val_acc=val_acc, epoch=int(ck["epoch"]), state=copy.deepcopy(net.state_dict()))
        log(f"checkpoint {a.from_checkpoint}: epoch {best['epoch']}, validation accuracy {val_acc:.4f} "
            "(reproduced); no training", q)
    for epoch in range(1, 0 if a.from_checkpoint else a.epochs + 1):
        net.train()
        perm = torch.from_numpy(rng.permutation(len(Xtr)))
        tot_loss, tot_ok, seen = 0.0, 0, 0
        for b in range(n_batches):
            idx = perm[b * a.batch_size:(b + 1) * a.batch_size] if n_batches > 1 else perm
            if len(idx) < 2:
                continue
            xb = _shift_batch(torch, Xtr_t[idx], max_shift, fill, gen, ax)
            xb = _speed_batch(torch, xb, a.speed_perturb, gen)
            xb = _noise_batch(torch, xb, noise, a.noise_prob, a.noise_gain, gen)
            yb = ytr_t[idx]
            out = net(xb)
            loss = loss_fn(out, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            for grp in opt.param_groups:
                grp["lr"] = lr_at(a.lr, a.lr_schedule, schedule_progress(step, total_steps, time.time() - t_train, budget))
            tot_loss += float(loss.detach()) * len(idx)
            tot_ok += int((out.argmax(1) == yb).sum())
            seen += len(idx)
            elapsed = time.time() - t_train
            prog.update(f"epoch {epoch}/{a.epochs} batch {b + 1}/{n_batches} loss {tot_loss / seen:.4f} "
                        f"train acc {tot_ok / seen:.3f} val acc {val_acc:.3f} "
                        f"[{elapsed:.0f} s]", force=b + 1 == n_batches)
            if budget is not None and elapsed > budget:
                stopped_by_budget = True
                break
        val_acc = float((_predict(torch, net, Xva) == yva).mean())
        history.append(dict(epoch=epoch, loss=tot_loss / max(seen, 1), train_acc=tot_ok / max(seen, 1),
                            val_acc=val_acc, lr=float(opt.param_groups[0]["lr"]),
                            seconds=time.time() - t_train, complete=not stopped_by_budget))
        prog.update(f"epoch {epoch}/{a.epochs} batch {n_batches}/{n_batches} loss {tot_loss / max(seen, 1):.4f} "
                    f"train acc {tot_ok / max(seen, 1):.3f} val acc {val_acc:.3f} "
                    f"[{time.time() - t_train:.0f} s]", force=True)
        prog.end()
        if val_acc > best["val_acc"]:
            best = dict(val_acc=val_acc, epoch=epoch, state=copy.deepcopy(net.state_dict()))
        if stopped_by_budget:
            log(f"time budget of {a.max_minutes} min reached during epoch {epoch}; stopping", q)
            break
    train_seconds = time.time() - t_train
    net.load_state_dict(best["state"])
    net.eval()
    log(f"best validation accuracy {best['val_acc']:.4f} at epoch {best['epoch']} "
        f"(training {train_seconds:.1f} s)", q)

    # ---- save float checkpoint
    files = {}
    pt_path = os.path.join(a.out, f"{a.model}.pt")
    torch.save(dict(model=a.model, args=margs, state_dict=net.state_dict(), labels=labels,
                    frontend=fe.to_attrs(), epoch=best["epoch"], val_acc=best["val_acc"]), pt_path)
    files["checkpoint"] = pt_path

    # ---- export
    t0 = time.time()
    ci = rng.choice(len(Xtr), min(a.calib_samples, len(Xtr)), replace=False)
    calib = torch.from_numpy(Xtr[np.sort(ci)])
    qname, qconfig = DEPLOY.get(a.model, ("int8", "int8"))
    configs = {"float32": "float32", qname: qconfig}
    for prec in configs:
        m = from_torch(net, calib[:1], calib, precision=configs[prec], labels=labels, frontend=fe,
                       name=f"{a.model}_{prec}")
        path = os.path.join(a.out, f"{a.model}_{prec}.h5")
        save(m, path)
        files[f"h5_{prec}"] = path
    export_seconds = time.time() - t0

    # ---- evaluate on the test split (the saved files, reloaded)
    t0 = time.time()
    results = {"float_torch": evaluate_predictions(yte, _predict(torch, net, Xte), labels)}
    preds = {}
    for prec in configs:
        m = load(files[f"h5_{prec}"])
        preds[prec] = _oracle_predict(m, Xte)
        results[f"{prec}_h5"] = evaluate_predictions(yte, preds[prec], labels)
    torch_pred = _predict(torch, net, Xte)
    agreement = {k: float((preds[k] == torch_pred).mean()) for k in preds}
    eval_seconds = time.time() - t0
    notes = []
    for key, res in results.items():
        png, csv, note = save_confusion(np.asarray(res["confusion"]), labels,
                                        os.path.join(a.out, f"confusion_{key}.png"),
                                        f"{a.model} {key}: test acc {res['accuracy']:.3f}")
        if png:
            files[f"confusion_{key}_png"] = png
        files[f"confusion_{key}_csv"] = csv
        if note and note not in notes:
            notes.append(note)

    degenerate = any(r["degenerate"] for r in results.values())
    status = "DEGENERATE" if degenerate else "OK"
    cmd = "python -m kwsnum.train " + " ".join(sys.argv[1:] if argv is None else list(argv))
    report = dict(
        status=status, degenerate=degenerate,
        degenerate_reasons={k: r["degenerate_reason"] for k, r in results.items() if r["degenerate"]},
        command=cmd, model=a.model, model_args={k: list(v) if isinstance(v, tuple) else v for k, v in margs.items()},
        n_params=n_params, labels=labels,
        frontend=dict(describe=fe.describe(), shape=list(fe.output_shape), attrs=fe.to_attrs()),
        data=dict(root=os.path.abspath(a.data_dir), augment_copies=a.augment_copies,
                  synths=None if selection is None else selection["synths"],
                  counts={k: int(len(v[1])) for k, v in splits.items()},
                  class_counts={k: {labels[c]: int(n) for c, n in enumerate(np.bincount(v[1], minlength=n_classes))}
                                for k, v in splits.items()}),
        training=dict(epochs_planned=a.epochs, epochs_run=len(history), stopped_by_budget=stopped_by_budget,
                      max_minutes=a.max_minutes, batch_size=a.batch_size, lr=a.lr, lr_schedule=a.lr_schedule,
                      weight_decay=a.weight_decay, optimizer="Adam", seed=a.seed,
                      threads=n_threads,
                      augmentation=f"feature-level random time shift of +-{max_shift} "
                                   f"{'samples' if fe.kind == 'raw' else 'frames'} "
                                   f"(+-{a.max_shift_ms:g} ms), vacated positions filled with the features of silence"
                                   + (f"; background noise added with probability {a.noise_prob:g}, gain uniform in "
                                      f"[0, {a.noise_gain:g}]" if noise else "")
                                   + (f"; speed perturbation by a factor uniform in [{1 - a.speed_perturb:g}, "
                                      f"{1 + a.speed_perturb:g}]" if a.speed_perturb > 0 else ""),
                      label_smoothing=a.label_smoothing,
                      best_epoch=best["epoch"], best_val_acc=best["val_acc"], history=history),
        timing=dict(features_seconds=feature_seconds, train_seconds=train_seconds,
                    export_seconds=export_seconds, eval_seconds=eval_seconds,
                    total_seconds=time.time() - t_start),
        test=results, agreement_with_float_torch=agreement, files=files, notes=notes,
        environment=dict(python=platform.python_version(), torch=str(torch.__version__), numpy=np.__version__))
    rj = os.path.join(a.out, "report.json")
    files["report_json"] = rj
    files["report_md"] = os.path.join(a.out, "report.md")
    with open(rj, "w") as f:
        json.dump(report, f, indent=1)
    with open(files["report_md"], "w") as f:
        f.write(format_markdown(report))
    summary = ", ".join(f"{k} {r['accuracy']:.4f}" for k, r in results.items())
    log(f"test accuracy: {summary} (n={len(yte)}); status {status}; report: {rj}", q)
    if degenerate:
        for k, why in report["degenerate_reasons"].items():
            log(f"DEGENERATE: {k}: {why}", False)
        return EXIT_DEGENERATE
    return 0


def format_markdown(r):
    L = []
    t, tr = r["test"], r["training"]
    L.append(f"# kwsnum.train report: {r['model']} -- {r['status']}\n")
    if r["degenerate"]:
        L.append("**DEGENERATE**: this model is not a usable classifier:\n")
        for k, why in r["degenerate_reasons"].items():
            L.append(f"- {k}: {why}")
        L.append("")
    L.append(f"Command: `{r['command']}`\n")
    L.append(f"- model: {r['model']} {r['model_args']}, {r['n_params']} parameters")
    L.append(f"- frontend: {r['frontend']['describe']} -> {r['frontend']['shape']}")
    L.append(f"- data: {r['data']['root']}: " + ", ".join(f"{k} {v}" for k, v in r['data']['counts'].items()))
    L.append(f"- training: {tr['epochs_run']}/{tr['epochs_planned']} epochs"
             f"{' (stopped by the time budget)' if tr['stopped_by_budget'] else ''}, best validation accuracy "
             f"{tr['best_val_acc']:.4f} at epoch {tr['best_epoch']}; Adam lr {tr['lr']} {tr['lr_schedule']}, "
             f"batch {tr['batch_size']}, {tr['threads']} threads")
    L.append(f"- augmentation: {tr['augmentation']}")
    tm = r["timing"]
    L.append(f"- wall time: features {tm['features_seconds']:.1f} s, training {tm['train_seconds']:.1f} s, "
             f"export {tm['export_seconds']:.1f} s, evaluation {tm['eval_seconds']:.1f} s, "
             f"total {tm['total_seconds']:.1f} s\n")
    L.append("## Test accuracy\n")
    L.append("| model | accuracy | macro F1 | predicted classes | agreement with float torch |")
    L.append("|---|---|---|---|---|")
    for k, res in t.items():
        n_pred = sum(1 for v in res["predicted_distribution"].values() if v)
        ag = r["agreement_with_float_torch"].get(k.replace("_h5", ""), 1.0 if k == "float_torch" else None)
        L.append(f"| {k} | {res['accuracy']:.4f} (n={res['n']}) | {res['macro_f1']:.4f} | {n_pred} "
                 f"{'(DEGENERATE)' if res['degenerate'] else ''} | {ag:.4f} |")
    L.append("")
    L.append("## Per class (test)\n")
    q = next((k[:-3] for k in t if k.endswith("_h5") and k != "float32_h5"), "int8")
    L.append(f"| class | support | {q} precision | {q} recall | {q} F1 | float F1 | {q} predicted |")
    L.append("|---|---|---|---|---|---|---|")
    for m8, mf in zip(t[f"{q}_h5"]["per_class"], t["float_torch"]["per_class"]):
        L.append(f"| {m8['label']} | {m8['support']} | {m8['precision']:.3f} | {m8['recall']:.3f} | "
                 f"{m8['f1']:.3f} | {mf['f1']:.3f} | {m8['predicted']} |")
    L.append("")
    L.append("## Files\n")
    for k, v in r["files"].items():
        L.append(f"- {k}: `{os.path.basename(v)}`")
    for n in r["notes"]:
        L.append(f"\nNote: {n}")
    L.append("")
    return "\n".join(L)


if __name__ == "__main__":
    sys.exit(main())
