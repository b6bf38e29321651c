"""The bundled default: a DS-CNN (width 64, log-mel 1x64x101, int8) trained on the multi-synthesizer synthetic
Speech Commands set (kwsnum.data.synth: espeak-ng, festival, flite and Piper, acoustically augmented), and one
held-out test clip per class (clips/<label>.wav), from a rotation over the four synthesizers.

Made with (the recipe the held-out-synthesizer protocol favours: every synthesizer, no training-time copies):
    python -m kwsnum.data.synth /tmp/sc_mix --per-word 200 --jobs 2
    python -m kwsnum.train /tmp/sc_mix --model ds_cnn --width 64 --epochs 40 --batch-size 32 --threads 1 \
        --out /tmp/def_mix
    python bench/bundle_default.py /tmp/def_mix /tmp/sc_mix
(speaker-disjoint test split of that set: float 87.0 %, int8 oracle 87.0 %; docs/training.md "The bundled
default". The models before it: docs/training.md, held-out-synthesizer protocol.)

The bundled wake-word model (``wakeword_int8.h5``): a streaming int8 TemporalConvNet ("hey kiwi" vs everything
else) with its micro frontend and detector inside, for ``kwsnum stream``, and a demo recording
(``wakeword/demo.wav``, its inserted positive in ``wakeword/demo.csv``) said by test speakers of its training set;
how both were made: docs/training.md, "Wake-word model".
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def model_path():
    return os.path.join(HERE, "ds_cnn_int8.h5")


def clips():
    """[(path, expected label)] of the bundled clips, sorted by file name."""
    d = os.path.join(HERE, "clips")
    return [(os.path.join(d, f), f[:-4]) for f in sorted(os.listdir(d)) if f.endswith(".wav")]


def wakeword_model_path():
    """The bundled streaming wake-word model (kwsnum stream)."""
    return os.path.join(HERE, "wakeword_int8.h5")


def wakeword_demo():
    """(demo WAV path, [(start, end, speaker)] of the wake phrases inserted in it)."""
    from ..data.wakeword import read_events
    d = os.path.join(HERE, "wakeword")
    return os.path.join(d, "demo.wav"), read_events(os.path.join(d, "demo.csv"))
