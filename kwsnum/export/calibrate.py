"""Export stage 2: the calibration data and its option, and the range of every tensor that becomes a kwsnum
tensor (an fx Interpreter over the calibration set, CALIB_CHUNK samples at a time)."""
import numpy as np

from ..errors import ExportError

CALIB_CHUNK = 64


class RangeStats:
    """Range of one tensor over the calibration set."""

    def __init__(self, pct):
        self.pct = pct
        self.lo, self.hi = np.inf, -np.inf
        self.absvals = []

    def update(self, name, t):
        a = t.detach().cpu().float()
        if a.numel() == 0:
            raise ExportError(f"fx node {name!r} produces an empty tensor {tuple(a.shape)} (e.g. an empty slicing)")
        if not bool(a.isfinite().all()):
            raise ExportError(f"calibration produced non-finite values at fx node {name!r}")
        self.lo = min(self.lo, float(a.min()))
        self.hi = max(self.hi, float(a.max()))
        if self.pct is not None:
            self.absvals.append(a.abs().reshape(-1).numpy().copy())

    def range(self):
        if self.pct is None:
            return self.lo, self.hi
        a = float(np.percentile(np.concatenate(self.absvals).astype(np.float64), self.pct))
        return max(self.lo, -a), min(self.hi, a)


def calibrate(torch, gm, wanted, data, pct):
    stats = {n: RangeStats(pct) for n in wanted}

    class Rec(torch.fx.Interpreter):
        def run_node(self, n):
            r = super().run_node(n)
            if n in stats:
                stats[n].update(n.name, r)
            return r

    interp = Rec(gm)
    with torch.no_grad():
        for i in range(0, data.shape[0], CALIB_CHUNK):
            interp.run(data[i:i + CALIB_CHUNK])
    return {n: s.range() for n, s in stats.items()}


def as_tensor(torch, x, what):
    if x is None:
        return None
    if isinstance(x, torch.Tensor):
        t = x.detach().cpu()
    else:
        t = torch.as_tensor(np.asarray(x))
    if not t.is_floating_point() and t.dtype not in (torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8):
        raise ExportError(f"{what} must be a numeric tensor/array, got {t.dtype}")
    return t.to(torch.float32).contiguous()


def parse_calibration(calibration):
    if calibration == "minmax":
        return None, "minmax"
    if isinstance(calibration, (tuple, list)) and len(calibration) == 2 and calibration[0] == "percentile":
        p = float(calibration[1])
        if not 0.0 < p <= 100.0:
            raise ExportError(f"percentile must be in (0, 100], got {p}")
        return p, f"percentile:{p:g}"
    raise ExportError(f"calibration must be 'minmax' or ('percentile', p), got {calibration!r}")
