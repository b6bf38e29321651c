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
