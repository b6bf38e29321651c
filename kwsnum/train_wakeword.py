"""Train the streaming wake-word model ("hey kiwi") on a kwsnum.data.wakeword folder, export it as an int8 streaming
model with its frontend, and choose its detector on validation audio.

    python -m kwsnum.data.wakeword DATA --seed 0 --per-phrase 500 --jobs 2
    python -m kwsnum.data.wakeword VAL --long 1200 --seed 2 --split-seed 0 --speakers validation
    python -m kwsnum.train_wakeword DATA --val-audio VAL/long.wav --out DIR --threads 1

(docs/training.md, "Wake-word model"). Model: kwsnum.models.TemporalConvNet (microWakeWord style) on the micro
frontend's microWakeWord features laid out (40 channels, frames); classes (negative, hey_kiwi). Features: each
clip's window is computed by the stateful frontend after a 1 s prefix of another clip of the same split and
followed by ``max shift`` of a third one, so the frontend's noise estimate and PCAN gain are adapted as in a stream
and the random time shift (+-100 ms) moves real audio into the window, never padding; a window longer than the
clips also takes its extra frames from the prefix. ``--context-copies`` adds stream-like copies of the training
clips with part of another word moved into the window (running speech: the window of a stream rarely holds one
word alone). Negatives: every phrase but the wake phrase (confusables
weighted ``--hard-weight`` times the other words) plus crops of the background noise; the two classes weigh the
same in the loss. Best epoch: validation balanced accuracy (mean recall of the two classes).

Outputs in DIR: ``wakeword_int8.h5`` (streaming, frontend and detector inside), ``wakeword_window_int8.h5`` (the
same int8 net on one full window, no state: for per-step vs full-window cost), ``wakeword.pt``,
``report.json`` / ``report.md``, ``validation_sweep.csv``.
"""
import argparse
import copy
import json
import os
import sys
import time

import numpy as np

from .train import Progress, evaluate_predictions, log

LABELS = ["negative", "hey_kiwi"]
MAX_SHIFT_FRAMES = 10          # +-100 ms at the 10 ms hop
PREFIX_SAMPLES = 16000         # frontend warm-up before each clip (a multiple of the hop: the frames align)
WINDOWS = (1, 3, 5, 8, 12, 16, 24)   # detector moving-average windows tried on the validation audio
REFRACTORY_S = 1.0
EXIT_ERROR = 2


# ------------------------------------------------------------------------------------------ data
def load_items(root):
    """{split: [(path, label, hard)]} of a kwsnum.data.wakeword folder (label 1: the wake phrase; hard: a
    confusable phrase), split by speakers.txt."""
    from .data import speaker_of
    from .data.synth import read_speakers
    from .data.wakeword import CONFUSABLE, WAKE, slug
    if not os.path.exists(os.path.join(root, "speakers.txt")):
        raise ValueError(f"{root}: no speakers.txt (make the folder with python -m kwsnum.data.wakeword)")
    table = read_speakers(root)
    hard = {slug(p) for p in CONFUSABLE}
    out = {"training": [], "validation": [], "testing": []}
    for d in sorted(os.listdir(root)):
        full = os.path.join(root, d)
        if d.startswith("_") or not os.path.isdir(full):
            continue
        for f in sorted(os.listdir(full)):
            if not f.endswith(".wav"):
                continue
            sid = speaker_of(f)
            if sid not in table:
                raise ValueError(f"{root}/{d}/{f}: speaker {sid} is not in speakers.txt")
            out[table[sid][1]].append((os.path.join(full, f), int(d == slug(WAKE)), d in hard))
    for k, v in out.items():
        if not v:
            raise ValueError(f"{root}: the {k} split is empty")
        if not any(lab for _, lab, _ in v):
            raise ValueError(f"{root}: the {k} split has no {WAKE!r} clip")
    return out


def noise_clips(root, n, rng, samples=16000):
    """n crops of the folder's _background_noise_ files, gain 10^(u/20), u uniform in [-40, 0] dB (int16)."""
    from .wav import read_wav
    d = os.path.join(root, "_background_noise_")
    files = sorted(f for f in os.listdir(d) if f.endswith(".wav")) if os.path.isdir(d) else []
    srcs = [read_wav(os.path.join(d, f))[0] for f in files]
    srcs = [s for s in srcs if len(s) >= samples]
    if not srcs or n <= 0:
        return np.zeros((0, samples), np.int16)
    out = np.empty((n, samples), np.int16)
    for i in range(n):
        s = srcs[int(rng.integers(len(srcs)))]
        o = int(rng.integers(len(s) - samples + 1))
        g = 10 ** (rng.uniform(-40.0, 0.0) / 20)
        out[i] = np.clip(np.round(s[o:o + samples] * g), -32768, 32767)
    return out


def read_clips(items, samples=16000):
    from .wav import read_wav
    x = np.zeros((len(items), samples), np.int16)
    for i, (p, _, _) in enumerate(items):
        a = read_wav(p, expected_rate=16000)[0]
        x[i, :min(len(a), samples)] = a[:samples]
    return x


def compose(clips, pool, rng, shift_s=(0.4, 0.9), gain_db=(-10.0, 0.0), samples=16000):
    """Stream-like copies of ``clips``: each plus a clip of ``pool`` (other words) moved by d seconds, |d| uniform in
    ``shift_s`` either way, times a gain uniform in ``gain_db``: part of a neighbouring word enters the window, as
    in running speech (the label stays the clip's)."""
    out = np.empty_like(clips)
    for i in range(len(clips)):
        d = int(rng.uniform(*shift_s) * samples) * (1 if rng.random() < 0.5 else -1)
        nb = pool[int(rng.integers(len(pool)))].astype(np.float64) * 10 ** (rng.uniform(*gain_db) / 20)
        x = clips[i].astype(np.float64)
        if d > 0:
            x[d:] += nb[:samples - d]
        else:
            x[:samples + d] += nb[-d:]
        out[i] = np.clip(np.round(x), -32768, 32767)
    return out


def context_features(fe, clips, rng, shift=MAX_SHIFT_FRAMES, progress=None):
    """Features (N, channels, window + 2*shift) of every clip: the stateful frontend over
    [prefix (a random other clip) | clip | the first ``shift`` hops of a third clip], keeping the frames from
    ``shift`` before the window that ends at the clip's end to ``shift`` after it."""
    t = fe.tables
    hop, win = int(t.window_step), int(t.window_size)
    W = fe.output_shape[-1]
    n, L = clips.shape
    # the window ends at the clip's end: its first frame starts at P + L - ((W - 1) * hop + win)
    span = (W - 1) * hop + win
    pre = PREFIX_SAMPLES + max(0, span - L)
    pre += (-(pre + L - span)) % hop          # frame starts at multiples of hop: align the window's first frame
    pre = max(pre, shift * hop + max(0, span - L))
    total = pre + L + shift * hop
    fe_long = fe.replace(clip_samples=total)
    first = (pre + L - span) // hop - shift
    out = np.empty((n, fe.output_shape[0], W + 2 * shift), np.float32)
    for i in range(n):
        j = int(rng.integers(n - 1)) if n > 1 else 0
        j += j >= i and n > 1
        k = int(rng.integers(n))
        x = np.concatenate([np.resize(clips[j], pre), clips[i], clips[k][:shift * hop]]) if n > 1 else \
            np.concatenate([np.zeros(pre, np.int16), clips[i], np.zeros(shift * hop, np.int16)])
        f = fe_long.compute(x.astype(np.int16))
        out[i] = f[:, first:first + W + 2 * shift]
        if progress is not None:
            progress(i + 1, n)
    return out


# ------------------------------------------------------------------------------------------ training
def _windows(X, W, offsets):
    idx = offsets[:, None] + np.arange(W)[None, :]
    return np.take_along_axis(X, idx[:, None, :].repeat(X.shape[1], 1), axis=-1)


def sample_weights(y, hard, hard_weight):
    """Per-sample loss weights: both classes weigh the same in total; within the negatives a confusable phrase
    weighs ``hard_weight`` times another negative."""
    w = np.where(hard, float(hard_weight), 1.0).astype(np.float64)
    for c in (0, 1):
        m = y == c
        if m.any():
            w[m] *= 0.5 * len(y) / w[m].sum()
    return w.astype(np.float32)


def balanced_accuracy(y, pred):
    return float(np.mean([(pred[y == c] == c).mean() for c in (0, 1) if (y == c).any()]))


def _predict(torch, net, X, batch=512):
    net.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(X), batch):
            out.append(net(torch.from_numpy(np.ascontiguousarray(X[i:i + batch]))).argmax(1).numpy())
    return np.concatenate(out) if out else np.zeros(0, np.int64)


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m kwsnum.train_wakeword", description=__doc__.split("\n")[0])
    p.add_argument("data_dir")
    p.add_argument("--out", required=True)
    p.add_argument("--val-audio", default=None, help="validation long audio (long.wav beside its long.csv, from "
                   "python -m kwsnum.data.wakeword --long ... --speakers validation) to choose the detector on")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--hard-weight", type=float, default=2.0, help="loss weight of a confusable negative relative "
                                                                  "to another negative")
    p.add_argument("--noise-clips", type=int, default=1000, help="background-noise negatives in training (a fifth "
                                                                 "as many in validation and test)")
    p.add_argument("--context-copies", type=int, default=1, help="stream-like copies of every training clip with "
                                                                  "part of another word moved into the window")
    p.add_argument("--max-fa-per-hour", type=float, default=2.0, help="detector choice: lowest validation FRR with "
                                                                      "at most this many false accepts per hour")
    p.add_argument("--max-minutes", type=float, default=None, help="training-loop time budget")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--calib-samples", type=int, default=200)
    p.add_argument("--quiet", action="store_true")
    a = p.parse_args(argv)
    if a.epochs < 1 or a.batch_size < 2 or a.lr <= 0 or a.hard_weight <= 0 or a.noise_clips < 0 or a.context_copies < 0:
        p.error("need --epochs >= 1, --batch-size >= 2, --lr > 0, --hard-weight > 0, --noise-clips >= 0, --context-copies >= 0")
    return a


def run(a, argv=None):
    import torch

    from . import detector as kdet
    from . import load, save
    from . import streaming as kstream
    from . import wake_eval
    from .data.wakeword import read_events
    from .export import from_torch
    from .micro import MicroFrontend
    from .models import TemporalConvNet
    from .wav import read_wav

    t_start = time.time()
    q = a.quiet
    if a.threads:
        torch.set_num_threads(int(a.threads))
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    os.makedirs(a.out, exist_ok=True)
    if a.val_audio is not None:
        csv = os.path.splitext(a.val_audio)[0] + ".csv"
        if not os.path.exists(a.val_audio) or not os.path.exists(csv):
            raise ValueError(f"{a.val_audio}: the validation audio needs its .csv of positives beside it")

    margs = dict(n_classes=2, n_mels=40, dropout=a.dropout)
    net = TemporalConvNet(**margs)
    W = net.in_shape[1]
    fe0 = MicroFrontend.microwakeword(layout="coeff_major", channel_axis=False)
    t = fe0.tables
    fe = fe0.replace(clip_samples=int(t.window_size) + (W - 1) * int(t.window_step))
    assert fe.output_shape == net.in_shape, (fe.output_shape, net.in_shape)

    # ---- data -> features
    t0 = time.time()
    items = load_items(a.data_dir)
    feats = {}
    prog = Progress(quiet=q)
    for split, its in items.items():
        clips = read_clips(its)
        n_noise = a.noise_clips if split == "training" else a.noise_clips // 5
        noise = noise_clips(a.data_dir, n_noise, np.random.default_rng([a.seed, 7, len(feats)]))
        clips = np.concatenate([clips, noise])
        y = np.array([lab for _, lab, _ in its] + [0] * len(noise), np.int64)
        hard = np.array([h for _, _, h in its] + [False] * len(noise))
        if split == "training" and a.context_copies:
            # neighbours: the other words (not the wake phrase, not a confusable: "hey" next to "kiwi" is no negative)
            pool = clips[:len(its)][np.array([not lab and not h for _, lab, h in its])]
            crng = np.random.default_rng([a.seed, 17])
            extra = [compose(clips, pool, crng) for _ in range(a.context_copies)]
            clips = np.concatenate([clips] + extra)
            y = np.concatenate([y] * (a.context_copies + 1))
            hard = np.concatenate([hard] * (a.context_copies + 1))
        X = context_features(fe, clips, np.random.default_rng([a.seed, 11, len(feats)]),
                             progress=lambda i, n: prog.update(f"features {split}: {i}/{n}"))
        prog.end()
        feats[split] = (X, y, hard)
    feature_seconds = time.time() - t0
    counts = {k: dict(clips=int(len(v[1])), hey_kiwi=int(v[1].sum()), confusable=int(v[2].sum())) for k, v in
              feats.items()}
    log(f"features: {fe.describe()}, window {W} frames ({fe.clip_samples} samples); "
        + ", ".join(f"{k} {c['clips']} ({c['hey_kiwi']} positives)" for k, c in counts.items())
        + f" ({feature_seconds:.1f} s)", q)
    Xtr, ytr, htr = feats["training"]
    Xva, yva, _ = feats["validation"]
    Xte, yte, _ = feats["testing"]
    S = MAX_SHIFT_FRAMES
    Xva_w = np.ascontiguousarray(Xva[..., S:S + W])
    Xte_w = np.ascontiguousarray(Xte[..., S:S + W])

    # ---- training
    wtr = sample_weights(ytr, htr, a.hard_weight)
    n_params = int(sum(p.numel() for p in net.parameters()))
    log(f"model: TemporalConvNet {margs}, input {net.in_shape}, {n_params} parameters", q)
    opt = torch.optim.Adam(net.parameters(), lr=a.lr, weight_decay=a.weight_decay)
    n_batches = max(1, len(Xtr) // a.batch_size)
    total = a.epochs * n_batches
    budget = None if a.max_minutes is None else 60.0 * a.max_minutes
    best = dict(val=-1.0, epoch=0, state=None)
    history = []
    t_train = time.time()
    step = 0
    stopped = False
    from .train import lr_at, schedule_progress
    for epoch in range(1, a.epochs + 1):
        net.train()
        perm = rng.permutation(len(Xtr))
        tot, seen = 0.0, 0
        for b in range(n_batches):
            idx = np.sort(perm[b * a.batch_size:(b + 1) * a.batch_size])
            off = rng.integers(0, 2 * S + 1, len(idx))
            xb = torch.from_numpy(_windows(Xtr[idx], W, off))
            yb = torch.from_numpy(ytr[idx])
            wb = torch.from_numpy(wtr[idx])
            loss = (torch.nn.functional.cross_entropy(net(xb), yb, reduction="none") * wb).sum() / wb.sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            for g in opt.param_groups:
                g["lr"] = lr_at(a.lr, "cosine", schedule_progress(step, total, time.time() - t_train, budget))
            tot += float(loss.detach()) * len(idx)
            seen += len(idx)
            prog.update(f"epoch {epoch}/{a.epochs} batch {b + 1}/{n_batches} loss {tot / seen:.4f} "
                        f"[{time.time() - t_train:.0f} s]")
            if budget is not None and time.time() - t_train > budget:
                stopped = True
                break
        pv = _predict(torch, net, Xva_w)
        val = balanced_accuracy(yva, pv)
        history.append(dict(epoch=epoch, loss=tot / max(seen, 1), val_balanced_acc=val,
                            val_acc=float((pv == yva).mean()), seconds=time.time() - t_train))
        prog.update(f"epoch {epoch}/{a.epochs} loss {tot / max(seen, 1):.4f} val balanced acc {val:.4f} "
                    f"[{time.time() - t_train:.0f} s]", force=True)
        prog.end()
        if val > best["val"]:
            best = dict(val=val, epoch=epoch, state=copy.deepcopy(net.state_dict()))
        if stopped:
            log(f"time budget of {a.max_minutes} min reached in epoch {epoch}", q)
            break
    train_seconds = time.time() - t_train
    net.load_state_dict(best["state"])
    net.eval()
    log(f"best validation balanced accuracy {best['val']:.4f} at epoch {best['epoch']} ({train_seconds:.1f} s)", q)
    files = dict(checkpoint=os.path.join(a.out, "wakeword.pt"))
    torch.save(dict(model="TemporalConvNet", args=margs, state_dict=net.state_dict(), labels=LABELS,
                    frontend=fe.to_attrs(), epoch=best["epoch"], val_balanced_acc=best["val"]), files["checkpoint"])

    # ---- export: the streaming int8 model (frontend inside) and the same net on one window
    t0 = time.time()
    ci = np.sort(np.random.default_rng([a.seed, 13]).choice(len(Xtr), min(a.calib_samples, len(Xtr)), replace=False))
    calib = torch.from_numpy(np.ascontiguousarray(Xtr[ci][..., S:S + W]))
    sm = from_torch(net, None, calib, precision="int8", labels=LABELS, frontend=fe, streaming=True,
                    name="wakeword_int8")
    wm = from_torch(net, None, calib, precision="int8", labels=LABELS, frontend=fe, name="wakeword_window_int8")
    export_seconds = time.time() - t0

    # ---- clip-level accuracy (float torch, int8 window oracle)
    results = {}
    for split, Xw, yy in (("validation", Xva_w, yva), ("testing", Xte_w, yte)):
        pt = _predict(torch, net, Xw)
        po = np.concatenate([np.asarray(wm.run(Xw[i:i + 256])).argmax(1) for i in range(0, len(Xw), 256)])
        results[split] = dict(float_torch=evaluate_predictions(yy, pt, LABELS),
                              int8_oracle=evaluate_predictions(yy, po, LABELS),
                              float_balanced_acc=balanced_accuracy(yy, pt), int8_balanced_acc=balanced_accuracy(yy, po),
                              agreement=float((pt == po).mean()))
    for split, r in results.items():
        log(f"{split}: balanced accuracy float {r['float_balanced_acc']:.4f}, int8 oracle {r['int8_balanced_acc']:.4f}; "
            f"accuracy float {r['float_torch']['accuracy']:.4f}, int8 {r['int8_oracle']['accuracy']:.4f}", q)

    # ---- detector: chosen on the validation audio (or a default without it)
    info = kstream.info(sm)
    step_s = info["step"] * int(t.window_step) / fe.sample_rate
    refractory = int(np.ceil(REFRACTORY_S / step_s))
    choice = None
    t0 = time.time()
    if a.val_audio is not None:
        pcm = read_wav(a.val_audio, expected_rate=fe.sample_rate)[0]
        events = read_events(os.path.splitext(a.val_audio)[0] + ".csv")
        seconds = len(pcm) / fe.sample_rate
        outs = wake_eval.step_outputs(sm, pcm, progress=lambda n: prog.update(
            f"validation audio: {n / fe.sample_rate:.0f}/{seconds:.0f} s"))
        prog.end()
        rows = []
        grid = wake_eval.threshold_grid(sm, outs)
        for w in WINDOWS:
            rows += wake_eval.sweep(sm, outs, events, seconds, grid, window=w, refractory=refractory)
        choice = wake_eval.choose(rows, a.max_fa_per_hour)
        files["validation_sweep"] = os.path.join(a.out, "validation_sweep.csv")
        with open(files["validation_sweep"], "w") as f:
            f.write("window,threshold,threshold_sum,frr,fa_per_hour,false_accepts,missed,positives\n")
            for r in rows:
                f.write(f"{r['window']},{r['threshold']:.6g},{r['threshold_sum']},{r['frr']:.6f},"
                        f"{r['fa_per_hour']:.4f},{r['false_accepts']},{r['missed']},{r['positives']}\n")
        kdet.configure(sm, label=1, against=0, threshold=choice["threshold"], window=choice["window"],
                       refractory=refractory)
        log(f"detector (validation audio {seconds:.0f} s, {len(events)} positives): window {choice['window']}, "
            f"threshold {choice['threshold']:.4g} (sum {choice['threshold_sum']}), refractory {refractory} steps: "
            f"FRR {choice['frr']:.4f}, {choice['fa_per_hour']:.2f} false accepts/h", q)
    else:
        kdet.configure(sm, label=1, against=0, threshold=0.0, window=5, refractory=refractory)
        log("no --val-audio: detector at threshold 0 (logit difference), window 5", q)
    detector_seconds = time.time() - t0
    sm.meta["training"] = json.dumps(dict(data=os.path.abspath(a.data_dir), seed=a.seed, epoch=best["epoch"],
                                          val_balanced_acc=best["val"]))
    files["streaming"] = os.path.join(a.out, "wakeword_int8.h5")
    files["window"] = os.path.join(a.out, "wakeword_window_int8.h5")
    save(sm, files["streaming"])
    save(wm, files["window"])
    load(files["streaming"])
    cmd = "python -m kwsnum.train_wakeword " + " ".join(sys.argv[1:] if argv is None else list(argv))
    p = kdet.params_of(sm)
    report = dict(command=cmd, model_args=margs, input_shape=list(net.in_shape), n_params=n_params, labels=LABELS,
                  frontend=fe.describe(), streaming=info, state_bytes=kstream.state_bytes(sm),
                  data=dict(root=os.path.abspath(a.data_dir), counts=counts, noise_clips=a.noise_clips),
                  training=dict(epochs_planned=a.epochs, epochs_run=len(history), stopped_by_budget=stopped,
                                batch_size=a.batch_size, lr=a.lr, weight_decay=a.weight_decay, dropout=a.dropout,
                                hard_weight=a.hard_weight, seed=a.seed, threads=torch.get_num_threads(),
                                best_epoch=best["epoch"], best_val_balanced_acc=best["val"], history=history),
                  clips=results,
                  detector=dict(label=p.label, against=p.against, window=p.window, threshold_sum=p.threshold_sum,
                                threshold=p.threshold_sum * p.scale / p.window, refractory=p.refractory,
                                scale=p.scale, chosen_on=a.val_audio, max_fa_per_hour=a.max_fa_per_hour,
                                validation=None if choice is None else {k: v for k, v in choice.items()
                                                                        if k != "false_accept_times"}),
                  timing=dict(features_seconds=feature_seconds, train_seconds=train_seconds,
                              export_seconds=export_seconds, detector_seconds=detector_seconds,
                              total_seconds=time.time() - t_start),
                  files=files)
    with open(os.path.join(a.out, "report.json"), "w") as f:
        json.dump(report, f, indent=1)
    with open(os.path.join(a.out, "report.md"), "w") as f:
        f.write(format_markdown(report))
    log(f"wrote {files['streaming']} and {files['window']} ({time.time() - t_start:.1f} s in all)", q)
    return 0


def format_markdown(r):
    tr, d, tm = r["training"], r["detector"], r["timing"]
    L = ["# kwsnum.train_wakeword report\n", f"Command: `{r['command']}`\n",
         f"- model: TemporalConvNet {r['model_args']}, input {r['input_shape']}, {r['n_params']} parameters; "
         f"streaming step {r['streaming']['step']} frames, window {r['streaming']['window']}, "
         f"state {r['state_bytes']} bytes",
         f"- frontend: {r['frontend']}",
         "- data: " + ", ".join(f"{k} {c['clips']} clips ({c['hey_kiwi']} positives, {c['confusable']} confusable)"
                                for k, c in r["data"]["counts"].items()),
         f"- training: {tr['epochs_run']}/{tr['epochs_planned']} epochs, best validation balanced accuracy "
         f"{tr['best_val_balanced_acc']:.4f} at epoch {tr['best_epoch']}, {tr['threads']} thread(s)",
         f"- wall time: features {tm['features_seconds']:.0f} s, training {tm['train_seconds']:.0f} s, export "
         f"{tm['export_seconds']:.0f} s, detector choice {tm['detector_seconds']:.0f} s, total {tm['total_seconds']:.0f} s",
         "", "| split | float balanced acc | int8 balanced acc | float acc | int8 acc | int8 == float |",
         "|---|---|---|---|---|---|"]
    for k, c in r["clips"].items():
        L.append(f"| {k} | {c['float_balanced_acc']:.4f} | {c['int8_balanced_acc']:.4f} | "
                 f"{c['float_torch']['accuracy']:.4f} | {c['int8_oracle']['accuracy']:.4f} | {c['agreement']:.4f} |")
    L += ["", f"Detector: window {d['window']}, threshold {d['threshold']:.4g} (sum {d['threshold_sum']}), "
              f"refractory {d['refractory']} steps, chosen on {d['chosen_on']}"]
    if d["validation"]:
        v = d["validation"]
        L.append(f"(validation: FRR {v['frr']:.4f}, {v['fa_per_hour']:.2f} false accepts/h, "
                 f"{v['false_accepts']} false accepts, {v['missed']}/{v['positives']} missed)")
    return "\n".join(L) + "\n"


def main(argv=None):
    a = parse_args(sys.argv[1:] if argv is None else argv)
    from .errors import KwsnumError
    try:
        return run(a, argv)
    except (ValueError, OSError, KwsnumError) as e:
        sys.stderr.write(f"kwsnum.train_wakeword: error: {e}\n")
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
