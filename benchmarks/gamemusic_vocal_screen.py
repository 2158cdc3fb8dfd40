"""How well the instrumental screen of `sonicprint clean` tells instrumentals from tracks with a voice.

The game-music set is instrumental. Each of its tracks is scored as it is and with synthetic speech
(espeak-ng, a Debian package: `apt-get install espeak-ng`) mixed into every window at a speech-to-music
level of 0, -6 and -12 dB, through the same windows and pretrained tagger as `sonicprint clean` (three 20 s
windows, musicnn's MagnaTagATune tags, :func:`sonicprint.screening.vocal_score`). The tracks are split by
game into two halves: the cut-off is chosen on the first (the one that best separates the tracks as they
are from their -6 dB versions, by balanced accuracy) and measured on the second. Speech over music is a
stand-in for a singer: it says whether the tagger hears a voice, not how it hears singing.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _gamemusic import HERE, benchmark_parser, composer_source

LEVELS_DB = (0.0, -6.0, -12.0)
CHOOSE_AT_DB = -6.0
VOICES = ("en-us+m3", "en-us+f3", "en-gb+m1", "en-gb+f2", "en-us+m7", "en-us+f4")
SENTENCES = (
    "The night is long and the road goes on, we walk alone beneath the silver moon.",
    "Hold on to the morning light, it will carry you home across the water.",
    "I have been waiting by the river for a sign that never came.",
    "Every city sleeps tonight but we are running through the streets.",
    "Tell me why the stars are falling and the sea has turned to glass.",
    "Give me one more day to find the words I never said to you.",
)


def speech_takes(rate: int) -> list[np.ndarray]:
    """One take per voice: every sentence spoken by it, at ``rate``, peak-normalised."""
    import soundfile as sf

    from sonicprint.audio.decode import resample

    takes = []
    with tempfile.TemporaryDirectory() as tmp:
        for voice in VOICES:
            wav = Path(tmp) / f"{voice}.wav"
            subprocess.run(
                ["espeak-ng", "-v", voice, "-s", "150", "-w", str(wav), " ".join(SENTENCES)], check=True
            )
            samples, source_rate = sf.read(wav, dtype="float32")
            speech = resample(samples, orig_rate=source_rate, target_rate=rate)
            takes.append(speech / max(float(np.abs(speech).max()), 1e-9))
    return takes


def with_speech(window: np.ndarray, speech: np.ndarray, level_db: float, start: int) -> np.ndarray:
    """``window`` with ``speech`` (looped from ``start``) added at ``level_db`` speech-to-music RMS."""
    idx = (start + np.arange(len(window))) % len(speech)
    voice = speech[idx]
    music_rms = float(np.sqrt(np.mean(window**2))) or 1e-4
    gain = music_rms / max(float(np.sqrt(np.mean(voice**2))), 1e-9) * 10 ** (level_db / 20)
    return (window + gain * voice).astype(np.float32)


def balanced_accuracy(instrumental: np.ndarray, voiced: np.ndarray, cut: float) -> float:
    return float(((instrumental < cut).mean() + (voiced >= cut).mean()) / 2)


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--limit", type=int, default=0, help="first N tracks only (a quick look)")
    args = parser.parse_args()

    from sklearn.metrics import roc_auc_score

    from sonicprint.config import CleaningConfig
    from sonicprint.features import create_extractor
    from sonicprint.pipeline import Workspace, build_collection, decode_windows
    from sonicprint.pretrained.musicnn import tag_names
    from sonicprint.screening import INSTRUMENTAL_BELOW, vocal_score

    config = CleaningConfig().tagger
    extractor = create_extractor(config)
    names = tag_names("MTT_musicnn")
    takes = speech_takes(extractor.sample_rate)
    with Workspace(args.workspace) as ws:
        build_collection(ws, composer_source(), min_duration_s=10.0, progress=False)
        tracks = ws.store.tracks(status="ok")
    if args.limit:
        tracks = tracks[: args.limit]
    started = time.perf_counter()
    scores: dict[str, list[float]] = {"as is": [], **{f"{db:g} dB": [] for db in LEVELS_DB}}
    games = []
    for number, track in enumerate(tracks):
        windows = decode_windows(track.path, config, float(track.duration_s or 0.0))
        speech = takes[number % len(takes)]
        start = zlib.crc32(track.path.encode()) % len(speech)
        versions = {"as is": windows}
        for db in LEVELS_DB:
            versions[f"{db:g} dB"] = [
                with_speech(w, speech, db, start + 7919 * k) for k, w in enumerate(windows)
            ]
        for name, clips in versions.items():
            tags = extractor.compute(clips)[: len(names)]
            scores[name].append(float(vocal_score(tags, names)))
        games.append(track.groups.get("game", ""))
        print(f"{number + 1}/{len(tracks)} {Path(track.path).name}", file=sys.stderr, flush=True)
    seconds = time.perf_counter() - started
    arrays = {name: np.array(values) for name, values in scores.items()}
    # two halves by game, so no game's sound sits on both sides of the choice
    first = np.array([zlib.crc32(game.encode()) % 2 == 0 for game in games])
    choose, measure = first, ~first
    if not choose.any() or not measure.any():
        raise SystemExit(f"the {len(tracks)} tracks come from games on one side only: take more (--limit)")
    candidates = np.unique(np.concatenate([arrays["as is"][choose], arrays[f"{CHOOSE_AT_DB:g} dB"][choose]]))
    cut = max(
        candidates,
        key=lambda c: balanced_accuracy(arrays["as is"][choose], arrays[f"{CHOOSE_AT_DB:g} dB"][choose], c),
    )
    cut = float(np.round(cut, 1))

    def rates(cut_off: float) -> list[dict[str, float]]:
        rows = []
        for db in LEVELS_DB:
            voiced = arrays[f"{db:g} dB"][measure]
            plain = arrays["as is"][measure]
            auc = roc_auc_score(np.r_[np.zeros(len(plain)), np.ones(len(voiced))], np.r_[plain, voiced])
            rows.append(
                {
                    "speech_db": db,
                    "auc": float(auc),
                    "voiced_kept": float((voiced >= cut_off).mean()),
                    "instrumental_left_out": float((plain < cut_off).mean()),
                    "balanced_accuracy": balanced_accuracy(plain, voiced, cut_off),
                }
            )
        return rows

    rows = rates(cut)
    result = {
        "tracks": len(tracks),
        "tracks_choosing": int(choose.sum()),
        "tracks_measuring": int(measure.sum()),
        "games_choosing": sorted({g for g, c in zip(games, choose) if c}),
        "cut_off": cut,
        "chosen_at_db": CHOOSE_AT_DB,
        "rows": rows,
        "package_default": INSTRUMENTAL_BELOW,
        "rows_at_package_default": rates(INSTRUMENTAL_BELOW),
        "scores": {name: [round(v, 4) for v in values] for name, values in scores.items()},
        "games": games,
        "score_quantiles_as_is": np.quantile(arrays["as is"], [0.1, 0.5, 0.9]).round(3).tolist(),
        "seconds_per_track_all_versions": seconds / max(len(tracks), 1),
        "windows": [config.n_windows, config.window_s],
        "voices": list(VOICES),
    }
    out = HERE / "results" / "gamemusic_vocal_screen"
    if not args.limit:
        out.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        lines = [
            "# Instrumental screen of `sonicprint clean`: game music as it is and with speech mixed in",
            "",
            "    python benchmarks/gamemusic_vocal_screen.py",
            "",
            f"Cut-off on the vocal score chosen on {result['tracks_choosing']} tracks (half of the games, "
            f"as is against speech at {CHOOSE_AT_DB:g} dB): **{cut:g}**. Measured on the other "
            f"{result['tracks_measuring']} tracks:",
            "",
            "| speech-to-music level | AUC | voiced versions kept | instrumentals left out | balanced accuracy |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"| {r['speech_db']:g} dB | {r['auc']:.3f} | {r['voiced_kept']:.1%} | "
            f"{r['instrumental_left_out']:.1%} | {r['balanced_accuracy']:.1%} |"
            for r in rows
        ]
        if cut != INSTRUMENTAL_BELOW:
            lines += [
                "",
                f"At the package's default cut-off ({INSTRUMENTAL_BELOW:g}) on the same tracks:",
                "",
            ]
            lines += [
                f"- {r['speech_db']:g} dB: voiced versions kept {r['voiced_kept']:.1%}, instrumentals left out "
                f"{r['instrumental_left_out']:.1%}"
                for r in result["rows_at_package_default"]
            ]
        lines += [
            "",
            f"Three 20 s windows per track, musicnn MagnaTagATune tags, espeak-ng voices {', '.join(VOICES)}; "
            f"{result['seconds_per_track_all_versions']:.1f} s per track for all four versions on 2 cores. "
            "Speech over instrumental music stands in for a singer.",
        ]
        out.with_suffix(".md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if k not in ("scores", "games")}, indent=2))


if __name__ == "__main__":
    main()
