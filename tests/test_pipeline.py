from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from sonicprint.audio import resample
from sonicprint.cache import extractor_key
from sonicprint.collection.sources import CollectionSource, TrackSource
from sonicprint.config import FeatureConfig
from sonicprint.errors import ConfigError, FileProblem
from sonicprint.features import EXTRACTORS, Extractor, register_extractor
from sonicprint.features.extractors import MfccStats
from sonicprint.pipeline import (
    Workspace,
    build_collection,
    compute_feature_sets,
    compute_file_features,
    decode_stems,
    decode_windows,
    extract_feature_sets,
    extract_features,
    require_sound,
    select_labels,
    shares_decoding,
    shares_windows,
    window_reader,
)
from sonicprint.registry import UnknownNameError
from tests.conftest import noise, tone

if "slow_mfcc_stats" not in EXTRACTORS:

    @register_extractor("slow_mfcc_stats")
    class SlowMfccStats(MfccStats):
        """MFCC statistics that take a while, so a run can be killed half-way."""

        def compute(self, clips):  # type: ignore[no-untyped-def]
            time.sleep(0.3)
            return super().compute(clips)


if "explodes_on_loud" not in EXTRACTORS:

    @register_extractor("explodes_on_loud")
    class ExplodesOnLoud(Extractor):
        def compute(self, clips):  # type: ignore[no-untyped-def]
            if np.abs(clips[0]).max() > 0.5:
                raise ValueError("too loud for this extractor")
            return np.array([float(np.abs(clips[0]).mean())], dtype=np.float32)


def _collection(tmp_path, write_audio, rng, n=6):
    tracks = []
    for i in range(n):
        path = write_audio(f"audio/t{i}.wav", noise(2.0, 22050, rng=rng) * (1 + i), 22050)
        tracks.append(TrackSource(str(path), f"L{i % 2}", {"album": f"A{i // 2}"}))
    return CollectionSource(tracks, [], "label", ("album",), "test")


TWO_WINDOW_MFCC = FeatureConfig(extractor="mfcc_stats", n_windows=2, window_s=1.0)


@pytest.fixture
def six_track_workspace(tmp_path, write_audio, rng):
    """An open workspace holding the six tracks of :func:`_collection` (2 labels, 3 albums)."""
    with Workspace(tmp_path / "ws") as ws:
        build_collection(ws, _collection(tmp_path, write_audio, rng), min_duration_s=1.0, progress=False)
        yield ws


def test_features_are_cached_and_not_computed_twice(six_track_workspace):
    ws, config = six_track_workspace, TWO_WINDOW_MFCC
    first = extract_features(ws, config, executor="serial", progress=False)
    second = extract_features(ws, config, executor="process", workers=2, progress=False)
    assert first.computed == 6 and second.computed == 0
    np.testing.assert_array_equal(first.features, second.features)
    assert first.features.shape == (6, 2 * config.n_mfcc)
    assert first.group_values("album") == ["A0", "A0", "A1", "A1", "A2", "A2"]
    assert first.group_values(None) == first.hashes


def test_a_failing_track_is_reported_and_the_rest_goes_on(tmp_path, write_audio):
    quiet = write_audio("q.wav", tone(440, 2.0, 22050, amplitude=0.1), 22050)
    loud = write_audio("l.wav", tone(440, 2.0, 22050, amplitude=0.9), 22050)
    source = CollectionSource(
        [TrackSource(str(quiet), "A"), TrackSource(str(loud), "B")], [], "label", (), "t"
    )
    config = FeatureConfig(extractor="explodes_on_loud", n_windows=1, window_s=1.0)
    with Workspace(tmp_path / "ws") as ws:
        build_collection(ws, source, min_duration_s=1.0, progress=False)
        table = extract_features(ws, config, executor="process", workers=2, progress=False)
    assert table.paths == [str(quiet)]
    assert table.errors == [(str(loud), "ValueError: too loud for this extractor")]


def _with_silent_tracks(tmp_path, write_audio):  # type: ignore[no-untyped-def]
    """A collection of one tone, one digitally silent file and one held at a constant level."""
    sound = write_audio("sound.wav", tone(440, 2.0, 22050, amplitude=0.3), 22050)
    silent = write_audio("silent.wav", np.zeros((44100, 1), dtype=np.float32), 22050)
    constant = write_audio("constant.wav", np.full((44100, 1), -0.5, dtype=np.float32), 22050)
    tracks = [TrackSource(str(p), label) for p, label in ((sound, "A"), (silent, "B"), (constant, "B"))]
    return CollectionSource(tracks, [], "label", (), "t"), (sound, silent, constant)


def test_silent_tracks_are_reported_never_trained_on(tmp_path, write_audio):
    source, (sound, silent, constant) = _with_silent_tracks(tmp_path, write_audio)
    with Workspace(tmp_path / "ws") as ws:
        build_collection(ws, source, min_duration_s=1.0, progress=False)  # silence decodes: ingest keeps it
        # on worker processes, as a run does: each problem comes back from its worker, the pool goes on
        table = extract_features(ws, TWO_WINDOW_MFCC, executor="process", workers=2, progress=False)
    assert table.paths == [str(sound)]
    assert sorted(path for path, _ in table.errors) == sorted([str(silent), str(constant)])
    assert all(reason.startswith("silent: no sound above -100 dBFS") for _, reason in table.errors)


def test_select_labels_keeps_labels_with_enough_tracks(tmp_path, write_audio, rng):
    source = _collection(tmp_path, write_audio, rng, n=5)
    with Workspace(tmp_path / "ws") as ws:
        build_collection(ws, source, min_duration_s=1.0, progress=False)
        table = extract_features(
            ws,
            FeatureConfig(extractor="mfcc_stats", n_windows=1, window_s=1.0),
            executor="serial",
            progress=False,
        )
    kept = select_labels(table, min_tracks=3)
    assert kept.labels == ["L0", "L0", "L0"] and kept.features.shape[0] == 3


@pytest.mark.slow
def test_killed_run_resumes_where_it_stopped_with_no_corrupt_entry(tmp_path, write_audio, rng):
    source = _collection(tmp_path, write_audio, rng, n=12)
    config = FeatureConfig(extractor="slow_mfcc_stats", n_windows=1, window_s=1.0)
    workspace = tmp_path / "ws"
    with Workspace(workspace) as ws:
        build_collection(ws, source, min_duration_s=1.0, progress=False)
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).parent.parent)!r})
        import tests.test_pipeline  # registers the slow extractor
        from sonicprint.config import FeatureConfig
        from sonicprint.pipeline import Workspace, extract_features
        if __name__ == "__main__":
            with Workspace({str(workspace)!r}) as ws:
                extract_features(ws, FeatureConfig(extractor="slow_mfcc_stats", n_windows=1, window_s=1.0),
                                 executor="process", workers=2, progress=False)
    """)
    script_path = tmp_path / "run.py"
    script_path.write_text(script, encoding="utf-8")
    entries = workspace / "cache" / extractor_key(config)
    process = subprocess.Popen([sys.executable, str(script_path)], start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(list(entries.glob("*/*.npy"))) < 3:
            time.sleep(0.02)
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # the whole group: the run and its workers
        process.wait()
    done_before = {p.name for p in entries.glob("*/*.npy")}
    assert 3 <= len(done_before) < 12, "the run must be killed half-way"
    for entry in entries.glob("*/*.npy"):
        np.load(entry)  # every entry present is complete
    with Workspace(workspace) as ws:
        table = extract_features(ws, config, executor="process", workers=2, progress=False)
    assert len(table.paths) == 12 and not table.errors
    assert table.computed == 12 - len(done_before)
    assert np.all(np.isfinite(table.features))


@pytest.mark.slow
def test_a_huge_file_is_read_in_windows_with_bounded_memory(tmp_path):
    """Peak memory of feature extraction does not grow with the file's length."""
    import tracemalloc

    import soundfile as sf

    from sonicprint.collection import check_track
    from sonicprint.pipeline import compute_file_features

    rate = 16000
    block = tone(220, 60.0, rate)

    def peak_for(minutes: int) -> int:
        path = tmp_path / f"long_{minutes}.wav"
        with sf.SoundFile(path, "w", samplerate=rate, channels=1, subtype="PCM_16") as f:
            for _ in range(minutes):
                f.write(block)
        fields = check_track(str(path), min_duration_s=1.0)
        assert fields["status"] == "ok" and fields["duration_s"] == pytest.approx(minutes * 60)
        tracemalloc.start()
        try:
            features = compute_file_features(path, FeatureConfig(), duration_s=float(fields["duration_s"]))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert np.all(np.isfinite(features))
        return peak

    short, huge = peak_for(2), peak_for(30)
    assert huge < 1.2 * short  # six 20 s windows either way
    assert huge < 30 * 60 * rate * 4  # less than the half hour decoded as float32


def test_per_window_features_stack_windows_and_are_cached_apart(tmp_path, write_audio, rng):
    source = _collection(tmp_path, write_audio, rng)
    short = write_audio("audio/short.wav", noise(1.5, 22050, rng=rng), 22050)  # shorter than a window
    source = CollectionSource(
        [*source.tracks, TrackSource(str(short), "L0", {"album": "A9"})], [], "label", ("album",), "test"
    )
    config = FeatureConfig(extractor="mfcc_stats", n_windows=3, window_s=0.5)
    long_config = FeatureConfig(extractor="mfcc_stats", n_windows=3, window_s=1.6)
    with Workspace(tmp_path / "ws") as ws:
        build_collection(ws, source, min_duration_s=1.0, progress=False)
        whole = extract_features(ws, config, executor="serial", progress=False)
        windows = extract_features(ws, config, executor="serial", progress=False, per_window=True)
        both = extract_feature_sets(
            ws, [config, replace(config, extractor="track_stats")], executor="serial", progress=False,
            per_window=True,
        )  # fmt: skip
        short_windows = extract_features(ws, long_config, executor="serial", progress=False, per_window=True)
        with pytest.raises(ConfigError, match="same number of windows"):
            extract_feature_sets(
                ws, [config, replace(config, n_windows=2)], executor="serial", progress=False, per_window=True
            )
    assert windows.computed == 7 and windows.per_window and not whole.per_window
    assert whole.features.shape == (7, 2 * config.n_mfcc)
    assert windows.features.shape == (7, 3, 2 * config.n_mfcc)
    assert not np.allclose(windows.features[0, 0], windows.features[0, 1])  # each window on its own
    assert both.features.shape == (7, 3, 2 * config.n_mfcc + 128) and both.per_window
    np.testing.assert_array_equal(both.features[:, :, : 2 * config.n_mfcc], windows.features)
    # a track no longer than a window has one window, repeated so every track has the same rows
    i = short_windows.paths.index(str(short))
    np.testing.assert_array_equal(short_windows.features[i, 0], short_windows.features[i, 2])


@pytest.mark.parametrize("channels", [1, 2, 6])
def test_a_stereo_extractor_gets_two_channels_at_its_own_rate(tmp_path, write_audio, rng, channels):
    data = noise(3.0, 48000, rng=rng, channels=channels)
    path = write_audio(f"x{channels}.wav", data, 48000)
    config = FeatureConfig(extractor="mix_stats", n_windows=2, window_s=1.0)
    windows = decode_windows(path, config, 3.0)
    assert len(windows) == 2 and all(w.shape == (2, 44100) and w.dtype == np.float32 for w in windows)
    correlation = np.corrcoef(windows[0])[0, 1]
    assert correlation > 0.999 if channels == 1 else abs(correlation) < 0.1
    mono = decode_windows(path, replace(config, extractor="track_stats"), 3.0)
    assert all(w.shape == (22050,) for w in mono)


def test_degraded_copies_are_cached_apart_and_deterministic(six_track_workspace):
    ws, config = six_track_workspace, TWO_WINDOW_MFCC
    clean = extract_features(ws, config, executor="serial", progress=False)
    copy1 = extract_features(ws, config, executor="serial", progress=False, degraded_copy=1)
    copy2 = extract_features(ws, config, executor="serial", progress=False, degraded_copy=2)
    again = extract_features(ws, config, executor="serial", progress=False, degraded_copy=1)
    assert clean.hashes == copy1.hashes == copy2.hashes
    assert copy1.computed == len(copy1.hashes) and again.computed == 0  # cached under its own key
    assert not np.allclose(clean.features, copy1.features)
    assert not np.allclose(copy1.features, copy2.features)
    path, key = copy1.paths[0], copy1.hashes[0]
    direct = compute_file_features(path, config, degraded_copy=1, content_hash=key)
    np.testing.assert_allclose(direct, copy1.features[0], rtol=1e-5)  # same copy, same degradation
    with pytest.raises(ValueError, match="content hash"):
        compute_file_features(path, config, degraded_copy=1)


def test_conditions_are_cached_apart_and_deterministic(six_track_workspace):
    ws, config = six_track_workspace, TWO_WINDOW_MFCC
    clean = extract_features(ws, config, executor="serial", progress=False)
    low = extract_features(ws, config, executor="serial", progress=False, condition="low-pass 3 kHz")
    noisy = extract_features(
        ws, config, executor="process", workers=2, progress=False, condition="noise 20 dB SNR"
    )
    again = extract_features(ws, config, executor="serial", progress=False, condition="noise 20 dB SNR")
    assert clean.hashes == low.hashes == noisy.hashes
    assert again.computed == 0  # cached under its own key
    np.testing.assert_array_equal(again.features, noisy.features)
    assert not np.allclose(clean.features, low.features) and not np.allclose(low.features, noisy.features)
    path, key = noisy.paths[0], noisy.hashes[0]
    direct = compute_file_features(path, config, condition="noise 20 dB SNR", content_hash=key)
    np.testing.assert_allclose(direct, noisy.features[0], rtol=1e-5)  # the same noise, drawn from the hash
    with pytest.raises(ValueError, match="content hash"):
        compute_file_features(path, config, condition="noise 20 dB SNR")
    with pytest.raises(UnknownNameError, match=r"unknown robustness condition 'tempo x2'.*tempo x1\.1"):
        compute_file_features(path, config, condition="tempo x2", content_hash=key)


def test_a_condition_or_copy_transforms_the_file_as_stored_before_any_resampling(tmp_path, write_audio):
    # an 11.5 kHz tone in a 44.1 kHz stereo file, read at 22.05 kHz (Nyquist 11.025 kHz): gone when read as
    # it is, but pitched down two semitones first, as a pitch-shifted file would be, it sits at 10.2 kHz
    rate, seconds = 44100, 2.0
    path = write_audio("high.wav", tone(11500.0, seconds, rate, channels=2), rate)
    config = FeatureConfig(extractor="track_stats", n_windows=1, window_s=seconds)

    def spectrum(condition: str) -> tuple[np.ndarray, np.ndarray]:
        read = window_reader(path, condition=condition, content_hash="ab" * 8)
        (window,) = decode_stems(path, config, seconds, read=read)[""]
        magnitude = np.abs(np.fft.rfft(window))
        return np.fft.rfftfreq(len(window), 1 / 22050), magnitude

    freqs, shifted = spectrum("pitch -2")
    assert abs(freqs[shifted.argmax()] - 11500.0 * 2 ** (-2 / 12)) < 50
    _, plain = spectrum("")
    assert shifted.max() > 100 * plain.max()  # read as it is, the tone is filtered out above Nyquist
    stereo = window_reader(path, condition="noise 20 dB SNR", content_hash="ab" * 8)(0.0, seconds).samples
    assert stereo.shape == (2, int(rate * seconds))
    assert not np.allclose(stereo[0], stereo[1])  # each channel its own noise
    other_track = window_reader(path, condition="noise 20 dB SNR", content_hash="cd" * 8)(0.0, seconds)
    assert not np.allclose(stereo, other_track.samples)  # each track (content hash) its own noise
    # a degraded training copy is made the same way: as decoded, at the file's rate, the same on every read
    copies = [window_reader(path, degraded_copy=2, content_hash="ab" * 8)(0.0, seconds) for _ in range(2)]
    assert copies[0].sample_rate == rate and copies[0].samples.shape == (2, int(rate * seconds))
    np.testing.assert_array_equal(copies[0].samples, copies[1].samples)
    assert not np.allclose(copies[0].samples, window_reader(path)(0.0, seconds).samples)
    with pytest.raises(ValueError, match="not both"):
        window_reader(path, condition="pitch -2", degraded_copy=1, content_hash="ab" * 8)


def test_stems_of_one_separation_are_separated_once(six_track_workspace, monkeypatch):
    from sonicprint.separation import Hpss

    windows_separated = []
    separate = Hpss.separate

    def counting(self, y, *, sample_rate):  # type: ignore[no-untyped-def]
        windows_separated.append(len(y))
        return separate(self, y, sample_rate=sample_rate)

    monkeypatch.setattr(Hpss, "separate", counting)
    harmonic, percussive = (
        replace(TWO_WINDOW_MFCC, separate=f"hpss:{s}") for s in ("harmonic", "percussive")
    )
    configs = (harmonic, TWO_WINDOW_MFCC, percussive)  # the full mix between: never shares a separation
    table = extract_feature_sets(
        six_track_workspace, configs, executor="serial", progress=False, per_window=True
    )
    assert len(windows_separated) == 6 * 2  # six tracks of two windows, each window separated once
    assert table.computed == 6  # the full mix and percussive passes found every track cached
    before = len(windows_separated)
    for row, path in zip(table.features, table.paths):  # predict's path: one file, every set at once
        np.testing.assert_allclose(row, compute_feature_sets(path, configs, per_window=True), rtol=1e-5)
    assert len(windows_separated) == before + 6 * 2
    alone = compute_file_features(table.paths[0], percussive, per_window=True)  # no sharing at all
    np.testing.assert_allclose(table.features[0, :, -table.block_sizes[-1] :], alone, rtol=1e-5)


def test_feature_sets_of_the_same_windows_are_decoded_once(six_track_workspace, monkeypatch):
    from sonicprint import pipeline

    decoded = []
    read = pipeline.read_audio

    def counting(path, **options):  # type: ignore[no-untyped-def]
        decoded.append(path)
        return read(path, **options)

    monkeypatch.setattr(pipeline, "read_audio", counting)
    stats = replace(TWO_WINDOW_MFCC, extractor="track_stats")
    mix = replace(TWO_WINDOW_MFCC, extractor="mix_stats")  # stereo at its own rate: the same reads
    table = extract_feature_sets(
        six_track_workspace, (TWO_WINDOW_MFCC, mix, stats), executor="serial", progress=False, per_window=True
    )
    assert len(decoded) == 6 * 2  # per track: two windows read once, for all three sets
    assert table.computed == 6  # the later passes found every track cached
    widths = np.cumsum((0, *table.block_sizes))
    for config, start, stop in zip((TWO_WINDOW_MFCC, mix, stats), widths, widths[1:]):
        alone = compute_file_features(table.paths[0], config, per_window=True)  # a decoding of its own
        np.testing.assert_array_equal(table.features[0, :, start:stop], alone.reshape(2, -1))
    decoded.clear()  # predict's path: one file, every set at once
    row = compute_feature_sets(table.paths[0], (TWO_WINDOW_MFCC, mix, stats), per_window=True)
    np.testing.assert_array_equal(row, table.features[0])
    assert len(decoded) == 2
    assert shares_decoding(TWO_WINDOW_MFCC, stats) and not shares_decoding(TWO_WINDOW_MFCC, mix)
    assert shares_windows(TWO_WINDOW_MFCC, mix) and not shares_windows(mix, replace(mix, window_s=2.0))
    assert not shares_decoding(stats, replace(stats, n_windows=3))
    assert not shares_decoding(stats, stats) and not shares_windows(stats, stats)


def test_require_sound_names_a_silent_file_and_lets_quiet_audio_through():
    quiet = (1e-3 * np.sin(np.arange(100) / 3)).astype(np.float32)  # -60 dBFS: quiet, not silent
    require_sound("quiet.wav", [np.zeros(10, np.float32), quiet])
    require_sound("offset.wav", [0.5 + quiet])  # sound on a DC offset is still sound
    with pytest.raises(FileProblem, match=r"^gap\.wav: silent"):
        require_sound("gap.wav", [np.zeros(10, np.float32), np.full(10, 1e-6, np.float32), np.zeros(0)])
    # a constant level, however loud, is no sound (a DC offset, or NaNs written as 16-bit PCM)
    with pytest.raises(FileProblem, match=r"^dc\.wav: silent.*a constant level is no sound"):
        require_sound("dc.wav", [np.full(100, -1.0, np.float32), np.full((2, 50), 0.3, np.float32)])


@pytest.mark.parametrize("rate", [8000, 44100, 48000, 192000])
def test_a_constant_level_stays_no_sound_once_resampled(rate):
    # resampling rings at a window's edges; that is the resampler, not sound in the file
    for level in (0.5, -1.0, 1e6):
        ringing = resample(np.full((1, rate), level, np.float32), orig_rate=rate, target_rate=22050)[0]
        assert np.ptp(ringing) > 1e-3 * abs(level)
        with pytest.raises(FileProblem, match=r"^dc\.wav: silent"):
            require_sound("dc.wav", [ringing])
    quiet = resample(1e-3 * tone(440, 1.0, rate)[None, :, 0], orig_rate=rate, target_rate=22050)[0]
    require_sound("quiet.wav", [quiet])
    click = np.zeros(22050, np.float32)
    click[11025] = 1e-3
    require_sound("click.wav", [click])  # one click away from the edges is sound


def test_a_44k_file_of_one_constant_level_is_reported_silent_not_attributed(write_audio):
    # what a writer makes of NaNs as 16-bit PCM, at the most common rate (the extractor resamples it)
    path = write_audio("dc.wav", np.full((44100 * 3, 1), 0.5), 44100)
    with pytest.raises(FileProblem, match=r"dc\.wav: silent"):
        compute_feature_sets(
            path, [FeatureConfig("track_stats", n_windows=1, window_s=2.0)], reject_silence=True
        )


def test_the_progress_bar_names_every_set_a_pass_computes(six_track_workspace, monkeypatch):
    from sonicprint import pipeline

    labels = []
    bar = pipeline._progress

    def recording(total, description, *, enabled):  # type: ignore[no-untyped-def]
        labels.append((description, total))
        return bar(total, description, enabled=False)

    monkeypatch.setattr(pipeline, "_progress", recording)
    mix = replace(TWO_WINDOW_MFCC, extractor="mix_stats")
    stats = replace(TWO_WINDOW_MFCC, extractor="track_stats", n_windows=3)  # other windows: its own pass
    extract_feature_sets(six_track_workspace, (TWO_WINDOW_MFCC, mix), executor="serial", per_window=True)
    extract_features(six_track_workspace, stats, executor="serial", degraded_copy=1, siblings=(mix,))
    assert labels == [
        ("features (mfcc_stats, mix_stats)", 6),  # mix_stats computed alongside: no pass of its own
        ("features (track_stats, degraded copy 1)", 6),
    ]
