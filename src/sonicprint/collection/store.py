"""The workspace's embedded database (SQLite): every track, its label, groups, content hash and status.

A track's status is ``ok`` or the reason it was skipped (``error``, ``too_short``, ``duplicate``), so
nothing is silently dropped: :meth:`TrackStore.problems` lists every skipped file by name with its reason.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import WorkspaceError

SCHEMA = """
CREATE TABLE IF NOT EXISTS tracks (
    path TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    groups TEXT NOT NULL DEFAULT '{}',
    size INTEGER,
    mtime REAL,
    content_hash TEXT,
    status TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    backend TEXT NOT NULL DEFAULT '',
    duration_s REAL,
    sample_rate INTEGER,
    channels INTEGER
);
CREATE INDEX IF NOT EXISTS tracks_hash ON tracks(content_hash);
CREATE TABLE IF NOT EXISTS feature_errors (
    content_hash TEXT NOT NULL,
    extractor_key TEXT NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (content_hash, extractor_key)
);
"""

OK = "ok"


@dataclass(frozen=True)
class TrackRow:
    """A track as the workspace knows it."""

    path: str
    label: str
    groups: dict[str, str]
    size: int | None
    mtime: float | None
    content_hash: str | None
    status: str
    reason: str
    backend: str
    duration_s: float | None
    sample_rate: int | None
    channels: int | None


class TrackStore:
    """SQLite-backed table of tracks in a workspace directory (``<workspace>/collection.sqlite``)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(self.path), timeout=30)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(SCHEMA)
            self._db.commit()
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise WorkspaceError(
                self.path,
                f"cannot be used as the workspace database ({exc}); move it away (its tracks are checked "
                "again, cached features are kept) or choose another --workspace",
            ) from exc

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> TrackStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, path: str) -> TrackRow | None:
        row = self._db.execute("SELECT * FROM tracks WHERE path = ?", (path,)).fetchone()
        return _row(row) if row else None

    def upsert(self, row: TrackRow) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO tracks VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                row.path,
                row.label,
                json.dumps(row.groups, sort_keys=True),
                row.size,
                row.mtime,
                row.content_hash,
                row.status,
                row.reason,
                row.backend,
                row.duration_s,
                row.sample_rate,
                row.channels,
            ),
        )
        self._db.commit()

    def set_status(self, path: str, status: str, reason: str) -> None:
        self._db.execute("UPDATE tracks SET status = ?, reason = ? WHERE path = ?", (status, reason, path))
        self._db.commit()

    def remove_missing(self, keep: set[str]) -> None:
        """Forget tracks that are no longer in the collection source."""
        for (path,) in self._db.execute("SELECT path FROM tracks").fetchall():
            if path not in keep:
                self._db.execute("DELETE FROM tracks WHERE path = ?", (path,))
        self._db.commit()

    def tracks(self, *, status: str | None = None) -> list[TrackRow]:
        query, args = "SELECT * FROM tracks", tuple[str, ...]()
        if status is not None:
            query, args = query + " WHERE status = ?", (status,)
        return [_row(r) for r in self._db.execute(query + " ORDER BY path", args).fetchall()]

    def problems(self) -> list[TrackRow]:
        """Every track that was skipped, with its reason."""
        return [t for t in self.tracks() if t.status != OK]

    def record_feature_error(self, content_hash: str, extractor_key: str, reason: str) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO feature_errors VALUES (?,?,?)", (content_hash, extractor_key, reason)
        )
        self._db.commit()

    def clear_feature_error(self, content_hash: str, extractor_key: str) -> None:
        self._db.execute(
            "DELETE FROM feature_errors WHERE content_hash = ? AND extractor_key = ?",
            (content_hash, extractor_key),
        )
        self._db.commit()

    def feature_errors(self, extractor_key: str) -> dict[str, str]:
        rows = self._db.execute(
            "SELECT content_hash, reason FROM feature_errors WHERE extractor_key = ?", (extractor_key,)
        )
        return dict(rows.fetchall())

    def __iter__(self) -> Iterator[TrackRow]:
        return iter(self.tracks())


def _row(raw: tuple) -> TrackRow:  # type: ignore[type-arg]
    path, label, groups, size, mtime, content_hash, status, reason, backend, duration, rate, channels = raw
    return TrackRow(
        path,
        label,
        json.loads(groups),
        size,
        mtime,
        content_hash,
        status,
        reason,
        backend,
        duration,
        rate,
        channels,
    )
