"""kwsnum's micro frontend vs pymicro-features (TFLM's microfrontend C code) on every clip of a folder of WAVs.

    python bench/micro_pymicro.py DIR [--limit N]     # e.g. the synthetic set: python -m kwsnum.data.synth /tmp/sc

Every 16-bit mono 16 kHz WAV under DIR (recursively, _background_noise_ included) goes through a fresh
pymicro-features frontend (160-sample chunks) and a fresh kwsnum Stream (one push); every value of every
frame is compared (pymicro-features' floats are uint16 * 0.0390625, checked to be exact multiples). Prints
the minutes of audio, clips, frames and values compared, and the differences (expected: none).
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--limit", type=int, default=None)
    a = ap.parse_args()
    from kwsnum.micro import MicroFrontend, Stream
    from kwsnum.wav import read_wav
    from tests.test_micro_pymicro import reference
    fe = MicroFrontend.microwakeword()
    files = sorted(os.path.join(r, f) for r, _, fs in os.walk(a.dir) for f in fs if f.lower().endswith(".wav"))
    files = files[:a.limit] if a.limit else files
    t0 = time.time()
    samples = frames = values = bad_clips = bad_values = 0
    for f in files:
        x, _ = read_wav(f)
        ref = reference(x)
        ours = Stream(fe).push(x).astype(np.int64)
        samples += x.shape[0]
        frames += ref.shape[0]
        values += ref.size
        if ours.shape != ref.shape or not np.array_equal(ours, ref):
            bad_clips += 1
            bad_values += ref.size if ours.shape != ref.shape else int((ours != ref).sum())
            print(f"DIFFERS: {f}")
    print(f"{len(files)} clips, {samples / 16000 / 60:.1f} minutes of audio, {frames} frames, {values} values "
          f"compared with pymicro-features: {bad_clips} clips / {bad_values} values differ ({time.time() - t0:.0f} s)")
    return 1 if bad_clips else 0


if __name__ == "__main__":
    sys.exit(main())
