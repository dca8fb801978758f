"""Files at rest: ciphertext in the store (names too, in the database), chunks bound to
their file and position, and the same layout in an S3-compatible store (moto's real
S3 server)."""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer

from careline.attachments import storage as file_storage
from careline.attachments.chunks import OVERHEAD, ChunkReader, object_key, seal_all, sealed_size
from careline.attachments.records import VariantName
from careline.attachments.storage import LocalStore, ObjectStore, S3Store
from careline.db.tx import Actor, transaction
from careline.keys.service import BoundKey
from careline.kit.crypto import DecryptionError, new_key
from tests.support import files
from tests.support.server import RunningServer, free_port
from tests.support.world import World

CHUNK = 64 * 1024


def _key() -> BoundKey:
    return BoundKey(uuid.uuid4(), 1, new_key())


def _reader(store: ObjectStore, key: BoundKey, attachment_id: uuid.UUID, size: int) -> ChunkReader:
    return ChunkReader(
        store,
        key,
        attachment_id=attachment_id,
        variant=VariantName.ORIGINAL,
        size=size,
        chunk_bytes=CHUNK,
    )


async def test_the_bytes_on_disk_and_the_name_in_the_database_are_ciphertext(
    server: RunningServer, http: httpx.AsyncClient, world: World, care: str
) -> None:
    marker = f"marker-{uuid.uuid4().hex}"
    content = (f"{marker}: blood pressure 150/95, next review Friday\n" * 40_000).encode()
    name = f"{marker} results.txt"
    uploaded = await files.upload(http, world["sam"], care, name, content)
    assert uploaded.status_code == 201, uploaded.text
    attachment_id = uuid.UUID(uploaded.json()["id"])
    await files.wait_state(http, world["sam"], str(attachment_id))

    path = server.settings.files_dir / object_key(
        world.tenant_id, attachment_id, VariantName.ORIGINAL
    )
    stored = path.read_bytes()
    assert len(stored) == sealed_size(len(content), 1024 * 1024)
    assert marker.encode() not in stored
    assert b"blood pressure" not in stored
    assert oct(path.stat().st_mode & 0o777) == oct(0o600)
    async with transaction(Actor.system(world.tenant_id), readonly=True) as tx:
        row = await tx.conn.fetchrow(
            "SELECT name, sha256 FROM attachments WHERE id = $1", attachment_id
        )
    assert marker.encode() not in bytes(row["name"])
    everything_on_disk = b"".join(
        p.read_bytes() for p in server.settings.files_dir.rglob("*") if p.is_file()
    )
    assert marker.encode() not in everything_on_disk


def test_chunks_cannot_be_moved_swapped_or_cut_off(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    key = _key()
    attachment_id = uuid.uuid4()
    data = os.urandom(3 * CHUNK + 100)
    target = object_key(key.tenant_id, attachment_id, VariantName.ORIGINAL)
    store.put(target, list(seal_all(key, attachment_id, VariantName.ORIGINAL, data, CHUNK)))
    assert _reader(store, key, attachment_id, len(data)).readall() == data
    reader = _reader(store, key, attachment_id, len(data))
    assert reader.read_at(CHUNK - 10, 20) == data[CHUNK - 10 : CHUNK + 10]

    sealed = (tmp_path / target).read_bytes()
    size = CHUNK + OVERHEAD
    pieces = [sealed[i : i + size] for i in range(0, len(sealed), size)]
    tampered = {
        "swapped": pieces[1] + pieces[0] + pieces[2] + pieces[3],
        "flipped bit": pieces[0][:40]
        + bytes([pieces[0][40] ^ 1])
        + pieces[0][41:]
        + b"".join(pieces[1:]),
    }
    for blob in tampered.values():
        store.put(target, [blob])
        with pytest.raises(DecryptionError):
            _reader(store, key, attachment_id, len(data)).readall()
    # Cut off after whole chunks, with the recorded size shortened to match: the new
    # last chunk was sealed as "not last", so it does not open.
    store.put(target, [b"".join(pieces[:2])])
    with pytest.raises(DecryptionError):
        _reader(store, key, attachment_id, 2 * CHUNK).readall()
    # Read as another file's, or under another tenant's key: nothing opens.
    store.put(target, [sealed])
    other = uuid.uuid4()
    store.put(object_key(key.tenant_id, other, VariantName.ORIGINAL), [sealed])
    with pytest.raises(DecryptionError):
        _reader(store, key, other, len(data)).chunk(0)
    with pytest.raises(DecryptionError):
        _reader(store, BoundKey(key.tenant_id, 1, new_key()), attachment_id, len(data)).chunk(0)


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Store]:
    """moto's S3 server on a loopback port: the real S3 protocol over HTTP."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        client = boto3.client(
            "s3",
            endpoint_url=f"http://127.0.0.1:{port}",
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )
        client.create_bucket(Bucket="careline-files")
        yield S3Store(client, "careline-files")
    finally:
        server.stop()


@pytest.mark.parametrize("backend", ["local", "s3"])
def test_both_stores_keep_the_same_contract(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    store: ObjectStore = (
        LocalStore(tmp_path) if backend == "local" else request.getfixturevalue("s3")
    )
    key = _key()
    attachment_id = uuid.uuid4()
    data = os.urandom(9 * 1024 * 1024 + 5)  # > one S3 part: a multipart upload
    target = object_key(key.tenant_id, attachment_id, VariantName.ORIGINAL)
    assert store.size(target) is None
    writer = store.writer(target)
    sealed = list(seal_all(key, attachment_id, VariantName.ORIGINAL, data, 1024 * 1024))
    for piece in sealed:
        writer.write(piece)
    assert store.size(target) is None, "nothing is visible before commit"
    writer.commit()
    assert store.size(target) == sealed_size(len(data), 1024 * 1024)
    reader = ChunkReader(
        store,
        key,
        attachment_id=attachment_id,
        variant=VariantName.ORIGINAL,
        size=len(data),
        chunk_bytes=1024 * 1024,
    )
    assert (
        reader.read_at(5 * 1024 * 1024 - 3, 10) == data[5 * 1024 * 1024 - 3 : 5 * 1024 * 1024 + 7]
    )
    assert io.BufferedReader(reader).read() == data
    assert store.keys(str(key.tenant_id)) == [target]

    aborted = object_key(key.tenant_id, attachment_id, VariantName.THUMB)
    writer = store.writer(aborted)
    writer.write(b"x" * (9 * 1024 * 1024))
    writer.abort()
    assert store.size(aborted) is None
    store.delete(target)
    store.delete(target)  # idempotent
    assert store.keys(str(key.tenant_id)) == []
    with pytest.raises(OSError):
        store.read_range(target, 0, 10)


def test_the_store_refuses_keys_it_did_not_make(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    for bad in ("../../etc/passwd", "a/b/c", f"{uuid.uuid4()}/../x/original"):
        with pytest.raises(ValueError, match="not an object key"):
            store.writer(bad)


def test_storage_is_chosen_by_settings(tmp_path: Path) -> None:
    from careline import config

    local = file_storage.from_settings(config.Settings(data_dir=tmp_path))
    assert isinstance(local, LocalStore)
    assert local.root == (tmp_path / "files").resolve()
    with pytest.raises(ValueError, match="s3_bucket"):
        config.Settings(data_dir=tmp_path, storage_backend="s3")
