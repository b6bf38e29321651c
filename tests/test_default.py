"""The bundled default model and clips: `kwsnum run` with no arguments, and the three implementations agree on it."""
import shutil
import subprocess
import sys

import numpy as np
import pytest

import kwsnum
from kwsnum import default
from kwsnum.wav import read_wav


def features():
    m = kwsnum.load(default.model_path())
    clips = default.clips()
    x = np.stack([m.frontend.compute(read_wav(p, expected_rate=m.frontend.sample_rate)[0]) for p, _ in clips])
    return m, clips, x


def test_bundle_is_small_and_complete():
    m, clips, x = features()
    assert sorted(label for _, label in clips) == sorted(m.labels)
    size = sum(__import__("os").path.getsize(p) for p, _ in clips) + __import__("os").path.getsize(default.model_path())
    assert size < 1_000_000


def test_run_without_arguments_classifies_the_bundled_clips():
    m, clips, x = features()
    r = subprocess.run([sys.executable, "-m", "kwsnum", "run"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert len(lines) == len(clips)
    pred = m.run(x).argmax(axis=1)
    for line, (path, label), p in zip(lines, clips, pred):
        name, exp, top = line.split("\t")
        assert name == path.rsplit("/", 1)[-1] and exp == f"expected {label}"
        assert top.split()[0] == m.labels[p]
    assert len(set(pred.tolist())) >= len(clips) // 2  # not a one-class model
    assert "bundled clips classified as expected" in r.stderr


def test_oracle_equals_torch_reference_on_every_layer():
    pytest.importorskip("torch")
    from tests.strategies import check_model
    m, clips, x = features()
    check_model(m, x)


@pytest.mark.skipif(shutil.which("cc") is None and shutil.which("gcc") is None, reason="no C compiler")
def test_generated_c_is_bit_exact(tmp_path):
    from kwsnum.codegen.emit import generate, build, verify
    m, clips, x = features()
    generate(m, tmp_path / "kws", "kws")
    build(tmp_path / "kws")
    res = verify(m, tmp_path / "kws", x)
    assert str(res) == f"{len(x)}/{len(x)} bit-exact", str(res)
