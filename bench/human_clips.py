"""What KWS models say about real human speech: the ALSA speaker-test recordings ("Front Left", "Rear Right", ...).

    python bench/human_clips.py MODEL.h5 [MODEL.h5 ...] [--dir /usr/share/sounds/alsa]

The Debian package alsa-utils ships /usr/share/sounds/alsa/{Front,Rear,Side}_{Left,Right,Center}.wav: one person
saying the channel name, 48 kHz mono, 1.3-1.5 s. They are GPL-2 (alsa-utils), so kwsnum does not ship them; this
script reads them where they are installed (apt-get install alsa-utils). Each file is resampled to 16 kHz
(kwsnum.wav.read_wav(resample=True), i.e. `kwsnum run --resample`) and classified twice: "whole" = what
`kwsnum run --resample FILE` gives (the frontend keeps the first second), "keyword" = the last second of the clip,
which holds the second word ("left", "right" or "center"). Expected: left / right for the *_Left / *_Right files,
unknown for *_Center ("front", "rear", "side" and "center" are not keywords). Prints one line per file and window.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from kwsnum import load  # noqa: E402
from kwsnum.interpreter import softmax  # noqa: E402
from kwsnum.wav import read_wav  # noqa: E402


def expected(name):
    low = name.lower()
    return "left" if "left" in low else "right" if "right" in low else "unknown"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("models", nargs="+")
    p.add_argument("--dir", default="/usr/share/sounds/alsa")
    a = p.parse_args(argv)
    if not os.path.isdir(a.dir):
        print(f"{a.dir}: not found (apt-get install alsa-utils)")
        return 1
    files = sorted(f for f in os.listdir(a.dir) if f.endswith(".wav") and f != "Noise.wav")
    for mp in a.models:
        m = load(mp)
        fe = m.frontend
        hits = {"whole": 0, "keyword": 0}
        print(f"== {mp}")
        for f in files:
            x, _ = read_wav(os.path.join(a.dir, f), expected_rate=fe.sample_rate, resample=True)
            windows = {"whole": x, "keyword": x[-fe.clip_samples:]}
            cells = []
            for k, w in windows.items():
                s = softmax(np.asarray(m.run(fe.compute(w)[None])).reshape(1, -1).astype(np.float64))[0] \
                    if m.labels else None
                top = int(np.argmax(s))
                lab = m.labels[top]
                hits[k] += lab == expected(f)
                cells.append(f"{k}: {lab} {s[top]:.2f}")
            print(f"{f:18s} expected {expected(f):8s} " + "  ".join(cells))
        print(f"correct: whole {hits['whole']}/{len(files)}, keyword window {hits['keyword']}/{len(files)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
