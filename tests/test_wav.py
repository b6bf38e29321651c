"""kwsnum.wav: 16-bit PCM mono only, one clear InputError (with the file name) per defect."""
import struct
import wave

import numpy as np
import pytest

from kwsnum.errors import InputError
from kwsnum.wav import read_wav, write_wav


def riff(fmt_tag=1, channels=1, rate=16000, bits=16, data=b"", data_size=None, fmt_extra=b"",
         chunks=("fmt", "data")):
    """Raw WAV bytes with any header values."""
    block = channels * max(bits // 8, 1)
    fmt = struct.pack("<HHIIHH", fmt_tag, channels, rate, rate * block, block, bits) + fmt_extra
    parts = []
    for c in chunks:
        if c == "fmt":
            parts.append(b"fmt " + struct.pack("<I", len(fmt)) + fmt)
        elif c == "data":
            parts.append(b"data" + struct.pack("<I", len(data) if data_size is None else data_size) + data)
    body = b"WAVE" + b"".join(parts)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def write_with_wave(path, channels=1, width=2, rate=16000, nframes=100):
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(b"\x01" * (channels * width * nframes))


def expect_error(path, match, **kw):
    with pytest.raises(InputError, match=match) as e:
        read_wav(path, **kw)
    assert e.value.file == str(path)
    assert str(e.value).startswith(str(path) + ": ")
    return e.value


def test_round_trip(tmp_path):
    x = np.random.default_rng(0).integers(-32768, 32768, 16000).astype(np.int16)
    x[:2] = (-32768, 32767)
    p = tmp_path / "a.wav"
    write_wav(p, x, 16000)
    y, rate = read_wav(p)
    assert rate == 16000 and y.dtype == np.int16 and np.array_equal(x, y)
    y, rate = read_wav(str(p), expected_rate=None)
    assert rate == 16000 and np.array_equal(x, y)


def test_write_accepts_int_in_range_and_other_rates(tmp_path):
    p = tmp_path / "b.wav"
    write_wav(p, np.array([0, 1, -1, 32767], np.int64), 8000)
    y, rate = read_wav(p, expected_rate=8000)
    assert rate == 8000 and y.tolist() == [0, 1, -1, 32767]


@pytest.mark.parametrize("bad, match", [
    (np.zeros((2, 10), np.int16), "1-D"),
    (np.zeros(10, np.float32), "int16"),
    (np.array([40000]), "int16"),
])
def test_write_refuses(tmp_path, bad, match):
    with pytest.raises(InputError, match=match):
        write_wav(tmp_path / "x.wav", bad, 16000)


def test_missing_file(tmp_path):
    expect_error(tmp_path / "nope.wav", "file not found")


def test_directory(tmp_path):
    expect_error(tmp_path, "is a directory")


def test_zero_byte_file(tmp_path):
    p = tmp_path / "empty.wav"
    p.write_bytes(b"")
    expect_error(p, r"empty file \(0 bytes\)")


@pytest.mark.parametrize("content", [b"hello, this is text and not audio", b"ID3\x03\x00" + b"\x00" * 100,
                                     b"RI", riff()[:4] + b"\x00\x00\x00\x00AVI LIST"])
def test_not_a_wav(tmp_path, content):
    p = tmp_path / "x.wav"
    p.write_bytes(content)
    expect_error(p, r"not a WAV file \(no RIFF/WAVE header\)")


@pytest.mark.parametrize("tag, bits, extra, match", [
    (3, 32, b"", "sample format is 32-bit IEEE float, expected 16-bit PCM mono"),
    (6, 8, b"", "sample format is 8-bit A-law, expected 16-bit PCM mono"),
    (7, 8, b"", "sample format is 8-bit mu-law, expected 16-bit PCM mono"),
    (0xFFFE, 16, struct.pack("<HHI", 22, 16, 4) + struct.pack("<H", 1) + b"\x00" * 14,
     r"16-bit WAVE_FORMAT_EXTENSIBLE \(PCM\), expected 16-bit PCM mono"),
    (0xFFFE, 32, struct.pack("<HHI", 22, 32, 4) + struct.pack("<H", 3) + b"\x00" * 14,
     r"32-bit WAVE_FORMAT_EXTENSIBLE \(IEEE float\)"),
])
def test_non_pcm_formats(tmp_path, tag, bits, extra, match):
    p = tmp_path / "f.wav"
    p.write_bytes(riff(fmt_tag=tag, bits=bits, data=b"\x00" * 64, fmt_extra=extra))
    expect_error(p, match)


@pytest.mark.parametrize("width, match", [(1, "8-bit unsigned PCM"), (3, "24-bit PCM"), (4, "32-bit PCM")])
def test_wrong_sample_width(tmp_path, width, match):
    p = tmp_path / "w.wav"
    write_with_wave(p, width=width)
    expect_error(p, f"sample format is {match}, expected 16-bit PCM mono")


def test_stereo(tmp_path):
    p = tmp_path / "s.wav"
    write_with_wave(p, channels=2)
    expect_error(p, r"2 channels, expected mono \(1 channel\)")


def test_wrong_rate_never_resampled(tmp_path):
    p = tmp_path / "r.wav"
    write_wav(p, np.zeros(800, np.int16), 8000)
    expect_error(p, "sample rate 8000 Hz, expected 16000 Hz; kwsnum does not resample")
    expect_error(p, "sample rate 8000 Hz, expected 44100 Hz", expected_rate=44100)
    assert read_wav(p, expected_rate=8000)[1] == 8000


def test_no_samples(tmp_path):
    p = tmp_path / "e.wav"
    write_wav(p, np.zeros(0, np.int16), 16000)
    expect_error(p, r"no samples \(empty data chunk\)")


def test_truncated_data(tmp_path):
    p = tmp_path / "t.wav"
    write_wav(p, np.arange(1000, dtype=np.int16), 16000)
    p.write_bytes(p.read_bytes()[:-500])
    expect_error(p, "truncated data: header says 1000 samples, file holds 750")


def test_truncated_data_raw_header(tmp_path):
    p = tmp_path / "t2.wav"
    p.write_bytes(riff(data=b"\x00" * 10, data_size=16000))
    expect_error(p, "truncated data: header says 8000 samples, file holds 5")


def test_truncated_header(tmp_path):
    p = tmp_path / "h.wav"
    p.write_bytes(riff()[:30])
    e = expect_error(p, "truncated WAV header|malformed WAV file")
    assert "\n" not in str(e)


def test_missing_data_chunk(tmp_path):
    p = tmp_path / "d.wav"
    p.write_bytes(riff(chunks=("fmt",)))
    expect_error(p, "malformed WAV file: fmt chunk and/or data chunk missing")


# --------------------------------------------------------------------------- --resample / --mix (asked for only)
def _write_frames(path, frames, rate):
    frames = np.asarray(frames, np.int16)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1 if frames.ndim == 1 else frames.shape[1])
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames.astype("<i2").tobytes())


def test_stereo_refused_names_the_option_and_mix_averages(tmp_path):
    p = tmp_path / "s.wav"
    left = np.arange(-500, 500, dtype=np.int16) * 30
    right = np.full(1000, 1001, np.int16)
    _write_frames(p, np.stack([left, right], 1), 16000)
    expect_error(p, "2 channels, expected mono .*pass --mix")
    notes = []
    x, rate = read_wav(p, mix=True, notes=notes)
    assert rate == 16000 and x.dtype == np.int16 and x.shape == (1000,)
    assert np.array_equal(x, np.round((left.astype(float) + right) / 2).astype(np.int16))
    assert notes == [f"{p}: mixed 2 channels down to mono (average)"]


@pytest.mark.parametrize("rate", [8000, 22050, 44100, 48000])
def test_resample_on_request(tmp_path, rate):
    pytest.importorskip("scipy")
    p = tmp_path / "r.wav"
    t = np.arange(int(0.5 * rate)) / rate
    _write_frames(p, np.round(10000 * np.sin(2 * np.pi * 440 * t)), rate)
    expect_error(p, f"sample rate {rate} Hz, expected 16000 Hz; .*pass --resample")
    notes = []
    x, got = read_wav(p, resample=True, notes=notes)
    assert got == 16000 and x.dtype == np.int16 and x.size == 8000
    assert notes and "resampled" in notes[0] and f"{rate} Hz -> 16000 Hz" in notes[0]
    # still a 440 Hz tone of the same amplitude (away from the filter's edge effects)
    mid = x[1000:7000].astype(np.float64)
    ref = 10000 * np.sin(2 * np.pi * 440 * (np.arange(1000, 7000) / 16000))
    assert np.max(np.abs(mid - ref)) < 150
    same, r2 = read_wav(p, expected_rate=rate, resample=True, notes=[])
    assert r2 == rate and same.size == t.size                     # nothing to convert: untouched


def test_cli_run_resample_and_mix(tmp_path):
    import subprocess
    import sys
    from kwsnum import default
    clip = read_wav(default.clips()[0][0])[0]
    up = tmp_path / "stereo48k.wav"
    from kwsnum.wav import resample_int16
    y = resample_int16(clip, 16000, 48000)
    _write_frames(up, np.stack([y, y], 1), 48000)
    r = subprocess.run([sys.executable, "-m", "kwsnum", "run", str(up)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and "--mix" in r.stderr and "Traceback" not in r.stderr
    r = subprocess.run([sys.executable, "-m", "kwsnum", "run", str(up), "--mix"], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 2 and "--resample" in r.stderr
    r = subprocess.run([sys.executable, "-m", "kwsnum", "run", str(up), "--mix", "--resample"], capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "resampled 48000 Hz -> 16000 Hz" in r.stderr and "mixed 2 channels" in r.stderr
    r0 = subprocess.run([sys.executable, "-m", "kwsnum", "run", default.clips()[0][0]], capture_output=True,
                        text=True, timeout=300)
    assert r.stdout.split("\t")[1].split()[0] == r0.stdout.split("\t")[1].split()[0]   # the same top class


def test_cli_features_resample_and_mix(tmp_path):
    """kwsnum features shares run's WAV input (cli/wavinput.py): the same refusals naming the option, and with
    --mix --resample the features of the converted clip, its conversions noted on stderr."""
    import subprocess
    import sys
    pytest.importorskip("scipy")
    from kwsnum.micro import MicroFrontend
    from kwsnum.wav import resample_int16
    rng = np.random.default_rng(5)
    clip = np.round(8000 * np.sin(2 * np.pi * 300 * np.arange(16000) / 16000) + rng.normal(0, 300, 16000))
    y = resample_int16(clip.astype(np.int16), 16000, 44100)
    p = tmp_path / "stereo44k.wav"
    _write_frames(p, np.stack([y, y // 2], 1), 44100)
    cmd = [sys.executable, "-m", "kwsnum", "features", str(p)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and "pass --mix" in r.stderr and "Traceback" not in r.stderr
    r = subprocess.run(cmd + ["--mix"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and "pass --resample" in r.stderr and "Traceback" not in r.stderr
    assert r.stderr.startswith("kwsnum: error: ") and len(r.stderr.strip().splitlines()) == 1
    out = tmp_path / "f.npy"
    r = subprocess.run(cmd + ["--mix", "--resample", "-o", str(out)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "resampled 44100 Hz -> 16000 Hz" in r.stderr and "mixed 2 channels" in r.stderr
    x, rate = read_wav(p, mix=True, resample=True, notes=[])
    assert rate == 16000
    want = MicroFrontend.microwakeword().features(x)
    got = np.load(out)
    assert got.shape == (1,) + want.shape and np.array_equal(got[0], want)
