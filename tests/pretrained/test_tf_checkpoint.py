from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from sonicprint.errors import CheckpointError
from sonicprint.pretrained import musicnn
from sonicprint.pretrained.tf_checkpoint import TFCheckpoint


@pytest.fixture
def checkpoint_copy(tmp_path) -> Path:
    """A private copy of MSD_musicnn's checkpoint, to damage."""
    source = Path(musicnn.checkpoint_prefix("MSD_musicnn"))
    target = tmp_path / "MSD_musicnn"
    target.mkdir()
    for name in (".index", ".data-00000-of-00001"):
        shutil.copyfile(source / name, target / name)
    return target


def test_reads_every_variable_with_its_shape():
    checkpoint = TFCheckpoint(musicnn.checkpoint_prefix("MSD_musicnn"))
    assert checkpoint.entries["conv2d/kernel"].shape == (7, 38, 1, 204)
    assert checkpoint.entries["dense/kernel"].shape == (1506, 200)
    kernel = checkpoint.tensor("conv2d_5/kernel")
    assert kernel.shape == (7, 561, 1, 64) and kernel.dtype == np.float32 and np.all(np.isfinite(kernel))
    # 11 batch norms x 4, 8 convolutions x 2, 2 dense layers x 2, and the optimiser's two beta powers
    assert len([n for n in checkpoint.names() if "Adam" not in n]) == 4 * 11 + 2 * 8 + 2 * 2 + 2


def test_flipped_byte_in_the_data_is_caught(checkpoint_copy):
    data = checkpoint_copy / ".data-00000-of-00001"
    checkpoint = TFCheckpoint(str(checkpoint_copy) + "/")
    entry = checkpoint.entries["dense/kernel"]
    raw = bytearray(data.read_bytes())
    raw[entry.offset + 100] ^= 0xFF
    data.write_bytes(bytes(raw))
    with pytest.raises(
        CheckpointError, match=r"data-00000: damaged checkpoint data: checksum mismatch for 'dense/kernel'"
    ):
        TFCheckpoint(str(checkpoint_copy) + "/").tensor("dense/kernel")


def test_truncated_data_is_caught(checkpoint_copy):
    data = checkpoint_copy / ".data-00000-of-00001"
    data.write_bytes(data.read_bytes()[:1000])
    with pytest.raises(CheckpointError, match="truncated"):
        TFCheckpoint(str(checkpoint_copy) + "/").tensor("dense/kernel")


@pytest.mark.parametrize("damage", ["truncate", "flip", "empty"])
def test_damaged_index_is_caught(checkpoint_copy, damage):
    index = checkpoint_copy / ".index"
    raw = bytearray(index.read_bytes())
    if damage == "truncate":
        raw = raw[: len(raw) // 2]
    elif damage == "flip":
        raw[200] ^= 0xFF
    else:
        raw = bytearray()
    index.write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match=r"\.index: damaged checkpoint index"):
        TFCheckpoint(str(checkpoint_copy) + "/")


def test_missing_files_name_the_file(checkpoint_copy):
    (checkpoint_copy / ".data-00000-of-00001").unlink()
    checkpoint = TFCheckpoint(str(checkpoint_copy) + "/")
    with pytest.raises(CheckpointError, match=r"\.data-00000-of-00001: checkpoint data not readable"):
        checkpoint.tensor("dense/bias")
    with pytest.raises(CheckpointError, match=r"nowhere/\.index: checkpoint index not readable"):
        TFCheckpoint(str(checkpoint_copy.parent / "nowhere") + "/")


def test_package_not_installed_gives_the_install_command(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "musicnn" else real(name, *a)
    )
    with pytest.raises(CheckpointError, match=r"pip install --no-deps musicnn==0\.1\.0"):
        musicnn.checkpoint_prefix("MSD_musicnn")
    with pytest.raises(ValueError, match="known: MSD_musicnn, MTT_musicnn, MSD_vgg, MTT_vgg"):
        musicnn.checkpoint_prefix("MSD_musicnn_big")  # a model the package does not ship
