"""Small PyTorch keyword-spotting models used by the tests and examples (this module needs torch).

- :class:`DSCNN`: the depthwise-separable CNN of MLPerf Tiny / tiny-kws on a (1, 49, 10) MFCC input.
- :class:`RawCNN`: the raw-waveform 1-D CNN (kws_raw): AvgPool1d(16) (or a learned strided Conv1d front end) then
  conv / LayerNorm / ReLU / MaxPool blocks.

Both export with :func:`kwsnum.export.from_torch` (BatchNorm folds, ReLUs fuse).
"""
import torch
from torch import nn


def _conv_out(n, k, s, p_total):
    return (n + p_total - k) // s + 1


def _tf_same(n, k, s):
    """TensorFlow 'same' padding (before, after) of one dim: out = ceil(n / s)."""
    total = max((-(-n // s) - 1) * s + k - n, 0)
    return total // 2, total - total // 2


class DSCNN(nn.Module):
    """Conv2d(1, W, (10, 4), stride 2, padding (5, 2), no bias) + BN + ReLU, then ``n_blocks`` x
    [depthwise 3x3 (stride 2 in the first block), padding 1, + BN + ReLU; pointwise 1x1 + BN + ReLU],
    AdaptiveAvgPool2d(1), Flatten, Dropout(0.2), Linear(W, n_classes) (``variant="tiny-kws"``).

    ``variant="mlperf"``: the MLPerf Tiny KWS reference (TensorFlow, 'same' padding): the first conv pads as TF
    does for stride 2 (for 49 x 10: 4 top, 5 bottom, 1 left, 1 right, written as a ZeroPad2d that the exporter
    folds into the conv), no stride in the blocks (25 x 5 feature maps throughout)."""

    def __init__(self, n_classes=12, width=64, n_blocks=4, in_shape=(1, 49, 10), dropout=0.2, variant="tiny-kws"):
        super().__init__()
        if variant not in ("tiny-kws", "mlperf"):
            raise ValueError(f"variant must be 'tiny-kws' or 'mlperf', got {variant!r}")
        self.in_shape = tuple(in_shape)
        self.variant = variant
        w = int(width)
        if variant == "mlperf":
            (t, bo), (le, r) = _tf_same(in_shape[1], 10, 2), _tf_same(in_shape[2], 4, 2)
            layers = [nn.ZeroPad2d((le, r, t, bo)), nn.Conv2d(in_shape[0], w, (10, 4), stride=2, bias=False)]
        else:
            layers = [nn.Conv2d(in_shape[0], w, (10, 4), stride=2, padding=(5, 2), bias=False)]
        layers += [nn.BatchNorm2d(w), nn.ReLU()]
        first_stride = 2 if variant == "tiny-kws" else 1
        for i in range(n_blocks):
            layers += [nn.Conv2d(w, w, 3, stride=first_stride if i == 0 else 1, padding=1, groups=w, bias=False),
                       nn.BatchNorm2d(w), nn.ReLU(),
                       nn.Conv2d(w, w, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU()]
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(w, n_classes)

    def forward(self, x):
        return self.fc(self.dropout(self.flatten(self.pool(self.features(x)))))


class RawCNN(nn.Module):
    """[AvgPool1d(pool, pool)] -> [front] -> for each C in ``channels``: [Conv1d(C_in, C, k, padding='same') ->
    LayerNorm([C, L]) -> ReLU -> MaxPool1d(block_pool)] -> AdaptiveAvgPool1d(1) -> Flatten -> Linear(C_last, n_classes).

    ``kernel_size`` and ``block_pool`` are one int for every block or one per block (a block pool of 1: no
    MaxPool1d). ``pool`` 1: no AvgPool1d. ``front`` (optional, a learned filterbank-like front end instead of
    or after the AvgPool1d): dict(channels=C0, kernel=K, stride=S, pool=P): Conv1d(1, C0, K, stride S,
    padding (K - S) // 2) -> LayerNorm([C0, L0]) -> ReLU -> MaxPool1d(P) (P 1: none). ``dropout`` > 0: a Dropout
    before the Linear (training only; exported as the identity).
    The defaults are the issue's kws_raw: pool 16, kernel 3, block_pool 4, channels (16, 32, 64), no front;
    with in_len=16000 the lengths are 1000 -> 250 -> 62 -> 15. Input (1, in_len)."""

    def __init__(self, n_classes=12, channels=(16, 32, 64), in_len=16000, pool=16, kernel_size=3, block_pool=4,
                 front=None, dropout=0.0):
        super().__init__()
        channels = [int(c) for c in channels]

        def per_block(v, what):
            if isinstance(v, int):
                return [v] * len(channels)
            v = [int(k) for k in v]
            if len(v) != len(channels):
                raise ValueError(f"{what} has {len(v)} entries for {len(channels)} blocks")
            return v

        kernels = per_block(kernel_size, "kernel_size")
        pools = per_block(block_pool, "block_pool")
        self.in_shape = (1, int(in_len))
        L = int(in_len)
        layers = []
        if pool > 1:
            layers.append(nn.AvgPool1d(pool, pool))
            L = _conv_out(L, pool, pool, 0)
        c_in = 1
        if front:
            c0, k0, s0, p0 = (int(front[key]) for key in ("channels", "kernel", "stride", "pool"))
            pad = max(0, (k0 - s0) // 2)
            layers += [nn.Conv1d(1, c0, k0, stride=s0, padding=pad)]
            L = _conv_out(L, k0, s0, 2 * pad)
            layers += [nn.LayerNorm([c0, L]), nn.ReLU()]
            if p0 > 1:
                layers.append(nn.MaxPool1d(p0))
                L = _conv_out(L, p0, p0, 0)
            c_in = c0
        for c, k, bp in zip(channels, kernels, pools):
            layers += [nn.Conv1d(c_in, c, k, padding="same"), nn.LayerNorm([c, L]), nn.ReLU()]
            if bp > 1:
                layers.append(nn.MaxPool1d(bp))
                L = _conv_out(L, bp, bp, 0)
            if L < 1:
                raise ValueError(f"in_len={in_len} is too short for {len(channels)} blocks")
            c_in = c
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool1d(1)
        self.flatten = nn.Flatten()
        self.dropout = nn.Dropout(dropout) if dropout else None
        self.fc = nn.Linear(c_in, n_classes)

    def forward(self, x):
        x = self.flatten(self.pool(self.features(x)))
        if self.dropout is not None:
            x = self.dropout(x)
        return self.fc(x)


class ResBlockNet(nn.Module):
    """A tiny residual CNN (for the add path): conv+BN+ReLU, then ``n_blocks`` x
    [conv3x3+BN+ReLU -> conv3x3+BN, + identity, ReLU], global average pool, Linear."""

    def __init__(self, n_classes=12, width=16, n_blocks=2, in_shape=(1, 49, 10)):
        super().__init__()
        self.in_shape = tuple(in_shape)
        w = int(width)
        self.stem = nn.Sequential(nn.Conv2d(in_shape[0], w, 3, stride=2, padding=1, bias=False),
                                  nn.BatchNorm2d(w), nn.ReLU())
        self.blocks = nn.ModuleList()
        for _ in range(n_blocks):
            self.blocks.append(nn.ModuleDict(dict(
                c1=nn.Conv2d(w, w, 3, padding=1, bias=False), b1=nn.BatchNorm2d(w),
                c2=nn.Conv2d(w, w, 3, padding=1, bias=False), b2=nn.BatchNorm2d(w))))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(w, n_classes)

    def forward(self, x):
        x = self.stem(x)
        for blk in self.blocks:
            y = torch.relu(blk["b1"](blk["c1"](x)))
            y = blk["b2"](blk["c2"](y))
            x = torch.relu(x + y)
        return self.fc(torch.flatten(self.pool(x), 1))


def randomize_(module, seed=0, data=None):
    """Give a module trained-looking parameters, in place, and return it in eval mode.

    Conv / linear weights: He-normal (seeded), small random biases. LayerNorm: random affine parameters.
    BatchNorm: with ``data`` (a float input batch), the running statistics are first measured on it
    in one training-mode pass (as training would leave them), then perturbed (mean += 0.1 N(0,1) std,
    var *= U(0.7, 1.4)); without ``data`` they are random (mean 0.5 N(0,1), var U(0.3, 3)).
    Affine gamma U(0.5, 1.5), beta 0.2 N(0,1).
    With ``data`` the last Linear's bias is also set so that its logits are centered on ``data``
    (a balanced classifier that predicts many classes, not one)."""
    g = torch.Generator().manual_seed(int(seed))

    def u(shape, lo, hi):
        return lo + (hi - lo) * torch.rand(shape, generator=g)

    bns = [m for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Linear)):
                fan_in = m.weight[0].numel()
                m.weight.copy_(torch.randn(m.weight.shape, generator=g) * (2.0 / fan_in) ** 0.5)
                if m.bias is not None:
                    m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
            elif isinstance(m, nn.modules.batchnorm._BatchNorm):
                c = m.num_features
                m.running_mean.copy_(torch.randn(c, generator=g) * 0.5)
                m.running_var.copy_(u(c, 0.3, 3.0))
                if m.affine:
                    m.weight.copy_(u(c, 0.5, 1.5))
                    m.bias.copy_(torch.randn(c, generator=g) * 0.2)
            elif isinstance(m, nn.LayerNorm) and m.elementwise_affine:
                m.weight.copy_(u(m.weight.shape, 0.5, 1.5))
                if m.bias is not None:
                    m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.2)
        if data is not None:
            data = torch.as_tensor(data, dtype=torch.float32)
            # measure BN statistics in one pass: every BN in training mode (batch statistics, cumulative
            # average), everything else (dropout) in eval mode
            module.eval()
            for bn in bns:
                bn.reset_running_stats()
                bn.momentum, bn._saved_momentum = None, bn.momentum
                bn.train()
            module(data)
            for bn in bns:
                bn.momentum = bn._saved_momentum
                del bn._saved_momentum
                c = bn.num_features
                bn.running_mean.add_(0.1 * torch.randn(c, generator=g) * bn.running_var.sqrt())
                bn.running_var.mul_(u(c, 0.7, 1.4))
            module.eval()
            last = [m for m in module.modules() if isinstance(m, nn.Linear)]
            if last and last[-1].bias is not None:
                fc = last[-1]
                feats = []
                h = fc.register_forward_hook(lambda m, i, o: feats.append(i[0]))
                module(data)
                h.remove()
                f = torch.cat(feats).reshape(-1, fc.in_features)
                fc.bias.copy_(-(f.mean(0) @ fc.weight.T))
    return module.eval()


__all__ = ["DSCNN", "RawCNN", "ResBlockNet", "randomize_"]


class KwsMfcc(nn.Module):
    """A small 1-D CNN on MFCCs laid out (n_mfcc, frames) (``Frontend.mfcc(n_mels=40, n_mfcc=40,
    hop_length=160, center=True, layout="coeff_major", channel_axis=False)`` -> (40, 101)):
    Conv1d(n_mfcc, C0, 3, padding=1) + BN + ReLU + MaxPool1d(2), Conv1d(C0, C1, 3, padding=1) + BN + ReLU,
    AdaptiveAvgPool1d(1), Flatten, Linear(C1, n_classes)."""

    def __init__(self, n_classes=12, n_mfcc=40, channels=(32, 64)):
        super().__init__()
        c0, c1 = (int(c) for c in channels)
        self.in_shape = (int(n_mfcc), 101)
        self.features = nn.Sequential(
            nn.Conv1d(int(n_mfcc), c0, 3, padding=1), nn.BatchNorm1d(c0), nn.ReLU(), nn.MaxPool1d(2),
            nn.Conv1d(c0, c1, 3, padding=1), nn.BatchNorm1d(c1), nn.ReLU())
        self.pool = nn.AdaptiveAvgPool1d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(c1, n_classes)

    def forward(self, x):
        return self.fc(self.flatten(self.pool(self.features(x))))


__all__.append("KwsMfcc")


class LinearAttention(nn.Module):
    """ReLU-kernel linear self-attention over a (C, T) sequence, with a residual skip:
    q = relu(Wq x), k = relu(Wk x), v = Wv x (1x1 convs: per time step, ``dim`` = width of q and k),
    y = (V K^T Q) / (mean_t(K)^T Q + eps) (column t: an average of the v's weighted by k(t')·q(t), times T),
    out = x + Wo y. The matmuls and the division export as kwsnum matmul / div (float formats only)."""

    def __init__(self, channels, dim=16, eps=1e-3):
        super().__init__()
        c, d = int(channels), int(dim)
        self.q = nn.Conv1d(c, d, 1)
        self.k = nn.Conv1d(c, d, 1)
        self.v = nn.Conv1d(c, c, 1)
        self.o = nn.Conv1d(c, c, 1)
        self.mean = nn.AdaptiveAvgPool1d(1)
        self.eps = float(eps)

    def forward(self, x):
        q = torch.relu(self.q(x))                                 # (N, d, T)
        k = torch.relu(self.k(x))                                 # (N, d, T)
        v = self.v(x)                                             # (N, C, T)
        kv = torch.matmul(v, k.transpose(1, 2))                   # (N, C, d)
        num = torch.matmul(kv, q)                                 # (N, C, T)
        den = torch.matmul(self.mean(k).transpose(1, 2), q)       # (N, 1, T)
        return x + self.o(num / (den + self.eps))


class KwsAttention(nn.Module):
    """A mixed-precision KWS model on MFCCs laid out (n_mfcc, frames) (as KwsMfcc): an int8 conv frontend
    [Conv1d(n_mfcc, C, 3, stride 2, padding 1) + BN + ReLU, Conv1d(C, C, 3, padding 1) + BN + ReLU], a float16
    :class:`LinearAttention` block (``attn``), a mean over the sequence and an int8 Linear classifier.
    ``PRECISION`` is the export config (``from_torch(..., precision=KwsAttention.PRECISION)``)."""

    PRECISION = {"default": "int8", "layers": {"attn": "float16"}}

    def __init__(self, n_classes=12, n_mfcc=40, channels=64, dim=16, frames=101):
        super().__init__()
        c = int(channels)
        self.in_shape = (int(n_mfcc), int(frames))
        self.front = nn.Sequential(
            nn.Conv1d(int(n_mfcc), c, 3, stride=2, padding=1, bias=False), nn.BatchNorm1d(c), nn.ReLU(),
            nn.Conv1d(c, c, 3, padding=1, bias=False), nn.BatchNorm1d(c), nn.ReLU())
        self.attn = LinearAttention(c, dim)
        self.pool = nn.AdaptiveAvgPool1d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(c, n_classes)

    def forward(self, x):
        return self.fc(self.flatten(self.pool(self.attn(self.front(x)))))


__all__ += ["LinearAttention", "KwsAttention"]


class TemporalConvNet(nn.Module):
    """A streaming wake-word net in the style of microWakeWord, on features laid out (n_mels, frames): a strided
    Conv1d(n_mels, C0, k0, stride) + BN + ReLU, then blocks of a depthwise Conv1d(C, C, k, dilation=d, groups=C)
    and a pointwise Conv1d(C, C', 1) + BN + ReLU along time, all without padding; the classifier is a Linear over
    the flattened ``final_frames`` last frames (no global pooling over time), so the model streams
    (kwsnum.streaming): each step takes ``stride`` new frames. The window is computed from the layers so that
    every strided layer uses its last frame: ``frames = k0 + stride * (final_frames - 1 + sum d*(k-1))``."""

    def __init__(self, n_classes=2, n_mels=40, first=(32, 5, 3), blocks=((32, 5, 1), (48, 5, 2), (48, 5, 4)),
                 final_frames=4, dropout=0.0):
        super().__init__()
        c0, k0, s0 = (int(v) for v in first)
        layers = [nn.Conv1d(int(n_mels), c0, k0, stride=s0), nn.BatchNorm1d(c0), nn.ReLU()]
        c, shrink = c0, 0
        for cout, k, d in blocks:
            layers += [nn.Conv1d(c, c, int(k), dilation=int(d), groups=c),
                       nn.Conv1d(c, int(cout), 1), nn.BatchNorm1d(int(cout)), nn.ReLU()]
            c, shrink = int(cout), shrink + int(d) * (int(k) - 1)
        self.features = nn.Sequential(*layers)
        self.flatten = nn.Flatten()
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(c * int(final_frames), n_classes)
        self.in_shape = (int(n_mels), k0 + s0 * (int(final_frames) - 1 + shrink))

    def forward(self, x):
        return self.fc(self.dropout(self.flatten(self.features(x))))


__all__.append("TemporalConvNet")
