"""Files at rest: AES-256-GCM in fixed-size chunks under the tenant's data key.

An object is the chunks one after another, each `nonce || ciphertext || tag`. Chunk i
holds plaintext bytes [i*C, (i+1)*C), so any byte range is read by opening only the
chunks it covers. Each chunk's additional data names the attachment, the variant, the
chunk's index and whether it is the last one: a chunk moved to another file or
position, chunks swapped, or a file cut short at a chunk boundary all fail to open,
instead of yielding wrong or partial plaintext.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator

from careline.attachments.records import VariantName
from careline.attachments.storage import ObjectStore
from careline.keys.service import BoundKey
from careline.kit.crypto import NONCE_BYTES

OVERHEAD = NONCE_BYTES + 16  # nonce and GCM tag per chunk


def object_key(tenant_id: uuid.UUID, attachment_id: uuid.UUID, variant: VariantName) -> str:
    """Where a variant's object lives: ids only, never a name."""
    return f"{tenant_id}/{attachment_id}/{variant.value}"


def _context(attachment_id: uuid.UUID, variant: VariantName, index: int, final: bool) -> str:
    return f"attachments.chunk:{attachment_id}:{variant.value}:{index}:{int(final)}"


def chunk_count(size: int, chunk_bytes: int) -> int:
    return max(1, -(-size // chunk_bytes))


def sealed_size(size: int, chunk_bytes: int) -> int:
    return size + chunk_count(size, chunk_bytes) * OVERHEAD


class Sealer:
    """Turns a plaintext stream into sealed chunks. A full chunk is held back until more
    data arrives, because only then is it known not to be the last."""

    def __init__(
        self, key: BoundKey, attachment_id: uuid.UUID, variant: VariantName, chunk_bytes: int
    ) -> None:
        self._key = key
        self._attachment_id = attachment_id
        self._variant = variant
        self.chunk_bytes = chunk_bytes
        self._buffer = bytearray()
        self._index = 0

    def _seal(self, plaintext: bytes, *, final: bool) -> bytes:
        context = _context(self._attachment_id, self._variant, self._index, final)
        self._index += 1
        return self._key.seal(plaintext, context=context)

    def feed(self, data: bytes) -> list[bytes]:
        self._buffer += data
        out = []
        while len(self._buffer) > self.chunk_bytes:
            out.append(self._seal(bytes(self._buffer[: self.chunk_bytes]), final=False))
            del self._buffer[: self.chunk_bytes]
        return out

    def finish(self) -> bytes:
        sealed = self._seal(bytes(self._buffer), final=True)
        self._buffer.clear()
        return sealed


def seal_all(
    key: BoundKey, attachment_id: uuid.UUID, variant: VariantName, data: bytes, chunk_bytes: int
) -> Iterator[bytes]:
    sealer = Sealer(key, attachment_id, variant, chunk_bytes)
    yield from sealer.feed(data)
    yield sealer.finish()


class ChunkReader(io.RawIOBase):
    """A seekable, read-only view of one variant's plaintext, opening chunks on demand
    (one is cached). Blocking I/O: use it from a thread, e.g. for zipfile or Pillow."""

    def __init__(
        self,
        store: ObjectStore,
        key: BoundKey,
        *,
        attachment_id: uuid.UUID,
        variant: VariantName,
        size: int,
        chunk_bytes: int,
    ) -> None:
        super().__init__()
        self._store = store
        self._key = key
        self._attachment_id = attachment_id
        self._variant = variant
        self._object = object_key(key.tenant_id, attachment_id, variant)
        self.size = size
        self.chunk_bytes = chunk_bytes
        self._last = chunk_count(size, chunk_bytes) - 1
        self._pos = 0
        self._cached: tuple[int, bytes] | None = None

    def chunk(self, index: int) -> bytes:
        """The plaintext of chunk `index`; DecryptionError if it was tampered with."""
        if self._cached is not None and self._cached[0] == index:
            return self._cached[1]
        start = index * (self.chunk_bytes + OVERHEAD)
        plain_len = min(self.chunk_bytes, self.size - index * self.chunk_bytes)
        blob = self._store.read_range(self._object, start, plain_len + OVERHEAD)
        plain = self._key.open(
            blob, context=_context(self._attachment_id, self._variant, index, index == self._last)
        )
        self._cached = (index, plain)
        return plain

    def read_at(self, offset: int, length: int) -> bytes:
        out = bytearray()
        end = min(self.size, offset + length)
        while offset < end:
            index, within = divmod(offset, self.chunk_bytes)
            piece = self.chunk(index)[within : within + end - offset]
            out += piece
            offset += len(piece)
        return bytes(out)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self.read_at(self._pos, len(buffer))
        buffer[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def readall(self) -> bytes:
        data = self.read_at(self._pos, self.size - self._pos)
        self._pos += len(data)
        return data
