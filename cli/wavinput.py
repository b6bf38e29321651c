"""The WAV input of the kwsnum subcommands that read audio (``run``, ``features``; ``stream``): one reader and one
pair of options, ``--resample`` and ``--mix``, so that every subcommand converts (never silently) and refuses
alike. kwsnum.wav.read_wav refuses another sample rate unless ``resample`` and a multi-channel file unless
``mix``, naming the option in its message; each conversion it makes is printed as one ``kwsnum: note:`` line on
stderr.
"""
import click

from kwsnum.text import printable


def wav_options(f):
    """The --resample / --mix options of a click command (parameters ``resample`` and ``mix``)."""
    f = click.option("--mix", is_flag=True, help="Average the channels of multi-channel .wav files to mono.")(f)
    f = click.option("--resample", is_flag=True,
                     help="Convert .wav files at another sample rate to the model's (scipy.signal.resample_poly).")(f)
    return f


def read_wav_samples(path, frontend, resample=False, mix=False):
    """int16 samples of a WAV file at ``frontend.sample_rate`` (kwsnum.wav.read_wav), its conversions noted."""
    from kwsnum.wav import read_wav
    notes = []
    samples, _ = read_wav(path, expected_rate=frontend.sample_rate, resample=resample, mix=mix, notes=notes)
    for n in notes:
        click.echo(f"kwsnum: note: {printable(n, None)}", err=True)
    return samples
