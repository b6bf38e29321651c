"""Copy a trained DS-CNN and one held-out test clip per class into kwsnum/default/ (the bundled default).

    python bench/bundle_default.py TRAIN_OUT_DIR DATA_DIR

TRAIN_OUT_DIR: a `kwsnum.train` output (its ds_cnn_int8.h5 is loaded and saved with kwsnum.save, integrity digest
included); DATA_DIR: the generated folder it was
trained on. The clips: for class k of LABELS (silence first), the first clip (by path) of the test split spoken
by synthesizer SYNTHS[k % n] (a rotation over the synthesizers present, so that the bundle mixes them), and for
silence the test split's first silence item; chosen by this rule only, not by whether the model gets them
right (`kwsnum run` prints how many it does).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import kwsnum  # noqa: E402
from kwsnum.data import LABELS, load_audio, load_split, speaker_of  # noqa: E402
from kwsnum.data.synth import read_speakers  # noqa: E402
from kwsnum.wav import write_wav  # noqa: E402

ORDER = ["espeak", "festival", "flite", "piper"]


def main(argv=None):
    train_out, data = (sys.argv[1:] if argv is None else argv)[:2]
    dest = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "kwsnum", "default")
    table = read_speakers(data)
    synths = [s for s in ORDER if any(sp.synth == s for sp, _ in table.values())]
    items = load_split(data, "test")
    clips_dir = os.path.join(dest, "clips")
    for f in os.listdir(clips_dir):
        if f.endswith(".wav"):
            os.remove(os.path.join(clips_dir, f))
    for k, label in enumerate(LABELS):
        if label == "silence":
            it = next(it for it in items if it[1] == 0)
            src = "silence item 0 of the test split"
        else:
            want = synths[k % len(synths)]
            cand = sorted((it for it in items if it[1] == k and it[0] is not None
                           and table[speaker_of(it[0])][0].synth == want), key=lambda it: it[0])
            it = cand[0]
            src = f"{os.path.relpath(it[0], data)} ({table[speaker_of(it[0])][0]})"
        write_wav(os.path.join(clips_dir, label + ".wav"), load_audio(it))
        print(f"{label}: {src}")
    # loaded (every check of kwsnum.load) and written again by kwsnum.save, which stores the integrity digest
    kwsnum.save(kwsnum.load(os.path.join(train_out, "ds_cnn_int8.h5")), os.path.join(dest, "ds_cnn_int8.h5"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
