"""The album effect on the game-music set: do the models know a composer in a game they never heard?

Composer and game mostly coincide in this set, so a track-disjoint split lets a model name a composer by
the sound of the game (its encoder, mastering, instruments). Here every game is held out in turn
(leave-one-game-out: ``--group game`` with as many folds as games), so a track is only ever decided by a
model that heard nothing of its game. Only composers with tracks in two or more games can then be scored:
Nikola Whallon (Naev 20, Widelands 11) among the 8 composers with 8+ tracks; also Chris Leutwyler
(SuperTux, SuperTuxKart) and Alexandr Zhelanov (Naev, SuperTuxKart) among the 32 with 2+ tracks, where the
other composers stay in training as distractors. The same tracks' accuracy under the usual track-disjoint
5-fold split (5 fold seeds) stands beside it. The rows are those of `gamemusic_fingerprint.py` (shrinkage
LDA with uniform priors, trained per 20 s window, decided per track), fixed before this run.

    python benchmarks/gamemusic_cross_game.py [--workspace DIR] [--seeds 5]

Writes benchmarks/results/gamemusic_cross_game.{json,md}.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _gamemusic import HERE, benchmark_parser, composer_source
from gamemusic_fingerprint import LDA, MIX, MSD, STATS

from sonicprint.config import ExperimentConfig, FeatureConfig, ModelConfig, SplitConfig
from sonicprint.experiment import cross_validate, label_seen_mask
from sonicprint.pipeline import Workspace, build_collection, extract_feature_sets, select_labels

ROWS: list[tuple[str, tuple[FeatureConfig, ...], ModelConfig]] = [
    ("timbre statistics", (STATS,), ModelConfig("lda", LDA)),
    ("mix fingerprint", (MIX,), ModelConfig("lda", LDA)),
    ("musicnn MSD penultimate", (MSD,), ModelConfig("lda", LDA)),
    ("statistics, mix (late fusion)", (STATS, MIX), ModelConfig("lda", LDA, "late")),
    ("statistics, mix, musicnn (late fusion)", (STATS, MIX, MSD), ModelConfig("lda", LDA, "late")),
]
SETTINGS = (("8 composers with 8+ tracks", 8), ("32 composers with 2+ tracks", 2))


def correct_per_track(table, model: ModelConfig, split: SplitConfig) -> tuple[np.ndarray, list[str]]:  # type: ignore[no-untyped-def]
    """Whether each track's verdict is right, and the verdicts, under one cross-validation."""
    config = ExperimentConfig(model=model, split=split, per_window=True)
    proba, _, names, _ = cross_validate(table, config)
    verdicts = [names[i] for i in proba.argmax(1)]
    return np.array([v == lab for v, lab in zip(verdicts, table.labels)]), verdicts


def evaluate_setting(table, model: ModelConfig, seeds: int) -> dict:  # type: ignore[no-untyped-def]
    games = table.group_values("game")
    cross_game = SplitConfig(folds=len(set(games)), group="game")
    scored = label_seen_mask(table, ExperimentConfig(model=model, split=cross_game, per_window=True))
    correct, verdicts = correct_per_track(table, model, cross_game)
    track_disjoint = np.mean(
        [correct_per_track(table, model, SplitConfig(folds=5, seed=seed))[0] for seed in range(seeds)], axis=0
    )
    per_game = {}
    for composer, game in sorted({(table.labels[i], games[i]) for i in np.flatnonzero(scored)}):
        index = [i for i in np.flatnonzero(scored) if table.labels[i] == composer and games[i] == game]
        per_game[f"{composer} / {game}"] = {
            "n_tracks": len(index),
            "track_disjoint": float(np.mean(track_disjoint[index])),
            "cross_game": float(np.mean(correct[index])),
            "cross_game_verdicts": dict(Counter(verdicts[i] for i in index).most_common()),
        }
    return {
        "n_tracks": len(table.labels),
        "n_composers": len(set(table.labels)),
        "n_games": len(set(games)),
        "n_scored": int(scored.sum()),
        "track_disjoint": float(np.mean(track_disjoint[scored])),
        "cross_game": float(np.mean(correct[scored])),
        "per_composer_game": per_game,
    }


def main() -> None:
    args = benchmark_parser(__doc__).parse_args()
    results = []
    with Workspace(args.workspace) as ws:
        build_collection(ws, composer_source(), min_duration_s=10.0, progress=False)
        for name, configs, model in ROWS:
            full = extract_feature_sets(ws, configs, workers=args.workers, progress=False, per_window=True)
            row = {"method": name, "features": [c.extractor for c in configs], "settings": {}}
            for setting, min_tracks in SETTINGS:
                row["settings"][setting] = evaluate_setting(
                    select_labels(full, min_tracks=min_tracks), model, args.seeds
                )
                r = row["settings"][setting]
                print(
                    f"{name} | {setting}: {r['n_scored']} tracks scored; track-disjoint "
                    f"{r['track_disjoint']:.3f}, cross-game {r['cross_game']:.3f}",
                    flush=True,
                )
            results.append(row)
    protocol = (
        "Leave-one-game-out (`--group game`, one fold per game): a track is decided by a model that heard "
        "nothing of its game; only composers with tracks in 2+ games are scored. 'Track-disjoint': the same "
        f"tracks under track-disjoint 5-fold CV, mean over {args.seeds} fold seeds. Shrinkage LDA, uniform "
        "priors, trained on each of six 20 s windows, decided per track."
    )
    (HERE / "results" / "gamemusic_cross_game.json").write_text(
        json.dumps({"protocol": protocol, "results": results}, indent=2) + "\n", encoding="utf-8"
    )
    lines = [
        "| method | " + " | ".join(f"{s}: track-disjoint | {s}: cross-game" for s, _ in SETTINGS) + " |",
        "|---|" + "---|---|" * len(SETTINGS),
    ]
    for r in results:
        cells = [
            f"{r['settings'][s]['track_disjoint']:.1%} | **{r['settings'][s]['cross_game']:.1%}**"
            for s, _ in SETTINGS
        ]
        lines.append(f"| {r['method']} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Per composer and held-out game (each row's tracks decided without their game in training):",
        "",
    ]
    lines += [
        "| method | setting | composer / game | tracks | track-disjoint | cross-game | cross-game verdicts |"
    ]
    lines += ["|---|---|---|---|---|---|---|"]
    for r in results:
        for s, _ in SETTINGS:
            for key, g in r["settings"][s]["per_composer_game"].items():
                verdicts = ", ".join(f"{v} {n}" for v, n in g["cross_game_verdicts"].items())
                lines.append(
                    f"| {r['method']} | {s} | {key} | {g['n_tracks']} | {g['track_disjoint']:.1%} "
                    f"| {g['cross_game']:.1%} | {verdicts} |"
                )
    scored = {s: results[0]["settings"][s] for s, _ in SETTINGS}
    lines += [
        "",
        "Scored: "
        + "; ".join(
            f"{s}: {v['n_scored']} of {v['n_tracks']} tracks ({v['n_games']} games, one fold each)"
            for s, v in scored.items()
        )
        + ".",
        "",
        protocol,
    ]
    (HERE / "results" / "gamemusic_cross_game.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
