from __future__ import annotations

from pathlib import Path

import pytest

from sonicprint.cli import main
from sonicprint.collection import read_manifest
from sonicprint.demo import generate_collection
from sonicprint.errors import ConfigError

SMALL = {"producers": 2, "artists": 1, "tracks_per_pair": 1, "duration_s": 1.0, "queries": 1}


@pytest.mark.parametrize(
    ("changed", "message"),
    [
        ({"producers": 0}, "producers must be at least 1, got 0"),
        ({"artists": -1}, "artists must be at least 1"),
        ({"tracks_per_pair": 0}, "tracks_per_pair must be at least 1"),
        ({"queries": -1}, "queries must be 0 or more"),
        ({"duration_s": 0.5}, "duration_s must be at least 1 second"),
        ({"duration_s": float("nan")}, "duration_s must be at least 1 second"),
    ],
)
def test_impossible_sizes_are_refused_before_anything_is_written(tmp_path, changed, message):
    with pytest.raises(ConfigError, match=message):
        generate_collection(tmp_path / "out", **{**SMALL, **changed})
    assert not (tmp_path / "out").exists()


def test_generating_again_replaces_the_collection_the_same_way(tmp_path):
    first = generate_collection(tmp_path, **SMALL)
    listed = sorted(p.relative_to(tmp_path) for p in (first.audio_root / "audio").rglob("*"))
    manifest = first.manifest.read_text(encoding="utf-8")
    again = generate_collection(tmp_path, **SMALL)
    assert sorted(p.relative_to(tmp_path) for p in (again.audio_root / "audio").rglob("*")) == listed
    assert again.manifest.read_text(encoding="utf-8") == manifest


def test_an_audio_folder_it_did_not_write_is_never_replaced(tmp_path, capsys):
    own = tmp_path / "audio" / "mine.flac"
    own.parent.mkdir()
    own.write_bytes(b"my own recording")
    with pytest.raises(ConfigError, match=r"audio exists and was not written by 'sonicprint generate'"):
        generate_collection(tmp_path, **SMALL)
    (tmp_path / "manifest.csv").write_text(
        "path,label\nmine.flac,me\n", encoding="utf-8"
    )  # a manifest of someone else's
    assert main(["generate", str(tmp_path), "--producers", "2"]) == 2
    assert "was not written by 'sonicprint generate'" in capsys.readouterr().err
    assert own.read_bytes() == b"my own recording"


def test_the_command_line_refuses_an_impossible_size(tmp_path, capsys):
    assert main(["generate", str(tmp_path / "out"), "--producers", "0"]) == 2
    assert "producers must be at least 1, got 0" in capsys.readouterr().err


def test_the_manifest_works_as_it_is_from_any_folder(tmp_path, monkeypatch):
    made = generate_collection(tmp_path / "collection", **SMALL)
    monkeypatch.chdir(tmp_path)
    source = read_manifest(made.manifest.relative_to(tmp_path), label="producer")  # no audio root given
    assert len(source.tracks) == 2 + 2  # with the damaged file and the duplicate it plants
    assert all(Path(track.path).is_file() for track in source.tracks)
