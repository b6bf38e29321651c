"""The ``kwsnum`` command line: run, inspect, verify (and codegen, from codegen/cli.py).

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


def _read_input(path, model, resample=False, mix=False):
    if path.lower().endswith(".wav"):
        return _read_wav(path, model, resample=resample, mix=mix)
    return _read_npy(path, model)


def _read_wav(path, model, resample=False, mix=False):
    from ..wav import read_wav
    fe = model.frontend
    if fe is None:
        raise InputError("the model stores no audio frontend, so it cannot take .wav files; give features as .npy",
                         file=path)
    notes = []
    samples, _ = read_wav(path, expected_rate=fe.sample_rate, resample=resample, mix=mix, notes=notes)
    for n in notes:
        click.echo(f"kwsnum: note: {n}", err=True)
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
@click.option("--resample", is_flag=True,
              help="Convert .wav files at another sample rate to the model's (scipy.signal.resample_poly).")
@click.option("--mix", is_flag=True, help="Average the channels of multi-channel .wav files to mono.")
def run(paths, as_json, trace_dir, top, resample, mix):
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
    batches = [(f, _read_input(f, m, resample=resample, mix=mix)) for f in files]
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


def _dataset(paths, model, split, limit):
    """[(source name, loader)] for DATA: a Speech Commands-style folder (one split, through kwsnum.data), or
    .npy / .wav files and folders. Each loader returns a (n, *input shape) batch. Also the expected label per
    sample (or None) when the data says it."""
    sc = [p for p in paths if os.path.isdir(p) and any(os.path.exists(os.path.join(p, f)) for f in
                                                        ("testing_list.txt", "validation_list.txt"))]
    items = []
    if sc:
        if len(paths) != 1:
            raise InputError("give one Speech Commands-style folder, or files and plain folders")
        from ..data import LABELS, load_audio, load_split
        fe = model.frontend
        if fe is None:
            raise InputError("the model stores no audio frontend, so it cannot take a folder of .wav clips",
                             file=model.path if hasattr(model, "path") else None)
        split_items = load_split(paths[0], split, balance_unknown=True)
        for it in split_items:
            label = LABELS[it.label]
            name = it.path if it.path is not None else f"<{label} from background noise>"
            items.append((name, label, lambda it=it: model.check_input(fe.compute(load_audio(it))[None])))
    else:
        labels = set(model.labels or ())
        for f in _collect_inputs(paths):
            folder = os.path.basename(os.path.dirname(os.path.abspath(f)))
            items.append((f, folder if folder in labels else None, lambda f=f: _read_input(f, model)))
    if limit is not None and 0 < limit < len(items):
        keep = np.unique(np.linspace(0, len(items) - 1, limit).round().astype(int))
        items = [items[i] for i in keep]
    return items


@cli.command()
@click.argument("model", type=click.Path(dir_okay=False))
@click.argument("data", nargs=-1, required=True, type=click.Path())
@click.option("--split", default="test", show_default=True, type=click.Choice(["train", "validation", "test"]),
              help="Which split of a Speech Commands-style folder to use.")
@click.option("--limit", type=int, default=None, help="Use N inputs spread evenly over DATA.")
@click.option("--trace", is_flag=True, help="Compare every layer's output in every pair (C through its trace "
                                            "build) and name the first layer where two implementations differ.")
@click.option("--no-torch", is_flag=True, help="Leave out the PyTorch reference (no torch needed).")
@click.option("--no-c", is_flag=True, help="Leave out the generated C.")
@click.option("--keep-c", type=click.Path(file_okay=False), default=None,
              help="Generate the C project into this folder (replaced) and keep it.")
@click.option("--batch", type=int, default=64, show_default=True, help="Samples per batch.")
def verify(model, data, split, limit, trace, no_torch, no_c, keep_c, batch):
    """Three-way gate: the PyTorch reference, the oracle and the generated C on every input of DATA.

    DATA: a Speech Commands-style folder (its --split, read through the model's stored frontend), or .npy /
    .wav files and folders of them. Prints each pair's agreement (integers exact, oracle vs C bit-exact,
    PyTorch float vs oracle float32 within the tolerance of docs/numerics.md), the distribution of predicted
    classes and, for labelled data, the accuracy. Exit code 1 on any disagreement.
    """
    from ..verify import Gate
    m = _load(model)
    items = _dataset(list(data), m, split, limit)
    if not items:
        raise InputError("DATA holds no inputs")
    if not no_torch:
        try:
            import torch  # noqa: F401
        except ImportError:
            raise InputError("the PyTorch reference needs torch (pip install 'kwsnum[torch]'), or pass --no-torch") \
                from None
    fmt = m.tensors[m.outputs[0]].format
    click.echo(f"kwsnum verify: {model}: {len(m.nodes)} layers, input {m.input.format} "
               f"{tuple(m.input.shape)}, output {fmt} {tuple(m.output.shape)}; {len(items)} input files", err=True)
    with Gate(m, use_torch=not no_torch, use_c=not no_c, trace=trace, c_dir=keep_c) as gate:
        bs = max(1, min(batch, gate.batch_size(batch)))
        names, expected = [], []
        with click.progressbar(length=len(items), label="verifying", file=sys.stderr) as bar:
            for i in range(0, len(items), bs):
                chunk = items[i:i + bs]
                xs = [load() for _, _, load in chunk]
                for (name, label, _), xb in zip(chunk, xs):
                    names += [name] * len(xb)
                    expected += [label] * len(xb)
                gate.add(np.concatenate(xs, axis=0))
                bar.update(len(chunk))
        res = gate.result()
    _print_gate(m, res, names, expected)
    if not res.ok:
        sys.exit(1)


def _print_gate(m, res, names, expected):
    click.echo(f"{res.n} samples through {', '.join(res.impls)}")
    width = max((len(p.title()) for p in res.pairs), default=0)
    for p in res.pairs:
        word = "bit-exact" if p.rule == "exact" else "agree"
        rule = "" if p.rule == "exact" else f"; {p.rule_text()}"
        click.echo(f"  {p.title():<{width}} : {p.n_agree}/{p.n} {word}  ({p.compared}{rule})")
        if not p.ok:
            click.echo(f"    first disagreeing sample: {p.first_sample} ({names[p.first_sample]})")
            layer = p.first_layer
            if layer is not None:
                click.echo(f"    first differing {layer.describe((p.a, p.b))}")
            elif p.compared == "outputs":
                click.echo("    (rerun with --trace to name the first layer where they differ)")
    labels = m.labels or [str(i) for i in range(m.output.size)]
    counts = np.bincount(res.predicted, minlength=len(labels))
    dist = ", ".join(f"{labels[c]} {n}" for c, n in enumerate(counts) if n)
    n_cls = int(np.count_nonzero(counts))
    click.echo(f"predicted classes (oracle, {n_cls}/{len(labels)} classes): {dist}")
    if res.n and n_cls == 1:
        click.echo("warning: every input is predicted as one class (a degenerate model, or unrepresentative data)")
    known = [(int(p), e) for p, e in zip(res.predicted, expected) if e is not None and e in labels]
    if known:
        hits = sum(labels[p] == e for p, e in known)
        click.echo(f"accuracy against the data's labels (oracle): {100 * hits / len(known):.1f} % "
                   f"({hits}/{len(known)})")
    click.echo("PASS: every pair agrees" if res.ok else "FAIL: the implementations disagree (see above)")


@cli.command(context_settings=dict(ignore_unknown_options=True, allow_extra_args=True, help_option_names=[]))
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def train(args):
    """Train a zoo model on a Speech Commands-style folder, export int8 and float32, write a report
    (the same as python -m kwsnum.train; needs torch). kwsnum train --help lists the options."""
    try:
        import torch  # noqa: F401
    except ImportError:
        raise InputError("kwsnum train needs torch (pip install 'kwsnum[torch]')") from None
    from .. import train as trainer
    sys.exit(trainer.main(list(args)))


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
