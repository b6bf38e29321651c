"""kwsnum/listen.py (docs/numerics.md 12.6): int16 PCM -> micro frontend incrementally -> streaming model steps ->
integer detector. Chunked pushes == one push; a batch == independent streams; the pipeline equals its stages run
one after the other on the whole signal; times follow the stated definition; refusals are clear."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

pytest.importorskip("torch")

from kwsnum import detector, listen, streaming       # noqa: E402
from kwsnum.errors import InputError                  # noqa: E402
from tests import listen_models                       # noqa: E402

_CACHE = {}


def model(precision="int8"):
    if precision not in _CACHE:
        _CACHE[precision] = listen_models.tiny(1, precision)
    return _CACHE[precision]


SIGNAL = listen_models.pcm(5, 4.0)


def test_detections_equal_the_stages_run_whole():
    """Listener == micro frontend on the whole signal, the model's Stream over all frames, Detector per step."""
    sm = model()
    got = listen.listen(sm, SIGNAL)
    fe = sm.frontend
    feats = (fe.stream().push(SIGNAL).astype(np.float32) * np.float32(fe.out_scale)).T
    q = sm.stream().push(np.ascontiguousarray(feats), tensor=detector.output_spec(sm).name)
    p = detector.params_of(sm)
    want = detector.detect(p, q, streaming.info(sm)["warmup"])
    assert [(d.step, d.sum) for d in got] == want
    assert 2 <= len(got) < len(q) // 4, "the threshold should fire now and then"
    for d in got:
        assert d.label == "wake" and d.index == 1
        assert d.score == p.scale * d.sum / p.window
        R = streaming.info(sm)["step"]
        hop, win = fe.tables.window_step, fe.tables.window_size
        assert d.time == (((d.step + 1) * R - 1) * hop + win) / 16000
        # the step ran once the samples up to its time had arrived, not before
        n = int(round(d.time * 16000))
        assert len(listen.Listener(sm).push(SIGNAL[:n])) == sum(1 for e in got if e.step <= d.step)
        assert len(listen.Listener(sm).push(SIGNAL[:n - 1])) == sum(1 for e in got if e.step < d.step)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, 3000), min_size=1, max_size=40), st.booleans())
def test_chunked_push_equals_one_push(cuts, reset_first):
    sm = model()
    whole = listen.listen(sm, SIGNAL)
    lis = listen.Listener(sm)
    if reset_first:
        lis.push(SIGNAL[:5000])
        lis.reset()
    cuts = cuts + [max(1, 3000 - sum(cuts))]       # empty pushes allowed, but every round trip advances
    got, pos, i = [], 0, 0
    while pos < len(SIGNAL):
        k = cuts[i % len(cuts)]
        got += lis.push(SIGNAL[pos:pos + k])
        pos += k
        i += 1
    assert got == whole
    assert lis.samples == len(SIGNAL)


def test_batch_equals_independent_streams():
    sm = model()
    x = np.stack([SIGNAL, listen_models.pcm(8, 4.0), SIGNAL[::-1].copy()])
    lis = listen.Listener(sm, batch=3)
    got = [a + b for a, b in zip(lis.push(x[:, :7777]), lis.push(x[:, 7777:]))]
    assert got == [listen.listen(sm, s) for s in x]


def test_overrides_and_reference():
    sm = model()
    p = detector.params_of(sm)
    base = listen.listen(sm, SIGNAL)
    assert listen.listen(sm, SIGNAL, refractory=p.refractory) == base
    loose = listen.listen(sm, SIGNAL, refractory=0, threshold=-1e9)
    assert len(loose) == len(listen.Listener(sm).push(SIGNAL)) or len(loose) > len(base)
    assert all(b.step - a.step >= 0 for a, b in zip(loose, loose[1:]))
    w = listen.listen(sm, SIGNAL, window=1, threshold=p.threshold_sum * p.scale / p.window)
    assert w != base
    assert listen.listen(sm, SIGNAL, reference=True) == base      # integer model: the torch reference == oracle


def test_refusals():
    import copy
    sm = model()
    plain = copy.copy(sm)
    plain.frontend = None
    with pytest.raises(InputError, match="no frontend"):
        listen.Listener(plain)
    with pytest.raises(InputError, match="not a streaming model"):
        windowed = copy.copy(sm)
        windowed.meta = {k: v for k, v in sm.meta.items() if k != streaming.META_KEY}
        windowed.nodes = [n for n in sm.nodes if n.op != "delay"]
        listen.check(windowed)
    from kwsnum.frontend import Frontend
    lm = copy.copy(sm)
    lm.frontend = Frontend.logmel(layout="coeff_major", channel_axis=False)
    with pytest.raises(InputError, match="reflect-pads"):
        listen.check(lm)
    lm.frontend = Frontend.logmel(layout="coeff_major", channel_axis=False, center=False)
    with pytest.raises(InputError, match="cannot run frame by frame bit-exactly"):
        listen.check(lm)
    with pytest.raises(InputError, match="int16"):
        listen.Listener(sm).push(SIGNAL.astype(np.float32))
    with pytest.raises(InputError, match="does not match"):
        listen.Listener(sm, batch=2).push(SIGNAL)
    nodet = copy.copy(sm)
    nodet.meta = {k: v for k, v in sm.meta.items() if k != detector.META_KEY}
    with pytest.raises(InputError, match="no detector parameters"):
        listen.Listener(nodet)
    assert listen.Listener(nodet, label=1, threshold=0.5).params.label == 1


def test_saved_model_listens(tmp_path):
    import kwsnum
    sm = model()
    kwsnum.save(sm, tmp_path / "s.h5")
    back = kwsnum.load(tmp_path / "s.h5")
    assert back.frontend == sm.frontend
    assert listen.listen(back, SIGNAL) == listen.listen(sm, SIGNAL)


PUSH_MAIN = r"""
#include <stdio.h>
#include <stdlib.h>
#include "NAME_frontend.h"
/* argv[1]: raw int16 PCM; pushes it in chunks of 0..argv[2] samples (a fixed LCG), prints each detection:
   step end_sample sum label; halfway through (argv[3] samples) resets the stream when argv[4] is 1 */
static void on_detect(const NAME_detection *d, void *user)
{
    (void)user;
    printf("%lu %llu %lld %d\n", (unsigned long)d->step, (unsigned long long)d->end_sample, (long long)d->sum,
           (int)d->label);
}

int main(int argc, char **argv)
{
    static int16_t pcm[1 << 20];
    FILE *f;
    size_t n, pos = 0, max_chunk, half;
    int reset = 0;
    unsigned long lcg = 12345;
    if (argc != 5 || (f = fopen(argv[1], "rb")) == NULL)
        return 2;
    n = fread(pcm, sizeof pcm[0], sizeof pcm / sizeof pcm[0], f);
    fclose(f);
    max_chunk = (size_t)atol(argv[2]);
    half = (size_t)atol(argv[3]);
    if (NAME_push_pcm(NULL, 0, on_detect, NULL) != 0 || NAME_push_pcm(NULL, 1, on_detect, NULL) != -1)
        return 3;
    while (pos < n) {
        size_t k;
        lcg = lcg * 1103515245ul + 12345ul;
        k = (size_t)((lcg >> 8) % (max_chunk + 1));
        if (pos < half && pos + k > half)
            k = half - pos;
        if (k > n - pos)
            k = n - pos;
        if (NAME_push_pcm(pcm + pos, k, on_detect, NULL) < 0)
            return 4;
        pos += k;
        if (pos == half && atoi(argv[4]) == 1 && !reset) {
            reset = 1;
            printf("reset\n");
            NAME_stream_reset();
        }
    }
    return 0;
}
"""

SANITIZE = ("-O1", "-g", "-fno-omit-frame-pointer", "-fsanitize=address,undefined", "-fno-sanitize-recover=all")


@pytest.mark.parametrize("precision", ["int8", "int16"])
def test_c_push_pcm_equals_python(tmp_path, precision):
    """NAME_push_pcm (generated micro frontend C -> NAME_step every R frames -> NAME_detect) reports the same
    detections (step, end sample, sum) as kwsnum.listen on a long signal pushed in random chunks, with a stream
    reset halfway, under ASan + UBSan."""
    import re
    import subprocess
    from tests import c_build
    from kwsnum.codegen import generate
    cc = c_build.compiler()
    if cc is None:
        pytest.skip("no C compiler found")
    sm = model() if precision == "int8" else listen_models.tiny(3, precision)
    x = listen_models.pcm(21, 12.0)
    half = 16000 * 5 + 77
    want = ([(d.step, round(d.time * 16000), d.sum, d.index) for d in listen.listen(sm, x[:half])] + ["reset"]
            + [(d.step, round(d.time * 16000), d.sum, d.index) for d in listen.listen(sm, x[half:])])
    assert len(want) >= 4
    project = generate(sm, tmp_path / "c")
    d = tmp_path / "c"
    header = (d / f"{project.name}_frontend.h").read_text()
    assert f"int {project.name}_push_pcm(const int16_t *pcm, size_t n" in header and "classify_pcm" not in header
    (d / "push_main.c").write_text(PUSH_MAIN.replace("NAME", project.name))
    srcs = re.search(r"^SRCS = (.*)$", (d / "Makefile").read_text(), re.M).group(1).split()
    srcs = [s for s in srcs if s != "main.c"]
    exe = d / "push_main"
    subprocess.run([cc, "-std=c99", *SANITIZE, "-Wall", "-Wextra", "-Werror", "-ffp-contract=off", "-I", str(d),
                    *[str(d / s) for s in srcs], str(d / "push_main.c"), "-o", str(exe), "-lm"], check=True)
    x.astype("<i2").tofile(d / "x.pcm")
    for max_chunk in (1, 700, 40000):
        r = subprocess.run([str(exe), str(d / "x.pcm"), str(max_chunk), str(half), "1"], capture_output=True,
                           text=True, timeout=600)
        assert r.returncode == 0, r.stderr
        got = [line if line == "reset" else tuple(int(v) for v in line.split()) for line in r.stdout.splitlines()]
        assert got == want, f"max chunk {max_chunk}"
