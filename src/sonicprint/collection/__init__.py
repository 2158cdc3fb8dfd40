"""Labelled collections: sources (manifest, folders, tags), the workspace store, and ingest checks."""

from .ingest import IngestReport, check_track, content_hash, decoder_counts, ingest, tracks_hash
from .sources import (
    CollectionSource,
    SourceProblem,
    TrackSource,
    audio_files_under,
    expand_inputs,
    open_source,
    read_manifest,
    read_tags,
    scan_folder,
    scan_tags,
)
from .store import OK, TrackRow, TrackStore

__all__ = [
    "OK",
    "CollectionSource",
    "IngestReport",
    "SourceProblem",
    "TrackRow",
    "TrackSource",
    "TrackStore",
    "audio_files_under",
    "check_track",
    "content_hash",
    "decoder_counts",
    "expand_inputs",
    "ingest",
    "open_source",
    "read_manifest",
    "read_tags",
    "scan_folder",
    "scan_tags",
    "tracks_hash",
]
