"""The bundled default: a DS-CNN (width 64, log-mel 1x64x101, int8) trained on the synthetic Speech Commands
set (kwsnum.data.synth), and one held-out test clip per class (clips/<label>.wav).

Made with:
    python -m kwsnum.data.synth /tmp/sc --per-word 200
    python -m kwsnum.train /tmp/sc --model ds_cnn --width 64 --epochs 40 --max-minutes 10 --threads 2 --out /tmp/tr_ds64
(test split of the synthetic set: float 97.1 %, int8 oracle 97.1 %, all 12 classes predicted; docs/training.md).
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def model_path():
    return os.path.join(HERE, "ds_cnn_int8.h5")


def clips():
    """[(path, expected label)] of the bundled clips, sorted by file name."""
    d = os.path.join(HERE, "clips")
    return [(os.path.join(d, f), f[:-4]) for f in sorted(os.listdir(d)) if f.endswith(".wav")]
