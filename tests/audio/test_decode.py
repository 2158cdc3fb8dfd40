from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest

from sonicprint.audio import DECODERS, conform_audio, downmix, load_audio, probe_audio, read_audio, resample
from sonicprint.audio.decode import DEFAULT_CHAIN
from sonicprint.errors import AudioDecodeError
from tests.conftest import chirp, tone

FORMATS = [
    ("a.wav", 22050, 1),
    ("b.flac", 44100, 2),
    ("c.ogg", 48000, 2),
    ("d.opus", 48000, 2),
    ("e.mp3", 44100, 2),
    ("f.m4a", 44100, 2),
    ("g.wav", 8000, 6),  # odd rate and channel count
]


@pytest.mark.parametrize(("name", "rate", "channels"), FORMATS)
def test_every_format_decodes_resamples_and_downmixes(write_audio, name, rate, channels):
    path = write_audio(name, tone(440, 3.0, rate, channels=channels), rate)
    info = probe_audio(path)
    assert info.sample_rate == rate
    assert info.channels == channels
    assert info.duration_s == pytest.approx(3.0, abs=0.1)
    audio = load_audio(path, sample_rate=16000, mono=True)
    assert audio.samples.dtype == np.float32
    assert audio.samples.shape[0] == 1
    assert audio.samples.shape[1] == pytest.approx(3.0 * 16000, abs=0.1 * 16000)
    assert audio.backend in DEFAULT_CHAIN
    # the tone survives: its energy peaks at 440 Hz
    spectrum = np.abs(np.fft.rfft(audio.samples[0, 4000:12000]))
    assert abs(np.argmax(spectrum) * 16000 / 8000 - 440) < 10


@pytest.mark.parametrize(("name", "rate", "channels"), [("s.wav", 44100, 2), ("m.flac", 22050, 1)])
def test_one_read_serves_any_rate_and_channels_as_a_decoding_of_its_own(write_audio, name, rate, channels):
    two_voices = np.hstack([chirp(2.0, rate), tone(440, 2.0, rate)])  # channels that differ
    path = write_audio(name, two_voices[:, :channels], rate)
    stored = read_audio(path, offset=0.5, duration=1.0)
    assert stored.sample_rate == rate and stored.samples.shape == (channels, rate)
    kept = stored.samples.copy()
    for sample_rate, mono in [(16000, True), (44100, False), (rate, False), (None, True)]:
        served = conform_audio(stored, sample_rate=sample_rate, mono=mono)
        own = load_audio(path, sample_rate=sample_rate, mono=mono, offset=0.5, duration=1.0)
        np.testing.assert_array_equal(served.samples, own.samples)
        assert served.sample_rate == own.sample_rate and served.backend == own.backend
        assert not np.shares_memory(served.samples, stored.samples)
    np.testing.assert_array_equal(stored.samples, kept)  # the read itself is never changed


def test_m4a_falls_back_to_pyav(write_audio):
    path = write_audio("x.m4a", tone(220, 1.0, 44100, channels=2), 44100)
    assert load_audio(path).backend == "pyav"


@pytest.mark.parametrize("name", ["w.wav", "w.flac", "w.ogg", "w.mp3"])
def test_window_read_matches_the_same_span_of_a_full_read(write_audio, name):
    rate = 22050
    path = write_audio(name, chirp(4.0, rate), rate)
    full = load_audio(path).samples[0]
    part = load_audio(path, offset=1.5, duration=1.0).samples[0]
    assert part.shape[0] == pytest.approx(rate, abs=rate * 0.01)
    start = int(1.5 * rate)
    # lossy codecs may shift by a frame's padding; align by cross-correlation within 3000 samples
    reference = full[start - 3000 : start + rate + 3000]
    lags = np.correlate(reference, part[: rate // 2], mode="valid")
    best = int(np.argmax(lags)) - 3000
    assert abs(best) <= 2600
    aligned = full[start + best : start + best + len(part)]
    assert np.corrcoef(aligned[: len(part)], part[: len(aligned)])[0, 1] > 0.98


def test_window_past_the_end_is_an_error_that_names_the_file(write_audio):
    path = write_audio("short.wav", tone(440, 1.0, 22050), 22050)
    with pytest.raises(AudioDecodeError, match=r"short\.wav"):
        load_audio(path, offset=5.0, duration=1.0)


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("empty", "empty file"),
        ("not_audio", "not readable as audio"),
        ("corrupt", "not readable as audio"),
        ("missing", "not found"),
    ],
)
def test_bad_files_raise_a_clear_error_naming_the_file(bad_files, kind, message):
    path: Path = bad_files[kind]
    for call in (probe_audio, load_audio):
        with pytest.raises(AudioDecodeError, match=message) as info:
            call(path)
        assert str(path) in str(info.value)


def test_nan_samples_are_zeroed_and_a_window_of_nothing_else_is_an_error(tmp_path):
    import soundfile as sf

    damaged = tone(440, 1.0, 22050).astype(np.float32)
    damaged[:100] = np.nan
    sf.write(tmp_path / "holes.wav", damaged, 22050, subtype="FLOAT")
    samples = read_audio(tmp_path / "holes.wav").samples
    assert np.all(np.isfinite(samples)) and np.all(samples[:, :100] == 0)
    sf.write(tmp_path / "nan.wav", np.full(22050, np.nan, np.float32), 22050, subtype="FLOAT")
    with pytest.raises(AudioDecodeError, match=r"nan\.wav: every sample is NaN or infinite"):
        read_audio(tmp_path / "nan.wav")


def test_a_directory_is_not_audio(tmp_path):
    with pytest.raises(AudioDecodeError, match="directory"):
        load_audio(tmp_path)


def test_failure_lists_each_backend_tried(bad_files):
    with pytest.raises(AudioDecodeError) as info:
        load_audio(bad_files["not_audio"])
    assert "soundfile:" in str(info.value) and "pyav:" in str(info.value)


def test_text_named_mp3_is_refused_without_decoder_noise_on_stderr(bad_files, capfd):
    # libsndfile hands any .mp3 to mpg123, which prints resync notes straight to the process's stderr
    with pytest.raises(AudioDecodeError, match=r"notes\.mp3.*soundfile: no ID3 tag or MPEG audio frame"):
        probe_audio(bad_files["not_audio"])
    assert "MPEG" not in capfd.readouterr().err


@pytest.mark.parametrize("name", ["tagless.mp3", "tagged.mp3", "renamed_wav.mp3"])
def test_real_mpeg_streams_and_renamed_formats_still_reach_libsndfile(write_audio, tmp_path, name):
    data = tone(440, 1.0, 44100, channels=2)
    if name == "renamed_wav.mp3":
        (tmp_path / name).write_bytes(write_audio("x.wav", data, 44100).read_bytes())
    else:
        path = write_audio(name, data, 44100)
        if name == "tagged.mp3":  # an ID3v2 tag in front (header, then one empty-text TIT2 frame)
            frame = b"TIT2" + (2).to_bytes(4, "big") + b"\x00\x00" + b"\x03\x00"
            header = b"ID3\x04\x00\x00" + bytes([0, 0, 0, len(frame)])
            path.write_bytes(header + frame + path.read_bytes())
    audio = load_audio(tmp_path / name)
    assert audio.backend == "soundfile"
    assert audio.duration_s == pytest.approx(1.0, abs=0.1)


def test_downmix_is_the_channel_mean():
    x = np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]], dtype=np.float32)
    np.testing.assert_allclose(downmix(x), [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(downmix(x[0]), x[0])


def test_resample_keeps_duration_and_frequency():
    rate = 44100
    x = tone(1000, 1.0, rate)[:, 0][np.newaxis]
    y = resample(x, orig_rate=rate, target_rate=22050)
    assert y.shape == (1, 22050)
    spectrum = np.abs(np.fft.rfft(y[0]))
    assert abs(np.argmax(spectrum) - 1000) <= 1


def test_decoder_registry_holds_the_chain():
    assert set(DEFAULT_CHAIN) <= set(DECODERS.names())


@pytest.mark.parametrize("backend", DECODERS.names())
@pytest.mark.parametrize(("name", "rate", "channels"), [("k.flac", 44100, 2), ("k.ogg", 48000, 1)])
def test_decoder_contract(write_audio, backend, name, rate, channels):
    """Every registered backend probes, reads a window, and fails with an error naming the file."""
    decoder = DECODERS.get(backend)
    if not decoder.available():
        pytest.skip(f"{backend} is not installed here")
    path = write_audio(name, tone(440, 3.0, rate, channels=channels), rate)
    info = probe_audio(path, chain=[backend])
    assert (info.sample_rate, info.channels, info.backend) == (rate, channels, backend)
    assert info.duration_s == pytest.approx(3.0, abs=0.05)
    window = load_audio(path, offset=1.0, duration=1.0, mono=False, chain=[backend])
    assert window.backend == backend
    assert window.samples.shape == (channels, pytest.approx(rate, abs=rate * 0.02))
    assert 0.15 < np.abs(window.samples).max() < 0.45
    bad = path.with_name("garbage" + path.suffix)
    bad.write_bytes(b"\x00garbage" * 300)
    with pytest.raises(AudioDecodeError, match=f"garbage.*{backend}:"):
        load_audio(bad, chain=[backend])


MPG123_SEEK_NOTES = (
    b"[src/libmpg123/layer3.c:INT123_do_layer3():1774] error: part2_3_length (1984) too large for "
    b"available bit count (1920)\n",
    b"Note: Trying to resync...\n",
    b"Note: Skipped 1024 bytes in input.\n",
)


def test_libmpg123_seek_notes_are_dropped_and_every_other_line_passes(capfd):
    from sonicprint.audio.decode import mpg123_notes_dropped

    with mpg123_notes_dropped():
        for note in MPG123_SEEK_NOTES:
            os.write(2, note)
        os.write(2, b"a line of another library\n")
    os.write(2, b"after\n")
    assert capfd.readouterr().err == "a line of another library\nafter\n"


def test_stderr_is_given_back_after_an_error_and_to_threads_decoding_at_once(capfd):
    from sonicprint.audio.decode import mpg123_notes_dropped

    with pytest.raises(RuntimeError, match="inside"), mpg123_notes_dropped():
        os.write(2, MPG123_SEEK_NOTES[1])
        raise RuntimeError("inside")

    def decode(number: int) -> None:
        for _ in range(20):
            with mpg123_notes_dropped():
                os.write(2, MPG123_SEEK_NOTES[0])
                os.write(2, f"thread {number}\n".encode())

    threads = [threading.Thread(target=decode, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    os.write(2, b"after\n")
    lines = capfd.readouterr().err.splitlines()
    assert sorted(lines) == sorted([f"thread {k}" for k in range(4) for _ in range(20)] + ["after"])


def test_an_mp3_window_read_after_a_seek_matches_the_same_samples_read_from_the_start(write_audio):
    path = write_audio("seek.mp3", chirp(8.0, 44100), 44100)
    whole = read_audio(path).samples
    window = read_audio(path, offset=3.0, duration=2.0).samples
    start = 3 * 44100
    np.testing.assert_allclose(window, whole[:, start : start + window.shape[1]], atol=1e-4)
