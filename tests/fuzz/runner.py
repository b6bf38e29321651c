"""The campaign: generate mutants, feed their operations to long-lived workers, classify every outcome.

Outcomes of one operation (``classify``):
  ok         exit 0
  clean      exit 2 and stderr exactly one line ``kwsnum: error: ...`` without control characters
failures:
  crash            the worker died (a signal, e.g. -11 = SIGSEGV, shown by a shell as exit 139)
  hang             no answer within the timeout (the worker is killed and restarted)
  internal         exit 3, a Python traceback, or an exception that escaped the CLI
  multiline        exit 2 but stderr is not exactly one line starting "kwsnum: error: "
  control-chars    a control character or escape sequence (C0 except \\n \\t, DEL, C1) in stdout or stderr
  read-outside     a sentinel file outside the model was opened or read during the operation (inotify)
  undetected-corruption  a raw mutant whose values changed, of a seed that carries an integrity digest, ran
                   with exit 0
  leftovers        a failed codegen left its output folder, or any operation left a .kwsnum* temporary behind
  clobbered        a file that existed before the operation (the user's) was deleted or changed
  bad-exit         any other exit code (1, 130, ...)
"""
import hashlib
import json
import os
import re
import select
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

from . import mutators as M
from .inotify import Watcher
from .seeds import REPO, build_seeds, seed_paths

FAILURES = ("crash", "hang", "internal", "multiline", "control-chars", "read-outside", "undetected-corruption",
            "leftovers", "clobbered", "bad-exit")
PRIORITY = {k: i for i, k in enumerate(FAILURES)}
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u0080-\u009f]")
PREFIX = "kwsnum: error: "


# ----------------------------------------------------------------------------- worker handle
class Worker:
    """A worker subprocess (tests/fuzz/worker.py) in its own session, with an address-space limit."""

    def __init__(self, log_path, as_limit, env=None, tmpdir=None):
        self.log_path, self.as_limit, self.extra_env = log_path, as_limit, env or {}
        self.tmpdir = tmpdir
        self.proc = None
        self.starts = 0

    def start(self):
        env = dict(os.environ)
        env.pop("KWSNUM_DEBUG", None)
        env["KWSNUM_FUZZ_AS_LIMIT"] = str(self.as_limit)
        env.setdefault("OMP_NUM_THREADS", "1")
        env.setdefault("NUMBA_NUM_THREADS", "1")
        env["PYTHONPATH"] = os.pathsep.join([str(REPO)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep)
                                                          if p])
        if self.tmpdir is not None:        # the worker's own TMPDIR: what kwsnum leaves there is seen
            os.makedirs(self.tmpdir, exist_ok=True)
            env["TMPDIR"] = str(self.tmpdir)
        env.update(self.extra_env)
        self.log = open(self.log_path, "ab")
        self.log_start = self.log.tell()
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.fuzz.worker"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.log, cwd=str(REPO), env=env,
                                     start_new_session=True)
        self.starts += 1
        line = self._readline(300)
        if line is None:
            raise RuntimeError(f"the fuzz worker did not start (see {self.log_path})")

    def _readline(self, timeout):
        r, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not r:
            return None
        line = self.proc.stdout.readline()
        return line or b""

    def request(self, req, timeout):
        """(status, reply): status "ok" (reply: dict), "hang" (killed), "dead" (reply: returncode)."""
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        try:
            self.proc.stdin.write((json.dumps(req) + "\n").encode())
            self.proc.stdin.flush()
        except BrokenPipeError:
            return "dead", self._reap()
        line = self._readline(timeout)
        if line is None:
            self.kill()
            return "hang", None
        if not line:
            return "dead", self._reap()
        return "ok", json.loads(line)

    def _reap(self):
        try:
            rc = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()
            rc = self.proc.returncode
        self.proc = None
        return rc

    def log_tail(self, n=4000):
        try:
            self.log.flush()
            with open(self.log_path, "rb") as fh:
                fh.seek(self.log_start)
                data = fh.read()
            text = data.decode(errors="replace")
            i = text.rfind("Fatal Python error")
            if i >= 0:
                text = text[i:]
            text = "\n".join(ln for ln in text.splitlines() if not ln.startswith("Extension modules:"))
            return text[-n:]
        except OSError:
            return ""

    def kill(self):
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        self.proc = None

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.proc.stdin.write(b'{"quit": true}\n')
                self.proc.stdin.flush()
                self.proc.wait(timeout=10)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self.kill()
        self.proc = None


# ----------------------------------------------------------------------------- classification
def _decode(b):
    return b.decode("utf-8", errors="replace")


def classify(op, exit_code, out, err):
    """[failure classes] (empty: ok or clean) and the outcome name for one finished operation."""
    flags = []
    text_out, text_err = _decode(out), _decode(err)
    for name, data, text in (("stdout", out, text_out), ("stderr", err, text_err)):
        if _CONTROL.search(text):
            flags.append("control-chars")
            break
    if exit_code == "exception" or "Traceback (most recent call last)" in text_err or exit_code == 3:
        flags.insert(0, "internal")
        return flags, "internal"
    if exit_code == 0:
        return flags, (flags[0] if flags else "ok")
    if exit_code == 2:
        lines = text_err.splitlines()
        if len(lines) != 1 or not lines[0].startswith(PREFIX) or not text_err.endswith("\n"):
            flags.insert(0, "multiline")
        return flags, (flags[0] if flags else "clean")
    flags.insert(0, "bad-exit")
    return flags, "bad-exit"


def _snapshot(folder):
    """{relative path: sha1} of the regular files under folder (FIFOs and unreadable folders skipped)."""
    out = {}
    for root, dirs, files in os.walk(folder):
        for fn in files:
            p = os.path.join(root, fn)
            try:
                st = os.lstat(p)
                if not stat.S_ISREG(st.st_mode):
                    continue
                with open(p, "rb") as fh:
                    out[os.path.relpath(p, folder)] = hashlib.sha1(fh.read()).hexdigest()
            except OSError:
                continue
    return out


def _clear_tmp(tmpdir):
    """Names left in the worker's TMPDIR by the last operation (then removed, so the next one starts clean)."""
    if tmpdir is None or not os.path.isdir(tmpdir):
        return []
    names = sorted(os.listdir(tmpdir))
    for n in names:
        p = os.path.join(tmpdir, n)
        if os.path.isdir(p) and not os.path.islink(p):
            _rmtree(p)
        else:
            try:
                os.unlink(p)
            except OSError:
                pass
    return names


def _leftovers(folder):
    found = []
    for root, dirs, files in os.walk(folder):
        for n in dirs + files:
            if n.startswith(".kwsnum"):
                found.append(os.path.relpath(os.path.join(root, n), folder))
    return found


_NORM = [(re.compile(r"'[^']*'"), "'S'"), (re.compile(r"\"[^\"]*\""), '"S"'), (re.compile(r"0x[0-9a-fA-F]+"), "H"),
         (re.compile(r"-?\d+(\.\d+)?(e[-+]?\d+)?"), "N"), (re.compile(r"/graph/N \([a-z0-9_]+\)"), "/graph/N (op)"),
         (re.compile(r"\s+"), " ")]


def _content_digests(path):
    """The per-item digests kwsnum computes of a model file (kwsnum.io's own reader), or None if unreadable."""
    from kwsnum.errors import KwsnumError
    from kwsnum.io import read_raw          # in a child process: a mutant must not crash the campaign
    try:
        return [d for _, d in read_raw(path)["items"]]
    except (KwsnumError, OSError):
        return None


def _same_content(seed_path, mutant_path):
    """Did the mutation leave every value as it was (a transplant of an equal value, a transpose of a 1-D array,
    format_version set to 1)? Then there is no corruption to detect."""
    if seed_path is None or not os.path.exists(mutant_path):
        return False
    a = _content_digests(seed_path)
    return a is not None and a == _content_digests(mutant_path)


def signature(flag, op, mutator, result):
    """A short key grouping failures of one cause (numbers, strings and paths normalised)."""
    if flag == "crash":
        msg = f"signal {result.get('signal')}"
    elif flag == "hang":
        msg = "timeout"
    elif flag == "read-outside":
        msg = "sentinel opened"
    elif flag in ("undetected-corruption", "leftovers", "clobbered"):
        msg = mutator
    else:
        lines = [ln for ln in _decode(result.get("stderr_bytes", b"")).splitlines() if ln.strip()]
        if flag == "internal":
            exc = [ln for ln in lines if "internal error:" in ln] or lines[-1:]
            msg = exc[0].split("internal error:", 1)[-1] if exc else ""
            msg = msg.split(" (set KWSNUM_DEBUG")[0]
            head, _, rest = msg.partition(":")
            msg = head + ":" + rest.split("(")[0][:60]
        elif flag == "multiline":
            msg = f"{len(lines)} lines: " + (lines[0] if lines else "(empty)")
        else:
            msg = mutator
        msg = msg.replace(str(result.get("folder", "")), "")
        for rx, rep in _NORM:
            msg = rx.sub(rep, msg)
        msg = msg.strip()[:90]
    return f"{flag} | {op} | {msg}"


# ----------------------------------------------------------------------------- campaign
class Campaign:
    def __init__(self, n_mutants, seed=0, workers=1, out=None, timeout=15.0, build_timeout=180.0,
                 p_codegen=0.02, p_build=0.25, as_limit=4 << 30, only=None, seed_filter=None, ids=None,
                 seeds_dir=None, progress=True,
                 max_saved_per_signature=3):
        self.n, self.seed, self.n_workers = int(n_mutants), int(seed), max(1, int(workers))
        self.out = Path(out or "fuzz-out").resolve()
        self.timeout, self.build_timeout = float(timeout), float(build_timeout)
        self.p_codegen, self.p_build, self.as_limit = p_codegen, p_build, as_limit
        self.only = only
        self.seed_filter = seed_filter
        self.ids = None if ids is None else [int(i) for i in ids]
        if self.ids is not None:
            self.n = len(self.ids)
        self.seeds_dir = seeds_dir
        self.progress = progress
        self.max_saved = max_saved_per_signature
        self.lock = threading.Lock()
        self.counts = {}
        self.failures = []
        self.signatures = {}
        self.n_done = 0
        self.n_ops = 0
        self.skipped = 0
        self.worker_starts = 0
        self.generator_errors = {}
        self.op_seconds = {}
        self.thread_errors = []

    # ------------------------------------------------------------------ setup
    def _setup(self):
        self.out.mkdir(parents=True, exist_ok=True)
        for sub in ("work", "failures"):
            shutil.rmtree(self.out / sub, ignore_errors=True)
            (self.out / sub).mkdir()
        index = build_seeds(self.seeds_dir)
        folder = Path(self.seeds_dir) if self.seeds_dir else None
        if folder is None:
            from .seeds import _source_digest
            import tempfile
            folder = Path(tempfile.gettempdir()) / f"kwsnum-fuzz-seeds-{_source_digest()}"
        self.seeds = seed_paths(index, folder)
        self.seed_names = sorted(k for k in self.seeds if seed_filter_ok(self.seed_filter, k))
        if not self.seed_names:
            raise SystemExit(f"no seed matches {self.seed_filter}")
        self.digest = {k: M.has_digest(v["model"]) for k, v in self.seeds.items()}
        self.sign = M.sign_hook()
        # sentinel folders (one per worker): a non-HDF5 file and a copy of every seed
        self.sentinels = []
        for k in range(self.n_workers):
            d = self.out / f"sentinel-{k}"
            shutil.rmtree(d, ignore_errors=True)
            d.mkdir()
            (d / "sentinel.bin").write_bytes(b"SENTINEL" * (1 << 17))
            for name, s in self.seeds.items():
                shutil.copy(s["model"], d / f"{name}.h5")
            self.sentinels.append(d)
        names, w = M.weights()
        if self.only:
            keep = [i for i, n in enumerate(names) if any(re.fullmatch(o, n) for o in self.only)]
            if not keep:
                raise SystemExit(f"no mutator matches {self.only}")
            names, w = [names[i] for i in keep], w[keep] / w[keep].sum()
        self.mut_names, self.mut_w = names, w

    # ------------------------------------------------------------------ mutants
    def make_mutant(self, i, k):
        """Mutant i for worker k: its folder, operations and description (deterministic in (seed, i))."""
        rng = np.random.default_rng([self.seed, i])
        folder = self.out / "work" / f"{i:06d}"
        for attempt in range(40):
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            mname = self.mut_names[int(rng.choice(len(self.mut_names), p=self.mut_w))]
            sname = self.seed_names[int(rng.integers(len(self.seed_names)))]
            seed = self.seeds[sname]
            model = folder / "m.h5"
            shutil.copy(seed["model"], model)
            sent = dict(bin=str(self.sentinels[k] / "sentinel.bin"), h5=str(self.sentinels[k] / f"{sname}.h5"),
                        folder=str(self.sentinels[k]))
            ctx = M.Ctx(rng, str(folder), str(model), seed, sname, sent)
            mdef = M.MUTATORS[mname]
            try:
                detail = mdef["fn"](ctx)
            except M.Skip:
                continue
            except Exception as e:     # a bug of the mutator itself (not of kwsnum): counted, shown, redrawn
                with self.lock:
                    key = f"{mname}: {type(e).__name__}: {e}"[:200]
                    self.generator_errors[key] = self.generator_errors.get(key, 0) + 1
                continue
            variant = "raw"
            if mdef["kind"] == "semantic" and self.sign is not None and rng.random() < 0.5:
                variant = "resigned" if M.resign(str(model)) else "resign-failed"
            ops = ctx.ops
            if ops is None:
                inp = "npy"
                if "wav" in seed["inputs"] and rng.random() < 0.5:
                    inp = "wav"
                shutil.copy(seed["inputs"][inp], folder / f"x.{inp}")
                ops = [dict(op="inspect", argv=["inspect", "m.h5"]), dict(op="run", argv=["run", "m.h5", f"x.{inp}"])]
                if rng.random() < self.p_codegen:
                    argv = ["codegen", "m.h5", "-o", "out"]
                    if rng.random() < self.p_build:
                        argv.append("--build")
                    ops.append(dict(op="codegen", argv=argv))
            return dict(id=i, mutator=mname, kind=mdef["kind"], seed=sname, variant=variant, detail=detail,
                        changed=list(ctx.changed), ops=ops, folder=str(folder))
        self.skipped += 1
        return None

    # ------------------------------------------------------------------ execution
    def run_op(self, worker, watcher, mutant, op):
        folder = mutant["folder"]
        before = _snapshot(folder)
        out_existed = os.path.exists(os.path.join(folder, "out"))
        tmpd = self.out / "work" / f"io-{threading.get_ident()}"
        tmpd.mkdir(exist_ok=True)
        out_p, err_p = tmpd / "stdout", tmpd / "stderr"
        for p in (out_p, err_p):
            if p.exists():
                p.unlink()
        watcher.events()                              # discard anything the parent itself did
        timeout = self.build_timeout if "--build" in op["argv"] else self.timeout
        t0 = time.perf_counter()
        status, reply = worker.request(dict(argv=op["argv"], cwd=folder, out=str(out_p), err=str(err_p)), timeout)
        seconds = time.perf_counter() - t0
        events = watcher.events()
        out = out_p.read_bytes() if out_p.exists() else b""
        err = err_p.read_bytes() if err_p.exists() else b""
        res = dict(op=op["op"], argv=op["argv"], seconds=round(seconds, 3), stdout_bytes=out, stderr_bytes=err,
                   folder=folder)
        flags = []
        tmp_left = _clear_tmp(worker.tmpdir)
        if status == "hang":
            flags, outcome = ["hang"], "hang"
            res["exit"] = None
        elif status == "dead":
            rc = reply
            res["exit"] = rc
            res["signal"] = -rc if rc is not None and rc < 0 else None
            res["worker_log"] = worker.log_tail()
            flags, outcome = ["crash"], "crash"
        else:
            res["exit"] = reply["exit"]
            if reply.get("exception"):
                res["exception"] = reply["exception"]
            flags, outcome = classify(op["op"], reply["exit"], out, err)
            if reply["exit"] != 0:
                left = _leftovers(folder)
                # a failed codegen must not leave a half-written project (a complete one whose --build failed
                # may stay: codegen printed its summary)
                if op["op"] == "codegen" and not out_existed and os.path.exists(os.path.join(folder, "out")) \
                        and b"arena bytes:" not in out:
                    left.append("out/ (a failed codegen left its output)")
                if left:
                    flags.append("leftovers")
                    res["leftovers"] = left
            elif _leftovers(folder):
                flags.append("leftovers")
                res["leftovers"] = _leftovers(folder)
            if tmp_left:
                flags.append("leftovers")
                res["leftovers"] = res.get("leftovers", []) + [f"$TMPDIR/{n}" for n in tmp_left]
            after = _snapshot(folder)
            gone = [p for p, h in before.items() if after.get(p) != h]
            if gone:
                flags.append("clobbered")
                res["clobbered"] = gone
            if reply["exit"] == 0 and op["op"] in ("run", "codegen") and self.digest.get(mutant["seed"]) \
                    and mutant["variant"] != "resigned" and any(not c.startswith("/meta") for c in mutant["changed"]) \
                    and not _same_content(getattr(self, "seeds", {}).get(mutant["seed"], {}).get("model"),
                                          os.path.join(folder, "m.h5")):
                flags.append("undetected-corruption")
        if events:
            flags.append("read-outside")
            res["sentinel_events"] = sorted(set(f"{n} ({what})" for n, what in events))
        flags = sorted(set(flags), key=lambda x: PRIORITY[x])
        if flags:
            outcome = flags[0]
        res["flags"], res["outcome"] = flags, outcome
        return res

    def _record(self, mutant, res):
        key = (mutant["mutator"], res["op"], res["outcome"])
        with self.lock:
            self.counts[key] = self.counts.get(key, 0) + 1
            self.op_seconds[mutant["mutator"]] = self.op_seconds.get(mutant["mutator"], 0.0) + res["seconds"]
            self.n_ops += 1
            if not res["flags"]:
                return
            entry = dict(id=mutant["id"], mutator=mutant["mutator"], seed=mutant["seed"], variant=mutant["variant"],
                         detail=mutant["detail"], op=res["op"], flags=res["flags"], exit=res.get("exit"),
                         signal=res.get("signal"), seconds=res["seconds"],
                         stderr=_decode(res["stderr_bytes"])[-1500:],
                         stdout=_decode(res["stdout_bytes"])[:300])
            for k in ("exception", "leftovers", "clobbered", "sentinel_events", "worker_log"):
                if k in res:
                    entry[k] = res[k]
            sigs = [signature(f, res["op"], mutant["mutator"], res) for f in res["flags"]]
            entry["signatures"] = sigs
            save = False
            for s in sigs:
                rec = self.signatures.setdefault(s, dict(count=0, examples=[]))
                rec["count"] += 1
                if len(rec["examples"]) < self.max_saved:
                    rec["examples"].append(mutant["id"])
                    save = True
            if save or len(self.failures) < 50:
                dest = self.out / "failures" / f"{mutant['id']:06d}-{mutant['mutator']}"
                if not dest.exists():
                    _copy_tree(mutant["folder"], dest)
                    (dest / "mutant.json").write_text(json.dumps({k: v for k, v in mutant.items() if k != "folder"},
                                                                 indent=1, default=str))
                entry["saved"] = str(dest)
                entry["repro"] = repro_command(dest, res["argv"], self.as_limit)
                with open(dest / "repro.sh", "a") as fh:
                    fh.write(f"# {', '.join(res['flags'])}: {mutant['mutator']} on {mutant['seed']}: "
                             f"{_oneline(mutant['detail'])}\n{entry['repro']}\n")
            self.failures.append(entry)

    def _thread(self, k):
        worker = Worker(self.out / f"worker-{k}.log", self.as_limit, tmpdir=self.out / f"tmp-{k}")
        with Watcher(self.sentinels[k]) as watcher:
            try:
                # baseline: every seed unmutated must be ok (this also compiles the kernels, with a long timeout)
                if k == 0:
                    self._baseline(worker, watcher)
                todo = self.ids if self.ids is not None else range(self.n)
                for i in [i for j, i in enumerate(todo) if j % self.n_workers == k]:
                    mutant = self.make_mutant(i, k)
                    if mutant is None:
                        continue
                    for op in mutant["ops"]:
                        self._record(mutant, self.run_op(worker, watcher, mutant, op))
                    _rmtree(mutant["folder"])
                    with self.lock:
                        self.n_done += 1
                        if self.progress and self.n_done % 200 == 0:
                            el = time.perf_counter() - self.t0
                            print(f"  {self.n_done}/{self.n} mutants, {len(self.failures)} failing operations, "
                                  f"{el:.0f} s", file=sys.stderr, flush=True)
            except BaseException as e:
                import traceback
                self.thread_errors.append(traceback.format_exc())
                raise
            finally:
                self.worker_starts += worker.starts
                worker.stop()

    def _baseline(self, worker, watcher):
        saved = self.timeout
        self.timeout = max(self.timeout, 600.0)
        try:
            for name in self.seed_names:
                seed = self.seeds[name]
                folder = self.out / "work" / f"seed-{name}"
                folder.mkdir(parents=True, exist_ok=True)
                shutil.copy(seed["model"], folder / "m.h5")
                ops = [dict(op="inspect", argv=["inspect", "m.h5"])]
                for kind, p in seed["inputs"].items():
                    shutil.copy(p, folder / f"x.{kind}")
                    ops.append(dict(op="run", argv=["run", "m.h5", f"x.{kind}"]))
                mutant = dict(id=-1, mutator="none", kind="none", seed=name, variant="raw", detail="the seed itself",
                              changed=[], ops=ops, folder=str(folder))
                for op in ops:
                    res = self.run_op(worker, watcher, mutant, op)
                    if res["outcome"] != "ok":
                        res["flags"] = res["flags"] or ["bad-exit"]
                        res["outcome"] = res["flags"][0]
                    self._record(mutant, res)
                _rmtree(folder)
        finally:
            self.timeout = saved

    def run(self):
        self._setup()
        self.t0 = time.perf_counter()
        threads = [threading.Thread(target=self._thread, args=(k,), daemon=True) for k in range(self.n_workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.seconds = time.perf_counter() - self.t0
        if self.thread_errors:
            raise RuntimeError("the fuzz campaign itself failed:\n" + "\n".join(self.thread_errors))
        return self.report()

    # ------------------------------------------------------------------ report
    def report(self):
        counts = {}
        for (m, op, outcome), n in sorted(self.counts.items()):
            counts.setdefault(m, {}).setdefault(op, {})[outcome] = n
        totals = {}
        for (_, _, outcome), n in self.counts.items():
            totals[outcome] = totals.get(outcome, 0) + n
        by_class = {}
        for f in self.failures:
            for fl in f["flags"]:
                by_class[fl] = by_class.get(fl, 0) + 1
        sigs = {}
        for s, rec in sorted(self.signatures.items(), key=lambda kv: -kv[1]["count"]):
            ex = next((f for f in self.failures if f["id"] in rec["examples"] and s in f["signatures"]
                       and "repro" in f), None)
            sigs[s] = dict(count=rec["count"], example=dict(
                id=ex["id"], mutator=ex["mutator"], seed=ex["seed"], variant=ex["variant"], detail=ex["detail"],
                repro=ex["repro"], exit=ex["exit"], stderr=ex["stderr"][-400:]) if ex else None)
        return dict(seed=self.seed, mutants=self.n, mutants_run=self.n_done, operations=self.n_ops,
                    skipped=self.skipped, generator_errors=self.generator_errors,
                    seconds_per_mutator={k: round(v, 1) for k, v in sorted(self.op_seconds.items(),
                                                                           key=lambda kv: -kv[1])},
                    seconds=round(self.seconds, 1), workers=self.n_workers,
                    worker_starts=self.worker_starts, timeout=self.timeout,
                    sign_hook=getattr(self.sign, "__name__", None), seeds_with_digest=sorted(
                        k for k, v in self.digest.items() if v), outcome_totals=totals, failure_classes=by_class,
                    distinct_failures=sigs, counts=counts, failures=self.failures, out=str(self.out))


def seed_filter_ok(patterns, name):
    if not patterns:
        return True
    return any(re.fullmatch(p, name) for p in patterns)


def _oneline(s):
    return re.sub(r"[\x00-\x1f\x7f-\x9f]", "?", str(s))


def repro_command(folder, argv, as_limit=None):
    """The exact command, with the worker's address-space limit (ulimit -v, KiB) when it had one, in a
    subshell."""
    import shlex
    limit = f"ulimit -v {as_limit // 1024} && " if as_limit else ""
    return f"(cd {shlex.quote(str(folder))} && {limit}python -m kwsnum {' '.join(shlex.quote(a) for a in argv)})"


def _copy_tree(src, dst):
    """Copy a mutant folder, recreating FIFOs (never opening them) and keeping modes."""
    os.makedirs(dst, exist_ok=True)
    for entry in os.scandir(src):
        s, d = entry.path, os.path.join(dst, entry.name)
        st = os.lstat(s)
        if stat.S_ISFIFO(st.st_mode):
            os.mkfifo(d)
        elif stat.S_ISDIR(st.st_mode):
            try:
                _copy_tree(s, d)
            except PermissionError:
                os.makedirs(d, exist_ok=True)
            os.chmod(d, stat.S_IMODE(st.st_mode))
        elif stat.S_ISREG(st.st_mode):
            shutil.copy2(s, d)


def _rmtree(path):
    def onerror(func, p, exc):
        try:
            os.chmod(os.path.dirname(p), 0o700)
            os.chmod(p, 0o700)
            func(p)
        except OSError:
            pass
    for root, dirs, _ in os.walk(path):
        for d in dirs:
            try:
                os.chmod(os.path.join(root, d), 0o700)
            except OSError:
                pass
    shutil.rmtree(path, onerror=onerror)


def format_report(rep, max_sigs=60):
    lines = [f"kwsnum fuzz: seed {rep['seed']}, {rep['mutants_run']} mutants, {rep['operations']} operations, "
             f"{rep['seconds']} s, {rep['workers']} worker(s), {rep['worker_starts']} worker starts"]
    lines.append("outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(rep["outcome_totals"].items())))
    if rep["generator_errors"]:
        lines.append(f"mutator errors (bugs of the fuzzer, redrawn): {rep['generator_errors']}")
    lines.append(f"sign hook: {rep['sign_hook']}; seeds with a digest: {len(rep['seeds_with_digest'])}")
    slow = list(rep["seconds_per_mutator"].items())[:6]
    lines.append("operation seconds by mutator (slowest): " + ", ".join(f"{k} {v}" for k, v in slow))
    if rep["failure_classes"]:
        lines.append("failure classes: " + ", ".join(f"{k} {v}" for k, v in sorted(rep["failure_classes"].items())))
    lines.append("")
    lines.append(f"{'mutator':<20} {'op':<8} outcomes")
    for m, ops in rep["counts"].items():
        for op, oc in ops.items():
            lines.append(f"{m:<20} {op:<8} " + ", ".join(f"{k} {v}" for k, v in sorted(oc.items())))
    if rep["distinct_failures"]:
        lines.append("")
        lines.append(f"distinct failures ({len(rep['distinct_failures'])}):")
        for s, rec in list(rep["distinct_failures"].items())[:max_sigs]:
            lines.append(f"  [{rec['count']}] {_oneline(s)}")
            ex = rec["example"]
            if ex:
                lines.append(f"      {ex['mutator']} on {ex['seed']} ({ex['variant']}): {_oneline(ex['detail'])[:150]}")
                lines.append(f"      {ex['repro']}")
    return "\n".join(lines)
