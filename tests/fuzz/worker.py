"""The long-lived worker: runs the real CLI in-process (``kwsnum.cli.main.main(argv)``) for each request, so numba
kernels compile (or load from the cache) once.

Protocol: one JSON request per line on the private copy of fd 0 ({"argv": [...], "cwd": ..., "out": path,
"err": path}); fd 1 and 2 are redirected to the request's out / err files during the operation (C-level output
of libhdf5 and numba is captured too); one JSON reply per line on the private copy of fd 1 ({"exit": code} or
{"exit": "exception", ...}). The parent enforces timeouts and watches for the worker's death (a crash). The
address space is limited (KWSNUM_FUZZ_AS_LIMIT bytes, default 4 GiB) so an unbounded allocation shows up as a
MemoryError, not a dead machine. faulthandler writes the Python stack of a fatal signal to the worker's log.
"""
import faulthandler
import json
import os
import resource
import sys
import time
import traceback


def _limit_memory():
    limit = int(os.environ.get("KWSNUM_FUZZ_AS_LIMIT", 4 << 30))
    if limit > 0:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def main():
    os.environ.pop("KWSNUM_DEBUG", None)
    proto_in = os.fdopen(os.dup(0), "r", buffering=1)
    proto_out = os.fdopen(os.dup(1), "w", buffering=1)
    log_fd = os.dup(2)
    faulthandler.enable(file=log_fd, all_threads=True)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    _limit_memory()
    target = os.environ.get("KWSNUM_FUZZ_TARGET", "kwsnum.cli.main:main")   # the detectors' self-test swaps it
    mod, _, fn = target.partition(":")
    import importlib
    cli_main = getattr(importlib.import_module(mod), fn)
    import h5py  # noqa: F401  (imported once, as the CLI would)
    home = os.getcwd()
    proto_out.write(json.dumps(dict(ready=True, pid=os.getpid())) + "\n")
    for line in proto_in:
        req = json.loads(line)
        if req.get("quit"):
            break
        out_fd = os.open(req["out"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        err_fd = os.open(req["err"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        sys.stdout.flush()
        sys.stderr.flush()
        saved_err = os.dup(2)
        os.dup2(out_fd, 1)
        os.dup2(err_fd, 2)
        reply = {}
        t0 = time.perf_counter()
        try:
            os.chdir(req["cwd"])
            try:
                cli_main(list(req["argv"]))
                reply["exit"] = 0
            except SystemExit as e:
                code = e.code
                if code is None:
                    code = 0
                elif not isinstance(code, int):
                    print(code, file=sys.stderr)
                    code = 1
                reply["exit"] = code
        except BaseException as e:   # escaped the CLI's own handler: an internal error with a traceback
            traceback.print_exc()
            reply["exit"] = "exception"
            reply["exception"] = f"{type(e).__name__}: {e}"[:2000]
        finally:
            reply["seconds"] = time.perf_counter() - t0
            try:
                sys.stdout.flush()
            except Exception:
                pass
            try:
                sys.stderr.flush()
            except Exception:
                pass
            os.dup2(devnull, 1)
            os.dup2(saved_err, 2)
            os.close(saved_err)
            os.close(out_fd)
            os.close(err_fd)
            os.chdir(home)
        proto_out.write(json.dumps(reply) + "\n")


if __name__ == "__main__":
    main()
