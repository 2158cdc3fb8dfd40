"""How well the instrumental screen of `sonicprint clean` tells instrumentals from tracks with a voice.

The game-music set is instrumental. Each of its tracks is scored as it is and with synthetic speech
(espeak-ng, a Debian package: `apt-get install espeak-ng`) mixed into every window at a speech-to-music
level of 0, -6 and -12 dB, through the same windows and pretrained tagger as `sonicprint clean` (three 20 s
windows, musicnn's MagnaTagATune tags, :func:`sonicprint.screening.vocal_score`). The tracks are split by
game into two halves: the cut-off is chosen on the first (the one that best separates the tracks as they
are from their -6 dB versions, by balanced accuracy) and measured on the second. The same is done with
musicnn's Million Song Dataset tagger ("female vocalists", "male vocalists" against "instrumental") and
with the two scores summed, each with its own cut-off, to see whether another tagger would serve better.
Speech over music is a stand-in for a singer: it says whether the tagger hears a voice, not how it hears
singing.
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


#: the scorers compared: each tagger's vocal score, and the two summed; the first is `sonicprint clean`'s
SCORERS = ("MTT (the default)", "MSD", "MTT + MSD")


def choose_cut_off(plain: np.ndarray, voiced: np.ndarray) -> float:
    """The cut-off with the best balanced accuracy between ``plain`` and ``voiced``, to one decimal."""
    candidates = np.unique(np.concatenate([plain, voiced]))
    return float(np.round(max(candidates, key=lambda c: balanced_accuracy(plain, voiced, c)), 1))


def rates(arrays: dict[str, np.ndarray], measure: np.ndarray, cut_off: float) -> list[dict[str, float]]:
    """Per speech level, on the ``measure`` tracks: AUC, and the shares each side gets right at ``cut_off``."""
    from sklearn.metrics import roc_auc_score

    rows = []
    plain = arrays["as is"][measure]
    for db in LEVELS_DB:
        voiced = arrays[f"{db:g} dB"][measure]
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


def table(rows: list[dict[str, float]]) -> list[str]:
    lines = [
        "| speech-to-music level | AUC | voiced versions kept | instrumentals left out | balanced accuracy |",
        "|---|---|---|---|---|",
    ]
    return lines + [
        f"| {r['speech_db']:g} dB | {r['auc']:.3f} | {r['voiced_kept']:.1%} | "
        f"{r['instrumental_left_out']:.1%} | {r['balanced_accuracy']:.1%} |"
        for r in rows
    ]


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--limit", type=int, default=0, help="first N tracks only (a quick look)")
    args = parser.parse_args()

    from dataclasses import replace

    from sonicprint.config import CleaningConfig
    from sonicprint.features import create_extractor
    from sonicprint.pipeline import Workspace, build_collection, decode_windows
    from sonicprint.pretrained.musicnn import tag_names
    from sonicprint.screening import INSTRUMENTAL_BELOW, vocal_score

    config = CleaningConfig().tagger
    taggers = {
        "MTT (the default)": create_extractor(config),
        "MSD": create_extractor(replace(config, extractor="musicnn_msd_tags")),
    }
    names = {label: tag_names(extractor.variant) for label, extractor in taggers.items()}  # type: ignore[attr-defined]
    takes = speech_takes(taggers["MTT (the default)"].sample_rate)
    with Workspace(args.workspace) as ws:
        build_collection(ws, composer_source(), min_duration_s=10.0, progress=False)
        tracks = ws.store.tracks(status="ok")
    if args.limit:
        tracks = tracks[: args.limit]
    started = time.perf_counter()
    versions_named = ["as is", *(f"{db:g} dB" for db in LEVELS_DB)]
    scores: dict[str, dict[str, list[float]]] = {label: {v: [] for v in versions_named} for label in taggers}
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
        for label, extractor in taggers.items():
            for name, clips in versions.items():
                tags = extractor.compute(clips)[: len(names[label])]
                scores[label][name].append(float(vocal_score(tags, names[label])))
        games.append(track.groups.get("game", ""))
        print(f"{number + 1}/{len(tracks)} {Path(track.path).name}", file=sys.stderr, flush=True)
    seconds = time.perf_counter() - started
    arrays = {label: {v: np.array(x) for v, x in by_version.items()} for label, by_version in scores.items()}
    arrays["MTT + MSD"] = {v: arrays["MTT (the default)"][v] + arrays["MSD"][v] for v in versions_named}
    # two halves by game, so no game's sound sits on both sides of the choice
    first = np.array([zlib.crc32(game.encode()) % 2 == 0 for game in games])
    choose, measure = first, ~first
    if not choose.any() or not measure.any():
        raise SystemExit(f"the {len(tracks)} tracks come from games on one side only: take more (--limit)")
    at = f"{CHOOSE_AT_DB:g} dB"
    scorers = {}
    for label in SCORERS:
        cut_off = choose_cut_off(arrays[label]["as is"][choose], arrays[label][at][choose])
        scorers[label] = {"cut_off": cut_off, "rows": rates(arrays[label], measure, cut_off)}
    default = arrays["MTT (the default)"]
    cut, rows = scorers["MTT (the default)"]["cut_off"], scorers["MTT (the default)"]["rows"]
    result = {
        "tracks": len(tracks),
        "tracks_choosing": int(choose.sum()),
        "tracks_measuring": int(measure.sum()),
        "games_choosing": sorted({g for g, c in zip(games, choose) if c}),
        "cut_off": cut,
        "chosen_at_db": CHOOSE_AT_DB,
        "rows": rows,
        "package_default": INSTRUMENTAL_BELOW,
        "rows_at_package_default": rates(default, measure, INSTRUMENTAL_BELOW),
        "scorers": scorers,
        "scores": {
            label: {v: [round(x, 4) for x in values] for v, values in by_version.items()}
            for label, by_version in scores.items()
        },
        "games": games,
        "score_quantiles_as_is": np.quantile(default["as is"], [0.1, 0.5, 0.9]).round(3).tolist(),
        "seconds_per_track_all_versions_both_taggers": seconds / max(len(tracks), 1),
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
            f"Cut-off on the vocal score of musicnn's MagnaTagATune tags (`sonicprint clean`'s tagger) chosen on "
            f"{result['tracks_choosing']} tracks (half of the games, as is against speech at {CHOOSE_AT_DB:g} "
            f"dB): **{cut:g}**. Measured on the other {result['tracks_measuring']} tracks:",
            "",
            *table(rows),
        ]
        if cut != INSTRUMENTAL_BELOW:
            lines += [
                "",
                f"At the package's default cut-off ({INSTRUMENTAL_BELOW:g}) on the same tracks:",
                "",
            ]
            lines += table(result["rows_at_package_default"])
        for label in SCORERS[1:]:
            lines += [
                "",
                f"The same with {label} tags (cut-off chosen the same way: {scorers[label]['cut_off']:g}):",
                "",
                *table(scorers[label]["rows"]),
            ]
        lines += [
            "",
            f"Three 20 s windows per track, musicnn MagnaTagATune and Million Song Dataset tags, espeak-ng voices "
            f"{', '.join(VOICES)}; {result['seconds_per_track_all_versions_both_taggers']:.1f} s per track for "
            "all four versions and both taggers on 2 cores. Speech over instrumental music stands in for a singer.",
        ]
        out.with_suffix(".md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if k not in ("scores", "games")}, indent=2))


if __name__ == "__main__":
    main()
