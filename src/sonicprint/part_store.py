"""Finished parts of cross-validations, kept on disk so that an interrupted run resumes where it stopped.

A run of ``sonicprint experiment`` trains many models: each part (fold) of each split seed, each share of
a learning curve, each candidate of a model selection and each part of its inner cross-validations. Each
trained part's held-out verdicts go into a file of their own, named by a hash of everything the part's
result depends on (the feature table's values, labels and groups, the degraded training copies, the model
and split configs, the training share, the part's number and the package version). A run that stopped
finds the parts it already trained and trains only the others, and since a name can only match the very
same computation, a changed config or collection never picks up a stale part.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .pipeline import FeatureTable


def table_fingerprint(table: FeatureTable) -> str:
    """Hash of a table's feature values, labels, groups and track hashes (a part's whole input data)."""
    digest = hashlib.sha256()
    features = np.ascontiguousarray(table.features)
    digest.update(f"{features.dtype.str}{features.shape}{table.per_window}{table.block_sizes}".encode())
    digest.update(features.tobytes())
    digest.update(json.dumps([table.labels, table.groups, table.hashes], sort_keys=True).encode())
    return digest.hexdigest()


class PartStore:
    """One ``.npz`` file per finished part under ``directory`` (None: nothing is kept). Files are written
    aside and renamed, so an interruption never leaves half of one; a damaged file is ignored and its
    part trained again."""

    def __init__(self, directory: str | Path | None) -> None:
        self.directory = Path(directory) if directory is not None else None
        #: keys of the parts this store saved, and of those it read that an earlier run had saved
        self.saved: set[str] = set()
        self.reused: set[str] = set()

    @staticmethod
    def key(**identity: Any) -> str:
        """The file name for a part: a hash of ``identity`` (JSON-serialisable) and the package version."""
        text = json.dumps({"version": __version__, **identity}, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def load(self, key: str) -> dict[str, np.ndarray] | None:
        """The arrays saved under ``key``, or None when there are none (or the file is damaged)."""
        if self.directory is None:
            return None
        path = self.directory / f"{key}.npz"
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as saved:
                arrays = {name: saved[name] for name in saved.files}
        except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile):  # costs only that part
            return None
        if key not in self.saved:
            self.reused.add(key)
        return arrays

    def save(self, key: str, arrays: dict[str, np.ndarray]) -> None:
        """Keep ``arrays`` under ``key`` (nothing without a directory)."""
        if self.directory is None:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        partial = self.directory / f"{key}.{os.getpid()}.partial.npz"  # two runs on one folder never collide
        np.savez(partial, allow_pickle=False, **arrays)
        os.replace(partial, self.directory / f"{key}.npz")
        self.saved.add(key)

    def __len__(self) -> int:
        if self.directory is None or not self.directory.is_dir():
            return 0
        return sum(1 for p in self.directory.glob("*.npz") if not p.name.endswith(".partial.npz"))


def copies_fingerprint(copies: Sequence[FeatureTable]) -> list[str]:
    """:func:`table_fingerprint` of each degraded training copy."""
    return [table_fingerprint(copy) for copy in copies]
