"""Keyword-spotting data: a Speech Commands v2 loader and a synthetic generator (espeak-ng, festival, flite, Piper).

``from kwsnum.data import load_split, load_audio, LABELS``; ``kwsnum.data.synth.generate``
(or ``python -m kwsnum.data.synth OUT_DIR``) makes a synthetic dataset in the same layout.
See docs/data.md.
"""
from .speech_commands import (LABELS, Item, label_of, load_arrays, load_audio, load_split,
                              speaker_of)

__all__ = ["LABELS", "Item", "label_of", "load_arrays", "load_audio", "load_split", "speaker_of"]
