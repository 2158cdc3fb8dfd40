"""What lifts the classical models on the game-music set, and what does not: variants of the per-window
statistics model, and frame-level generative models, measured in one run on the same folds.

Every row is track-disjoint 5-fold CV over the 111 tracks of the 8 composers with 8+ tracks, decided per
track (mean log-probability of its windows, or mean frame log-likelihood for the per-composer GMMs),
repeated over fold seeds. Everything that is fitted (standardisation, LDA, GMMs) sees the training tracks
of its fold only. The folds are those of `gamemusic_classical.py` (same tracks, order and groups). The first
row is the pipeline's `--per-window` LDA on `track_stats`, recomputed here from whole-track frames (windows
cut from one decode of the track rather than decoded one by one) so that every row shares the same frames.

    python benchmarks/gamemusic_classical_variants.py [--seeds 5] [--workspace DIR]

Writes benchmarks/results/gamemusic_classical_variants.{json,md}. Frames are cached in the workspace
(`frames/`, about 250 MB).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _gamemusic import AUDIO_ROOT, HERE, MANIFEST, NAEV_COMPOSERS, check_data

from sonicprint.audio import load_audio
from sonicprint.collection import read_manifest
from sonicprint.config import FeatureConfig
from sonicprint.evaluation.splits import kfold_splits
from sonicprint.features import spectral
from sonicprint.features.extractors import TrackStats
from sonicprint.pipeline import Workspace, build_collection, extract_features, select_labels

CONFIG = FeatureConfig()  # the track_stats defaults: 22.05 kHz, n_fft 2048, hop 512, 20 MFCCs
FRAMES_PER_S = CONFIG.sample_rate / CONFIG.hop_length
N_MFCC = CONFIG.n_mfcc


def track_frames(path: str, key: str, cache: Path) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame ``track_stats`` features ``(66, t)`` and 128-band log-mel ``(128, t)`` of a whole track."""
    target = cache / f"{key}.npz"  # the track's content hash
    if target.is_file():
        with np.load(target) as stored:
            return stored["features"], stored["log_mel"].astype(np.float32)
    samples = load_audio(path, sample_rate=CONFIG.sample_rate).samples[0]
    features = TrackStats(CONFIG).frame_features(samples).astype(np.float32)
    power = spectral.power_spectrogram(samples, n_fft=CONFIG.n_fft, hop_length=CONFIG.hop_length)
    basis = spectral.mel_filterbank(sample_rate=CONFIG.sample_rate, n_fft=CONFIG.n_fft, n_mels=CONFIG.n_mels)
    log_mel = spectral.log_mel(power, mel_basis=basis)
    tmp = target.with_suffix(".tmp.npz")
    np.savez(tmp, features=features, log_mel=log_mel.astype(np.float16))
    tmp.replace(target)
    return features, log_mel


def spread(frames: np.ndarray, n_windows: int, window_s: float) -> list[np.ndarray]:
    """``n_windows`` windows spread evenly (as the pipeline places them); a short track repeats itself."""
    width = int(window_s * FRAMES_PER_S)
    total = frames.shape[1]
    if total <= width:
        return [frames] * n_windows
    room = total - width
    starts = [int(room * (i + 0.5) / n_windows) for i in range(n_windows)]
    return [frames[:, s : s + width] for s in starts]


def tile(frames: np.ndarray, window_s: float) -> list[np.ndarray]:
    """Back-to-back windows over the whole track (the last partial one dropped)."""
    width = int(window_s * FRAMES_PER_S)
    if frames.shape[1] <= width:
        return [frames]
    return [frames[:, s : s + width] for s in range(0, frames.shape[1] - width + 1, width)]


def mean_std(window: np.ndarray) -> np.ndarray:
    return np.concatenate([window.mean(axis=1), window.std(axis=1)])


def mfcc_covariance(window: np.ndarray) -> np.ndarray:
    covariance = np.cov(window[:N_MFCC])
    return covariance[np.triu_indices(N_MFCC, 1)]


def lda(uniform_priors: bool = False) -> Callable[[int], object]:
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    def make(n_classes: int) -> object:
        priors = np.full(n_classes, 1 / n_classes) if uniform_priors else None
        return LinearDiscriminantAnalysis(solver="eigen", shrinkage="auto", priors=priors)

    return make


def cv_windows(windows: list[np.ndarray], y: np.ndarray, folds, make) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Out-of-fold track predictions of a classifier trained on windows ``(n_windows_i, dim)`` per track."""
    from sklearn.preprocessing import StandardScaler

    predicted = np.zeros(len(y), dtype=np.int64)
    for train, test in folds:
        x = np.concatenate([windows[i] for i in train])
        labels = np.concatenate([[y[i]] * len(windows[i]) for i in train])
        scaler = StandardScaler().fit(x)
        model = make(len(np.unique(labels))).fit(scaler.transform(x), labels)
        for i in test:
            log_p = np.log(np.clip(model.predict_proba(scaler.transform(windows[i])), 1e-12, 1)).mean(0)
            predicted[i] = model.classes_[int(np.argmax(log_p))]
    return predicted


def map_supervectors(track: np.ndarray, ubm, mu: np.ndarray, sd: np.ndarray) -> np.ndarray:  # type: ignore[no-untyped-def]
    """MAP-adapted (relevance 16) GMM mean supervector of each of six 20 s windows, ``(6, K * dim)``."""
    rows = []
    for window in spread(track, 6, 20.0):
        x = (window.T - mu) / sd
        posterior = ubm.predict_proba(x)
        counts = posterior.sum(0) + 1e-9
        means = posterior.T @ x / counts[:, None]
        alpha = (counts / (counts + 16.0))[:, None]
        adapted = alpha * means + (1 - alpha) * ubm.means_
        scaled = np.sqrt(ubm.weights_)[:, None] * (adapted - ubm.means_) / np.sqrt(ubm.covariances_)
        rows.append(scaled.ravel())
    return np.stack(rows)


def cv_supervectors(frames: list[np.ndarray], y, folds, *, n_components: int, seed: int):  # type: ignore[no-untyped-def]
    """GMM mean supervectors (MAP-adapted, relevance 16) of six 20 s windows per track, then shrinkage LDA.

    The universal background model is fitted per fold on the training tracks' frames only.
    """
    from sklearn.mixture import GaussianMixture

    rng = np.random.default_rng(seed)
    predicted = np.zeros(len(y), dtype=np.int64)
    for train, test in folds:
        sample = np.concatenate(
            [
                f.T[rng.choice(f.shape[1], min(f.shape[1], 1500), replace=False)]
                for f in (frames[i] for i in train)
            ]
        )
        mu, sd = sample.mean(0), sample.std(0) + 1e-9
        ubm = GaussianMixture(
            n_components, covariance_type="diag", max_iter=50, random_state=seed, reg_covar=1e-3
        )
        ubm.fit((sample - mu) / sd)

        vectors = {i: map_supervectors(frames[i], ubm, mu, sd) for i in [*train, *test]}
        fold_pred = cv_windows(
            [vectors.get(i, np.zeros((1, 1))) for i in range(len(y))], y, [(train, test)], lda()
        )
        predicted[test] = fold_pred[test]
    return predicted


def cv_composer_gmms(frames: list[np.ndarray], y, folds, *, n_components: int, seed: int):  # type: ignore[no-untyped-def]
    """One GMM per composer over 1 s texture windows (mean and std of the frames); a track goes to the
    composer whose GMM gives its texture windows the highest mean log-likelihood."""
    from sklearn.mixture import GaussianMixture

    textures = [np.stack([mean_std(w) for w in tile(f, 1.0)]) for f in frames]
    rng = np.random.default_rng(seed)
    predicted = np.zeros(len(y), dtype=np.int64)
    for train, test in folds:
        pooled = np.concatenate([textures[i] for i in train])
        mu, sd = pooled.mean(0), pooled.std(0) + 1e-9
        models = {}
        for composer in np.unique(y[train]):
            tracks = [i for i in train if y[i] == composer]
            per_track = max(200, 40000 // len(tracks))
            sample = np.concatenate(
                [
                    textures[i][rng.choice(len(textures[i]), min(per_track, len(textures[i])), replace=False)]
                    for i in tracks
                ]
            )
            models[composer] = GaussianMixture(
                n_components, covariance_type="diag", max_iter=100, random_state=seed, reg_covar=1e-2
            ).fit((sample - mu) / sd)
        composers = sorted(models)
        for i in test:
            scores = [models[c].score((textures[i] - mu) / sd) for c in composers]
            predicted[i] = composers[int(np.argmax(scores))]
    return predicted


def pipeline_tracks(workspace: str):  # type: ignore[no-untyped-def]
    """The tracks in the order, and with the groups (content hashes), of `gamemusic_classical.py`'s table,
    so that every fold seed gives the very folds of the pipeline benchmark."""
    source = read_manifest(MANIFEST, label="composer", group_columns=["game"], audio_root=AUDIO_ROOT)
    with Workspace(workspace) as ws:
        build_collection(ws, source, min_duration_s=10.0, progress=False)
        table = extract_features(ws, FeatureConfig(), progress=False, per_window=True)
    return select_labels(table, min_tracks=8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", default=str(HERE / ".workspace"))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--gmm-seeds", type=int, default=2, help="fold seeds for the (slow) GMM rows (default: %(default)s)"
    )
    args = parser.parse_args()
    check_data()
    warnings.filterwarnings("ignore", module="sklearn")
    table = pipeline_tracks(args.workspace)
    paths, hashes = table.paths, table.hashes
    names = sorted(set(table.labels))
    y = np.array([names.index(label) for label in table.labels])
    cache = Path(args.workspace) / "frames"
    cache.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with ProcessPoolExecutor(args.workers) as pool:
        decoded = list(pool.map(track_frames, paths, hashes, [cache] * len(paths)))
    frames = [f for f, _ in decoded]
    log_mels = [m for _, m in decoded]
    print(f"frames of {len(paths)} tracks in {time.perf_counter() - started:.0f} s", flush=True)

    def windows_of(summary: Callable[[int, list[int]], list[np.ndarray]]) -> list[np.ndarray]:
        return [np.stack(summary(i)) for i in range(len(paths))]

    def stats_6x20(i: int) -> list[np.ndarray]:
        return [mean_std(w) for w in spread(frames[i], 6, 20.0)]

    variants: list[tuple[str, Callable[[np.ndarray, list], np.ndarray]]] = []  # type: ignore[type-arg]
    base = windows_of(lambda i: stats_6x20(i))
    variants.append(
        (
            "statistics, 6 x 20 s windows, LDA (the pipeline's --per-window)",
            lambda yy, f: cv_windows(base, yy, f, lda()),
        )
    )
    variants.append(("the same, uniform composer priors", lambda yy, f: cv_windows(base, yy, f, lda(True))))
    for n, seconds in ((12, 10.0), (24, 5.0), (40, 3.0)):
        spread_n = windows_of(lambda i, n=n, s=seconds: [mean_std(w) for w in spread(frames[i], n, s)])
        variants.append(
            (
                f"statistics, {n} x {seconds:g} s windows, LDA",
                lambda yy, f, w=spread_n: cv_windows(w, yy, f, lda()),
            )
        )
    for seconds in (10.0, 5.0):
        tiled = windows_of(lambda i, s=seconds: [mean_std(w) for w in tile(frames[i], s)])
        variants.append(
            (
                f"statistics, every {seconds:g} s of the track, LDA",
                lambda yy, f, w=tiled: cv_windows(w, yy, f, lda()),
            )
        )
    with_cov = windows_of(
        lambda i: [np.concatenate([mean_std(w), mfcc_covariance(w)]) for w in spread(frames[i], 6, 20.0)]
    )
    variants.append(
        ("statistics + MFCC covariance, 6 x 20 s, LDA", lambda yy, f: cv_windows(with_cov, yy, f, lda()))
    )
    with_mel = windows_of(
        lambda i: [
            np.concatenate([mean_std(w), mean_std(m)])
            for w, m in zip(spread(frames[i], 6, 20.0), spread(log_mels[i], 6, 20.0))
        ]
    )
    variants.append(
        (
            "statistics + 128-band log-mel mean/std, 6 x 20 s, LDA",
            lambda yy, f: cv_windows(with_mel, yy, f, lda()),
        )
    )
    mfcc_delta = [f[: 2 * N_MFCC] for f in frames]
    variants.append(
        (
            "GMM supervectors (64 components, MFCC + delta), 6 x 20 s, LDA",
            lambda yy, f, s=0: cv_supervectors(mfcc_delta, yy, f, n_components=64, seed=s),
        )
    )
    variants.append(
        (
            "one GMM per composer (16 components, 1 s textures)",
            lambda yy, f: cv_composer_gmms(frames, yy, f, n_components=16, seed=0),
        )
    )

    results = []
    labels = [names[i] for i in y]
    naev = np.array([lab in NAEV_COMPOSERS for lab in labels])
    for name, run in variants:
        began = time.perf_counter()
        accuracy, naev_accuracy = [], []
        n_seeds = min(args.seeds, args.gmm_seeds) if "GMM" in name else args.seeds
        for seed in range(n_seeds):
            folds = kfold_splits(labels, hashes, n_folds=5, seed=seed)
            predicted = run(y, folds)
            accuracy.append(float(np.mean(predicted == y)))
            naev_accuracy.append(float(np.mean(predicted[naev] == y[naev])))
        row = {
            "variant": name,
            "accuracy_mean": float(np.mean(accuracy)),
            "accuracy_std": float(np.std(accuracy)),
            "accuracy_per_seed": accuracy,
            "fold_seeds": n_seeds,
            "naev_tracks_accuracy_mean": float(np.mean(naev_accuracy)),
            "seconds": round(time.perf_counter() - began, 1),
        }
        results.append(row)
        print(
            f"{name}: {row['accuracy_mean']:.3f} ± {row['accuracy_std']:.3f} (Naev tracks {row['naev_tracks_accuracy_mean']:.3f}) [{row['seconds']:.0f} s]",
            flush=True,
        )

    protocol = (
        "8 composers with >= 8 tracks, 111 tracks; 5-fold CV, track-disjoint, stratified; mean ± std over "
        "fold seeds 0, 1, ... (the GMM rows are slow and use fewer); decided per track. Naev: the 8-composer models' accuracy on the Naev "
        "composers' tracks (one game)."
    )
    out = {"protocol": protocol, "results": results}
    (HERE / "results" / "gamemusic_classical_variants.json").write_text(
        json.dumps(out, indent=2) + "\n", encoding="utf-8"
    )
    lines = ["| variant | track accuracy | Naev tracks | fold seeds |", "|---|---|---|---|"]
    for r in results:
        lines.append(
            f"| {r['variant']} | {r['accuracy_mean']:.1%} ± {r['accuracy_std']:.1%} | {r['naev_tracks_accuracy_mean']:.1%} | {r['fold_seeds']} |"
        )
    lines.append(f"\n{protocol}")
    (HERE / "results" / "gamemusic_classical_variants.md").write_text(
        "\n".join(lines) + "\n", encoding="utf-8"
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
