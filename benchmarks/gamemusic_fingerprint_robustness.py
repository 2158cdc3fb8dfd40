"""Robustness of the classical fingerprint models on the game-music set: track accuracy when the test tracks
are sped up, slowed down, pitch-shifted, filtered, MP3-encoded, noisy or reverberant, trained with and
without augmentation.

Each track's six 20 s windows are decoded once (stereo, 44.1 kHz); each condition of the CNN robustness
evaluation (`sonicprint.deep.transforms.CONDITIONS`) is applied to every window, channel by channel (so MP3
is two 64 kbit/s mono streams, and the room gives each channel its own reverb tail); then the timbre
statistics (downmix, 22.05 kHz) and the mix fingerprint (stereo, 44.1 kHz) are computed per window. Models
(shrinkage LDA, uniform priors, trained per window, decided per track) are trained on clean training
tracks, or with augmentation on those plus three transformed copies of each training track (each copy one
`sonicprint.deep.transforms.random_degradation`: tempo x0.85-1.15, pitch -2.5..+2.5 semitones, low-pass
2-8 kHz, high-pass 100-500 Hz, noise 15-35 dB SNR, a room of 0.3-1.2 s, MP3 at 48-128 kbit/s, as
`sonicprint experiment --augment-copies 3` does); the test tracks are never seen in any form. Track-disjoint
5-fold CV over the 8 composers with 8+ tracks, 5 fold seeds. The MSD_musicnn penultimate embedding (downmix,
16 kHz) of the same transformed windows completes the full recipe (statistics, mix, musicnn, late fusion);
its features under the thirteen versions of each track take about 40 minutes on 2 cores the first time.

    python benchmarks/gamemusic_fingerprint_robustness.py [--workspace DIR] [--seeds 5] [--workers 2]

Transformed features are cached per track in the workspace (`robustness/`: `<hash>.npz` for the statistics
and mix fingerprint, `<hash>.musicnn.npz` for musicnn), so an interrupted run resumes.
Writes benchmarks/results/gamemusic_fingerprint_robustness.{json,md}.
"""

from __future__ import annotations

import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _gamemusic import HERE, NAEV_COMPOSERS, benchmark_parser, composer_source

from sonicprint.audio import downmix, load_audio, probe_audio, resample
from sonicprint.config import FeatureConfig
from sonicprint.deep import transforms
from sonicprint.evaluation.splits import kfold_splits
from sonicprint.features import create_extractor, mix
from sonicprint.features.spectral import spread_windows
from sonicprint.models import create_model, fuse_probabilities
from sonicprint.pipeline import Workspace, build_collection, extract_features, select_labels

STATS = FeatureConfig()
MIX = FeatureConfig(extractor="mix_stats")
MSD = FeatureConfig(extractor="musicnn_msd_penultimate")
#: the feature families of each cache file: the statistics and mix fingerprint (the file of earlier runs)
#: and musicnn, kept apart so that either can be computed without the other
CACHE_FILES = {"": ("stats", "mix"), ".musicnn": ("musicnn",)}
RATE = 44100
N_AUGMENTED = 3


def features_of(windows: list[np.ndarray], families: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Per-window features of stereo 44.1 kHz windows: statistics ``(6, 128)``, mix fingerprint
    ``(6, 169)``, musicnn ``(6, 400)``, those of ``families``."""
    out = {}
    for family in families:
        if family == "mix":
            fingerprint = create_extractor(MIX)
            out[family] = np.stack([fingerprint.compute([w]) for w in windows])
            continue
        config = STATS if family == "stats" else MSD
        extractor = create_extractor(config)
        mono = [resample(downmix(w), orig_rate=RATE, target_rate=extractor.sample_rate) for w in windows]
        out[family] = np.stack([extractor.compute([m]) for m in mono])
    return out


def track_versions(path: str, key: str, cache: Path, suffix: str = "") -> dict[str, np.ndarray]:
    """Features of one track under every test condition and its augmented copies (cached by content hash),
    for the families of ``CACHE_FILES[suffix]``."""
    torch.set_num_threads(1)  # one track per worker process, one core each
    families = CACHE_FILES[suffix]
    target = cache / f"{key}{suffix}.npz"
    if target.is_file():
        with np.load(target) as stored:
            return dict(stored)
    duration = probe_audio(path).duration_s
    windows = [
        mix.as_stereo(load_audio(path, sample_rate=RATE, mono=False, offset=o, duration=d).samples)
        for o, d in spread_windows(duration, n_windows=STATS.n_windows, window_s=STATS.window_s)
    ]
    windows = [windows[i % len(windows)] for i in range(STATS.n_windows)]
    seed = int(key[:8], 16)
    out: dict[str, np.ndarray] = {}
    for condition in transforms.ROBUSTNESS_CONDITIONS:
        apply = transforms.CONDITIONS.get(condition)
        rng = np.random.default_rng([seed, 1])
        changed = [transforms.apply_per_channel(apply, w, sample_rate=RATE, rng=rng) for w in windows]
        for name, array in features_of(changed, families).items():
            out[f"{condition}/{name}"] = array
    draw = np.random.default_rng([seed, 2])
    for copy in range(N_AUGMENTED):
        _, apply = transforms.random_degradation(draw)
        changed = [transforms.apply_per_channel(apply, w, sample_rate=RATE, rng=draw) for w in windows]
        for name, array in features_of(changed, families).items():
            out[f"augmented{copy}/{name}"] = array
    tmp = target.with_name(f"{target.stem}.partial.npz")
    np.savez(tmp, **out)
    tmp.replace(target)
    return out


def fit_predict(train_x: list[np.ndarray], train_y: np.ndarray, tests: list[np.ndarray]) -> list[np.ndarray]:
    """LDA on windows of the training tracks; per-track probabilities of each test array ``(n, 6, dim)``."""
    x = np.concatenate([t.reshape(-1, t.shape[-1]) for t in train_x])
    y = np.concatenate([np.repeat(train_y, t.shape[1]) for t in train_x])
    model = create_model("lda", priors="uniform").fit(x, y, n_classes=8)
    out = []
    for test in tests:
        windows = model.predict_proba(test.reshape(-1, test.shape[-1])).reshape(len(test), test.shape[1], -1)
        out.append(fuse_probabilities([windows[:, k] for k in range(windows.shape[1])]))
    return out


def main() -> None:
    args = benchmark_parser(__doc__, workers=2).parse_args()
    source = composer_source()
    with Workspace(args.workspace) as ws:
        build_collection(ws, source, min_duration_s=10.0, progress=False)
        table = select_labels(extract_features(ws, STATS, progress=False, per_window=True), min_tracks=8)
    cache = Path(args.workspace) / "robustness"
    cache.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    n = len(table.paths)
    versions: list[dict[str, np.ndarray]] = [{} for _ in range(n)]
    with ProcessPoolExecutor(args.workers) as pool:
        for suffix in CACHE_FILES:
            parts = pool.map(track_versions, table.paths, table.hashes, [cache] * n, [suffix] * n)
            for merged, part in zip(versions, parts):
                merged.update(part)
    print(
        f"features of {len(versions)} tracks under every condition in {time.perf_counter() - started:.0f} s"
    )

    names = sorted(set(table.labels))
    y = np.array([names.index(label) for label in table.labels])
    naev = np.isin(table.labels, NAEV_COMPOSERS)
    conditions = transforms.ROBUSTNESS_CONDITIONS

    def stack(key: str, indices: np.ndarray) -> np.ndarray:
        return np.stack([versions[i][key] for i in indices])

    models = {
        "statistics": ("stats",),
        "mix fingerprint": ("mix",),
        "statistics, mix: late fusion": ("stats", "mix"),
        "musicnn": ("musicnn",),
        "statistics, mix, musicnn: late fusion": ("stats", "mix", "musicnn"),
    }
    accuracy = {(m, aug, c): [] for m in models for aug in (False, True) for c in conditions}
    naev_accuracy = {key: [] for key in accuracy}
    for seed in range(args.seeds):
        for train, test in kfold_splits(table.labels, table.hashes, n_folds=5, seed=seed):
            for augmented in (False, True):
                copies = ["clean", *(f"augmented{k}" for k in range(N_AUGMENTED))] if augmented else ["clean"]
                verdicts = {}
                for family in ("stats", "mix", "musicnn"):
                    train_x = [stack(f"{c}/{family}", train) for c in copies]
                    tests = [stack(f"{c}/{family}", test) for c in conditions]
                    verdicts[family] = fit_predict(train_x, y[train], tests)
                for model, families in models.items():
                    for k, condition in enumerate(conditions):
                        fused = fuse_probabilities([verdicts[f][k] for f in families])
                        right = fused.argmax(1) == y[test]
                        accuracy[(model, augmented, condition)].append(right)
                        naev_accuracy[(model, augmented, condition)].append(right[naev[test]])

    # every seed scores each track once: pool a seed's folds, then average over seeds
    def mean_over_seeds(parts: list[np.ndarray]) -> float:
        per_seed = np.array_split(np.arange(len(parts)), args.seeds)
        return float(np.mean([np.mean(np.concatenate([parts[i] for i in idx])) for idx in per_seed]))

    rows = []
    for model in models:
        for augmented in (False, True):
            rows.append(
                {
                    "model": model,
                    "augmented": augmented,
                    "accuracy": {c: mean_over_seeds(accuracy[(model, augmented, c)]) for c in conditions},
                    "naev_tracks_accuracy": {
                        c: mean_over_seeds(naev_accuracy[(model, augmented, c)]) for c in conditions
                    },
                }
            )
    protocol = (
        "8 composers with >= 8 tracks, 111 tracks; track-disjoint 5-fold CV, mean over "
        f"{args.seeds} fold seeds; shrinkage LDA (uniform priors) per window, decided per track; conditions "
        "applied to the test tracks only, channel by channel; 'augmented': trained on the clean training "
        f"tracks plus {N_AUGMENTED} randomly transformed copies of each."
    )
    out = {"protocol": protocol, "conditions": list(conditions), "rows": rows}
    (HERE / "results" / "gamemusic_fingerprint_robustness.json").write_text(
        json.dumps(out, indent=2) + "\n", encoding="utf-8"
    )
    header = [f"{r['model']}{', augmented' if r['augmented'] else ''}" for r in rows]
    lines = ["| condition | " + " | ".join(header) + " |", "|---|" + "---|" * len(rows)]
    for c in conditions:
        lines.append(f"| {c} | " + " | ".join(f"{r['accuracy'][c]:.1%}" for r in rows) + " |")
    lines.append(
        "| worst drop from clean | "
        + " | ".join(
            f"{max(r['accuracy']['clean'] - r['accuracy'][c] for c in conditions):.1%}" for r in rows
        )
        + " |"
    )
    lines += ["", protocol]
    (HERE / "results" / "gamemusic_fingerprint_robustness.md").write_text(
        "\n".join(lines) + "\n", encoding="utf-8"
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
