"""Where a labelled collection comes from: a manifest (CSV/Parquet), a folder tree, or the files' tags.

Each reader returns :class:`TrackSource` rows and the problems it met (rows it could not use), so that a
bad row is reported by name and never silently dropped.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ManifestError

AUDIO_SUFFIXES = frozenset(
    {".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".m4a", ".aac", ".aif", ".aiff"}
)


@dataclass(frozen=True)
class TrackSource:
    """One labelled track before it is checked: its path, label and group values (album, artist, ...)."""

    path: str
    label: str
    groups: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SourceProblem:
    """A row or file a reader could not use, and why."""

    where: str
    problem: str


@dataclass
class CollectionSource:
    """The rows a reader produced and the problems it met."""

    tracks: list[TrackSource]
    problems: list[SourceProblem]
    label: str
    group_columns: tuple[str, ...]
    origin: str


def read_manifest(
    manifest: str | Path,
    *,
    label: str,
    path_column: str = "path",
    group_columns: Sequence[str] = (),
    audio_root: str | Path | None = None,
) -> CollectionSource:
    """Read a CSV or Parquet manifest with a path column, the named label column and group columns.

    Relative paths are resolved against ``audio_root`` (default: the manifest's folder).

    Raises
    ------
    ManifestError
        When the file is missing or unreadable, or lacks the path, label or a group column.
    """
    manifest = Path(manifest)
    columns, rows = _read_table(manifest)
    roles = {path_column: "of file paths", label: "of labels"}
    for needed in (path_column, label, *group_columns):
        if needed not in columns:
            role = f" {roles[needed]}" if needed in roles else ""
            raise ManifestError(
                manifest,
                f"no column {needed!r}{role}; columns are: {', '.join(columns) or '(none)'}",
            )
    if not rows:
        raise ManifestError(manifest, "lists no tracks (a header row and nothing under it)")
    root = Path(audio_root) if audio_root is not None else manifest.parent
    first_seen: dict[str, tuple[int, TrackSource]] = {}  # a path's first row: its line and track
    conflicting: set[str] = set()
    problems: list[SourceProblem] = []
    for number, row in enumerate(rows, start=2):  # line 1 is the header
        where = f"{manifest}:{number}"
        raw_path = (row.get(path_column) or "").strip()
        value = (row.get(label) or "").strip()
        if not raw_path:
            problems.append(SourceProblem(where, f"empty {path_column!r}"))
            continue
        if not value:
            problems.append(SourceProblem(where, f"empty label {label!r} for {raw_path}"))
            continue
        path = Path(raw_path)
        path = path if path.is_absolute() else root / path
        track = TrackSource(str(path), value, {g: str(row.get(g) or "").strip() for g in group_columns})
        key = os.path.normpath(track.path)
        if key not in first_seen:
            first_seen[key] = (number, track)
            continue
        line, first = first_seen[key]
        if (first.label, first.groups) == (track.label, track.groups):
            problem = f"{raw_path} listed again (first on line {line}); row ignored"
        else:
            # which row is right cannot be told: a track with two labels must not train or score either way
            conflicting.add(key)
            said = f"{label} {first.label!r}, here {track.label!r}"
            said = "groups" if first.label == track.label else said
            problem = f"{raw_path} listed again, unlike line {line} ({said}); track left out"
        problems.append(SourceProblem(where, problem))
    tracks = [track for key, (_, track) in first_seen.items() if key not in conflicting]
    return CollectionSource(tracks, problems, label, tuple(group_columns), str(manifest))


def _read_table(manifest: Path) -> tuple[list[str], list[dict[str, str]]]:
    if not manifest.is_file():
        raise ManifestError(manifest, "manifest not found")
    suffix = manifest.suffix.lower()
    try:
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            table = pq.read_table(manifest)
            rows = [{k: "" if v is None else str(v) for k, v in row.items()} for row in table.to_pylist()]
            return list(table.column_names), rows
        text = _text_of(manifest)
        sample = text[:4096]
        if "\0" in sample:
            raise ManifestError(manifest, "not a text CSV file (binary content)")
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t") if sample.strip() else csv.excel
        reader = csv.DictReader(io.StringIO(text, newline=""), dialect=dialect)
        if not reader.fieldnames:
            raise ManifestError(manifest, "empty manifest (no header row)")
        rows = [{k: v for k, v in row.items() if k is not None} for row in reader]
        return list(reader.fieldnames), rows
    except ManifestError:
        raise
    except csv.Error as exc:
        raise ManifestError(manifest, f"not a readable CSV manifest ({exc})") from exc
    except Exception as exc:
        raise ManifestError(manifest, f"cannot read manifest ({type(exc).__name__}: {exc})") from exc


def _text_of(manifest: Path) -> str:
    """The text of a manifest or list of files: UTF-8 (a byte-order mark allowed, as spreadsheets write
    it), or UTF-16 with its byte-order mark (a spreadsheet's "Unicode text"). Other encodings are refused,
    naming the line, rather than guessed."""
    data = manifest.read_bytes()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if b"\0" in data[:4096]:
        raise ManifestError(manifest, "not a text CSV file (binary content)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ManifestError(
            manifest,
            f"not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}); save it as UTF-8 (or UTF-16)",
        ) from None


def scan_folder(root: str | Path, *, label: str = "label") -> CollectionSource:
    """A folder tree ``ROOT/<label>/[<album>/]<file>``: the first folder is the label, a second the album."""
    root = Path(root)
    if not root.is_dir():
        raise ManifestError(root, "audio folder not found")
    tracks: list[TrackSource] = []
    problems: list[SourceProblem] = []
    for path in _audio_files_or_error(root):
        parts = path.relative_to(root).parts
        if len(parts) < 2:
            problems.append(SourceProblem(str(path), "file directly under the root has no label folder"))
            continue
        groups = {"album": parts[1] if len(parts) > 2 else ""}
        tracks.append(TrackSource(str(path), parts[0], groups))
    return CollectionSource(tracks, problems, label, ("album",), str(root))


TAG_FIELDS = ("artist", "albumartist", "composer", "album", "producer")
#: what :func:`read_tags` reads: the labels' fields, and the title (where a guest's "feat." is credited)
_READ_FIELDS = (*TAG_FIELDS, "title")


def read_tags(path: str | Path) -> dict[str, str]:
    """Credits in a file's tags: artist, album artist, composer, album, producer and title where present.

    Producer credits come from ID3 ``TIPL`` (role "producer") or ``TXXX:PRODUCER``, and from Vorbis/FLAC
    ``PRODUCER`` comments. Missing fields are left out.
    """
    import mutagen

    audio = mutagen.File(str(path))
    if audio is None or audio.tags is None:
        return {}
    tags = audio.tags
    found: dict[str, str] = {}
    if hasattr(tags, "getall"):  # ID3
        frames = {
            "artist": "TPE1",
            "albumartist": "TPE2",
            "composer": "TCOM",
            "album": "TALB",
            "title": "TIT2",
        }
        for name, frame in frames.items():
            values = tags.getall(frame)
            if values and values[0].text:
                found[name] = str(values[0].text[0])
        for frame in tags.getall("TIPL"):
            for role, person in frame.people:
                if role.strip().lower() == "producer" and person:
                    found.setdefault("producer", person)
        for frame in tags.getall("TXXX"):
            if frame.desc.strip().lower() == "producer" and frame.text:
                found.setdefault("producer", str(frame.text[0]))
        return found
    for name in _READ_FIELDS:  # Vorbis comments, FLAC, MP4-like dict tags
        key_variants = (name, name.upper(), "album artist" if name == "albumartist" else name)
        for key in key_variants:
            try:
                values = tags.get(key)
            except (KeyError, ValueError, TypeError):
                values = None
            if values:
                found[name] = str(values[0] if isinstance(values, list) else values)
                break
    return found


def scan_tags(
    root: str | Path, *, label: str = "artist", group_columns: Sequence[str] = ("album",)
) -> CollectionSource:
    """Label every audio file under ``root`` from its own tags (``label`` is one of :data:`TAG_FIELDS`)."""
    if label not in TAG_FIELDS:
        raise ValueError(f"label must be one of {', '.join(TAG_FIELDS)}, got {label!r}")
    root = Path(root)
    if not root.is_dir():
        raise ManifestError(root, "audio folder not found")
    tracks: list[TrackSource] = []
    problems: list[SourceProblem] = []
    for path in _audio_files_or_error(root):
        try:
            tags = read_tags(path)
        except Exception as exc:
            problems.append(SourceProblem(str(path), f"unreadable tags ({type(exc).__name__}: {exc})"))
            continue
        if not tags.get(label):
            problems.append(SourceProblem(str(path), f"no {label!r} tag"))
            continue
        tracks.append(TrackSource(str(path), tags[label], {g: tags.get(g, "") for g in group_columns}))
    return CollectionSource(tracks, problems, label, tuple(group_columns), f"tags under {root}")


def audio_files_under(root: str | Path) -> list[Path]:
    """Every file under ``root`` with an audio suffix (:data:`AUDIO_SUFFIXES`), sorted."""
    return sorted(p for p in Path(root).rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)


def _audio_files_or_error(root: Path) -> list[Path]:
    """:func:`audio_files_under` ``root``; a folder without one is an error naming it, since no collection
    can come of it."""
    found = audio_files_under(root)
    if not found:
        raise ManifestError(root, f"no audio files under it (looked for {', '.join(sorted(AUDIO_SUFFIXES))})")
    return found


def expand_inputs(paths: Sequence[str | Path], *, files_from: str | Path | None = None) -> list[str]:
    """The files a batch command works on: each path as given, a folder's audio files (recursively,
    sorted), then the paths listed one per line in ``files_from`` (blank lines and ``#`` comments skipped).
    A path given twice is kept once. A file that does not exist, or a folder that holds no audio file,
    stays in the list as given, so that the command reports it by name.

    Raises
    ------
    ManifestError
        When ``files_from`` cannot be read.
    """
    listed: list[str | Path] = list(paths)
    if files_from is not None:
        try:
            lines = _text_of(Path(files_from)).splitlines()
        except OSError as exc:
            raise ManifestError(files_from, f"cannot read the list of files ({exc.strerror})") from exc
        listed += [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]
    out: dict[str, None] = {}
    for path in listed:
        if Path(path).is_dir():
            found = audio_files_under(path)
            out.update((str(p), None) for p in found or [Path(path)])
        else:
            out[str(path)] = None
    return list(out)


def open_source(
    source: str | Path,
    *,
    label: str,
    audio_root: str | Path | None = None,
    group_columns: Sequence[str] = (),
    path_column: str = "path",
    from_tags: bool = False,
) -> CollectionSource:
    """A collection from a manifest file (CSV/Parquet), a folder tree, or (``from_tags``) files' own tags."""
    source = Path(source)
    if from_tags:
        return scan_tags(source, label=label, group_columns=group_columns or ("album",))
    if source.is_dir():
        return scan_folder(source, label=label)
    return read_manifest(
        source, label=label, path_column=path_column, group_columns=group_columns, audio_root=audio_root
    )
