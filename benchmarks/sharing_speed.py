"""Seconds to extract feature sets that one decoding serves together against one at a time.

Three cases, each on a few game-music tracks, each way in a fresh workspace, serially on one core:

- ``stems``: timbre statistics of REPET-SIM's ``vocals`` and ``backing`` (together: each window separated
  once for both stems);
- ``musicnn``: MSD_musicnn's penultimate embedding and its pooled features (together: one decoding and one
  pass through the network per window serve both layers);
- ``recipe``: the README's recipe, timbre statistics (mono, 22.05 kHz), the mix fingerprint (stereo,
  44.1 kHz) and MSD_musicnn's penultimate embedding (mono, 16 kHz) (together: each window is decoded once
  and resampled for each; every set still computes its own features).

Together is ``extract_feature_sets`` with both sets, as an experiment asks for them; one at a time is
``extract_features`` per set, each decoding, separating and running the network on its own, as before the
sharing. The figure is the ratio of the two, measured in the same run; the features must come out equal.

    python benchmarks/sharing_speed.py [--case stems|musicnn|recipe] [--tracks 3]

Writes benchmarks/results/{stem,musicnn,recipe}_sharing_speed.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _gamemusic import HERE, check_data, source_with_min_tracks

from sonicprint.collection.sources import CollectionSource
from sonicprint.config import FeatureConfig
from sonicprint.pipeline import Workspace, build_collection, extract_feature_sets, extract_features
from sonicprint.pretrained import musicnn

CASES = {
    "stems": (
        "stem_sharing_speed.json",
        "REPET-SIM vocals + backing",
        tuple(replace(FeatureConfig(), separate=f"repet_sim:{s}") for s in ("vocals", "backing")),
    ),
    "musicnn": (
        "musicnn_sharing_speed.json",
        "MSD_musicnn penultimate + pooled",
        tuple(
            replace(FeatureConfig(), extractor=name)
            for name in ("musicnn_msd_penultimate", "musicnn_msd_pool")
        ),
    ),
    "recipe": (
        "recipe_sharing_speed.json",
        "statistics + mix fingerprint + MSD_musicnn penultimate",
        tuple(
            replace(FeatureConfig(), extractor=name)
            for name in ("track_stats", "mix_stats", "musicnn_msd_penultimate")
        ),
    ),
}


def measure(source: CollectionSource, configs: tuple[FeatureConfig, ...]) -> dict[str, float]:
    """Seconds each way, in fresh workspaces; the features of both ways must agree."""
    seconds, features = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for way in ("one at a time", "together"):
            musicnn._last_pass.clear()  # no network pass carried over from the other way
            with Workspace(Path(tmp) / way.replace(" ", "_")) as ws:
                build_collection(ws, source, min_duration_s=10.0, progress=False)
                began = time.perf_counter()
                if way == "together":
                    table = extract_feature_sets(
                        ws, configs, executor="serial", progress=False, per_window=True
                    )
                    features[way] = table.features
                else:
                    tables = []
                    for config in configs:
                        musicnn._last_pass.clear()  # each set on its own, as before the sharing
                        tables.append(
                            extract_features(ws, config, executor="serial", progress=False, per_window=True)
                        )
                    features[way] = np.concatenate([t.features for t in tables], axis=-1)
                seconds[way] = time.perf_counter() - began
    # musicnn's torch pass is not bit-reproducible (2e-7 apart run to run); the rest is equal exactly
    np.testing.assert_allclose(features["together"], features["one at a time"], rtol=1e-5, atol=1e-6)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=sorted(CASES), action="append", help="default: every case")
    parser.add_argument("--tracks", type=int, default=3)
    args = parser.parse_args()
    check_data()
    full = source_with_min_tracks(8)
    source = CollectionSource(full.tracks[: args.tracks], [], full.label, full.group_columns, full.origin)
    musicnn.load_musicnn("MSD_musicnn")  # the weights are read once per process, before any timing
    for case in args.case or sorted(CASES):
        file_name, what, configs = CASES[case]
        seconds = measure(source, configs)
        out = {
            "tracks": args.tracks,
            "seconds": {k: round(v, 2) for k, v in seconds.items()},
            "one_at_a_time_over_together": round(seconds["one at a time"] / seconds["together"], 2),
        }
        (HERE / "results" / file_name).write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
        print(
            f"{args.tracks} tracks, {what}: together {seconds['together']:.1f} s, one at a time "
            f"{seconds['one at a time']:.1f} s ({out['one_at_a_time_over_together']:.2f}x)"
        )


if __name__ == "__main__":
    main()
