"""Where encrypted file objects live: a local directory (default) or an S3-compatible
store, behind one small interface. The bytes handed in are already ciphertext
(careline/attachments/chunks.py); keys are `tenant/attachment/variant`, ids only.

The interface is blocking, because both backends are (files, boto3): async code calls
it through `asyncio.to_thread`, and readers running in a thread (zipfile, Pillow) call it
directly.
"""

from __future__ import annotations

import abc
import os
import re
import secrets
from pathlib import Path
from typing import Any

from careline import config

_KEY = re.compile(r"^[0-9a-f-]{36}/[0-9a-f-]{36}/[a-z]{1,16}$")


class ObjectWriter(abc.ABC):
    """Receives one object's bytes in order; nothing is visible under the key until
    `commit`, and `abort` leaves nothing behind."""

    @abc.abstractmethod
    def write(self, data: bytes) -> None: ...

    @abc.abstractmethod
    def commit(self) -> None: ...

    @abc.abstractmethod
    def abort(self) -> None: ...


class ObjectStore(abc.ABC):
    @abc.abstractmethod
    def writer(self, key: str) -> ObjectWriter: ...

    @abc.abstractmethod
    def read_range(self, key: str, start: int, length: int) -> bytes:
        """Exactly `length` bytes from `start`, or OSError when the object is shorter
        or missing."""

    @abc.abstractmethod
    def size(self, key: str) -> int | None: ...

    @abc.abstractmethod
    def delete(self, key: str) -> None:
        """Remove the object; a missing one is fine."""

    @abc.abstractmethod
    def keys(self, prefix: str = "") -> list[str]:
        """Every stored key starting with `prefix` (maintenance and tests)."""

    def put(self, key: str, chunks: list[bytes]) -> None:
        writer = self.writer(key)
        try:
            for chunk in chunks:
                writer.write(chunk)
        except BaseException:
            writer.abort()
            raise
        writer.commit()


def _check_key(key: str) -> str:
    if not _KEY.match(key):
        raise ValueError("not an object key careline makes")
    return key


# --- a local directory ------------------------------------------------------------------


class _LocalWriter(ObjectWriter):
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._path = path
        self._part = path.with_name(f".{path.name}.{secrets.token_hex(8)}.part")
        fd = os.open(self._part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._file = os.fdopen(fd, "wb")

    def write(self, data: bytes) -> None:
        self._file.write(data)

    def commit(self) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        os.replace(self._part, self._path)

    def abort(self) -> None:
        self._file.close()
        self._part.unlink(missing_ok=True)


class LocalStore(ObjectStore):
    """Objects as files under `root`, written to a temporary name and renamed into place
    so a reader never sees half an object. Directories 0700, files 0600."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / _check_key(key)

    def writer(self, key: str) -> ObjectWriter:
        return _LocalWriter(self._path(key))

    def read_range(self, key: str, start: int, length: int) -> bytes:
        with self._path(key).open("rb") as fh:
            fh.seek(start)
            data = fh.read(length)
        if len(data) != length:
            raise OSError("stored object is shorter than recorded")
        return data

    def size(self, key: str) -> int | None:
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError:
            return None

    def delete(self, key: str) -> None:
        path = self._path(key)
        path.unlink(missing_ok=True)
        for parent in (path.parent, path.parent.parent):
            try:
                parent.rmdir()
            except OSError:
                break  # not empty (other variants or attachments), or gone

    def keys(self, prefix: str = "") -> list[str]:
        if not self.root.exists():
            return []
        found = sorted(str(p.relative_to(self.root)) for p in self.root.rglob("*") if p.is_file())
        return [k for k in found if k.startswith(prefix)]


# --- S3-compatible ------------------------------------------------------------------------

_PART_BYTES = 8 * 1024 * 1024  # S3 parts are at least 5 MiB, except the last


class _S3Writer(ObjectWriter):
    """Small objects go up in one PUT; larger ones as a multipart upload, so at most one
    part is held in memory."""

    def __init__(self, client: Any, bucket: str, key: str) -> None:
        self._client = client
        self._bucket = bucket
        self._key = key
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []

    def _send_part(self) -> None:
        if self._upload_id is None:
            created = self._client.create_multipart_upload(Bucket=self._bucket, Key=self._key)
            self._upload_id = created["UploadId"]
        number = len(self._parts) + 1
        sent = self._client.upload_part(
            Bucket=self._bucket,
            Key=self._key,
            UploadId=self._upload_id,
            PartNumber=number,
            Body=bytes(self._buffer),
        )
        self._parts.append({"PartNumber": number, "ETag": sent["ETag"]})
        self._buffer.clear()

    def write(self, data: bytes) -> None:
        self._buffer += data
        if len(self._buffer) >= _PART_BYTES:
            self._send_part()

    def commit(self) -> None:
        if self._upload_id is None:
            self._client.put_object(Bucket=self._bucket, Key=self._key, Body=bytes(self._buffer))
            self._buffer.clear()
            return
        if self._buffer:
            self._send_part()
        self._client.complete_multipart_upload(
            Bucket=self._bucket,
            Key=self._key,
            UploadId=self._upload_id,
            MultipartUpload={"Parts": self._parts},
        )

    def abort(self) -> None:
        self._buffer.clear()
        if self._upload_id is not None:
            self._client.abort_multipart_upload(
                Bucket=self._bucket, Key=self._key, UploadId=self._upload_id
            )


class S3Store(ObjectStore):
    """Objects in one bucket of an S3-compatible service (AWS, MinIO, Ceph, ...)."""

    def __init__(self, client: Any, bucket: str) -> None:
        self._client = client
        self.bucket = bucket

    @classmethod
    def from_settings(cls, settings: config.Settings) -> S3Store:
        import boto3
        from botocore.config import Config

        secret = settings.s3_secret_access_key
        client = boto3.client(
            "s3",
            endpoint_url=settings.s3_endpoint_url,
            region_name=settings.s3_region,
            aws_access_key_id=settings.s3_access_key_id,
            aws_secret_access_key=secret.get_secret_value() if secret else None,
            config=Config(retries={"max_attempts": 3, "mode": "standard"}),
        )
        assert settings.s3_bucket is not None
        return cls(client, settings.s3_bucket)

    def writer(self, key: str) -> ObjectWriter:
        return _S3Writer(self._client, self.bucket, _check_key(key))

    def read_range(self, key: str, start: int, length: int) -> bytes:
        from botocore.exceptions import ClientError

        try:
            response = self._client.get_object(
                Bucket=self.bucket,
                Key=_check_key(key),
                Range=f"bytes={start}-{start + length - 1}",
            )
        except ClientError as exc:
            raise OSError("stored object missing or unreadable") from exc
        data: bytes = response["Body"].read()
        if len(data) != length:
            raise OSError("stored object is shorter than recorded")
        return data

    def size(self, key: str) -> int | None:
        from botocore.exceptions import ClientError

        try:
            head = self._client.head_object(Bucket=self.bucket, Key=_check_key(key))
        except ClientError:
            return None
        length: int = head["ContentLength"]
        return length

    def delete(self, key: str) -> None:
        self._client.delete_object(Bucket=self.bucket, Key=_check_key(key))

    def keys(self, prefix: str = "") -> list[str]:
        found: list[str] = []
        paginator = self._client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            found.extend(item["Key"] for item in page.get("Contents", ()))
        return sorted(found)


def from_settings(settings: config.Settings) -> ObjectStore:
    if settings.storage_backend == "s3":
        return S3Store.from_settings(settings)
    root = settings.files_dir.resolve()
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    return LocalStore(root)


class _Holder:
    store: ObjectStore | None = None


_holder = _Holder()


def configure(store: ObjectStore | None) -> None:
    _holder.store = store


def store() -> ObjectStore:
    if _holder.store is None:
        raise RuntimeError("file store not configured")
    return _holder.store
