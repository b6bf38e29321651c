"""``kwsnum stream MODEL WAV... [--json] [--threshold P] [--window N] [--refractory N] [--resample] [--mix]``
(registered by cli/main.py as ``cli.add_command(stream_command, "stream")``).

Streams each WAV through a streaming model's stored frontend, the model and its detector (kwsnum/listen.py,
docs/numerics.md 12.6) and prints every detection: file, time in seconds (the end of the detecting step), label,
smoothed score. A progress bar goes to stderr for long files, only when stderr is a terminal. Errors are one line,
exit 2. Nothing here imports torch.
"""
import json
import sys

import click
import numpy as np

from kwsnum.errors import KwsnumError

from .wavinput import read_wav_samples, wav_options

CHUNK = 16000 * 10            # samples per push (the result does not depend on it)
LONG = 16000 * 60             # files longer than this get a progress bar (on a terminal)


def _stream_file(lis, path, samples, bar):
    lis.reset()
    out = []
    for i in range(0, len(samples), CHUNK):
        out += lis.push(samples[i:i + CHUNK])
        if bar is not None:
            bar.update(min(CHUNK, len(samples) - i))
    return out


@click.command("stream")
@click.argument("model", type=click.Path(dir_okay=False))
@click.argument("wavs", nargs=-1, required=True, type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="One JSON record per detection (file, step, time, label, "
                                                      "score, sum).")
@click.option("--threshold", type=float, default=None, help="Detection threshold on the smoothed real score "
                                                             "(default: the model's stored detector).")
@click.option("--window", type=int, default=None, help="Steps in the moving average (default: stored).")
@click.option("--refractory", type=int, default=None, help="Minimum steps between two detections (default: stored).")
@wav_options
def stream_command(model, wavs, as_json, threshold, window, refractory, resample, mix):
    """Detect the wake word in long WAV files with a streaming model (its frontend and detector are stored in
    MODEL). Time = the end of the detecting step, in seconds from the start of the file."""
    from kwsnum import load, listen
    from kwsnum.text import printable
    m = load(model)
    try:
        lis = listen.Listener(m, threshold=threshold, window=window, refractory=refractory)
    except KwsnumError as e:
        raise e.with_file(model) from None
    fe = m.frontend
    tty = sys.stderr.isatty()
    total = 0
    for path in wavs:
        try:
            samples = read_wav_samples(path, fe, resample=resample, mix=mix)
        except KwsnumError as e:
            raise e.with_file(path) if getattr(e, "file", None) is None else e
        samples = np.ascontiguousarray(samples, np.int16)
        if tty and len(samples) > LONG:
            with click.progressbar(length=len(samples), label=printable(path, None)[-40:], file=sys.stderr) as bar:
                dets = _stream_file(lis, path, samples, bar)
        else:
            dets = _stream_file(lis, path, samples, None)
        total += len(dets)
        for d in dets:
            if as_json:
                click.echo(json.dumps(dict(file=path, step=d.step, time=round(d.time, 6), label=d.label,
                                           index=d.index, score=d.score, sum=d.sum)))
            else:
                click.echo(f"{printable(path, None)}\t{d.time:.3f}\t{printable(d.label, None)}\t{d.score:.4f}")
    if not as_json:
        click.echo(f"kwsnum stream: {total} detection(s) in {len(wavs)} file(s)", err=True)


__all__ = ["stream_command"]
