"""Shared helpers for the benchmarks on the game-music development set (../shared/data/gamemusic)."""

from __future__ import annotations

import os
from pathlib import Path

HERE = Path(__file__).resolve().parent
MANIFEST = Path(
    os.environ.get(
        "GAMEMUSIC_MANIFEST", HERE.parent.parent / "shared" / "data" / "gamemusic" / "manifest.csv"
    )
)
AUDIO_ROOT = Path(os.environ.get("GAMEMUSIC_ROOT", Path.home() / ".cache" / "gamemusic")) / "audio"
NAEV_COMPOSERS = ("Nikola Whallon", "Ken Seguro", "Askyel")


def check_data() -> None:
    if not MANIFEST.is_file() or not AUDIO_ROOT.is_dir():
        raise SystemExit(
            f"game-music set not found (manifest {MANIFEST}, audio {AUDIO_ROOT}); build it with "
            "../shared/data/gamemusic/build.sh or set GAMEMUSIC_MANIFEST / GAMEMUSIC_ROOT"
        )
