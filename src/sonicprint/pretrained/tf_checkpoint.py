"""A reader for TensorFlow's checkpoint format (tensor bundle: ``<prefix>.index`` + ``<prefix>.data-*``),
written from the format's description, so that pretrained weights load without importing TensorFlow.

The ``.index`` file is a LevelDB-style sorted string table mapping each variable name to a
``BundleEntryProto`` (dtype, shape, shard, offset, size, masked CRC32C); the data shards hold the raw
little-endian tensor bytes. Every tensor's checksum is verified, so a damaged file is caught.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import CheckpointError

_TABLE_MAGIC = 0xDB4775248B80FB57
_FOOTER_SIZE = 48
_BLOCK_TRAILER = 5  # compression type byte + CRC32C
_DTYPES = {
    1: np.float32,
    2: np.float64,
    3: np.int32,
    4: np.uint8,
    5: np.int16,
    6: np.int8,
    9: np.int64,
    10: np.bool_,
    14: np.float16,
    19: np.float16,
}


@dataclass(frozen=True)
class TensorEntry:
    name: str
    dtype: type
    shape: tuple[int, ...]
    shard: int
    offset: int
    size: int
    crc32c: int


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise ValueError("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def _proto_fields(buf: bytes) -> list[tuple[int, int | bytes]]:
    """(field number, value) pairs of a protobuf message: varints as int, length-delimited as bytes."""
    fields: list[tuple[int, int | bytes]] = []
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
            fields.append((number, value))
        elif wire == 1:
            fields.append((number, struct.unpack_from("<Q", buf, pos)[0]))
            pos += 8
        elif wire == 2:
            length, pos = _varint(buf, pos)
            fields.append((number, buf[pos : pos + length]))
            pos += length
        elif wire == 5:
            fields.append((number, struct.unpack_from("<I", buf, pos)[0]))
            pos += 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
    return fields


def _shape(buf: bytes) -> tuple[int, ...]:
    dims = []
    for number, value in _proto_fields(buf):
        if number == 2 and isinstance(value, bytes):
            size = next((v for n, v in _proto_fields(value) if n == 1), 0)
            dims.append(int(size))  # type: ignore[arg-type]
    return tuple(dims)


def _entry(name: str, buf: bytes) -> TensorEntry:
    fields = dict(_proto_fields(buf))
    dtype_code = int(fields.get(1, 0))  # type: ignore[arg-type]
    if dtype_code not in _DTYPES:
        raise ValueError(f"tensor {name!r} has unsupported dtype code {dtype_code}")
    shape_field = fields.get(2)
    shape = _shape(shape_field) if isinstance(shape_field, bytes) else ()
    return TensorEntry(
        name,
        _DTYPES[dtype_code],
        shape,
        int(fields.get(3, 0)),
        int(fields.get(4, 0)),  # type: ignore[arg-type]
        int(fields.get(5, 0)),
        int(fields.get(6, 0)),
    )  # type: ignore[arg-type]


def _block_entries(block: bytes) -> list[tuple[bytes, bytes]]:
    num_restarts = struct.unpack_from("<I", block, len(block) - 4)[0]
    end = len(block) - 4 - 4 * num_restarts
    entries, pos, key = [], 0, b""
    while pos < end:
        shared, pos = _varint(block, pos)
        non_shared, pos = _varint(block, pos)
        value_length, pos = _varint(block, pos)
        key = key[:shared] + block[pos : pos + non_shared]
        pos += non_shared
        entries.append((key, block[pos : pos + value_length]))
        pos += value_length
    return entries


def _read_block(data: bytes, handle: bytes) -> bytes:
    offset, pos = _varint(handle, 0)
    size, _ = _varint(handle, pos)
    if offset + size + _BLOCK_TRAILER > len(data):
        raise ValueError("block past the end of the file")
    if data[offset + size] != 0:
        raise ValueError("compressed index blocks are not supported")
    block = data[offset : offset + size]
    expected = struct.unpack_from("<I", data, offset + size + 1)[0]
    if _unmask(expected) != _crc32c(data[offset : offset + size + 1]):
        raise ValueError("index block checksum mismatch")
    return block


def _crc32c(data: bytes) -> int:
    import google_crc32c

    return int(google_crc32c.value(data))


def _unmask(masked: int) -> int:
    rot = (masked - 0xA282EAD8) & 0xFFFFFFFF
    return ((rot >> 17) | (rot << 15)) & 0xFFFFFFFF


class TFCheckpoint:
    """Tensors of a TensorFlow checkpoint, by variable name.

    Parameters
    ----------
    prefix : path prefix of the checkpoint (``<prefix>.index`` and ``<prefix>.data-00000-of-0000N``).
    """

    def __init__(self, prefix: str | Path) -> None:
        self.prefix = str(prefix)
        index_path = Path(self.prefix + ".index")
        try:
            data = index_path.read_bytes()
        except OSError as exc:
            raise CheckpointError(
                index_path, f"checkpoint index not readable ({exc.strerror or exc})"
            ) from exc
        try:
            self.entries = self._parse_index(data)
        except (ValueError, struct.error, IndexError, KeyError) as exc:
            raise CheckpointError(index_path, f"damaged checkpoint index ({exc})") from exc
        self._shards: dict[int, bytes] = {}

    @staticmethod
    def _parse_index(data: bytes) -> dict[str, TensorEntry]:
        if len(data) < _FOOTER_SIZE:
            raise ValueError("file too short for a table footer")
        footer = data[-_FOOTER_SIZE:]
        if struct.unpack_from("<Q", footer, 40)[0] != _TABLE_MAGIC:
            raise ValueError("bad table magic number")
        _, pos = _varint(footer, 0)  # metaindex handle: offset
        _, pos = _varint(footer, pos)  # metaindex handle: size
        index_block = _read_block(data, footer[pos:])
        entries: dict[str, TensorEntry] = {}
        for _, handle in _block_entries(index_block):
            for key, value in _block_entries(_read_block(data, handle)):
                name = key.decode()
                if name:  # the empty key holds the bundle header
                    entries[name] = _entry(name, value)
        if not entries:
            raise ValueError("no tensors in the index")
        return entries

    def names(self) -> list[str]:
        return sorted(self.entries)

    def _shard(self, number: int) -> bytes:
        if number not in self._shards:
            shards = len({e.shard for e in self.entries.values()})
            path = Path(f"{self.prefix}.data-{number:05d}-of-{shards:05d}")
            try:
                self._shards[number] = path.read_bytes()
            except OSError as exc:
                raise CheckpointError(path, f"checkpoint data not readable ({exc.strerror or exc})") from exc
        return self._shards[number]

    def tensor(self, name: str) -> np.ndarray:
        """The tensor ``name`` as a numpy array, its checksum verified."""
        try:
            entry = self.entries[name]
        except KeyError:
            raise CheckpointError(self.prefix + ".index", f"no variable {name!r} in the checkpoint") from None
        data = self._shard(entry.shard)
        raw = data[entry.offset : entry.offset + entry.size]
        where = f"{self.prefix}.data-{entry.shard:05d}"
        if len(raw) != entry.size:
            raise CheckpointError(where, f"damaged checkpoint data: {name!r} is truncated")
        if entry.crc32c and _crc32c(raw) != _unmask(entry.crc32c):
            raise CheckpointError(where, f"damaged checkpoint data: checksum mismatch for {name!r}")
        array = np.frombuffer(raw, dtype=np.dtype(entry.dtype).newbyteorder("<"))
        return array.reshape(entry.shape).astype(entry.dtype)
