"""Feature cache keyed by (audio content hash, extractor config).

Each entry is one ``.npy`` file written to a temporary name and renamed into place, so a run killed at any
moment (``kill -9``) leaves either a complete entry or none; a damaged entry is treated as missing.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from .config import FeatureConfig, config_hash
from .features import create_extractor


def extractor_key(config: FeatureConfig) -> str:
    """A folder name that changes whenever the extractor, its version or its config changes."""
    extractor = create_extractor(config)
    # the full mix keeps the key it had before a stem could be chosen, so existing caches stay valid
    return f"{config.extractor}-v{extractor.version}-{config_hash(config, omit_if_empty=('separate',))}"


class FeatureCache:
    """Arrays stored under ``<root>/<extractor key>/<hash[:2]>/<hash>.npy``."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, key: str, content_hash: str) -> Path:
        return self.root / key / content_hash[:2] / f"{content_hash}.npy"

    def has(self, key: str, content_hash: str) -> bool:
        return self.path(key, content_hash).is_file()

    def get(self, key: str, content_hash: str) -> np.ndarray | None:
        """The cached array, or None when missing or unreadable (then it will be recomputed)."""
        path = self.path(key, content_hash)
        try:
            return np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError):
            return None

    def put(self, key: str, content_hash: str, array: np.ndarray) -> Path:
        path = self.path(key, content_hash)
        path.parent.mkdir(parents=True, exist_ok=True)
        # a run killed mid-write leaves at most a ".partial" file, never a name that looks like an entry
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".partial")
        try:
            with os.fdopen(fd, "wb") as handle:
                np.save(handle, np.ascontiguousarray(array), allow_pickle=False)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path
