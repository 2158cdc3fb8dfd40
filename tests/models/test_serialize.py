"""The model file format: what it refuses, and that loading never runs code from the file."""

from __future__ import annotations

import pytest
import torch

from sonicprint.config import FeatureConfig
from sonicprint.errors import ModelFormatError
from sonicprint.models import create_model, load_model, save_model
from sonicprint.models import serialize as serialize_module
from tests.models.conftest import blobs


def _saved(tmp_path, rng):
    x, y = blobs(rng)
    model = create_model("logreg").fit(x, y, n_classes=3)
    return save_model(
        tmp_path / "m.pt",
        model,
        labels=["a", "b", "c"],
        feature_configs=[FeatureConfig(), FeatureConfig(extractor="mfcc_stats")],
    )


def test_missing_and_non_model_files(tmp_path):
    with pytest.raises(ModelFormatError, match="model file not found"):
        load_model(tmp_path / "none.pt")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a model at all")
    with pytest.raises(ModelFormatError, match=r"junk\.pt: not a Sonicprint model file.*not a torch archive"):
        load_model(junk)
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(3)}, other)
    with pytest.raises(ModelFormatError, match="no 'sonicprint-model' header"):
        load_model(other)


def test_incompatible_version_fails_clearly(tmp_path, rng, monkeypatch):
    path = _saved(tmp_path, rng)
    payload = torch.load(path, weights_only=True)
    payload["format_version"] = 99
    payload["versions"]["sonicprint"] = "9.0.0"
    torch.save(payload, path)
    with pytest.raises(
        ModelFormatError, match=r"model format 99 \(made by Sonicprint 9.0.0\) cannot be read"
    ):
        load_model(path)


class Payload:
    """A class that would run code if the file were unpickled without weights_only."""

    ran = False

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (Payload._mark, ())

    @staticmethod
    def _mark() -> None:
        Payload.ran = True


def test_loading_never_runs_code_from_the_file(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"format": serialize_module.FORMAT, "format_version": 1, "x": Payload()}, path)
    with pytest.raises(
        ModelFormatError, match="damaged \\(it holds Python objects besides tensors"
    ) as caught:
        load_model(path)
    assert Payload.ran is False
    assert "weights_only" not in str(caught.value)  # torch's advice to load it anyway is not passed on


def test_a_model_file_cut_short_is_called_damaged(tmp_path, rng):
    path = _saved(tmp_path, rng)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ModelFormatError, match=r"or damaged \(not a torch archive: empty, cut short"):
        load_model(path)
