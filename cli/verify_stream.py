"""``kwsnum verify MODEL DATA... --stream`` (called by cli/main.py's ``verify``): each .wav (or .npy of input frames
(channels, T)) of DATA is one continuous stream from the reset, verified over every step by
kwsnum.verify_stream.StreamGate; this module only reads the files, shows progress and prints. A progress bar goes
to stderr for long streams, only when stderr is a terminal (as ``kwsnum stream``). Exit code 1 on any
disagreement; errors are one line, exit 2.
"""
import sys

import click
import numpy as np

from kwsnum.errors import InputError, KwsnumError
from kwsnum.text import printable

from .wavinput import read_wav_samples

LONG_STEPS = 2000             # streams with more steps get a progress bar (on a terminal)


def _signal(path, m, resample, mix):
    """int16 PCM of a .wav (at the frontend's rate), or the array of a .npy (PCM (samples,) or frames)."""
    if path.lower().endswith(".wav"):
        if m.frontend is None:
            raise InputError("the model has no frontend: a stream of a model without one is a .npy of its input "
                             "frames (channels, T)", file=path)
        return read_wav_samples(path, m.frontend, resample=resample, mix=mix)
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise InputError(f"cannot read the .npy file: {e}", file=path) from None


def verify_stream(m, model_path, files, no_torch, no_c, keep_c, chunk, resample=False, mix=False):
    from kwsnum import streaming
    from kwsnum.verify_stream import StreamGate, check
    try:
        check(m)
    except KwsnumError as e:
        raise e.with_file(model_path) from None
    tty = sys.stderr.isatty()
    results = []

    def load(path):
        try:
            return _signal(path, m, resample, mix)
        except KwsnumError as e:
            raise e.with_file(path) if getattr(e, "file", None) is None else e
    first = load(files[0])          # a bad first file fails before the C build
    i = streaming.info(m)
    click.echo(f"kwsnum verify --stream: {printable(model_path, None)}: {len(m.nodes)} layers, step {i['step']} "
               f"frames, window {i['window']} frames, warm-up {i['warmup']} steps, state "
               f"{streaming.state_bytes(m)} B; {len(files)} stream(s)", err=True)
    with StreamGate(m, use_torch=not no_torch, use_c=not no_c, c_dir=keep_c, chunk=chunk) as gate:
        for n, path in enumerate(files):
            x = first if n == 0 else load(path)
            bar = [None]

            def progress(done, total, bar=bar, path=path):
                if bar[0] is None and tty and total > LONG_STEPS:
                    bar[0] = click.progressbar(length=total, label=printable(path, None)[-40:], file=sys.stderr)
                    bar[0].__enter__()
                if bar[0] is not None:
                    bar[0].update(done - bar[0].pos)
            try:
                res = gate.run(x, name=path, progress=progress)
            except KwsnumError as e:
                raise e.with_file(path) if getattr(e, "file", None) is None else e
            finally:
                if bar[0] is not None:
                    bar[0].__exit__(None, None, None)
            for line in res.lines():
                click.echo(line)
            results.append(res)
    steps = sum(r.steps for r in results)
    ok = all(r.ok for r in results)
    click.echo(f"{len(results)} stream(s), {steps} steps through {', '.join(gate.impls)}: " +
               ("PASS: every pair agrees on every step and the detections are the same" if ok else
                "FAIL: the implementations disagree (see above)"))
    if not ok:
        sys.exit(1)


__all__ = ["verify_stream"]
