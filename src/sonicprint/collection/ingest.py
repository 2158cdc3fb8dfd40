"""Check every file of a collection source and record it in the workspace store.

Each file is hashed (SHA-256 of its bytes), probed through the decoder chain, and a second of it decoded.
Unreadable, empty, non-audio, too-short and duplicate files get a status and a reason; the rest of the
batch goes on. A file already recorded with the same size and modification time is not checked again,
so an interrupted ingest resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from ..audio import load_audio, probe_audio
from ..errors import FileProblem
from .sources import CollectionSource, SourceProblem
from .store import OK, TrackRow, TrackStore

_HASH_CHUNK = 1 << 20


def tracks_hash(hashes: Sequence[str], labels: Sequence[str], groups: Sequence[Mapping[str, str]]) -> str:
    """A short hash of a collection as a run sees it: each track's content hash, label and groups, in
    any order."""
    lines = sorted(
        f"{h}\t{label}\t{json.dumps(dict(g), sort_keys=True)}" for h, label, g in zip(hashes, labels, groups)
    )
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]


def decoder_counts(decoders: Iterable[str]) -> dict[str, int]:
    """How many tracks each decoding backend read, most first (which decoder read each file is in the
    workspace's collection database)."""
    return dict(Counter(decoder or "unknown" for decoder in decoders).most_common())


def content_hash(path: str | Path) -> str:
    """SHA-256 of a file's bytes (hex)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


FILE_NOT_FOUND = "file not found"


@dataclass
class IngestReport:
    """What an ingest did: counts and every problem, by file."""

    ok: int
    skipped: list[tuple[str, str, str]]  # (path, status, reason)
    source_problems: list[SourceProblem]
    checked: int

    def lines(self) -> list[str]:
        out = [
            f"{where}: {problem}" for where, problem in ((p.where, p.problem) for p in self.source_problems)
        ]
        out += [f"{path}: {status}: {reason}" for path, status, reason in self.skipped]
        return out

    def missing_note(self) -> str:
        """A hint for when most listed files were not found (their paths resolved against the wrong
        folder, most likely); empty otherwise."""
        missing = sum(reason == FILE_NOT_FOUND for _, _, reason in self.skipped)
        if missing <= self.ok:  # most files found: the folder is right, a few are gone
            return ""
        return (
            f"{missing} of the {self.ok + len(self.skipped)} listed files were not found: a manifest's "
            "relative paths are read from its own folder unless an audio root (--audio-root) names another"
        )


def check_track(path: str, *, min_duration_s: float) -> dict[str, object]:
    """Hash, probe and test-decode one file; returns the fields of its store row (pure of the store)."""
    p = Path(path)
    fields: dict[str, object] = {"backend": "", "duration_s": None, "sample_rate": None, "channels": None}
    try:
        stat = p.stat()
    except OSError as exc:
        reason = (
            FILE_NOT_FOUND if isinstance(exc, FileNotFoundError) else f"cannot read file ({exc.strerror})"
        )
        return {
            **fields,
            "status": "error",
            "reason": reason,
            "size": None,
            "mtime": None,
            "content_hash": None,
        }
    fields.update(size=stat.st_size, mtime=stat.st_mtime)
    try:
        fields["content_hash"] = content_hash(p)
        info = probe_audio(p)
        fields.update(
            backend=info.backend,
            duration_s=info.duration_s,
            sample_rate=info.sample_rate,
            channels=info.channels,
        )
        load_audio(p, offset=0.0, duration=min(1.0, info.duration_s), mono=True)
    except FileProblem as exc:
        return {**fields, "status": "error", "reason": exc.problem}
    except OSError as exc:
        return {**fields, "status": "error", "reason": f"cannot read file ({exc})"}
    duration = float(fields["duration_s"] or 0.0)  # type: ignore[arg-type]
    if duration < min_duration_s:
        return {
            **fields,
            "status": "too_short",
            "reason": f"{duration:.2f} s of audio, at least {min_duration_s:g} s needed",
        }
    return {**fields, "status": OK, "reason": ""}


def ingest(
    source: CollectionSource,
    store: TrackStore,
    *,
    min_duration_s: float = 10.0,
    on_progress: Callable[[int, int], None] | None = None,
) -> IngestReport:
    """Record every track of ``source`` in ``store`` with its status; see the module docstring."""
    keep = {t.path for t in source.tracks}
    store.remove_missing(keep)
    checked = 0
    for number, track in enumerate(source.tracks, start=1):
        previous = store.get(track.path)
        stat = _stat(track.path)
        unchanged = previous is not None and stat is not None and (previous.size, previous.mtime) == stat
        if unchanged and previous is not None:
            updated = _with_duration_verdict(previous, min_duration_s)
            if (previous.label, previous.groups) != (track.label, track.groups) or updated != previous:
                store.upsert(replace(updated, label=track.label, groups=track.groups))
        else:
            fields = check_track(track.path, min_duration_s=min_duration_s)
            store.upsert(TrackRow(track.path, track.label, track.groups, **fields))  # type: ignore[arg-type]
            checked += 1
        if on_progress is not None:
            on_progress(number, len(source.tracks))
    _mark_duplicates(store)
    ok_count = len(store.tracks(status=OK))
    skipped = [(t.path, t.status, t.reason) for t in store.problems()]
    return IngestReport(ok_count, skipped, list(source.problems), checked)


def _mark_duplicates(store: TrackStore) -> None:
    """Of files with the same content, keep the first path (sorted) and mark the others duplicates."""
    first_by_hash: dict[str, str] = {}
    for row in store.tracks():  # sorted by path
        if row.status not in (OK, "duplicate") or not row.content_hash:
            continue
        owner = first_by_hash.setdefault(row.content_hash, row.path)
        if owner != row.path:
            if row.status != "duplicate":
                store.set_status(row.path, "duplicate", f"same content as {owner}")
        elif row.status == "duplicate":
            store.set_status(row.path, OK, "")


def _stat(path: str) -> tuple[int, float] | None:
    try:
        s = Path(path).stat()
    except OSError:
        return None
    return s.st_size, s.st_mtime


def _with_duration_verdict(row: TrackRow, min_duration_s: float) -> TrackRow:
    """The too-short verdict depends on this run's minimum, not the one a file was first checked with."""
    if row.status not in (OK, "too_short") or row.duration_s is None:
        return row
    if row.duration_s < min_duration_s:
        reason = f"{row.duration_s:.2f} s of audio, at least {min_duration_s:g} s needed"
        return replace(row, status="too_short", reason=reason)
    return replace(row, status=OK, reason="") if row.status == "too_short" else row
