"""Feature-extraction throughput against the bare decode + STFT cost of the same audio, in one run.

For a sample of real tracks (every format of the game-music set), both sides read exactly the windows the
``track_stats`` extractor uses (six 20 s windows per track):

- bare: soundfile decode of each window + downmix + power STFT (n_fft 2048, hop 512) at the file's rate;
- pipeline: :func:`sonicprint.pipeline.compute_file_features` (decoder chain, downmix, soxr resample to
  22.05 kHz, STFT, mel, MFCC, deltas, contrast, chroma, spectral shape, statistics).

Both run in this one process on one core (BLAS threads limited to 1), interleaved track by track so that
machine load affects both alike. Prints audio seconds per CPU second for each and the ratio (target:
pipeline >= 0.5 x bare). Also reports the whole-machine rate of ``extract_features`` with one worker
process per core. Writes benchmarks/results/feature_speed.json.

    python benchmarks/feature_speed.py [--tracks 24]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _gamemusic import AUDIO_ROOT, HERE, MANIFEST, check_data

from sonicprint.audio import downmix, probe_audio
from sonicprint.collection import read_manifest
from sonicprint.config import FeatureConfig
from sonicprint.features import create_extractor
from sonicprint.features.spectral import power_spectrogram
from sonicprint.pipeline import Workspace, build_collection, compute_file_features, extract_features


def bare_decode_stft(path: Path, windows: list[tuple[float, float]]) -> float:
    total = 0.0
    with sf.SoundFile(str(path)) as f:
        rate = f.samplerate
        for offset, length in windows:
            f.seek(int(offset * rate))
            data = f.read(int(length * rate), dtype="float32", always_2d=True)
            mono = downmix(np.ascontiguousarray(data.T))
            total += float(power_spectrogram(mono, n_fft=2048, hop_length=512)[0, 0])
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=24)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    check_data()
    config = FeatureConfig()
    extractor = create_extractor(config)
    source = read_manifest(MANIFEST, label="composer", audio_root=AUDIO_ROOT)
    picked = source.tracks[:: max(1, len(source.tracks) // args.tracks)][: args.tracks]
    jobs = []
    for track in picked:
        info = probe_audio(track.path)
        windows = extractor.windows(info.duration_s)
        jobs.append((Path(track.path), info.duration_s, windows, sum(w[1] for w in windows)))
    audio_s = sum(j[3] for j in jobs)
    bare_cpu = pipe_cpu = 0.0
    with threadpool_limits(1):
        for path, duration, windows, _ in jobs:  # warm-up: caches, filterbanks, imports
            compute_file_features(path, config, duration_s=duration)
            bare_decode_stft(path, windows)
            break
        for _ in range(args.repeats):
            for path, duration, windows, _ in jobs:
                t0 = time.process_time()
                bare_decode_stft(path, windows)
                t1 = time.process_time()
                compute_file_features(path, config, duration_s=duration)
                t2 = time.process_time()
                bare_cpu += t1 - t0
                pipe_cpu += t2 - t1
    bare_rate = args.repeats * audio_s / bare_cpu
    pipe_rate = args.repeats * audio_s / pipe_cpu
    with tempfile.TemporaryDirectory() as tmp:
        from sonicprint.collection.sources import CollectionSource

        sub = CollectionSource(picked, [], "composer", (), "benchmark")
        with Workspace(tmp) as ws:
            build_collection(ws, sub, min_duration_s=1.0, progress=False)
            t0 = time.perf_counter()
            extract_features(ws, config, executor="process", progress=False)
            machine_rate = audio_s / (time.perf_counter() - t0)
    result = {
        "tracks": len(jobs),
        "audio_seconds": round(audio_s, 1),
        "formats": sorted({p.suffix for p, *_ in jobs}),
        "bare_decode_stft_x_realtime_per_core": round(bare_rate, 1),
        "pipeline_x_realtime_per_core": round(pipe_rate, 1),
        "ratio_pipeline_to_bare": round(pipe_rate / bare_rate, 3),
        "pipeline_whole_machine_x_realtime": round(machine_rate, 1),
        "note": "x realtime = audio seconds per CPU second (per core) or per wall second (whole machine)",
    }
    (HERE / "results" / "feature_speed.json").write_text(
        json.dumps(result, indent=2) + "\n", encoding="utf-8"
    )
    print(json.dumps(result, indent=2))
    print(f"ratio pipeline / bare decode+STFT: {result['ratio_pipeline_to_bare']:.2f} (target >= 0.5)")


if __name__ == "__main__":
    main()
