"""Every pretrained network the ``musicnn`` package ships, alone and as a fourth family of the full recipe.

The recipe (one LDA per family, late fusion: timbre statistics, mix fingerprint, MSD_musicnn penultimate)
is the best model on the game-music set. This run asks whether any other shipped network adds to it:
MTT_musicnn's penultimate embedding and the two VGG baselines (MSD_vgg, MTT_vgg), each as its flattened
last pooling and as its five pooled maps averaged. Same protocol as `gamemusic_fingerprint.py`: six 20 s
windows per track, shrinkage LDA with uniform composer priors trained on windows and deciding per track,
track-disjoint 5-fold CV over the 111 tracks of the 8 composers with 8+ tracks, repeated over fold seeds.
The rows were fixed before the run.

    python benchmarks/gamemusic_pretrained.py [--workspace DIR] [--seeds 5]

Writes benchmarks/results/gamemusic_pretrained.{json,md}. The first run computes the embeddings of all
204 tracks (about 5 minutes per extractor on 2 cores); later runs read them from the feature cache.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gamemusic_fingerprint import LDA, MIX, MSD, STATS, run_rows_and_write

from sonicprint.config import ModelConfig

OTHERS = {
    "MTT_musicnn penultimate": "musicnn_mtt_penultimate",
    "MSD_vgg last pooling": "musicnn_msd_vgg_pool5",
    "MSD_vgg pooled maps": "musicnn_msd_vgg_pooled",
    "MTT_vgg last pooling": "musicnn_mtt_vgg_pool5",
    "MTT_vgg pooled maps": "musicnn_mtt_vgg_pooled",
}
RECIPE = (STATS, MIX, MSD)
ROWS = [("the recipe: statistics, mix, MSD_musicnn (late fusion)", RECIPE, ModelConfig("lda", LDA, "late"))]
ROWS += [
    (f"{name} alone", (replace(STATS, extractor=e),), ModelConfig("lda", LDA)) for name, e in OTHERS.items()
]
ROWS += [
    (f"the recipe + {name}", (*RECIPE, replace(STATS, extractor=e)), ModelConfig("lda", LDA, "late"))
    for name, e in OTHERS.items()
]


def main() -> None:
    run_rows_and_write(
        __doc__,
        ROWS,
        "gamemusic_pretrained",
        lambda seeds: (
            f"8 composers with >= 8 tracks, 111 tracks; 5-fold CV, track-disjoint, stratified; mean ± std over "
            f"{seeds} fold seeds; trained on each of six 20 s windows, decided per track; shrinkage LDA, "
            "uniform composer priors; late fusion: one LDA per family, normalised geometric mean. 'Naev alone': "
            "a model of the 3 Naev composers only (one game); 'Naev tracks': the 8-composer model on their tracks."
        ),
    )


if __name__ == "__main__":
    main()
