"""Small random streaming models with a micro frontend for the listen / stream / push_pcm tests (torch at build
time only). ``tiny(seed)`` -> (streaming model with detector params, windowed model)."""
import numpy as np


def micro_frontend(channels, window_frames, **kw):
    from kwsnum.micro import MicroFrontend
    fe = MicroFrontend(num_channels=channels, layout="coeff_major", channel_axis=False, clip_samples=400, **kw)
    t = fe.tables
    return fe.replace(clip_samples=t.window_size + (window_frames - 1) * t.window_step)


def pcm(seed, seconds, loud=None):
    """Noise with louder bursts (something for a detector to fire on), int16, 16 kHz."""
    rng = np.random.default_rng(seed)
    n = int(16000 * seconds)
    x = rng.standard_normal(n) * 300
    for start in rng.integers(0, max(1, n - 8000), size=max(1, int(seconds))):
        x[start:start + 6000] *= loud or rng.uniform(5, 30)
    return np.clip(x, -32768, 32767).astype(np.int16)


def tiny(seed=0, precision="int8", channels=6, threshold_quantile=0.8, window=3, refractory=5, labels=True):
    import torch
    from kwsnum import detector
    from kwsnum.export import from_torch
    from kwsnum.listen import Listener
    from kwsnum.models import TemporalConvNet, randomize_
    torch.manual_seed(seed)
    net = TemporalConvNet(n_classes=3, n_mels=channels, first=(4, 3, 2), blocks=((4, 3, 1), (5, 3, 2)),
                          final_frames=2)
    fe = micro_frontend(channels, net.in_shape[1])
    clips = np.stack([pcm(seed + i, fe.clip_samples / 16000) for i in range(16)])
    calib = torch.tensor(fe.compute_batch(clips))
    randomize_(net, seed, calib)
    names = ["silence", "wake", "other"] if labels else None
    sm = from_torch(net, None, calib, precision=precision, streaming=True, frontend=fe, labels=names)
    detector.configure(sm, label=1, against=0, threshold=-1e9, window=window, refractory=refractory)
    # a threshold the random model reaches now and then: a quantile of its smoothed scores on noise
    lis = Listener(sm)
    lis.push(pcm(seed + 99, 3.0))
    q = lis.last[0].astype(np.int64)
    warm = lis.stream.warmup
    sums = np.convolve(q[warm:, 1] - q[warm:, 0], np.ones(window, np.int64), "valid")
    p = detector.params_of(sm)
    p.threshold_sum = int(np.quantile(sums, threshold_quantile, method="lower"))
    sm.meta[detector.META_KEY] = p.to_meta()
    return sm
