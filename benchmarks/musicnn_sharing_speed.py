"""Seconds to extract two layers of one musicnn network together (one pass per track) against one at a time.

MSD_musicnn's penultimate embedding and its pooled features for a few game-music tracks, each way in a
fresh workspace, serially on one core: together (``extract_feature_sets`` with both, as an experiment asks
for them: one decoding and one pass through the network serve both) and one at a time (``extract_features``
per layer, each decoding and running the network on its own). The figure is the ratio of the two, measured
in the same run; the features must come out equal.

    python benchmarks/musicnn_sharing_speed.py [--tracks 3]

Writes benchmarks/results/musicnn_sharing_speed.json.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=3)
    args = parser.parse_args()
    check_data()
    full = source_with_min_tracks(8)
    source = CollectionSource(full.tracks[: args.tracks], [], full.label, full.group_columns, full.origin)
    layers = tuple(
        replace(FeatureConfig(), extractor=name) for name in ("musicnn_msd_penultimate", "musicnn_msd_pool")
    )
    musicnn.load_musicnn("MSD_musicnn")  # the weights are read once per process, before either timing
    seconds, features = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for way in ("one at a time", "together"):
            musicnn._last_pass.clear()
            with Workspace(Path(tmp) / way.replace(" ", "_")) as ws:
                build_collection(ws, source, min_duration_s=10.0, progress=False)
                began = time.perf_counter()
                if way == "together":
                    table = extract_feature_sets(
                        ws, layers, executor="serial", progress=False, per_window=True
                    )
                    features[way] = table.features
                else:
                    tables = []
                    for layer in layers:
                        musicnn._last_pass.clear()  # each layer on its own, as before the sharing
                        tables.append(
                            extract_features(ws, layer, executor="serial", progress=False, per_window=True)
                        )
                    features[way] = np.concatenate([t.features for t in tables], axis=-1)
                seconds[way] = time.perf_counter() - began
    np.testing.assert_allclose(features["together"], features["one at a time"], rtol=1e-5, atol=1e-6)
    out = {
        "tracks": args.tracks,
        "seconds": {k: round(v, 2) for k, v in seconds.items()},
        "one_at_a_time_over_together": round(seconds["one at a time"] / seconds["together"], 2),
    }
    (HERE / "results" / "musicnn_sharing_speed.json").write_text(json.dumps(out, indent=2) + "\n")
    print(
        f"{args.tracks} tracks, MSD_musicnn penultimate + pooled: together {seconds['together']:.1f} s, one "
        f"at a time {seconds['one at a time']:.1f} s ({out['one_at_a_time_over_together']:.2f}x)"
    )


if __name__ == "__main__":
    main()
