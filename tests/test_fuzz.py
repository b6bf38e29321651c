"""The mutation fuzz campaign (tests/fuzz, issue 10) in CI: a few hundred hostile mutants of every kind of model
kwsnum writes, through the real CLI; any crash, hang, internal error, multi-line or unescaped output, read outside
the model, undetected corruption, leftover or clobbered file fails the test. The full campaign (10,000 mutants) is
``tox -e fuzz``.

The detectors themselves are checked against a stand-in CLI that misbehaves on command (tests/fuzz/selftest.py),
so they are known to fire whatever state kwsnum is in.
"""
import os
import shutil

import pytest

from tests.fuzz import mutators as M
from tests.fuzz.inotify import Watcher
from tests.fuzz.runner import Campaign, Worker, classify, format_report

CI_MUTANTS = int(os.environ.get("KWSNUM_FUZZ_CI_MUTANTS", 250))
CI_SEED = int(os.environ.get("KWSNUM_FUZZ_CI_SEED", 20261202))


# ----------------------------------------------------------------------------- the detectors can fail
def test_classify():
    assert classify("run", 0, b"x\ty 0.5\n", b"") == ([], "ok")
    assert classify("run", 2, b"", b"kwsnum: error: m.h5: bad\n") == ([], "clean")
    assert classify("run", 2, b"", b"kwsnum: error: a\nkwsnum: error: b\n")[1] == "multiline"
    assert classify("run", 2, b"", b"Usage: kwsnum run\nError: x\n")[1] == "multiline"
    assert classify("run", 2, b"", b"kwsnum: error: no newline")[1] == "multiline"
    assert classify("run", 3, b"", b"kwsnum: error: internal error: KeyError\n")[1] == "internal"
    assert classify("run", 2, b"", b"Traceback (most recent call last):\n")[1] == "internal"
    assert classify("run", "exception", b"", b"")[1] == "internal"
    assert classify("run", 1, b"", b"")[1] == "bad-exit"
    for bad in (b"\x1b[31m", b"\x1b]0;t\x07", "\u009b".encode(), b"\r", b"\x7f", b"\x00"):
        assert classify("inspect", 0, b"name " + bad + b"\n", b"")[1] == "control-chars", bad
        assert classify("run", 2, b"", b"kwsnum: error: " + bad + b"\n")[1] == "control-chars", bad


@pytest.fixture(scope="module")
def selftest(tmp_path_factory):
    """A Campaign's run_op with a worker running the misbehaving stand-in CLI, and a watched sentinel folder."""
    out = tmp_path_factory.mktemp("fuzz-selftest")
    sentinel = out / "sentinel"
    sentinel.mkdir()
    (sentinel / "sentinel.bin").write_bytes(b"SENTINEL" * 64)
    (out / "work").mkdir()
    c = Campaign(0, out=out, timeout=2.0)
    c.digest = {}
    worker = Worker(out / "worker.log", 4 << 30, env={"KWSNUM_FUZZ_TARGET": "tests.fuzz.selftest:main"},
                    tmpdir=out / "tmp")
    watcher = Watcher(sentinel)
    folder = out / "m"

    def run(*argv, op="run", seed="s", variant="raw", changed=(), keep=False):
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(exist_ok=True)
        mutant = dict(id=0, mutator="selftest", seed=seed, variant=variant, changed=list(changed), folder=str(folder))
        return c.run_op(worker, watcher, mutant, dict(op=op, argv=list(argv)))
    run.campaign, run.folder, run.sentinel, run.worker = c, folder, sentinel, worker
    yield run
    worker.stop()
    watcher.close()


@pytest.mark.parametrize("argv, outcome", [
    (["ok"], "ok"), (["clean"], "clean"), (["segv"], "crash"), (["abort"], "crash"), (["sleep"], "hang"),
    (["escape"], "control-chars"), (["multiline"], "multiline"), (["internal"], "internal"),
    (["raise"], "internal"),
    (["leftover"], "leftovers"), (["tmpleft"], "leftovers"), (["memory"], "internal"),
    (["exit1"], "bad-exit"), (["ok"], "ok"),
])
def test_detectors_fire(selftest, argv, outcome):
    res = selftest(*argv)
    assert res["outcome"] == outcome, res
    if outcome == "crash":
        assert res["signal"] in (11, 6) and "Fatal Python error" in res["worker_log"]
    if outcome == "internal" and argv == ["memory"]:
        assert "MemoryError" in res["stderr_bytes"].decode()      # the address-space limit, not a dead machine


def test_read_outside_detector_fires(selftest):
    res = selftest("open", str(selftest.sentinel / "sentinel.bin"))
    assert "read-outside" in res["flags"] and res["sentinel_events"], res
    assert selftest("ok")["outcome"] == "ok"           # events of one operation do not leak into the next


def test_clobber_and_corruption_detectors_fire(selftest):
    selftest("ok")
    (selftest.folder / "keep.txt").write_text("the user's")
    res = selftest("clobber", "keep.txt", keep=True)
    assert "clobbered" in res["flags"] and res["clobbered"] == ["keep.txt"]
    selftest.campaign.digest = {"signed": True}
    try:
        assert "undetected-corruption" in selftest("ok", seed="signed", changed=["/graph/0/weight"])["flags"]
        assert selftest("ok", seed="signed", variant="resigned", changed=["/graph/0/weight"])["flags"] == []
        assert selftest("ok", seed="signed", changed=["/meta@source"])["flags"] == []
        assert selftest("ok", seed="s", changed=["/graph/0/weight"])["flags"] == []
    finally:
        selftest.campaign.digest = {}


def test_mutants_are_deterministic(tmp_path):
    """Mutant i depends on (seed, i) only: two campaigns make byte-identical files."""
    import hashlib
    digests = []
    for run in ("a", "b"):
        c = Campaign(12, seed=5, out=tmp_path / "same")       # sentinel paths are part of some mutants
        c._setup()
        ds = []
        for i in range(12):
            m = c.make_mutant(i, 0)
            h = hashlib.sha1(open(os.path.join(m["folder"], "m.h5"), "rb").read()).hexdigest()
            ds.append((m["mutator"], m["seed"], m["detail"], h))
        digests.append(ds)
    assert digests[0] == digests[1]
    assert len({d[0] for d in digests[0]}) > 3


def test_sign_hook_contract():
    """The re-signed variant calls kwsnum's own digest routine when it exists (kwsnum.io.sign(path) or the
    alternatives in mutators.SIGN_HOOKS); without one every semantic mutant is raw."""
    fn = M.sign_hook()
    from kwsnum import io as kio
    assert (fn is None) == (not any(callable(getattr(kio, n, None)) for n in M.SIGN_HOOKS))


# ----------------------------------------------------------------------------- the campaign itself
def test_fuzz_campaign(tmp_path_factory):
    out = os.environ.get("KWSNUM_FUZZ_OUT") or tmp_path_factory.mktemp("fuzz")
    c = Campaign(CI_MUTANTS, seed=CI_SEED, out=out, timeout=10.0, p_codegen=0.02, p_build=0.25, progress=False)
    rep = c.run()
    assert rep["mutants_run"] >= 0.9 * CI_MUTANTS, rep["skipped"]
    assert not rep["generator_errors"], rep["generator_errors"]
    ops = {op for m in rep["counts"].values() for op in m}
    assert {"inspect", "run"} <= ops
    assert rep["outcome_totals"].get("clean", 0) > CI_MUTANTS // 4        # mutants do reach the validation
    assert not rep["failure_classes"], "\n" + format_report(rep, max_sigs=40)


def test_resigned_variant_calls_the_hook(tmp_path, monkeypatch):
    """With a sign hook, about half of the semantic mutants are re-signed through it (in a forked child)."""
    from kwsnum import io as kio
    existing = M.sign_hook()

    def fake_sign(path):          # runs in the forked child: leaves a mark beside the file
        if existing is not None:
            existing(path)
        open(f"{path}.resigned", "w").close()
    monkeypatch.setattr(kio, M.SIGN_HOOKS[0], fake_sign, raising=False)
    c = Campaign(40, seed=9, out=tmp_path, only=["attr_int_extreme", "attr_delete", "attr_unknown", "node_.*",
                                                      "weight_bitflip"])
    c._setup()
    variants = []
    for i in range(40):
        m = c.make_mutant(i, 0)
        mark = os.path.join(m["folder"], "m.h5.resigned")
        signed = os.path.exists(mark)
        if signed:
            os.unlink(mark)
        assert signed == (m["variant"] == "resigned"), m
        variants.append(m["variant"])
    assert 8 <= variants.count("resigned") <= 32 and "raw" in variants
