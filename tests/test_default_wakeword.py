"""The bundled wake-word model (kwsnum/default/wakeword_int8.h5): it loads and passes the model checks, it is a
streaming int8 model with its micro frontend and detector inside, and ``kwsnum stream`` on the bundled demo
recording reports the inserted wake phrase at the time its CSV says (docs/training.md, "Wake-word model")."""
import json
import os
import subprocess
import sys

import kwsnum
from kwsnum import default, detector, streaming
from kwsnum.wake_eval import TOLERANCE, rates


def test_bundled_wakeword_model_loads_and_is_a_streaming_detector():
    m = kwsnum.load(default.wakeword_model_path())
    m.validate()
    assert streaming.is_streaming(m) and streaming.state_bytes(m) > 0
    assert m.frontend.kind == "micro" and m.frontend.output_shape[-1] == streaming.info(m)["window"]
    p = detector.params_of(m)
    assert p is not None and m.labels[p.label] == "hey_kiwi"
    assert detector.output_spec(m).format == "int8"


def test_package_data_is_small():
    total = 0
    for d, _, files in os.walk(default.HERE):
        total += sum(os.path.getsize(os.path.join(d, f)) for f in files if not f.endswith((".py", ".pyc")))
    assert total < 1_000_000


def test_kwsnum_stream_reports_the_demo_phrase_at_its_time():
    wav, events = default.wakeword_demo()
    assert events
    r = subprocess.run([sys.executable, "-m", "kwsnum", "stream", default.wakeword_model_path(), wav, "--json"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    dets = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
    assert all(d["label"] == "hey_kiwi" and d["file"] == wav for d in dets)
    # every inserted phrase detected in [start, end + tolerance], no other detection
    res = rates([d["time"] for d in dets], events, seconds=1.0, tolerance=TOLERANCE)
    assert (res["missed"], res["false_accepts"]) == (0, 0), (dets, events)
