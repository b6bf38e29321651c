"""The bundled default: a DS-CNN (width 64, log-mel 1x64x101, int8) trained on the multi-synthesizer synthetic
Speech Commands set (kwsnum.data.synth: espeak-ng, festival, flite and Piper, acoustically augmented), and one
held-out test clip per class (clips/<label>.wav), from a rotation over the four synthesizers.

Made with:
    python -m kwsnum.data.synth /tmp/sc_mix --per-word 200
    python -m kwsnum.train /tmp/sc_mix --model ds_cnn --width 64 --epochs 12 --max-minutes 45 --threads 1 \
        --augment-copies 1 --out /tmp/def_aug
    python bench/bundle_default.py /tmp/def_aug /tmp/sc_mix
(speaker-disjoint test split of that set: float 83.0 %, int8 oracle 82.6 %; docs/training.md "The bundled
default". The espeak-only model before it: docs/training.md, held-out-synthesizer protocol.)
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def model_path():
    return os.path.join(HERE, "ds_cnn_int8.h5")


def clips():
    """[(path, expected label)] of the bundled clips, sorted by file name."""
    d = os.path.join(HERE, "clips")
    return [(os.path.join(d, f), f[:-4]) for f in sorted(os.listdir(d)) if f.endswith(".wav")]
