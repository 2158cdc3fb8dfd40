"""Cleaning a collection (``sonicprint clean``): every track judged, the kept ones a manifest again."""

from __future__ import annotations

import csv
import json
import re
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from sonicprint.cleaning import (
    DUPLICATE,
    NOT_TAGGED,
    UNREADABLE,
    clean_collection,
    require_credit_columns,
    tag_names_of,
)
from sonicprint.cli import main
from sonicprint.collection import read_manifest
from sonicprint.config import CleaningConfig, CollectionConfig, FeatureConfig
from sonicprint.errors import ConfigError, FileProblem
from sonicprint.pipeline import SILENT
from sonicprint.screening import INSTRUMENTAL, SEVERAL_PERFORMERS, TOO_SHORT

from .conftest import chirp, clicks, tone

RATE = 16000


@pytest.fixture
def collection(tmp_path, write_audio):
    """Six listed files: one clean, a guest in the title, a duo, one too short, a broken file and a copy."""
    write_audio("audio/solo.wav", tone(330, 35.0, RATE), RATE)
    write_audio("audio/guest.wav", chirp(35.0, RATE), RATE)
    write_audio("audio/duo.wav", clicks(35.0, RATE), RATE)
    write_audio("audio/short.wav", tone(440, 10.0, RATE), RATE)
    (tmp_path / "audio" / "broken.flac").write_bytes(b"fLaC" + bytes(range(256)) * 4)
    shutil.copy(tmp_path / "audio" / "solo.wav", tmp_path / "audio" / "solo_copy.wav")
    rows = [
        ("audio/solo.wav", "Solo", "Song", "First"),
        ("audio/guest.wav", "Solo", "Other (feat. Guest)", "First"),
        ("audio/duo.wav", "One & Two", "Together", "Second"),
        ("audio/short.wav", "Solo", "Interlude", "First"),
        ("audio/broken.flac", "Solo", "Lost", "First"),
        ("audio/solo_copy.wav", "Solo", "Song again", "Second"),
    ]
    manifest = tmp_path / "labels.csv"
    with open(manifest, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["path", "artist", "title", "album"])
        writer.writerows(rows)
    return manifest


def credits_config(**changes):
    base = CleaningConfig(
        collection=CollectionConfig(label="artist", group_columns=("album",), min_duration_s=30.0),
        drop_instrumental=False,
        artist_column="artist",
        title_column="title",
        executor="serial",
    )
    return replace(base, **changes)


def source_of(manifest, config):
    columns = (*config.collection.group_columns, *config.credit_columns)
    return read_manifest(manifest, label=config.collection.label, group_columns=columns)


def clean_into(manifest, config, tmp_path, out="out"):
    """Clean the collection of ``manifest`` into ``tmp_path/out`` (workspace ``tmp_path/ws``)."""
    source = source_of(manifest, config)
    return clean_collection(source, config, workspace=tmp_path / "ws", out_dir=tmp_path / out, progress=False)


def screening(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "screening.csv", newline="", encoding="utf-8") as handle:
        return {Path(row["path"]).name: row for row in csv.DictReader(handle)}


def test_every_track_is_judged_and_the_kept_ones_written_as_a_manifest(collection, tmp_path):
    config = credits_config()
    result = clean_into(collection, config, tmp_path)
    rows = screening(tmp_path / "out")
    assert list(rows) == ["solo.wav", "guest.wav", "duo.wav", "short.wav", "broken.flac", "solo_copy.wav"]
    assert {name: row["left_out_because"] for name, row in rows.items()} == {
        "solo.wav": "",
        "guest.wav": SEVERAL_PERFORMERS,
        "duo.wav": SEVERAL_PERFORMERS,
        "short.wav": TOO_SHORT,
        "broken.flac": UNREADABLE,
        "solo_copy.wav": DUPLICATE,
    }
    assert rows["solo.wav"]["kept"] == "yes" and rows["solo.wav"]["decoder"] == "soundfile"
    assert rows["short.wav"]["duration_s"] == "10.00"
    assert (result.total, result.kept) == (6, 1)
    assert result.left_out == {SEVERAL_PERFORMERS: 2, TOO_SHORT: 1, UNREADABLE: 1, DUPLICATE: 1}
    assert result.per_label == {"One & Two": (0, 1), "Solo": (1, 5)}
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["kept"] == 1 and summary["per_label"]["Solo"] == {"kept": 1, "listed": 5}
    assert "broken.flac" in (tmp_path / "out" / "problems.txt").read_text(encoding="utf-8")
    saved = json.loads((tmp_path / "out" / "config.json").read_text(encoding="utf-8"))
    assert saved["artist_column"] == "artist" and saved["collection"]["min_duration_s"] == 30.0

    cleaned = read_manifest(result.manifest_path, label="artist", group_columns=["album", "title"])
    assert [(Path(t.path), t.label, t.groups) for t in cleaned.tracks] == [
        ((tmp_path / "audio" / "solo.wav").resolve(), "Solo", {"album": "First", "title": "Song"})
    ]
    assert not cleaned.problems


def test_credits_are_read_only_where_asked(collection, tmp_path):
    config = credits_config(artist_column="", title_column="", collection=CollectionConfig(label="artist"))
    clean_into(collection, config, tmp_path)
    rows = screening(tmp_path / "out")
    assert rows["guest.wav"]["kept"] == rows["duo.wav"]["kept"] == "yes"
    assert rows["short.wav"]["kept"] == "yes"  # 10 s is enough for the minimum given (10 s)


def test_the_tagger_scores_each_track_and_a_rerun_tags_nothing_again(collection, tmp_path):
    config = credits_config(drop_instrumental=True, instrumental_below=-100.0)
    first = clean_into(collection, config, tmp_path, out="a")
    scores = {name: row["vocal_score"] for name, row in screening(tmp_path / "a").items()}
    assert first.tagged_now == 3  # the readable tracks long enough (the copy is a duplicate)
    assert all(np.isfinite(float(scores[name])) for name in ("solo.wav", "guest.wav", "duo.wav"))
    assert scores["short.wav"] == scores["broken.flac"] == ""
    assert screening(tmp_path / "a")["solo.wav"]["kept"] == "yes"

    stricter = replace(config, instrumental_below=100.0)
    second = clean_into(collection, stricter, tmp_path, out="b")
    rows = screening(tmp_path / "b")
    assert second.tagged_now == 0
    assert {name: row["vocal_score"] for name, row in rows.items()} == scores
    assert rows["solo.wav"]["left_out_because"] == INSTRUMENTAL
    assert rows["guest.wav"]["left_out_because"] == f"{INSTRUMENTAL}; {SEVERAL_PERFORMERS}"
    assert second.kept == 0


def test_a_credit_column_not_read_or_a_tagger_without_voice_tags_is_refused(collection):
    config = credits_config()
    with pytest.raises(ConfigError, match=r"credit column.*title"):
        require_credit_columns(read_manifest(collection, label="artist", group_columns=["album"]), config)
    with pytest.raises(ConfigError, match="no tag probabilities"):
        tag_names_of(replace(config, tagger=FeatureConfig(extractor="track_stats")))
    assert "instrumental" in tag_names_of(replace(config, tagger=FeatureConfig(extractor="musicnn_msd_tags")))
    assert "no vocals" in tag_names_of(CleaningConfig())


def test_clean_command_prints_what_it_kept_and_refuses_a_wrong_config(collection, tmp_path, capsys):
    args = ["clean", str(collection), "--label", "artist", "--group-columns", "album", "--keep-instrumental"]
    args += ["--artist-column", "artist"]
    args += ["--workspace", str(tmp_path / "ws"), "--out", str(tmp_path / "out"), "--quiet"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "kept 2 of 6 tracks; left out: " in out and "several performers 1" in out
    assert "cleaned manifest:" in out and "--label artist --group-columns album)" in out
    assert "Solo 2/5" in out and "1 of 2 labels have no track left" in out
    # the broken file, the short one, the copy
    assert f"problems (3, by file): {tmp_path / 'out' / 'problems.txt'}" in out
    with open(tmp_path / "out" / "cleaned.csv", newline="", encoding="utf-8") as handle:
        assert [Path(row["path"]).name for row in csv.DictReader(handle)] == ["solo.wav", "guest.wav"]

    (tmp_path / "clean.json").write_text('{"drop_instrumentals": false}', encoding="utf-8")
    assert main([*args, "--config", str(tmp_path / "clean.json")]) == 2
    assert "drop_instrumentals" in capsys.readouterr().err
    assert main([*args, "--title-column", "subtitle"]) == 2
    assert "no column 'subtitle'" in capsys.readouterr().err


def test_a_manifest_read_from_the_wrong_folder_is_said_to_be(collection, tmp_path, capsys):
    moved = tmp_path / "elsewhere" / "labels.csv"  # its relative paths no longer reach the audio
    moved.parent.mkdir()
    shutil.copy(collection, moved)
    args = ["clean", str(moved), "--label", "artist", "--keep-instrumental", "--quiet"]
    assert main([*args, "--workspace", str(tmp_path / "ws"), "--out", str(tmp_path / "out")]) == 0
    assert "6 of the 6 listed files were not found: a manifest's relative paths" in capsys.readouterr().out
    args += ["--audio-root", str(tmp_path)]  # the folder they are relative to: found, nothing to say
    assert main([*args, "--workspace", str(tmp_path / "ws2"), "--out", str(tmp_path / "out2")]) == 0
    assert "not found" not in capsys.readouterr().out


def test_a_track_the_tagger_cannot_hear_is_left_out_saying_why(tmp_path, write_audio, monkeypatch):
    import sonicprint.pipeline

    write_audio("audio/silent.wav", np.zeros((35 * RATE, 1), dtype=np.float32), RATE)
    write_audio("audio/tone.wav", tone(440, 35.0, RATE), RATE)
    write_audio("audio/odd.wav", tone(660, 35.0, RATE), RATE)
    compute = sonicprint.pipeline.features_from_windows

    def failing_on_odd(path, *args, **kwargs):  # a tagger failure other than silence
        if Path(path).name == "odd.wav":
            raise FileProblem(path, "features are not finite (damaged audio?)")
        return compute(path, *args, **kwargs)

    monkeypatch.setattr(sonicprint.pipeline, "features_from_windows", failing_on_odd)
    manifest = tmp_path / "labels.csv"
    manifest.write_text(
        "path,artist\naudio/silent.wav,A\naudio/tone.wav,A\naudio/odd.wav,A\n", encoding="utf-8"
    )
    config = replace(CleaningConfig(collection=CollectionConfig(label="artist")), executor="serial")
    result = clean_into(manifest, replace(config, instrumental_below=-100.0), tmp_path)
    rows = screening(tmp_path / "out")
    assert rows["silent.wav"]["left_out_because"] == SILENT and rows["silent.wav"]["vocal_score"] == ""
    assert rows["odd.wav"]["left_out_because"] == NOT_TAGGED and rows["odd.wav"]["vocal_score"] == ""
    assert rows["tone.wav"]["kept"] == "yes"
    assert result.left_out == {SILENT: 1, NOT_TAGGED: 1}
    problems = (tmp_path / "out" / "problems.txt").read_text(encoding="utf-8")
    assert re.search(r"silent\.wav: tagger failed: silent", problems)
    assert re.search(r"odd\.wav: tagger failed: features are not finite", problems)


def test_an_interrupted_cleaning_goes_on_where_it_stopped(collection, tmp_path, monkeypatch):
    import sonicprint.pipeline

    config = credits_config(drop_instrumental=True)
    calls = []
    real = sonicprint.pipeline.extract_track

    def stopped_at_the_second(job):  # type: ignore[no-untyped-def]
        calls.append(job.path)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(job)

    monkeypatch.setattr(sonicprint.pipeline, "extract_track", stopped_at_the_second)
    with pytest.raises(KeyboardInterrupt):
        clean_into(collection, config, tmp_path)
    assert not (tmp_path / "out" / "screening.csv").exists()  # no half-written verdicts
    monkeypatch.setattr(sonicprint.pipeline, "extract_track", real)
    result = clean_into(collection, config, tmp_path)
    assert result.tagged_now == 2  # the first track's tags were kept; the other two are tagged now
    assert len(screening(tmp_path / "out")) == 6
