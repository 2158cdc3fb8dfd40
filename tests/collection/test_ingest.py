from __future__ import annotations

import shutil

import pytest

from sonicprint.collection import OK, TrackStore, ingest
from sonicprint.collection.sources import CollectionSource, TrackSource
from tests.conftest import tone


def _source(paths, label="L"):
    return CollectionSource([TrackSource(str(p), label, {}) for p in paths], [], "label", (), "test")


@pytest.fixture
def store(tmp_path):
    with TrackStore(tmp_path / "ws" / "collection.sqlite") as s:
        yield s


def test_every_bad_file_is_reported_by_name_and_the_rest_goes_on(bad_files, store, write_audio):
    good2 = write_audio("good2.wav", tone(330, 2.0, 22050), 22050)
    dup = bad_files["good"].with_name("zz_copy.flac")
    shutil.copyfile(bad_files["good"], dup)
    paths = [*bad_files.values(), good2, dup]
    report = ingest(_source(paths), store, min_duration_s=1.0)
    status = {t.path: (t.status, t.reason) for t in store.tracks()}
    assert status[str(bad_files["empty"])] == ("error", "empty file (0 bytes)")
    assert status[str(bad_files["not_audio"])][0] == "error"
    assert "not readable as audio" in status[str(bad_files["not_audio"])][1]
    assert status[str(bad_files["corrupt"])][0] == "error"
    assert status[str(bad_files["missing"])][0] == "error"
    assert status[str(bad_files["too_short"])][0] == "too_short"
    assert "0.50 s of audio" in status[str(bad_files["too_short"])][1]
    # of two identical files the first path is kept, the other marked a duplicate of it
    assert status[str(dup)] == ("duplicate", f"same content as {bad_files['good']}")
    assert status[str(bad_files["good"])] == (OK, "")
    assert status[str(good2)] == (OK, "")
    assert status[str(bad_files["silent"])] == (OK, "")  # silence is valid audio
    assert report.ok == 3
    assert len(report.skipped) == len(paths) - 3
    assert all(
        str(p) in "\n".join(report.lines())
        for p in paths
        if str(p) not in (str(bad_files["good"]), str(good2), str(bad_files["silent"]))
    )


def test_rerun_checks_nothing_again_and_follows_label_changes(store, write_audio):
    a = write_audio("a.wav", tone(440, 2.0, 22050), 22050)
    b = write_audio("b.wav", tone(550, 2.0, 22050), 22050)
    first = ingest(_source([a, b]), store, min_duration_s=1.0)
    assert first.checked == 2
    again = ingest(_source([a, b], label="M"), store, min_duration_s=1.0)
    assert again.checked == 0
    assert {t.label for t in store.tracks()} == {"M"}
    # a changed file is checked again; a file gone from the source is forgotten
    write_audio("a.wav", tone(440, 3.0, 22050), 22050)
    third = ingest(_source([a]), store, min_duration_s=1.0)
    assert third.checked == 1 and [t.path for t in store.tracks()] == [str(a)]


def test_duplicate_promoted_when_its_original_leaves(store, write_audio, tmp_path):
    a = write_audio("a.wav", tone(440, 2.0, 22050), 22050)
    b = tmp_path / "b.wav"
    shutil.copyfile(a, b)
    ingest(_source([a, b]), store, min_duration_s=1.0)
    assert store.get(str(b)).status == "duplicate"
    ingest(_source([b]), store, min_duration_s=1.0)
    assert store.get(str(b)).status == OK


def test_too_short_follows_the_current_minimum(store, write_audio):
    a = write_audio("a.wav", tone(440, 2.0, 22050), 22050)
    ingest(_source([a]), store, min_duration_s=5.0)
    assert store.get(str(a)).status == "too_short"
    again = ingest(_source([a]), store, min_duration_s=1.0)
    assert again.checked == 0 and store.get(str(a)).status == OK
    ingest(_source([a]), store, min_duration_s=3.0)
    assert store.get(str(a)).status == "too_short" and "at least 3 s" in store.get(str(a)).reason
