"""Clean a labelled collection before any experiment, as the second study did (``sonicprint clean``).

Every file is checked into the workspace (unreadable, empty, duplicate and too-short files are left out
with their reason), the pretrained tagger scores each readable track for a voice, and the credits are read
for several performers (:mod:`sonicprint.screening`). The run writes ``screening.csv`` (every track, its
vocal score and why it was left out), ``cleaned.csv`` (a manifest of the kept tracks, for ``sonicprint
experiment`` or ``sonicprint cnn``), ``summary.json``, ``problems.txt`` and the resolved ``config.json``.
The checks and the tagger's outputs are kept in the workspace, so an interrupted run resumes where it
stopped and a rerun with another cut-off decodes nothing again.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .collection import OK, CollectionSource, TrackSource
from .collection.store import TrackRow
from .config import CleaningConfig, save_config
from .errors import ConfigError
from .pipeline import SILENT, Workspace, build_collection, extract_features
from .screening import TOO_SHORT, screen_reasons, vocal_score

CLEANED = "cleaned.csv"
SCREENING = "screening.csv"
#: the reasons of files the workspace could not use (the details stay in ``problems.txt``)
UNREADABLE = "unreadable"
DUPLICATE = "duplicate"
NOT_TAGGED = "not tagged"


@dataclass
class CleaningResult:
    """What a cleaning run kept and left out, and where it wrote them."""

    total: int
    kept: int
    #: reason -> tracks left out for it (a track may have several)
    left_out: dict[str, int]
    #: label -> (tracks kept, tracks listed)
    per_label: dict[str, tuple[int, int]]
    out_dir: Path
    problems: list[str] = field(default_factory=list)
    #: tracks the tagger ran on in this run (the others' tags came from the workspace's cache)
    tagged_now: int = 0
    #: when most listed files were not found, why that usually is (empty otherwise)
    missing_note: str = ""

    @property
    def manifest_path(self) -> Path:
        return self.out_dir / CLEANED

    @property
    def screening_path(self) -> Path:
        return self.out_dir / SCREENING


def tag_names_of(config: CleaningConfig) -> list[str]:
    """The tag names of the configured tagger, checked to hold the voice and no-voice tags that
    :func:`sonicprint.screening.vocal_score` reads.

    Raises
    ------
    ConfigError
        When ``config.tagger`` names no tagger of musicnn, or one without those tags.
    """
    from .features import create_extractor
    from .pretrained.musicnn import tag_names

    extractor = create_extractor(config.tagger)
    variant, layer = getattr(extractor, "variant", ""), getattr(extractor, "layer", "")
    if layer != "tags":
        raise ConfigError(
            f"tagger {config.tagger.extractor!r} gives no tag probabilities; use musicnn_mtt_tags"
        )
    names = tag_names(variant)
    try:
        vocal_score(np.zeros(len(names)), names)
    except ValueError as exc:
        raise ConfigError(f"tagger {config.tagger.extractor!r}: {exc}") from exc
    return names


def require_credit_columns(source: CollectionSource, config: CleaningConfig) -> None:
    """Refuse a source that was read without the artist or title column the config names."""
    missing = [c for c in config.credit_columns if c not in source.group_columns]
    if missing:
        raise ConfigError(
            f"{source.origin}: the credit column(s) {', '.join(missing)} were not read; "
            f"columns read: {', '.join((source.label, *source.group_columns))}"
        )


def clean_collection(
    source: CollectionSource,
    config: CleaningConfig,
    *,
    workspace: str | Path,
    out_dir: str | Path,
    progress: bool = True,
) -> CleaningResult:
    """Screen every track of ``source`` and write the kept ones as a manifest; see the module docstring."""
    require_credit_columns(source, config)
    names = tag_names_of(config) if config.drop_instrumental else []
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    save_config(config, out / "config.json")
    with Workspace(workspace) as ws:
        report = build_collection(
            ws, source, min_duration_s=config.collection.min_duration_s, progress=progress
        )
        rows = {row.path: row for row in ws.store.tracks()}
        vocal: dict[str, float] = {}
        tag_errors: dict[str, str] = {}
        tagged_now = 0
        if config.drop_instrumental:
            table = extract_features(
                ws, config.tagger, executor=config.executor, workers=config.workers, progress=progress
            )
            if table.paths:
                scores = vocal_score(table.features[:, : len(names)], names)
                vocal = {path: float(s) for path, s in zip(table.paths, scores)}
            tag_errors, tagged_now = dict(table.errors), table.computed
    verdicts = [_verdict(track, rows.get(track.path), vocal, tag_errors, config) for track in source.tracks]
    problems = report.lines() + [f"{path}: tagger failed: {reason}" for path, reason in tag_errors.items()]
    _write_screening(out / SCREENING, source, verdicts, rows, vocal)
    _write_manifest(out / CLEANED, source, [t for t, reasons in zip(source.tracks, verdicts) if not reasons])
    _write_text(out / "problems.txt", "".join(f"{line}\n" for line in problems) or "no problems\n")
    result = _summarise(source, verdicts, out, problems, tagged_now=tagged_now)
    result.missing_note = report.missing_note()
    _write_text(
        out / "summary.json",
        json.dumps(
            {
                "total": result.total,
                "kept": result.kept,
                "left_out": result.left_out,
                "per_label": {k: {"kept": v[0], "listed": v[1]} for k, v in result.per_label.items()},
            },
            indent=2,
        )
        + "\n",
    )
    return result


def _verdict(
    track: TrackSource,
    row: TrackRow | None,
    vocal: dict[str, float],
    tag_errors: dict[str, str],
    config: CleaningConfig,
) -> tuple[str, ...]:
    """Why ``track`` is left out (empty: kept); ``tag_errors``: why the tagger failed, by path."""
    if row is None or row.status not in (OK, "too_short"):
        return (DUPLICATE,) if row is not None and row.status == "duplicate" else (UNREADABLE,)
    artist_column, title_column = config.artist_column, config.title_column
    artist = track.label if artist_column == config.collection.label else track.groups.get(artist_column, "")
    reasons = screen_reasons(
        duration_s=row.duration_s,
        min_duration_s=config.collection.min_duration_s,
        vocal=vocal.get(track.path),
        instrumental_below=config.instrumental_below if config.drop_instrumental else None,
        artist_credits=[artist] if artist_column else [],
        titles=[track.groups.get(title_column, "")] if title_column else [],
    )
    tagged = track.path in vocal or TOO_SHORT in reasons  # a too-short file is never tagged
    if config.drop_instrumental and not tagged:
        silent = tag_errors.get(track.path, "").startswith(f"{SILENT}:")
        reasons = (*reasons, SILENT if silent else NOT_TAGGED)  # silent: nothing for the tagger to hear
    return reasons


def _summarise(
    source: CollectionSource,
    verdicts: Sequence[tuple[str, ...]],
    out: Path,
    problems: list[str],
    *,
    tagged_now: int,
) -> CleaningResult:
    listed = Counter(t.label for t in source.tracks)
    kept = Counter(t.label for t, reasons in zip(source.tracks, verdicts) if not reasons)
    reasons = Counter(reason for verdict in verdicts for reason in verdict)
    return CleaningResult(
        total=len(source.tracks),
        kept=sum(kept.values()),
        left_out=dict(reasons.most_common()),
        per_label={label: (kept[label], listed[label]) for label in sorted(listed)},
        out_dir=out,
        problems=problems,
        tagged_now=tagged_now,
    )


def _write_text(path: Path, text: str) -> None:
    """Write through a temporary file, so an interrupted run never leaves half a file."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def _csv_text(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def _write_screening(
    path: Path,
    source: CollectionSource,
    verdicts: Sequence[tuple[str, ...]],
    rows: dict[str, TrackRow],
    vocal: dict[str, float],
) -> None:
    table = []
    for track, reasons in zip(source.tracks, verdicts):
        row = rows.get(track.path)
        duration = "" if row is None or row.duration_s is None else f"{row.duration_s:.2f}"
        score = f"{vocal[track.path]:.3f}" if track.path in vocal else ""
        backend = row.backend if row is not None else ""
        table.append(
            [
                track.path,
                track.label,
                duration,
                backend,
                score,
                "no" if reasons else "yes",
                "; ".join(reasons),
            ]
        )
    header = ["path", source.label, "duration_s", "decoder", "vocal_score", "kept", "left_out_because"]
    _write_text(path, _csv_text(header, table))


def _write_manifest(path: Path, source: CollectionSource, kept: Sequence[TrackSource]) -> None:
    """The kept tracks as a manifest ``sonicprint experiment`` reads: absolute paths, the label and every
    column read with them."""
    columns = list(source.group_columns)
    rows = [[str(Path(t.path).resolve()), t.label, *(t.groups.get(c, "") for c in columns)] for t in kept]
    _write_text(path, _csv_text(["path", source.label, *columns], rows))
