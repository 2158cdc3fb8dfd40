"""Decode audio files through a chain of backends and record which one read each file.

Real collections break decoders: some Ogg files open in libsndfile and not in ffmpeg, and the other way
round for AAC. Each backend is tried in turn; the first that succeeds wins and its name is returned with
the audio, so a collection can record which backend read which file. Windows (offset, duration) are read
by seeking where the format allows, never by decoding the whole file.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np

from ..errors import AudioDecodeError
from ..registry import Registry


@dataclass(frozen=True)
class AudioInfo:
    """What a file holds, read from its header."""

    duration_s: float
    sample_rate: int
    channels: int
    backend: str


@dataclass(frozen=True)
class DecodedAudio:
    """Decoded samples, shape ``(channels, n)`` float32, at ``sample_rate``."""

    samples: np.ndarray
    sample_rate: int
    source_rate: int
    backend: str

    @property
    def duration_s(self) -> float:
        return self.samples.shape[-1] / self.sample_rate


@dataclass(frozen=True)
class Decoder:
    """One decoding backend: a header probe and a windowed reader returning ``(channels, n)`` and rate."""

    probe: Callable[[Path], AudioInfo]
    read: Callable[[Path, float, float | None], tuple[np.ndarray, int]]
    available: Callable[[], bool]


DECODERS: Registry[Decoder] = Registry("audio decoder")
DEFAULT_CHAIN: tuple[str, ...] = ("soundfile", "pyav", "ffmpeg")


# --- soundfile (libsndfile): wav, flac, ogg/vorbis, opus, mp3 -------------------------------------------


#: how far into a file named .mp3 an MPEG frame must start for libsndfile to be asked to read it
_MPEG_SNIFF_BYTES = 64 * 1024


def _require_mpeg_stream(path: Path) -> None:
    """Refuse a file named .mp3 that holds no ID3 tag, no MPEG frame sync in its first 64 KiB and no header
    libsndfile knows by content (text, HTML, a web page saved under the song's name). libsndfile picks its
    MP3 decoder by the name alone, and mpg123 then prints resync notes on the process's stderr; PyAV and
    ffmpeg still get their turn."""
    if path.suffix.lower() != ".mp3":
        return
    with path.open("rb") as handle:
        head = handle.read(_MPEG_SNIFF_BYTES)
    if head.startswith((b"ID3", b"RIFF", b"RF64", b"fLaC", b"OggS", b"FORM")):  # a tag, or a format renamed
        return
    # an MPEG audio frame header starts with 11 set bits: 0xFF, then a byte whose top three bits are set
    if re.search(rb"\xff[\xe0-\xff]", head):
        return
    raise ValueError(f"no ID3 tag or MPEG audio frame in the first {_MPEG_SNIFF_BYTES // 1024} KiB")


def _sf_probe(path: Path) -> AudioInfo:
    import soundfile as sf

    _require_mpeg_stream(path)
    info = sf.info(str(path))
    if info.frames <= 0 or info.samplerate <= 0:
        raise ValueError("no audio frames")
    return AudioInfo(info.frames / info.samplerate, int(info.samplerate), int(info.channels), "soundfile")


_LOSSY_PREROLL_S = 0.5  # lossy decoders need a few frames of history after a seek to be exact

#: what libmpg123 prints on the process's stderr when decoding starts mid-stream (a seek lands where a
#: frame's bit reservoir points back into frames never read); the pre-roll is there for exactly that
_MPG123_NOTE = re.compile(
    rb"^(?:\[src/libmpg123/[^\]]*\] (?:error|warning|note): |Note: (?:Trying to resync|Skipped \d+ bytes))"
)
#: one redirection of the file descriptor at a time in a process (threads of the web page decode too)
_STDERR_LOCK = threading.Lock()


@contextlib.contextmanager
def mpg123_notes_dropped() -> Iterator[None]:
    """Run the body with the process's stderr (file descriptor 2) captured, and pass on every line but
    libmpg123's notes about a seek (:data:`_MPG123_NOTE`), so a batch over MP3 files does not print them
    by the dozen. Lines Python or another library writes meanwhile still reach stderr, after the body."""
    with _STDERR_LOCK, tempfile.TemporaryFile() as captured:
        try:
            sys.stderr.flush()
            saved = os.dup(2)
        except (OSError, ValueError):  # no stderr to capture: nothing to drop either
            yield
            return
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            with contextlib.suppress(OSError, ValueError):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            passed = [
                line for line in captured.read().splitlines(keepends=True) if not _MPG123_NOTE.match(line)
            ]
            if passed:
                os.write(2, b"".join(passed))


def _sf_read(path: Path, offset: float, duration: float | None) -> tuple[np.ndarray, int]:
    import soundfile as sf

    _require_mpeg_stream(path)
    with sf.SoundFile(str(path)) as f:
        rate = int(f.samplerate)
        start = min(int(round(offset * rate)), f.frames)
        # MP3 and Vorbis decode garbage for a few frames after a seek (bit reservoir, overlap): start
        # early and drop the pre-roll
        lossless = f.format in ("WAV", "WAVEX", "FLAC", "AIFF", "CAF", "W64", "RF64")
        preroll = 0 if lossless else min(start, int(_LOSSY_PREROLL_S * rate))
        frames = -1 if duration is None else int(round(duration * rate)) + preroll
        with mpg123_notes_dropped() if f.format in ("MP3", "MPEG") and start else contextlib.nullcontext():
            if start:
                f.seek(start - preroll)
            data = f.read(frames=frames, dtype="float32", always_2d=True)[preroll:]
    return np.ascontiguousarray(data.T), rate


DECODERS.add("soundfile", Decoder(_sf_probe, _sf_read, lambda: _importable("soundfile")))


# --- PyAV (bundled ffmpeg libraries): adds m4a/aac and whatever libsndfile rejects ----------------------


def _av_probe(path: Path) -> AudioInfo:
    import av

    with av.open(str(path)) as container:
        if not container.streams.audio:
            raise ValueError("no audio stream")
        stream = container.streams.audio[0]
        rate = int(stream.codec_context.sample_rate or stream.rate or 0)
        channels = int(stream.codec_context.channels or 0)
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            duration = container.duration / 1_000_000
        else:
            duration = 0.0
        if duration <= 0:  # some streams carry no duration in the header: decode to count
            samples, rate = _av_read(path, 0.0, None)
            duration = samples.shape[1] / rate
            channels = samples.shape[0]
        if rate <= 0 or duration <= 0:
            raise ValueError("no audio frames")
    return AudioInfo(duration, rate, channels, "pyav")


def _av_read(path: Path, offset: float, duration: float | None) -> tuple[np.ndarray, int]:
    import av

    chunks: list[np.ndarray] = []
    with av.open(str(path)) as container:
        if not container.streams.audio:
            raise ValueError("no audio stream")
        stream = container.streams.audio[0]
        rate = int(stream.codec_context.sample_rate)
        if offset > 0:
            container.seek(int(offset * 1_000_000), any_frame=False, backward=True)
        resampler = av.AudioResampler(format="fltp", layout=None, rate=rate)
        start = int(round(offset * rate))
        stop = None if duration is None else start + int(round(duration * rate))
        position: int | None = None
        for frame in container.decode(stream):
            if position is None:
                position = int(round(frame.time * rate)) if frame.time is not None else 0
            for out in resampler.resample(frame):
                block = out.to_ndarray().astype(np.float32, copy=False)
                block_start = position
                position += block.shape[1]
                lo = max(start - block_start, 0)
                hi = block.shape[1] if stop is None else min(stop - block_start, block.shape[1])
                if hi > lo:
                    chunks.append(block[:, lo:hi])
            if stop is not None and position is not None and position >= stop:
                break
    if not chunks:
        raise ValueError("no audio decoded in the requested window")
    return np.ascontiguousarray(np.concatenate(chunks, axis=1)), rate


DECODERS.add("pyav", Decoder(_av_probe, _av_read, lambda: _importable("av")))


# --- ffmpeg command line: last resort, when installed ---------------------------------------------------


def _ffprobe(path: Path, entries: str) -> dict[str, str]:
    import json

    result = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-select_streams",
            "a:0",
            "-show_entries",
            entries,
            "-of",
            "json",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines()
        raise ValueError(lines[-1] if lines else "ffprobe failed")
    parsed = json.loads(result.stdout)
    streams = parsed.get("streams") or []
    if not streams:
        raise ValueError("no audio stream")
    return {**parsed.get("format", {}), **streams[0]}


def _ffmpeg_probe(path: Path) -> AudioInfo:
    # the header's duration: decoding a whole (possibly huge) file just to measure it is never needed
    fields = _ffprobe(path, "stream=sample_rate,channels:format=duration")
    duration = float(fields.get("duration") or 0.0)
    if duration <= 0:
        raise ValueError("no duration in the header")
    return AudioInfo(duration, int(fields["sample_rate"]), int(fields["channels"]), "ffmpeg")


def _ffmpeg_read(path: Path, offset: float, duration: float | None) -> tuple[np.ndarray, int]:
    fields = _ffprobe(path, "stream=sample_rate,channels")
    rate, channels = int(fields["sample_rate"]), int(fields["channels"])
    cmd = ["ffmpeg", "-v", "error", "-nostdin"]
    if offset > 0:
        cmd += ["-ss", f"{offset:.6f}"]
    cmd += ["-i", str(path)]
    if duration is not None:
        cmd += ["-t", f"{duration:.6f}"]
    cmd += ["-f", "f32le", "-acodec", "pcm_f32le", "-"]
    result = subprocess.run(cmd, capture_output=True, check=False)
    if result.returncode != 0:
        message = result.stderr.decode(errors="replace").strip().splitlines()
        raise ValueError(message[-1] if message else "ffmpeg failed")
    data = np.frombuffer(result.stdout, dtype="<f4")
    if data.size == 0:
        raise ValueError("no audio frames")
    return np.ascontiguousarray(data.reshape(-1, channels).T), rate


DECODERS.add("ffmpeg", Decoder(_ffmpeg_probe, _ffmpeg_read, lambda: shutil.which("ffmpeg") is not None))


def _importable(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


# --- public functions -------------------------------------------------------------------------------------


def _check_file(path: Path) -> None:
    if not path.exists():
        raise AudioDecodeError(path, "file not found")
    if path.is_dir():
        raise AudioDecodeError(path, "is a directory, not an audio file")
    if path.stat().st_size == 0:
        raise AudioDecodeError(path, "empty file (0 bytes)")


def _run_chain(path: Path, chain: Sequence[str], call: Callable[[Decoder], object]) -> tuple[object, str]:
    failures: list[str] = []
    for name in chain:
        decoder = DECODERS.get(name)
        if not decoder.available():
            continue
        try:
            return call(decoder), name
        except Exception as exc:  # each backend fails in its own way; collect and try the next
            text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            failures.append(f"{name}: {text}")
    detail = "; ".join(failures) if failures else "no decoding backend is available"
    raise AudioDecodeError(path, f"not readable as audio ({detail})")


def probe_audio(path: str | Path, *, chain: Sequence[str] = DEFAULT_CHAIN) -> AudioInfo:
    """Read duration, rate and channel count from the header through the decoder chain.

    Raises
    ------
    AudioDecodeError
        When the file is missing, empty, or no backend reads it; the message names the file.
    """
    path = Path(path)
    _check_file(path)
    info, _ = _run_chain(path, chain, lambda d: d.probe(path))
    assert isinstance(info, AudioInfo)
    if info.channels <= 0:
        raise AudioDecodeError(path, "header reports no channels")
    return info


def load_audio(
    path: str | Path,
    *,
    sample_rate: int | None = None,
    mono: bool = True,
    offset: float = 0.0,
    duration: float | None = None,
    chain: Sequence[str] = DEFAULT_CHAIN,
) -> DecodedAudio:
    """Decode a window of a file, optionally resampled and downmixed.

    Parameters
    ----------
    path : path of the file
    sample_rate : target rate in Hz; None keeps the file's rate
    mono : downmix to one channel (mean of the channels)
    offset, duration : the window in seconds; ``duration=None`` reads to the end
    chain : decoder names, tried in order

    Returns
    -------
    DecodedAudio
        ``samples`` of shape ``(channels, n)`` (``channels == 1`` when ``mono``), float32.
    """
    decoded = read_audio(path, offset=offset, duration=duration, chain=chain)
    return conform_audio(decoded, sample_rate=sample_rate, mono=mono)


def read_audio(
    path: str | Path,
    *,
    offset: float = 0.0,
    duration: float | None = None,
    chain: Sequence[str] = DEFAULT_CHAIN,
) -> DecodedAudio:
    """Decode a window of a file as it is stored: every channel, at the file's rate (non-finite samples
    zeroed or clipped; a window of nothing else is an AudioDecodeError). :func:`conform_audio` then gives
    it any rate and channel count, so one read can serve several; ``load_audio`` is the two in one."""
    path = Path(path)
    _check_file(path)
    if offset < 0 or (duration is not None and duration <= 0):
        raise ValueError(f"{path}: invalid window offset={offset} duration={duration}")
    result, backend = _run_chain(path, chain, lambda d: d.read(path, offset, duration))
    samples, rate = cast(tuple[np.ndarray, int], result)
    if samples.size == 0:
        raise AudioDecodeError(path, f"no audio in window offset={offset:.2f}s duration={duration}")
    finite = np.isfinite(samples)
    if not np.all(finite):
        if not np.any(finite):  # zeroed, it would pass for silence and hide the damage
            raise AudioDecodeError(path, "every sample is NaN or infinite (damaged floating-point audio)")
        samples = np.nan_to_num(samples, nan=0.0, posinf=1.0, neginf=-1.0)
    return DecodedAudio(samples, rate, rate, backend)


def conform_audio(
    decoded: DecodedAudio, *, sample_rate: int | None = None, mono: bool = True
) -> DecodedAudio:
    """``decoded`` (as :func:`read_audio` gives it) downmixed with ``mono`` and resampled to
    ``sample_rate`` (None keeps its rate), in an array of its own: ``decoded`` is never changed or shared.

    Returns
    -------
    DecodedAudio
        ``samples`` of shape ``(channels, n)`` (``channels == 1`` when ``mono``), float32.
    """
    samples, rate = decoded.samples, decoded.sample_rate
    if mono:
        samples = downmix(samples)[np.newaxis, :]
    if sample_rate is not None and sample_rate != rate:
        samples = resample(samples, orig_rate=rate, target_rate=sample_rate)
    out = np.ascontiguousarray(samples, dtype=np.float32)
    if np.shares_memory(out, decoded.samples):  # nothing done to it: a copy, so one read serves many safely
        out = out.copy()
    return DecodedAudio(out, sample_rate or rate, decoded.source_rate, decoded.backend)


def downmix(samples: np.ndarray) -> np.ndarray:
    """Mean over channels of a ``(channels, n)`` array, shape ``(n,)``.

    Sums row by row: ``np.mean(axis=0)`` on interleaved data is several times slower.
    """
    if samples.ndim == 1:
        return samples
    out = samples[0].astype(np.float32, copy=True)
    for row in samples[1:]:
        out += row
    if samples.shape[0] > 1:
        out *= np.float32(1.0 / samples.shape[0])
    return out


def resample(samples: np.ndarray, *, orig_rate: int, target_rate: int) -> np.ndarray:
    """Resample ``(..., n)`` audio with soxr (HQ), returning float32 ``(..., m)``."""
    import soxr

    if orig_rate == target_rate:
        return samples
    flat = samples.reshape(-1, samples.shape[-1])
    out = soxr.resample(np.ascontiguousarray(flat.T), orig_rate, target_rate, quality="HQ")
    out = np.ascontiguousarray(np.asarray(out, dtype=np.float32).reshape(-1, flat.shape[0]).T)
    return out.reshape(*samples.shape[:-1], out.shape[-1])
