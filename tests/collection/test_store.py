"""The workspace database: what goes in comes out, skipped tracks keep their reason, and it outlives the
process that wrote it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sonicprint.collection.store import OK, TrackRow, TrackStore
from sonicprint.errors import WorkspaceError

ROW = TrackRow(
    path="/music/Ørjan/one.flac",
    label="Ørjan Nilsen",
    groups={"album": "Ten Years", "artist": "久石譲"},
    size=1234,
    mtime=1.5,
    content_hash="ab" * 32,
    status=OK,
    reason="",
    backend="soundfile",
    duration_s=31.25,
    sample_rate=44100,
    channels=2,
)


def test_a_row_round_trips_and_a_second_upsert_replaces_it(tmp_path):
    with TrackStore(tmp_path / "ws" / "collection.sqlite") as store:
        assert store.get(ROW.path) is None
        store.upsert(ROW)
        assert store.get(ROW.path) == ROW
        relabelled = replace(ROW, label="Someone Else", groups={})
        store.upsert(relabelled)
        assert store.get(ROW.path) == relabelled and len(store.tracks()) == 1


def test_skipped_tracks_are_problems_with_their_reason_in_path_order(tmp_path):
    with TrackStore(tmp_path / "collection.sqlite") as store:
        for name in ("c.flac", "a.flac", "b.flac"):
            store.upsert(replace(ROW, path=name))
        store.set_status("c.flac", "error", "not an audio file (text)")
        store.set_status("a.flac", "too_short", "1.2 s, under --min-duration 10 s")
        assert [(t.path, t.status, t.reason) for t in store.problems()] == [
            ("a.flac", "too_short", "1.2 s, under --min-duration 10 s"),
            ("c.flac", "error", "not an audio file (text)"),
        ]
        assert [t.path for t in store.tracks(status=OK)] == ["b.flac"]
        assert [t.path for t in store] == ["a.flac", "b.flac", "c.flac"]


def test_tracks_gone_from_the_source_are_forgotten(tmp_path):
    with TrackStore(tmp_path / "collection.sqlite") as store:
        for name in ("a.flac", "b.flac", "c.flac"):
            store.upsert(replace(ROW, path=name))
        store.remove_missing({"b.flac", "not-there.flac"})
        assert [t.path for t in store] == ["b.flac"]


def test_feature_errors_are_kept_per_extractor_until_cleared(tmp_path):
    with TrackStore(tmp_path / "collection.sqlite") as store:
        store.record_feature_error("h1", "track_stats-v1", "NaN in the spectrum")
        store.record_feature_error("h1", "mix_stats-v1", "mono file")
        store.record_feature_error("h1", "track_stats-v1", "NaN again")  # the latest reason wins
        assert store.feature_errors("track_stats-v1") == {"h1": "NaN again"}
        store.clear_feature_error("h1", "track_stats-v1")
        assert store.feature_errors("track_stats-v1") == {}
        assert store.feature_errors("mix_stats-v1") == {"h1": "mono file"}


def test_what_one_connection_wrote_another_reads_after_a_reopen(tmp_path):
    path = tmp_path / "collection.sqlite"
    with TrackStore(path) as store:
        store.upsert(ROW)
        with TrackStore(path) as reader:  # a second process (workers, a resumed run) sees committed rows
            assert reader.get(ROW.path) == ROW
    with TrackStore(path) as again:
        assert again.get(ROW.path) == ROW


def test_a_file_that_is_not_a_database_is_refused_by_name(tmp_path):
    path = tmp_path / "collection.sqlite"
    path.write_text("not a database, " * 100, encoding="utf-8")
    with pytest.raises(
        WorkspaceError, match=r"collection\.sqlite: cannot be used .*not a database.*--workspace"
    ):
        TrackStore(path)
