"""Never-heard composers: how often the "unknown" answer turns their tracks away, and what it costs.

The full recipe (statistics, mix fingerprint, musicnn embedding; one LDA each, late fusion, six 20 s
windows, uniform composer priors) knows the 8 composers with 8+ tracks. Their 111 tracks are scored out of
fold (track-disjoint 5-fold CV, repeated over fold seeds); the tracks of every other composer in the set (45
composers nobody trained on) are scored by the model trained on all 111 tracks, as a user would deploy it.
Per ``--unknown-below`` threshold: the share of known tracks still answered and the accuracy on them, and
the share of never-heard composers' tracks answered "unknown"; the area under the ROC curve of the best
probability as a known/never-heard detector; calibration of the known tracks' probabilities.

Then the same with a background class (`experiment --background`): the other composers' tracks join
training as one more label, "other", grouped by their composer, so that every fold's "other" tracks come
from composers that fold never heard; a track is turned away when "other" wins or the best probability is
below the threshold.

And the recipe's own thresholds once its probabilities are temperature-scaled (`experiment --calibrate`).

Last, sounds that are not music at all (noise of three colours, a sine, a square wave, mains hum, clicks,
a sweep, a near-silent hiss; three seeded variants of each, 30 s, stereo 44.1 kHz), scored by the deployed
recipe, calibrated, and by the recipe with the other composers as a background class: how confident a
model that knows only its makers' music is about sounds that are none of it.

    python benchmarks/gamemusic_open_set.py [--workspace DIR] [--seeds 5]

Writes benchmarks/results/gamemusic_open_set.{json,md}.
"""

from __future__ import annotations

import json
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _gamemusic import HERE, benchmark_parser, composer_source
from gamemusic_fingerprint import MIX, MSD, STATS

from sonicprint.config import ExperimentConfig, ModelConfig, SplitConfig
from sonicprint.evaluation import (
    UNKNOWN_THRESHOLDS,
    answered_accuracy,
    background_summary,
    brier_score,
    expected_calibration_error,
    unknown_share,
)
from sonicprint.experiment import build_model, cross_validate
from sonicprint.models import apply_temperature, calibrate_out_of_fold
from sonicprint.models.windows import fit_tracks, predict_tracks
from sonicprint.pipeline import (
    Workspace,
    build_collection,
    compute_feature_sets,
    extract_feature_sets,
    select_labels,
)

RECIPE = ModelConfig("lda", {"priors": "uniform"}, "late")
BACKGROUND = "other"


def roc_auc(positive: np.ndarray, negative: np.ndarray) -> float:
    """Chance that a random positive scores above a random negative (ties count half)."""
    diff = positive[:, None] - negative[None, :]
    return float(np.mean(diff > 0) + 0.5 * np.mean(diff == 0))


def background_labels(labels: list[str], names: list[str]) -> list[str]:
    """Each track's composer where it is one of ``names``, else the background label."""
    return [label if label in names else BACKGROUND for label in labels]


def with_background(table, names: list[str], seed: int) -> dict:  # type: ignore[no-untyped-def]
    """Out-of-fold verdicts of the recipe with the other composers' tracks as a background class."""
    known = np.isin(table.labels, names)
    relabelled = replace(
        table,
        labels=background_labels(table.labels, names),
        groups=[{"maker": h if k else lab} for lab, h, k in zip(table.labels, table.hashes, known)],
    )
    config = ExperimentConfig(
        model=RECIPE, split=SplitConfig(folds=5, seed=seed, group="maker"), per_window=True
    )
    proba, _, labels, _ = cross_validate(relabelled, config)
    other = labels.index(BACKGROUND)
    guess, best = proba.argmax(axis=1), proba.max(axis=1)
    truth = np.array([labels.index(lab) for lab in relabelled.labels])
    thresholds = []
    for threshold in UNKNOWN_THRESHOLDS:
        answered = known & (guess != other) & (best >= threshold)
        thresholds.append(
            {
                "known_answered": float(answered.sum() / known.sum()),
                "known_accuracy_on_answered": float(np.mean(guess[answered] == truth[answered])),
                "unheard_answered_unknown": float(
                    np.mean((guess[~known] == other) | (best[~known] < threshold))
                ),
            }
        )
    return {
        "accuracy": float(np.mean(guess[known] == truth[known])),
        "summary": background_summary(relabelled.labels, proba, labels, background=BACKGROUND),
        "thresholds": thresholds,
    }


RATE = 44100
NOT_MUSIC = ("white noise", "pink noise", "brown noise", "sine", "square", "hum", "clicks", "sweep", "hiss")


def not_music(kind: str, variant: int, *, seconds: float = 30.0) -> np.ndarray:
    """One seeded sound that is not music, ``(n, 2)`` float32 at 44.1 kHz; ``variant`` 0-2 changes its
    level, pitch or seed."""
    rng = np.random.default_rng([NOT_MUSIC.index(kind), variant])
    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    level = (0.05, 0.2, 0.5)[variant]
    if kind.endswith("noise"):
        white = rng.standard_normal((2, n))
        if kind == "white noise":
            y = white
        else:  # shaped in frequency: power falls as 1/f (pink) or 1/f^2 (brown)
            f = np.maximum(np.fft.rfftfreq(n, 1 / RATE), 20.0)
            y = np.fft.irfft(np.fft.rfft(white) / (f ** (0.5 if kind == "pink noise" else 1.0)), n)
    elif kind == "sine":
        y = np.sin(2 * np.pi * (220.0, 440.0, 1000.0)[variant] * t)
    elif kind == "square":
        y = np.sign(np.sin(2 * np.pi * (110.0, 220.0, 440.0)[variant] * t))
    elif kind == "hum":
        mains = (50.0, 60.0, 50.0)[variant]
        y = sum(np.sin(2 * np.pi * mains * k * t) / k for k in (1, 2, 3, 5))
    elif kind == "clicks":
        y = np.zeros(n)
        y[:: int(RATE / (1, 4, 10)[variant])] = 1.0
    elif kind == "sweep":
        f0, f1 = 50.0, (2000.0, 8000.0, 16000.0)[variant]
        y = np.sin(2 * np.pi * f0 * seconds / np.log(f1 / f0) * (np.exp(t / seconds * np.log(f1 / f0)) - 1))
    else:  # hiss: white noise far below full scale
        y, level = rng.standard_normal((2, n)), (0.001, 0.003, 0.01)[variant]
    y = np.atleast_2d(y)
    return (level * np.broadcast_to(y, (2, n)) / np.max(np.abs(y))).T.astype(np.float32)


def not_music_features(configs) -> tuple[list[str], np.ndarray]:  # type: ignore[no-untyped-def]
    """Each kind's three variants as the recipe sees them (per window): (kind per file, features)."""
    kinds, rows = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for kind in NOT_MUSIC:
            for variant in range(3):
                path = Path(tmp) / f"{kind.replace(' ', '_')}_{variant}.flac"
                sf.write(path, not_music(kind, variant), RATE)
                kinds.append(kind)
                rows.append(compute_feature_sets(path, configs, per_window=True))
    return kinds, np.stack(rows)


def not_music_verdicts(table, known, model, names: list[str], temperature: float) -> dict:  # type: ignore[no-untyped-def]
    """The deployed recipe's verdicts on sounds that are not music: as trained, calibrated with
    ``temperature``, and with the other composers' tracks as a background class (trained on all 204)."""
    kinds, features = not_music_features((STATS, MIX, MSD))
    plain = predict_tracks(model, features, per_window=True)
    calibrated = apply_temperature(plain, temperature)
    with_other = background_labels(table.labels, names)
    labels = sorted(set(with_other))
    wide = build_model(ExperimentConfig(model=RECIPE), table)
    fit_tracks(
        wide,
        table.features,
        np.array([labels.index(lab) for lab in with_other]),
        n_classes=len(labels),
        per_window=True,
    )
    background = predict_tracks(wide, features, per_window=True)
    other = labels.index(BACKGROUND)
    files = []
    for i, kind in enumerate(kinds):
        files.append(
            {
                "kind": kind,
                "verdict": names[int(plain[i].argmax())],
                "best": float(plain[i].max()),
                "calibrated_best": float(calibrated[i].max()),
                "background_verdict": labels[int(background[i].argmax())],
                "background_best": float(background[i].max()),
            }
        )
    background_unknown = [
        float(np.mean((background.argmax(1) == other) | (background.max(1) < t))) for t in UNKNOWN_THRESHOLDS
    ]
    return {
        "files": files,
        "temperature": temperature,
        "turned_away": unknown_share(plain),
        "calibrated_turned_away": unknown_share(calibrated),
        "background_turned_away": background_unknown,
    }


def not_music_table(noises: dict) -> list[str]:  # type: ignore[type-arg]
    """The markdown lines of the not-music section."""
    lines = [
        "",
        f"Sounds that are not music ({len(noises['files'])} files: {len(NOT_MUSIC)} kinds x 3 variants), "
        "scored by the deployed recipe (trained on all known tracks), calibrated with temperature "
        f"{noises['temperature']:.2f}, and by the recipe with the other composers as a background class "
        "(trained on all 204 tracks; turned away when 'other' wins or the best probability is below the "
        "threshold):",
        "",
        "| kind | verdicts | best probability | calibrated | with a background class: verdicts | best |",
        "|---|---|---|---|---|---|",
    ]
    for kind in NOT_MUSIC:
        mine = [f for f in noises["files"] if f["kind"] == kind]

        def listed(key: str, files: list = mine) -> str:  # type: ignore[type-arg]
            return ", ".join(f"{f[key]:.2f}" if isinstance(f[key], float) else f[key] for f in files)

        lines.append(
            f"| {kind} | {listed('verdict')} | {listed('best')} | {listed('calibrated_best')} "
            f"| {listed('background_verdict')} | {listed('background_best')} |"
        )
    lines += [
        "",
        "| unknown below | turned away | calibrated | with a background class |",
        "|---|---|---|---|",
    ]
    for i, threshold in enumerate(UNKNOWN_THRESHOLDS):
        lines.append(
            f"| {threshold:.2f} | {noises['turned_away'][i]:.0%} | {noises['calibrated_turned_away'][i]:.0%} "
            f"| {noises['background_turned_away'][i]:.0%} |"
        )
    return lines


def _mean_or_none(values: list[float | None]) -> float | None:
    """The mean of the values that are there (an accuracy is None where nothing was answered)."""
    present = [v for v in values if v is not None]
    return float(np.mean(present)) if present else None


def main() -> None:
    args = benchmark_parser(__doc__).parse_args()
    with Workspace(args.workspace) as ws:
        build_collection(ws, composer_source(), min_duration_s=10.0, progress=False)
        table = extract_feature_sets(ws, (STATS, MIX, MSD), progress=False, per_window=True)
    known = select_labels(table, min_tracks=8)
    names = sorted(set(known.labels))
    unheard = select_labels(table, min_tracks=1, labels=sorted(set(table.labels) - set(names)))
    y = np.array([names.index(lab) for lab in known.labels])

    model = build_model(ExperimentConfig(model=RECIPE), known)
    fit_tracks(model, known.features, y, n_classes=len(names), per_window=True)
    unheard_proba = predict_tracks(model, unheard.features, per_window=True)
    unheard_best = unheard_proba.max(axis=1)
    turned_away = unknown_share(unheard_proba)

    per_seed = []
    for seed in range(args.seeds):
        config = ExperimentConfig(model=RECIPE, split=SplitConfig(folds=5, seed=seed), per_window=True)
        proba, part_of, labels, _ = cross_validate(known, config)
        assert labels == names
        # --calibrate: each fold scaled by the other folds' temperature; the deployed model by all of them
        calibrated, temperature = calibrate_out_of_fold(proba, y, part_of, np.ones(len(y), dtype=bool))
        unheard_calibrated = apply_temperature(unheard_proba, temperature)
        per_seed.append(
            {
                "accuracy": float(np.mean(proba.argmax(1) == y)),
                "answered": answered_accuracy(known.labels, proba, names),
                "ece": expected_calibration_error(known.labels, proba, names),
                "brier": brier_score(known.labels, proba, names),
                "auroc": roc_auc(proba.max(axis=1), unheard_best),
                "calibrated": {
                    "temperature": temperature,
                    "answered": answered_accuracy(known.labels, calibrated, names),
                    "unheard_answered_unknown": unknown_share(unheard_calibrated),
                    "ece": expected_calibration_error(known.labels, calibrated, names),
                    "auroc": roc_auc(calibrated.max(axis=1), unheard_calibrated.max(axis=1)),
                },
            }
        )
    background = [with_background(table, names, seed) for seed in range(args.seeds)]
    rows = []
    for i, threshold in enumerate(UNKNOWN_THRESHOLDS):
        answered = [s["answered"][i]["answered"] for s in per_seed]
        accuracy = [
            s["answered"][i]["accuracy"] for s in per_seed if s["answered"][i]["accuracy"] is not None
        ]
        rows.append(
            {
                "threshold": threshold,
                "known_answered": float(np.mean(answered)),
                "known_accuracy_on_answered": float(np.mean(accuracy)) if accuracy else None,
                "unheard_answered_unknown": turned_away[i],
                "background": {
                    key: float(np.mean([b["thresholds"][i][key] for b in background]))
                    for key in ("known_answered", "known_accuracy_on_answered", "unheard_answered_unknown")
                },
                "calibrated": {
                    "known_answered": float(
                        np.mean([s["calibrated"]["answered"][i]["answered"] for s in per_seed])
                    ),
                    "known_accuracy_on_answered": _mean_or_none(
                        [s["calibrated"]["answered"][i]["accuracy"] for s in per_seed]
                    ),
                    "unheard_answered_unknown": float(
                        np.mean([s["calibrated"]["unheard_answered_unknown"][i] for s in per_seed])
                    ),
                },
            }
        )
    noises = not_music_verdicts(table, known, model, names, per_seed[0]["calibrated"]["temperature"])
    out = {
        "not_music": noises,
        "known": {"composers": names, "tracks": len(known.labels)},
        "unheard": {"composers": len(set(unheard.labels)), "tracks": len(unheard.labels)},
        "fold_seeds": args.seeds,
        "accuracy_mean": float(np.mean([s["accuracy"] for s in per_seed])),
        "auroc_mean": float(np.mean([s["auroc"] for s in per_seed])),
        "ece_mean": float(np.mean([s["ece"] for s in per_seed])),
        "brier_mean": float(np.mean([s["brier"] for s in per_seed])),
        "calibrated_ece_mean": float(np.mean([s["calibrated"]["ece"] for s in per_seed])),
        "calibrated_auroc_mean": float(np.mean([s["calibrated"]["auroc"] for s in per_seed])),
        "temperature_mean": float(np.mean([s["calibrated"]["temperature"] for s in per_seed])),
        "thresholds": rows,
        "per_seed": per_seed,
        "background_per_seed": background,
    }
    (HERE / "results" / "gamemusic_open_set.json").write_text(
        json.dumps(out, indent=2) + "\n", encoding="utf-8"
    )
    lines = [
        "| unknown below | known tracks answered | accuracy on them | never-heard composers' tracks turned away "
        "| with a background class: known answered | accuracy on them | never-heard turned away |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        acc = "-" if r["known_accuracy_on_answered"] is None else f"{r['known_accuracy_on_answered']:.1%}"
        b = r["background"]
        lines.append(
            f"| {r['threshold']:.2f} | {r['known_answered']:.1%} | {acc} | {r['unheard_answered_unknown']:.1%} "
            f"| {b['known_answered']:.1%} | {b['known_accuracy_on_answered']:.1%} | {b['unheard_answered_unknown']:.1%} |"
        )
    lines += [
        "",
        f"Known: {len(known.labels)} tracks of {len(names)} composers, out of fold (track-disjoint 5-fold CV, "
        f"mean over {args.seeds} fold seeds): accuracy {out['accuracy_mean']:.1%}, expected calibration error "
        f"{out['ece_mean']:.3f}, Brier score {out['brier_mean']:.3f}. Never heard: {len(unheard.labels)} tracks "
        f"of {out['unheard']['composers']} other composers, scored by the model trained on all known tracks. "
        f"Best probability as a known/never-heard detector: area under the ROC curve {out['auroc_mean']:.3f}. "
        "Full recipe: statistics, mix fingerprint, musicnn embedding; one LDA each (uniform composer priors), "
        "late fusion, six 20 s windows decided per track. With a background class: the other composers' "
        "tracks labelled 'other' and grouped by composer, everything out of fold; with no threshold, 'other' "
        f"wins for {np.mean([b['summary']['background_turned_away'] for b in background]):.1%} of them, and the known "
        f"tracks are named right {np.mean([b['accuracy'] for b in background]):.1%} of the time "
        "(the rest mostly taken for 'other').",
    ]
    lines += [
        "",
        "With `--calibrate` (each fold's probabilities temperature-scaled by a temperature fitted on the other "
        "folds' tracks; the never-heard tracks by the deployed model's, fitted on all known tracks; temperature "
        f"{out['temperature_mean']:.2f} on average; expected calibration error {out['calibrated_ece_mean']:.3f} "
        f"against {out['ece_mean']:.3f}; area under the ROC curve {out['calibrated_auroc_mean']:.3f}):",
        "",
        "| unknown below | known tracks answered | accuracy on them | never-heard composers' tracks turned away |",
        "|---|---|---|---|",
    ]
    for r in rows:
        c = r["calibrated"]
        acc = "-" if c["known_accuracy_on_answered"] is None else f"{c['known_accuracy_on_answered']:.1%}"
        lines.append(
            f"| {r['threshold']:.2f} | {c['known_answered']:.1%} | {acc} | {c['unheard_answered_unknown']:.1%} |"
        )
    lines += not_music_table(noises)
    (HERE / "results" / "gamemusic_open_set.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
