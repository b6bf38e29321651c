"""``kwsnum stream MODEL WAV...`` (cli/stream.py): the detections of kwsnum.listen, printed per file; options
override the stored detector; one-line errors, exit 2; no torch import."""
import json
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("torch")

import kwsnum                                   # noqa: E402
from kwsnum import listen                       # noqa: E402
from kwsnum.wav import write_wav                # noqa: E402
from tests import listen_models                 # noqa: E402

CODE = ("import sys; from kwsnum.cli.main import main\n"
        "try:\n    main(sys.argv[1:])\nexcept SystemExit as e:\n    code = e.code\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\nsys.exit(code)\n")


def kw(*args):
    return subprocess.run([sys.executable, "-c", CODE, *map(str, args)], capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("stream")
    sm = listen_models.tiny(2)
    kwsnum.save(sm, d / "s.h5")
    a, b = listen_models.pcm(3, 3.0), listen_models.pcm(4, 2.0)
    write_wav(d / "a.wav", a, 16000)
    write_wav(d / "b.wav", b, 16000)
    return d, sm, a, b


def test_stream_prints_the_detections(files):
    d, sm, a, b = files
    r = kw("stream", d / "s.h5", d / "a.wav", d / "b.wav", "--json")
    assert r.returncode == 0, r.stderr
    recs = [json.loads(line) for line in r.stdout.splitlines()]
    want = [(str(d / f), x.step, x.sum) for f, s in (("a.wav", a), ("b.wav", b)) for x in listen.listen(sm, s)]
    assert [(x["file"], x["step"], x["sum"]) for x in recs] == want and len(want) >= 2
    assert all(x["label"] == "wake" for x in recs)
    r = kw("stream", d / "s.h5", d / "a.wav")
    assert r.returncode == 0, r.stderr
    rows = [line.split("\t") for line in r.stdout.splitlines()]
    first = listen.listen(sm, a)
    assert [(float(t), lab, float(s)) for _, t, lab, s in rows] == \
        [(round(x.time, 3), "wake", round(x.score, 4)) for x in first]
    assert "progress" not in r.stderr and "\r" not in r.stderr          # stderr is no terminal here


def test_stream_options_override(files):
    d, sm, a, _ = files
    r = kw("stream", d / "s.h5", d / "a.wav", "--json", "--threshold", "-1e9", "--refractory", "0", "--window", "1")
    assert r.returncode == 0, r.stderr
    steps = [json.loads(line)["step"] for line in r.stdout.splitlines()]
    assert steps == [x.step for x in listen.listen(sm, a, threshold=-1e9, refractory=0, window=1)]
    assert steps == list(range(steps[0], steps[0] + len(steps)))       # every step after the warm-up


def test_stream_errors(files, tmp_path):
    d, sm, a, _ = files
    import copy
    plain = copy.copy(sm)
    plain.frontend = None
    kwsnum.save(plain, tmp_path / "nofe.h5")
    (tmp_path / "bad.wav").write_bytes(b"RIFF1234WAVEjunk")
    write_wav(tmp_path / "r8k.wav", a[:8000], 8000)
    for args, msg in [((tmp_path / "nofe.h5", d / "a.wav"), "no frontend"),
                      ((d / "s.h5", tmp_path / "bad.wav"), "bad.wav"),
                      ((d / "s.h5", tmp_path / "r8k.wav"), "r8k.wav"),
                      ((d / "s.h5", tmp_path / "missing.wav"), "not found")]:
        r = kw("stream", *args)
        assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("kwsnum: error: ") and msg in lines[0], r.stderr
    r = kw("stream", d / "s.h5", tmp_path / "r8k.wav", "--resample", "--json")
    assert r.returncode == 0, r.stderr
