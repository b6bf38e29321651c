"""``kwsnum features WAV... [--frontend micro|logmel|mfcc] [--model MODEL] [-o OUT.npy] [--json] [--quantized]
[--resample] [--mix]``
(registered by cli/main.py as ``cli.add_command(features_command, "features")``).

The features a model would see for each clip: for kind ``micro`` the uint16 frames of TFLM's microfrontend
(before ``out_scale``), for ``logmel`` / ``mfcc`` the float32 model input; ``--quantized`` (with ``--model``):
the int8 / int16 model input after the model's first node (``quantize``). Errors (bad WAVs, a frontend that
does not fit, another sample rate without ``--resample``, stereo without ``--mix``: cli/wavinput.py, shared with
``kwsnum run``) are one line, exit 2. Nothing here imports torch.
"""
import json
import os

import click
import numpy as np

from kwsnum.errors import InputError

from .wavinput import read_wav_samples, wav_options

PRESETS = ("micro", "logmel", "mfcc")


def _preset(kind):
    from kwsnum.frontend import Frontend
    if kind == "micro":
        from kwsnum.micro import MicroFrontend
        return MicroFrontend.microwakeword()
    return Frontend.logmel() if kind == "logmel" else Frontend.mlperf_mfcc()


def _quantizer(model):
    """x (N, *input shape) float32 -> the output of the model's first node, which must be a quantize."""
    node = model.nodes[0]
    if node.op != "quantize":
        raise InputError(f"--quantized: the model's first node is {node.op!r}, not a quantize (its input is "
                         f"already what the frontend gives)")

    def q(x):
        return model.run(x, trace=True)[node.outputs[0]]
    return q


@click.command("features")
@click.argument("wavs", nargs=-1, required=True, type=click.Path())
@click.option("--frontend", "kind", type=click.Choice(PRESETS), default=None,
              help="Frontend preset: micro (microWakeWord's TFLM microfrontend), logmel, mfcc (MLPerf). "
                   "Default: the model's frontend with --model, else micro.")
@click.option("--model", "model_path", type=click.Path(dir_okay=False),
              help="Use the frontend stored in this model (.h5).")
@click.option("-o", "--out", "out", type=click.Path(dir_okay=False),
              help="Write the features of all clips to this .npy, stacked (N, ...).")
@click.option("--json", "as_json", is_flag=True, help="Print the features as JSON (one record per clip).")
@click.option("--quantized", is_flag=True, help="With --model: the model's quantized input instead.")
@wav_options
def features_command(wavs, kind, model_path, out, as_json, quantized, resample, mix):
    """Compute a frontend's features for WAV clips (16-bit PCM mono at the frontend's sample rate; --resample and
    --mix convert others)."""
    model = None
    if model_path:
        from kwsnum import load
        model = load(model_path)
        if model.frontend is None:
            raise InputError("the model stores no audio frontend", file=model_path)
        fe = model.frontend
        if kind is not None and kind != fe.kind:
            raise InputError(f"--frontend {kind} does not match the model's frontend ({fe.kind})", file=model_path)
    else:
        if quantized:
            raise InputError("--quantized needs --model (the quantization is the model's input node)")
        fe = _preset(kind or "micro")
    if out and not out.lower().endswith(".npy"):
        raise InputError("the output must be a .npy file", file=out)
    q = _quantizer(model) if quantized else None
    feats = []
    for w in wavs:
        if os.path.isdir(w):
            raise InputError("is a directory, expected a WAV file", file=w)
        samples = read_wav_samples(w, fe, resample=resample, mix=mix)
        if q is not None:
            f = q(model.check_input(fe.compute(samples)[None]))[0]
        elif fe.kind == "micro":
            f = fe.features(samples)
        else:
            f = fe.compute(samples)
        feats.append(f)
    if out:
        arr = np.stack(feats)
        tmp = out + ".tmp.npy"
        np.save(tmp, arr)
        os.replace(tmp, out)
    if as_json:
        click.echo(json.dumps([dict(file=w, shape=list(f.shape), dtype=str(f.dtype), features=f.tolist())
                               for w, f in zip(wavs, feats)]))
    elif not out:
        click.echo(f"frontend: {fe.describe()}")
        for w, f in zip(wavs, feats):
            click.echo(f"{w}: {f.dtype} {tuple(f.shape)} min {f.min():g} max {f.max():g} mean {f.mean():.6g}")
    else:
        click.echo(f"wrote {out}: {len(feats)} x {tuple(feats[0].shape)} {feats[0].dtype} ({fe.describe()})")
