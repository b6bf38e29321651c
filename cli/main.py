"""The ``kwsnum`` command line: run, inspect, verify (and codegen, from codegen/cli.py).

Every user error prints one line ``kwsnum: error: ...`` and exits with code 2; no traceback
(set KWSNUM_DEBUG=1 to see one). Nothing here imports torch.
"""
import json
import os
import shutil
import signal
import sys
import tempfile

import click
import numpy as np

from ..errors import KwsnumError, InputError
from ..text import one_line, printable
from .wavinput import read_wav_samples, wav_options

MAX_NPY_BYTES = 1 << 30        # one .npy input file
MAX_INPUT_FILES = 1 << 16


def fail(message, code=2):
    """Print ``kwsnum: error: MESSAGE`` as ONE line of harmless characters (model strings inside the message are
    escaped here, once: a newline or an escape sequence in a layer name cannot forge a line or reach the
    terminal) and exit."""
    click.echo(f"kwsnum: error: {one_line(message)}", err=True)
    sys.exit(code)


def _load(path):
    from .. import load
    return load(path)


INPUT_TYPES = (".npy", ".wav")


def _regular(path, limit=MAX_NPY_BYTES):
    """``path`` must be a regular file of bounded size (kwsnum.io.regular_file)."""
    from ..io import regular_file
    return regular_file(path, "inputs", limit)


def _collect_inputs(paths):
    """Expand INPUT arguments: .npy / .wav files, or folders (their .npy and .wav files, sorted)."""
    files = []
    for p in paths:
        if os.path.isdir(p):
            try:
                names = os.listdir(p)
            except OSError as e:
                raise InputError(f"cannot list the folder: {e.strerror or e}", file=p) from None
            found = sorted(os.path.join(p, f) for f in names if f.lower().endswith(INPUT_TYPES))
            if not found:
                raise InputError("folder holds no .npy or .wav files", file=p)
            files += found
        elif not os.path.exists(p):
            raise InputError("no such file", file=p)
        elif not p.lower().endswith(INPUT_TYPES):
            raise InputError("inputs must be .npy or .wav files (or folders of them)", file=p)
        else:
            files.append(p)
        if len(files) > MAX_INPUT_FILES:
            raise InputError(f"more than {MAX_INPUT_FILES} input files")
    for f in files:
        _regular(f)
    return files


def _read_input(path, model, resample=False, mix=False):
    if path.lower().endswith(".wav"):
        return _read_wav(path, model, resample=resample, mix=mix)
    return _read_npy(path, model)


def _read_wav(path, model, resample=False, mix=False):
    fe = model.frontend
    if fe is None:
        raise InputError("the model stores no audio frontend, so it cannot take .wav files; give features as .npy",
                         file=path)
    return model.check_input(fe.compute(read_wav_samples(path, fe, resample=resample, mix=mix))[None])


def read_npy_checked(path, model):
    """A .npy input, its header checked before any data is read: a numeric dtype, the model's input shape (one
    sample or a batch), and a data size that the file really holds (a header may claim 2**31 elements)."""
    st = _regular(path)
    try:
        with open(path, "rb") as fh:
            version = np.lib.format.read_magic(fh)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh, max_header_size=1 << 14)
            elif version in ((2, 0), (3, 0)):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh, max_header_size=1 << 14)
            else:
                raise ValueError(f"unsupported .npy version {version}")
            offset = fh.tell()
    except (ValueError, OSError, EOFError, SyntaxError, TypeError, OverflowError) as e:
        raise InputError(f"not a readable .npy file ({printable(str(e), 120)})", file=path) from None
    if dtype.hasobject or dtype.kind not in "biuf" or dtype.fields is not None or dtype.subdtype is not None:
        raise InputError(f"holds {dtype}, not numbers", file=path)
    spec = tuple(model.input.shape) if len(model.inputs) == 1 else None
    if spec is not None and tuple(shape) != spec and tuple(shape[1:]) != spec:
        raise InputError(f"input shape {tuple(shape)} does not match the model input {spec} (optionally with a "
                         f"leading batch dimension)", file=path)
    count = int(np.prod(shape, dtype=object))
    if offset + count * dtype.itemsize != st.st_size:
        raise InputError(f"truncated or padded: the header says {tuple(shape)} {dtype} ({count * dtype.itemsize} "
                         f"bytes of data), the file holds {st.st_size - offset}", file=path)
    try:
        x = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as e:
        raise InputError(f"not a readable .npy file ({printable(str(e), 120)})", file=path) from None
    try:
        return model.check_input(x)
    except KwsnumError as e:
        raise e.with_file(path) from None


_read_npy = read_npy_checked


class _Group(click.Group):
    """The command group, with subcommands that live in other packages imported only when invoked (or listed by
    --help): ``kwsnum run`` does not pay for importing the C code generator (kwsnum/codegen/__init__.py pulls in the
    emitter and the planner)."""
    LAZY = {"codegen": ("kwsnum.codegen.cli", "codegen_command"), "features": ("kwsnum.cli.features", "features_command")}

    def list_commands(self, ctx):
        return sorted(set(super().list_commands(ctx)) | set(self.LAZY))

    def get_command(self, ctx, name):
        if name in self.LAZY and name not in self.commands:
            import importlib
            module, attr = self.LAZY[name]
            self.add_command(getattr(importlib.import_module(module), attr), name)
        return super().get_command(ctx, name)


@click.group(cls=_Group, context_settings=dict(help_option_names=["-h", "--help"]))
@click.version_option(package_name="kwsnum", prog_name="kwsnum")
def cli():
    """kwsnum: bit-exact integer execution of keyword-spotting networks (oracle, C, PyTorch)."""


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Print results as JSON.")
@click.option("--trace", "trace_dir", type=click.Path(file_okay=False),
              help="Write every layer's output tensor to DIR (one .npy per tensor, plus index.json).")
@click.option("--force", is_flag=True, help="With --trace: replace DIR if it exists and is not empty.")
@click.option("--top", default=1, show_default=True, type=click.IntRange(1, 1 << 16),
              help="How many classes to report per input.")
@wav_options
def run(paths, as_json, trace_dir, force, top, resample, mix):
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
    if trace_dir:
        _check_trace_dir(trace_dir, force)
    m = _load(model)
    files = _collect_inputs(paths)
    batches = [(f, _read_input(f, m, resample=resample, mix=mix)) for f in files]
    x = np.concatenate([b for _, b in batches], axis=0)
    if trace_dir:
        result = m.run(x, trace=True)
        logits = result[m.outputs[0]]
    else:
        logits = _run_chunked(m, x)
    flat = real_values(m.output, logits.reshape(len(x), -1))
    scores = softmax(flat)
    labels = m.labels or [str(i) for i in range(flat.shape[1])]
    records, k = [], 0
    for f, b in batches:
        for j in range(len(b)):
            s = scores[k]
            order = np.argsort(-s, kind="stable")[:top]
            rec = dict(input=f, index=j, predictions=[
                dict(label=labels[c], class_index=int(c), score=float(s[c])) for c in order],
                output=logits.reshape(len(x), -1)[k].tolist())
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
        name = printable(name, None)
        if expected:
            name = f"{os.path.basename(name)}\texpected {printable(r['expected'], 64)}"
        preds = "  ".join(f"{printable(p['label'], 64)} {p['score']:.3f}" for p in r["predictions"])
        click.echo(f"{name}\t{preds}")
    if expected:
        hits = sum(r["predictions"][0]["label"] == r["expected"] for r in records)
        click.echo(f"{hits}/{len(records)} bundled clips classified as expected by {os.path.basename(model)}", err=True)
    if trace_dir:
        click.echo(f"trace: {len(m.tensors)} tensors written to {printable(trace_dir, None)}", err=True)


def real_values(spec, q):
    """The real values an output tensor's stored values stand for (float64), for ranking and scores: 16-bit
    floats widened from their bit patterns, affine integers dequantized, Q formats scaled by 2**-frac_bits."""
    from ..float16 import widen
    from ..model import QFORMATS, QUANTIZED, STORAGE_FLOATS
    if spec.format in STORAGE_FLOATS:
        return widen(q, spec.format).astype(np.float64)
    if spec.format in QUANTIZED:
        return float(spec.scale) * (q.astype(np.float64) - int(spec.zero_point))
    if spec.format in QFORMATS:
        return np.ldexp(q.astype(np.float64), -int(spec.frac_bits))
    return q.astype(np.float64)


def _run_chunked(model, x, budget=1 << 28):
    """The oracle over a batch, in chunks whose activations stay within ``budget`` bytes."""
    from ..report import peak_activation_bytes
    per = max(1, peak_activation_bytes(model))
    step = max(1, min(len(x), budget // per))
    if step >= len(x):
        return model.run(x)
    return np.concatenate([model.run(x[i:i + step]) for i in range(0, len(x), step)], axis=0)


def _check_trace_dir(trace_dir, force):
    if os.path.lexists(trace_dir):
        if not os.path.isdir(trace_dir) or os.path.islink(trace_dir):
            raise InputError("exists and is not a folder; --trace writes a folder", file=trace_dir)
        if os.listdir(trace_dir) and not force:
            raise InputError("the trace folder exists and is not empty; pass --force to replace it", file=trace_dir)


def _trace_file_name(i, tensor):
    stem = "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "_" for c in tensor)[:64]
    return f"{i:03d}_{stem}.npy"


def _write_trace(model, values, trace_dir):
    """Write the trace into a temporary folder next to DIR, then move it into place."""
    parent = os.path.dirname(os.path.abspath(trace_dir))
    try:
        os.makedirs(parent, exist_ok=True)
        tmp = tempfile.mkdtemp(prefix=".kwsnum-trace-", dir=parent)
    except OSError as e:
        raise InputError(f"cannot write the trace: {e.strerror or e}", file=trace_dir) from None
    try:
        index = []
        order = [(None, model.inputs[0])] + [(n, n.outputs[0]) for n in model.nodes]
        for i, (node, t) in enumerate(order):
            spec = model.tensors[t]
            fname = _trace_file_name(i, t)
            np.save(os.path.join(tmp, fname), values[t])
            index.append(dict(file=fname, tensor=t, layer=node.name if node else None, op=node.op if node else
                              "input", shape=list(values[t].shape), format=spec.format, scale=spec.scale,
                              zero_point=spec.zero_point))
        with open(os.path.join(tmp, "index.json"), "w") as fh:
            json.dump(index, fh, indent=1)
        if os.path.isdir(trace_dir) and not os.path.islink(trace_dir):
            shutil.rmtree(trace_dir)
        os.replace(tmp, trace_dir)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise InputError(f"cannot write the trace: {e.strerror or e}", file=trace_dir) from None
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


def _dataset(paths, model, split, limit, resample=False, mix=False):
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
            items.append((f, folder if folder in labels else None,
                          lambda f=f: _read_input(f, model, resample=resample, mix=mix)))
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
@click.option("--tflm", "tflm_path", type=click.Path(dir_okay=False), default=None,
              help="The .tflite file MODEL was imported from: run TFLM on the same inputs as a fourth opinion and "
                   "compare every tensor it keeps (needs kwsnum[tflite]).")
@click.option("--stream", is_flag=True, help="A streaming model: each .wav (or .npy of input frames) is one "
                                             "continuous stream; compare every tensor of every step (C: "
                                             "NAME_push_pcm, or NAME_step) and the detections; name the first "
                                             "differing step and layer.")
@click.option("--chunk", type=click.IntRange(min=1), default=512, show_default=True,
              help="With --stream: samples per NAME_push_pcm call in C (the result must not depend on it).")
@wav_options
def verify(model, data, split, limit, trace, no_torch, no_c, keep_c, batch, tflm_path, stream, chunk, resample, mix):
    """Three-way gate: the PyTorch reference, the oracle and the generated C on every input of DATA (and TFLM,
    with --tflm, for a model imported from that .tflite file).

    DATA: a Speech Commands-style folder (its --split, read through the model's stored frontend), or .npy /
    .wav files and folders of them. Prints each pair's agreement (integers exact, oracle vs C bit-exact,
    PyTorch float vs oracle float32 within the tolerance of docs/numerics.md), the distribution of predicted
    classes and, for labelled data, the accuracy. Exit code 1 on any disagreement.

    --stream (a streaming model): each .wav of DATA (or .npy of input frames) is one stream from the reset; every
    step is compared and the first differing step (its time), layer and element are named (docs/verify.md).
    """
    from ..verify import Gate
    m = _load(model)
    if stream:          # every step of long streams: cli/verify_stream.py, kwsnum/verify_stream.py
        if tflm_path is not None:
            raise InputError("--tflm does not apply with --stream (TFLM runs one window at a time)")
        if not no_torch:
            _need_torch()
        from .verify_stream import verify_stream
        return verify_stream(m, model, _collect_inputs(list(data)), no_torch, no_c, keep_c, chunk, resample, mix)
    items = _dataset(list(data), m, split, limit, resample, mix)
    if not items:
        raise InputError("DATA holds no inputs")
    if not no_torch:
        _need_torch()
    tflm = None
    if tflm_path is not None:
        try:
            with open(tflm_path, "rb") as f:
                tflm = f.read()
        except OSError as e:
            raise InputError(f"cannot read: {e.strerror or e}", file=tflm_path) from None
    fmt = m.tensors[m.outputs[0]].format
    click.echo(f"kwsnum verify: {printable(model, None)}: {len(m.nodes)} layers, input {m.input.format} "
               f"{tuple(m.input.shape)}, output {fmt} {tuple(m.output.shape)}; {len(items)} input files", err=True)
    if tflm is not None:
        from ..importers.tflm import TFLM
        try:
            tflm = TFLM(tflm, m)
        except KwsnumError as e:
            raise e.with_file(tflm_path) from None
    with Gate(m, use_torch=not no_torch, use_c=not no_c, trace=trace, c_dir=keep_c, tflm=tflm) as gate:
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
        fe_res = []
        if m.frontend is not None:   # the frontend in C (and torch for micro) first: kwsnum/micro/verify.py
            from ..micro.verify import audio_items, check_frontend
            fe_res = check_frontend(m, gate.c_dir, audio_items(list(data), m, split, limit, resample, mix),
                                    use_c=not no_c, use_torch=not no_torch)
    for r in fe_res:
        click.echo(str(r))
    _print_gate(m, res, names, expected)
    if not res.ok or not all(r.ok for r in fe_res):
        sys.exit(1)


def _need_torch():
    try:
        import torch  # noqa: F401
    except ImportError:
        raise InputError("the PyTorch reference needs torch (pip install 'kwsnum[torch]'), or pass --no-torch") \
            from None


def _print_gate(m, res, names, expected):
    click.echo(f"{res.n} samples through {', '.join(res.impls)}")
    width = max((len(p.title()) for p in res.pairs), default=0)
    for p in res.pairs:
        word = "bit-exact" if p.rule == "exact" else "agree"
        rule = "" if p.rule == "exact" else f"; {p.rule_text()}"
        click.echo(f"  {p.title():<{width}} : {p.n_agree}/{p.n} {word}  ({p.compared}{rule})")
        if not p.ok:
            click.echo(f"    first disagreeing sample: {p.first_sample} ({printable(names[p.first_sample], None)})")
            layer = p.first_layer
            if layer is not None:
                click.echo(f"    first differing {printable(layer.describe((p.a, p.b)), 400)}")
            elif p.compared == "outputs":
                click.echo("    (rerun with --trace to name the first layer where they differ)")
    labels = m.labels or [str(i) for i in range(m.output.size)]
    counts = np.bincount(res.predicted, minlength=len(labels))
    dist = ", ".join(f"{printable(labels[c], 64)} {n}" for c, n in enumerate(counts) if n)
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


@cli.command("import")
@click.argument("source", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="The kwsnum model to write (.h5).")
@click.option("--labels", "labels_file", type=click.Path(dir_okay=False),
              help="Class names, one per line (as many as the model has outputs).")
def import_command(source, output, labels_file):
    """Import a TFLite model: kwsnum import MODEL.tflite -o MODEL.h5 [--labels FILE]

    int8 and int16x8 flatbuffers with TFLM's integer semantics (docs/numerics.md section 11). An operator kwsnum
    cannot compute bit for bit is refused with its index, type and the reason. Needs kwsnum[tflite].
    """
    from ..errors import ModelImportError
    from ..importers import from_tflite
    from .. import save
    if not os.path.isfile(source):
        raise InputError("no such file", file=source)
    labels = None
    if labels_file is not None:
        try:
            with open(labels_file, encoding="utf-8") as f:
                labels = [line.strip() for line in f if line.strip()]
        except (OSError, UnicodeDecodeError) as e:
            raise InputError(f"cannot read the labels ({e})", file=labels_file) from None
    model = from_tflite(source, labels=None)
    if labels is not None:
        if len(labels) != model.output.size:
            raise InputError(f"{len(labels)} labels for a model with {model.output.size} outputs", file=labels_file)
        model.labels = labels
    try:
        save(model, output)
    except OSError as e:
        raise ModelImportError(f"cannot write: {e.strerror or e}", file=output) from None
    click.echo(f"kwsnum import: {source} -> {output}: {len(model.nodes)} layers, input {model.input.format} "
               f"{tuple(model.input.shape)}, output {model.output.format} {tuple(model.output.shape)}", err=True)


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


# codegen and features: imported when invoked (_Group.LAZY)

from .stream import stream_command  # noqa: E402  (no torch)

cli.add_command(stream_command, "stream")


class Terminated(BaseException):
    """SIGTERM / SIGHUP arrived: unwind (every writer removes its temporary files on the way out), then exit."""


def _terminate(signum, frame):
    raise Terminated(signum)


def main(argv=None):
    handlers = {}
    for sig in (signal.SIGTERM, signal.SIGHUP):
        try:
            handlers[sig] = signal.signal(sig, _terminate)
        except (ValueError, OSError):      # not the main thread
            pass
    try:
        cli.main(args=argv, prog_name="kwsnum", standalone_mode=False)
    except KwsnumError as e:
        fail(str(e))
    except click.exceptions.Abort:
        fail("aborted", code=130)
    except KeyboardInterrupt:
        fail("interrupted", code=130)
    except Terminated as t:
        fail("terminated", code=128 + int(t.args[0]))
    except click.ClickException as e:
        # usage errors: one line too, like every other error
        hint = ""
        ctx = getattr(e, "ctx", None)
        if ctx is not None:
            hint = f" (see {ctx.command_path} --help)"
        fail(f"{e.format_message()}{hint}", code=e.exit_code)
    except Exception as e:  # an internal error: one line, unless debugging
        if os.environ.get("KWSNUM_DEBUG"):
            raise
        fail(f"internal error: {type(e).__name__}: {e} (set KWSNUM_DEBUG=1 for a traceback)", code=3)
    finally:
        for sig, h in handlers.items():
            try:
                signal.signal(sig, h)
            except (ValueError, OSError, TypeError):
                pass
    sys.exit(0)


if __name__ == "__main__":
    main()
