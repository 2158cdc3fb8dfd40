"""A neural head on the three feature families at once, against the full LDA recipe, on the game-music set.

The full recipe trains one shrinkage LDA per family (timbre statistics, mix fingerprint, musicnn MSD
embedding) and fuses them; here one MLP head (`--model mlp`) reads the three concatenated per window and
decides per track, same protocol and folds as `gamemusic_fingerprint.py` (8 composers with 8+ tracks,
111 tracks, track-disjoint 5-fold CV over five fold seeds, six 20 s windows per track). Rows: the recipe
(reference, same run), the head with its defaults (one head, full-batch steps), and the head trained in
mini-batches of 64 for 150 passes at lr 1e-3 with 0.2 input dropout, alone and as an ensemble of three
seeds. These mini-batch settings were fixed before their first run on this set, not tuned on it.

    python benchmarks/gamemusic_mlp_head.py [--workspace DIR] [--seeds 5]

Writes benchmarks/results/gamemusic_mlp_head.{json,md}.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gamemusic_fingerprint import LDA, MIX, MSD, STATS, run_rows_and_write

from sonicprint.config import ModelConfig

FAMILIES = (STATS, MIX, MSD)
MINI_BATCH = {"batch_size": 64, "epochs": 150, "lr": 0.001, "input_dropout": 0.2}

ROWS = [
    ("full recipe: one LDA per family, fused (reference)", FAMILIES, ModelConfig("lda", LDA, "late")),
    ("MLP head on the three families, defaults (one head, full batch)", FAMILIES, ModelConfig("mlp", {})),
    ("MLP head, mini-batches, one head", FAMILIES, ModelConfig("mlp", MINI_BATCH)),
    (
        "MLP head, mini-batches, three heads (seeds 0-2)",
        FAMILIES,
        ModelConfig("mlp", {**MINI_BATCH, "members": 3}),
    ),
]


def main() -> None:
    run_rows_and_write(
        __doc__,
        ROWS,
        "gamemusic_mlp_head",
        lambda seeds: (
            f"8 composers with >= 8 tracks, 111 tracks; 5-fold CV, track-disjoint, stratified; mean ± std over "
            f"{seeds} fold seeds; trained on each of six 20 s windows, decided per track (mean window "
            "log-probability); features: timbre statistics, mix fingerprint, musicnn MSD penultimate. 'Naev "
            "alone': a model of the 3 Naev composers only (one game); 'Naev tracks': the 8-composer model on "
            "their tracks."
        ),
    )


if __name__ == "__main__":
    main()
