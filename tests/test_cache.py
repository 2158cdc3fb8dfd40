from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sonicprint.cache import FeatureCache, extractor_key
from sonicprint.config import FeatureConfig


def test_put_get_round_trip_and_key_layout(tmp_path):
    cache = FeatureCache(tmp_path)
    array = np.arange(6, dtype=np.float32).reshape(2, 3)
    path = cache.put("k", "abcdef", array)
    assert path == tmp_path / "k" / "ab" / "abcdef.npy"
    np.testing.assert_array_equal(cache.get("k", "abcdef"), array)
    assert cache.has("k", "abcdef") and not cache.has("k", "other")
    assert not list(path.parent.glob(".tmp-*"))


def test_a_write_cut_short_never_looks_like_an_entry(tmp_path, monkeypatch):
    cache = FeatureCache(tmp_path)

    def killed(*args, **kwargs):  # what a SIGKILL between write and rename leaves behind
        raise KeyboardInterrupt

    monkeypatch.setattr("sonicprint.cache.os.replace", killed)
    monkeypatch.setattr(Path, "unlink", lambda self, missing_ok=False: None)  # no clean-up ran
    with pytest.raises(KeyboardInterrupt):
        cache.put("k", "abcdef", np.ones(3))
    left = list((tmp_path / "k" / "ab").iterdir())
    assert len(left) == 1 and left[0].name.startswith(".tmp-") and left[0].suffix == ".partial"
    assert not list((tmp_path / "k").glob("*/*.npy")) and not cache.has("k", "abcdef")


def test_damaged_entry_reads_as_missing(tmp_path):
    cache = FeatureCache(tmp_path)
    path = cache.put("k", "abc", np.ones(3))
    path.write_bytes(b"\x93NUMPY garbage")
    assert cache.get("k", "abc") is None


def test_key_depends_on_extractor_and_config():
    assert extractor_key(FeatureConfig()) == extractor_key(FeatureConfig())
    assert extractor_key(FeatureConfig()) != extractor_key(FeatureConfig(n_windows=2))
    assert extractor_key(FeatureConfig()).startswith("track_stats-v1-")
