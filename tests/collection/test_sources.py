from __future__ import annotations

from pathlib import Path

import pytest

from sonicprint.collection import (
    audio_files_under,
    expand_inputs,
    open_source,
    read_manifest,
    read_tags,
    scan_folder,
    scan_tags,
)
from sonicprint.errors import ManifestError
from tests.conftest import tone


def test_csv_manifest_with_groups_and_root(tmp_path):
    (tmp_path / "m.csv").write_text(
        "path,producer,album\na.wav,P1,X\nsub/b.wav,P2,Y\n,P3,Z\nc.wav,,Z\n", encoding="utf-8"
    )
    source = read_manifest(tmp_path / "m.csv", label="producer", group_columns=["album"], audio_root="/data")
    assert [t.path for t in source.tracks] == ["/data/a.wav", "/data/sub/b.wav"]
    assert [t.label for t in source.tracks] == ["P1", "P2"]
    assert source.tracks[1].groups == {"album": "Y"}
    # rows with an empty path or label are reported by line, never dropped silently
    assert [p.where.rsplit(":", 1)[1] for p in source.problems] == ["4", "5"]


def test_a_track_listed_twice_is_reported_and_left_out_where_its_rows_disagree(tmp_path):
    (tmp_path / "m.csv").write_text(
        "path,producer,album\n"
        "a.wav,P1,X\n"
        "b.wav,P2,Y\n"
        "./a.wav,P1,X\n"  # the same file again, the same row: one track
        "b.wav,P1,Y\n"  # another label for b: which is right cannot be told
        "c.wav,P3,Z\n"
        "c.wav,P3,W\n"  # another album for c: the split cannot place it, encoding="utf-8"
    )
    source = read_manifest(tmp_path / "m.csv", label="producer", group_columns=["album"], audio_root="/d")
    assert [(t.path, t.label) for t in source.tracks] == [("/d/a.wav", "P1")]
    problems = {p.where.rsplit(":", 1)[1]: p.problem for p in source.problems}
    assert problems == {
        "4": "./a.wav listed again (first on line 2); row ignored",
        "5": "b.wav listed again, unlike line 3 (producer 'P2', here 'P1'); track left out",
        "7": "c.wav listed again, unlike line 6 (groups); track left out",
    }


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16"])
def test_a_manifest_is_read_in_the_encodings_spreadsheets_write(tmp_path, encoding):
    (tmp_path / "m.csv").write_text("path\tartist\nx.flac\tBjörk\n", encoding=encoding)
    source = read_manifest(tmp_path / "m.csv", label="artist")
    assert [(t.path, t.label) for t in source.tracks] == [(str(tmp_path / "x.flac"), "Björk")]


def test_parquet_manifest(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"file": ["x.flac"], "artist": ["A"]}), tmp_path / "m.parquet")
    source = read_manifest(tmp_path / "m.parquet", label="artist", path_column="file")
    assert source.tracks[0].path == str(tmp_path / "x.flac") and source.tracks[0].label == "A"


@pytest.mark.parametrize(
    ("content", "label", "message"),
    [
        ("path,artist\na.wav,A\n", "producer", "no column 'producer' of labels; columns are: path, artist"),
        ("file,artist\na.wav,A\n", "artist", "no column 'path' of file paths; columns are: file, artist"),
        ("", "artist", "empty manifest"),
        ("path,artist\n", "artist", r"lists no tracks \(a header row and nothing under it\)"),
        (b"\x00\x01\x02binary", "artist", "not a text CSV"),
        (
            "path,artist\na.wav,Bj\xf6rk\n".encode("latin-1"),
            "artist",
            r"not UTF-8 text \(byte 0xf6 on line 2\)",
        ),
    ],
)
def test_wrong_labels_files_raise_errors_naming_the_file(tmp_path, content, label, message):
    path = tmp_path / "labels.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(ManifestError, match=message) as info:
        read_manifest(path, label=label)
    assert "labels.csv" in str(info.value)


def test_missing_manifest(tmp_path):
    with pytest.raises(ManifestError, match="manifest not found"):
        read_manifest(tmp_path / "nope.csv", label="x")


@pytest.mark.parametrize("from_tags", [False, True])
def test_a_folder_without_audio_files_is_an_error_naming_it(tmp_path, from_tags):
    (tmp_path / "music" / "P1").mkdir(parents=True)
    (tmp_path / "music" / "P1" / "cover.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(ManifestError, match=r"music: no audio files under it \(looked for .*\.flac"):
        open_source(tmp_path / "music", label="artist", from_tags=from_tags)


def test_folder_tree(tmp_path, write_audio):
    write_audio("root/P1/album1/a.wav", tone(440, 0.2, 8000), 8000)
    write_audio("root/P2/b.flac", tone(440, 0.2, 8000), 8000)
    write_audio("root/loose.wav", tone(440, 0.2, 8000), 8000)
    source = open_source(tmp_path / "root", label="producer")
    assert [(t.label, t.groups["album"]) for t in source.tracks] == [("P1", "album1"), ("P2", "")]
    assert len(source.problems) == 1 and "loose.wav" in source.problems[0].where
    assert scan_folder(tmp_path / "root").label == "label"


def test_tags_id3_tipl_txxx_and_vorbis_producer(tmp_path, write_audio):
    from mutagen.flac import FLAC
    from mutagen.id3 import ID3, TALB, TCOM, TIPL, TIT2, TPE1, TXXX

    mp3 = write_audio("tags/a.mp3", tone(440, 0.5, 44100), 44100)
    tags = ID3()
    tags.add(TPE1(encoding=3, text="The Artist"))
    tags.add(TCOM(encoding=3, text="The Composer"))
    tags.add(TALB(encoding=3, text="The Album"))
    tags.add(TIT2(encoding=3, text="The Song (feat. Guest)"))
    tags.add(TIPL(encoding=3, people=[["engineer", "E"], ["producer", "Rick"]]))
    tags.save(mp3)
    mp3b = write_audio("tags/b.mp3", tone(440, 0.5, 44100), 44100)
    tags = ID3()
    tags.add(TXXX(encoding=3, desc="PRODUCER", text="Quincy"))
    tags.save(mp3b)
    flac = write_audio("tags/c.flac", tone(440, 0.5, 44100), 44100)
    f = FLAC(flac)
    f["PRODUCER"] = "Brian"
    f["ARTIST"] = "Band"
    f["TITLE"] = "Instrumental"
    f.save()
    assert read_tags(mp3) == {
        "artist": "The Artist",
        "composer": "The Composer",
        "album": "The Album",
        "title": "The Song (feat. Guest)",
        "producer": "Rick",
    }
    assert read_tags(mp3b)["producer"] == "Quincy"
    assert read_tags(flac) == {"producer": "Brian", "artist": "Band", "title": "Instrumental"}
    source = scan_tags(tmp_path / "tags", label="producer", group_columns=("album", "title"))
    assert sorted(t.label for t in source.tracks) == ["Brian", "Quincy", "Rick"]
    titles = {t.label: t.groups["title"] for t in source.tracks}  # what `clean --title-column title` reads
    assert titles == {"Brian": "Instrumental", "Quincy": "", "Rick": "The Song (feat. Guest)"}
    by_artist = scan_tags(tmp_path / "tags", label="artist")
    assert len(by_artist.problems) == 1 and "no 'artist' tag" in by_artist.problems[0].problem


def test_inputs_expand_folders_read_lists_and_keep_missing_files(tmp_path):
    for rel in ("b/2.flac", "b/1.wav", "b/deep/3.MP3", "b/cover.jpg", "a.ogg"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"x")
    listing = tmp_path / "list.txt"
    # with a byte-order mark, as Windows editors save UTF-8
    listing.write_text(
        f"# batch 1\n{tmp_path / 'a.ogg'}\n\n  {tmp_path / 'missing.wav'}  \n", encoding="utf-8-sig"
    )
    files = expand_inputs([tmp_path / "b", tmp_path / "a.ogg"], files_from=listing)
    assert files == [
        str(tmp_path / "b" / "1.wav"),
        str(tmp_path / "b" / "2.flac"),
        str(tmp_path / "b" / "deep" / "3.MP3"),
        str(tmp_path / "a.ogg"),  # listed twice, kept once
        str(tmp_path / "missing.wav"),  # kept, so that the command names it
    ]
    assert audio_files_under(tmp_path / "b") == [Path(f) for f in files[:3]]
    (tmp_path / "covers").mkdir()
    (tmp_path / "covers" / "front.jpg").write_bytes(b"x")
    # a folder with no audio file is kept as itself, so that the command names it rather than skip it
    assert expand_inputs([tmp_path / "covers", tmp_path / "a.ogg"]) == [
        str(tmp_path / "covers"),
        str(tmp_path / "a.ogg"),
    ]
    with pytest.raises(ManifestError, match=r"nolist\.txt: cannot read the list of files"):
        expand_inputs([], files_from=tmp_path / "nolist.txt")
    listing.write_bytes(f"{tmp_path / 'a.ogg'}\nBj\xf6rk.flac\n".encode("latin-1"))
    with pytest.raises(ManifestError, match=r"list\.txt: not UTF-8 text \(byte 0xf6 on line 2\)"):
        expand_inputs([], files_from=listing)
