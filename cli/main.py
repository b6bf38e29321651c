"""The ``kwsnum`` command line: run, inspect.

Every user error prints one line ``kwsnum: error: ...`` and exits with code 2; no traceback
(set KWSNUM_DEBUG=1 to see one). Nothing here imports torch.
"""
import json
import os
import shutil
import sys
import tempfile

import click
import numpy as np

from ..errors import KwsnumError, InputError


def fail(message, code=2):
    click.echo(f"kwsnum: error: {message}", err=True)
    sys.exit(code)


def _load(path):
    from .. import load
    return load(path)


INPUT_TYPES = (".npy", ".wav")


def _collect_inputs(paths):
    """Expand INPUT arguments: .npy / .wav files, or folders (their .npy and .wav files, sorted)."""
    files = []
    for p in paths:
        if os.path.isdir(p):
            found = sorted(os.path.join(p, f) for f in os.listdir(p) if f.lower().endswith(INPUT_TYPES))
            if not found:
                raise InputError("folder holds no .npy or .wav files", file=p)
            files += found
        elif not os.path.exists(p):
            raise InputError("no such file", file=p)
        elif not p.lower().endswith(INPUT_TYPES):
            raise InputError("inputs must be .npy or .wav files (or folders of them)", file=p)
        else:
            files.append(p)
    return files


def _read_input(path, model):
    if path.lower().endswith(".wav"):
        return _read_wav(path, model)
    return _read_npy(path, model)


def _read_wav(path, model):
    from ..wav import read_wav
    fe = model.frontend
    if fe is None:
        raise InputError("the model stores no audio frontend, so it cannot take .wav files; give features as .npy",
                         file=path)
    samples, _ = read_wav(path, expected_rate=fe.sample_rate)
    return model.check_input(fe.compute(samples)[None])


def _read_npy(path, model):
    try:
        x = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as e:
        raise InputError(f"not a readable .npy file ({e})", file=path) from None
    try:
        return model.check_input(x)
    except KwsnumError as e:
        raise e.with_file(path) from None


@click.group(context_settings=dict(help_option_names=["-h", "--help"]))
@click.version_option(package_name="kwsnum", prog_name="kwsnum")
def cli():
    """kwsnum: bit-exact integer execution of keyword-spotting networks (oracle, C, PyTorch)."""


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Print results as JSON.")
@click.option("--trace", "trace_dir", type=click.Path(file_okay=False),
              help="Write every layer's output tensor to DIR (one .npy per tensor, plus index.json).")
@click.option("--top", default=1, show_default=True, help="How many classes to report per input.")
def run(paths, as_json, trace_dir, top):
    """Run a model with the oracle: kwsnum run [MODEL.h5] [INPUT...]

    MODEL is an exported .h5 (default: the bundled DS-CNN). INPUTs are .npy files (one sample of the model's
    input shape, or a batch), .wav clips (16-bit mono, through the frontend stored in the model), or folders of
    them. With no INPUT, the bundled model classifies its bundled clips and prints the expected label too.
    """
    from ..interpreter import softmax
    from .. import default
    paths = list(paths)
    if paths and paths[0].lower().endswith((".h5", ".hdf5")):
        model = paths.pop(0)
    else:
        model = default.model_path()
    expected = {}
    if not paths:
        if model != default.model_path():
            raise InputError("give INPUT files (.npy or .wav) to run the model on")
        for path, label in default.clips():
            paths.append(path)
            expected[path] = label
    m = _load(model)
    files = _collect_inputs(paths)
    batches = [(f, _read_input(f, m)) for f in files]
    x = np.concatenate([b for _, b in batches], axis=0)
    result = m.run(x, trace=bool(trace_dir))
    logits = result[m.outputs[0]] if trace_dir else result
    flat = logits.reshape(len(x), -1)
    scores = softmax(flat) if flat.dtype.kind == "f" else None
    labels = m.labels or [str(i) for i in range(flat.shape[1])]
    records, k = [], 0
    for f, b in batches:
        for j in range(len(b)):
            s = scores[k] if scores is not None else flat[k].astype(np.float64)
            order = np.argsort(-s, kind="stable")[:max(1, top)]
            rec = dict(input=f, index=j, predictions=[
                dict(label=labels[c], class_index=int(c), score=float(s[c])) for c in order],
                output=flat[k].tolist())
            if f in expected:
                rec["expected"] = expected[f]
            records.append(rec)
            k += 1
    if trace_dir:
        _write_trace(m, result, trace_dir)
    if as_json:
        click.echo(json.dumps(dict(model=model, results=records), indent=1))
        return
    multi = any(len(b) > 1 for _, b in batches)
    for r in records:
        name = f"{r['input']}[{r['index']}]" if multi else r["input"]
        if expected:
            name = f"{os.path.basename(name)}\texpected {r['expected']}"
        preds = "  ".join(f"{p['label']} {p['score']:.3f}" for p in r["predictions"])
        click.echo(f"{name}\t{preds}")
    if expected:
        hits = sum(r["predictions"][0]["label"] == r["expected"] for r in records)
        click.echo(f"{hits}/{len(records)} bundled clips classified as expected by {os.path.basename(model)}", err=True)
    if trace_dir:
        click.echo(f"trace: {len(m.tensors)} tensors written to {trace_dir}", err=True)


def _write_trace(model, values, trace_dir):
    """Write the trace into a temporary folder next to DIR, then move it into place."""
    parent = os.path.dirname(os.path.abspath(trace_dir))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".kwsnum-trace-", dir=parent)
    try:
        index = []
        order = [(None, model.inputs[0])] + [(n, n.outputs[0]) for n in model.nodes]
        for i, (node, t) in enumerate(order):
            spec = model.tensors[t]
            fname = f"{i:03d}_{''.join(c if c.isalnum() or c in '-_' else '_' for c in t)}.npy"
            np.save(os.path.join(tmp, fname), values[t])
            index.append(dict(file=fname, tensor=t, layer=node.name if node else None, op=node.op if node else
                              "input", shape=list(values[t].shape), format=spec.format, scale=spec.scale,
                              zero_point=spec.zero_point))
        with open(os.path.join(tmp, "index.json"), "w") as fh:
            json.dump(index, fh, indent=1)
        if os.path.exists(trace_dir):
            shutil.rmtree(trace_dir)
        os.replace(tmp, trace_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


@cli.command()
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def inspect(model, as_json):
    """Show MODEL's layers: shapes, formats, parameters, MACs, weight bytes, peak activation bytes."""
    from ..report import summary, format_table
    info = summary(_load(model))
    if as_json:
        click.echo(json.dumps(info, indent=1))
    else:
        click.echo(format_table(info))


from ..codegen.cli import codegen_command  # noqa: E402  (no torch; numpy/click only)

cli.add_command(codegen_command, "codegen")


def main(argv=None):
    try:
        cli.main(args=argv, prog_name="kwsnum", standalone_mode=False)
    except KwsnumError as e:
        fail(str(e))
    except click.exceptions.Abort:
        fail("aborted", code=130)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except Exception as e:  # an internal error: one line, unless debugging
        if os.environ.get("KWSNUM_DEBUG"):
            raise
        fail(f"internal error: {type(e).__name__}: {e} (set KWSNUM_DEBUG=1 for a traceback)", code=3)
    sys.exit(0)


if __name__ == "__main__":
    main()
