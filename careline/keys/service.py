"""Encrypts and decrypts record fields under the tenant's data keys.

A data key is random per tenant and version, stored only wrapped by the master key, and
unwrapped into memory on first use. New writes use the tenant's newest version; every
ciphertext records the version it was sealed under, so rotation never rewrites old rows.
The additional data is `context|tenant|version`, where context names the table, column and
row id: a ciphertext moved to another row, column or tenant will not open.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

from careline.db.tx import Tx
from careline.keys import store
from careline.kit.crypto import DecryptionError, MasterKey, new_key, open_sealed, seal, seal_many


@dataclass(frozen=True, slots=True)
class BoundKey:
    """One version of a tenant's data key, unwrapped, for sealing or opening the many
    pieces of one object (a file's chunks) without a transaction per piece. The
    additional data has the same `context|tenant|version` form as `Keyring.encrypt`."""

    tenant_id: uuid.UUID
    version: int
    key: bytes = field(repr=False)

    def seal(self, plaintext: bytes, *, context: str) -> bytes:
        return seal(self.key, plaintext, Keyring._aad(context, self.tenant_id, self.version))

    def seal_many(self, items: list[tuple[bytes, str]]) -> list[bytes]:
        """`seal` of each (plaintext, context), the cipher set up once (bulk writes)."""
        aad = Keyring._aad
        return seal_many(self.key, [(p, aad(c, self.tenant_id, self.version)) for p, c in items])

    def open(self, blob: bytes, *, context: str) -> bytes:
        return open_sealed(self.key, blob, Keyring._aad(context, self.tenant_id, self.version))


@dataclass(slots=True)
class Keyring:
    master_keys: dict[str, MasterKey]
    current_master_id: str
    current_ttl: float = 30.0  # how soon a running server notices `careline keys rotate`
    _data_keys: dict[tuple[uuid.UUID, int], bytes] = field(default_factory=dict)
    _current: dict[uuid.UUID, tuple[int, float]] = field(default_factory=dict)

    def _wrap_context(self, tenant_id: uuid.UUID, version: int) -> str:
        return f"tenant_keys:{tenant_id}:{version}"

    async def _data_key(self, tx: Tx, tenant_id: uuid.UUID, version: int) -> bytes:
        cached = self._data_keys.get((tenant_id, version))
        if cached is not None:
            return cached
        found = await store.get_key(tx, tenant_id, version)
        if found is None:
            raise DecryptionError(f"no data key version {version} for this tenant")
        master_id, wrapped = found
        master = self.master_keys.get(master_id)
        if master is None:
            raise DecryptionError(f"master key {master_id!r} is not loaded")
        key = master.unwrap(wrapped, self._wrap_context(tenant_id, version))
        self._data_keys[(tenant_id, version)] = key
        return key

    async def _current_version(self, tx: Tx, tenant_id: uuid.UUID) -> int:
        cached = self._current.get(tenant_id)
        if cached is not None and time.monotonic() - cached[1] < self.current_ttl:
            return cached[0]
        version = await store.get_current_version(tx, tenant_id)
        if version is None:
            raise DecryptionError("tenant has no data key")
        self._current[tenant_id] = (version, time.monotonic())
        return version

    @staticmethod
    def _aad(context: str, tenant_id: uuid.UUID, version: int) -> bytes:
        return f"{context}|{tenant_id}|{version}".encode()

    async def encrypt(
        self, tx: Tx, tenant_id: uuid.UUID, plaintext: bytes, *, context: str
    ) -> tuple[bytes, int]:
        version = await self._current_version(tx, tenant_id)
        key = await self._data_key(tx, tenant_id, version)
        return seal(key, plaintext, self._aad(context, tenant_id, version)), version

    async def decrypt(
        self, tx: Tx, tenant_id: uuid.UUID, blob: bytes, *, version: int, context: str
    ) -> bytes:
        key = await self._data_key(tx, tenant_id, version)
        return open_sealed(key, blob, self._aad(context, tenant_id, version))

    async def bound_key(
        self, tx: Tx, tenant_id: uuid.UUID, *, version: int | None = None
    ) -> BoundKey:
        """The tenant's newest data key (or `version` of it) as a BoundKey."""
        if version is None:
            version = await self._current_version(tx, tenant_id)
        return BoundKey(tenant_id, version, await self._data_key(tx, tenant_id, version))

    async def add_version(self, tx: Tx, tenant_id: uuid.UUID) -> int:
        """Create the tenant's next data key version (version 1 for a new tenant)."""
        version = (await store.get_current_version(tx, tenant_id) or 0) + 1
        key = new_key()
        master = self.master_keys[self.current_master_id]
        await store.insert_key(
            tx,
            tenant_id,
            version=version,
            master_key_id=master.key_id,
            wrapped=master.wrap(key, self._wrap_context(tenant_id, version)),
        )
        self._data_keys[(tenant_id, version)] = key
        self._current[tenant_id] = (version, time.monotonic())
        return version


class _Holder:
    keyring: Keyring | None = None


_holder = _Holder()


def configure(keyring: Keyring | None) -> None:
    _holder.keyring = keyring


def keyring() -> Keyring:
    if _holder.keyring is None:
        raise RuntimeError("keyring not configured")
    return _holder.keyring


async def do_rotate_all(tx: Tx) -> dict[uuid.UUID, int]:
    """Start a new data key version for every tenant (system actor). Returns the versions."""
    return {t: await keyring().add_version(tx, t) for t in await store.list_tenant_ids(tx)}


def derived_secret(purpose: str) -> bytes:
    """A server secret for one purpose (e.g. signing device cookies), derived from the
    current master key so operators have one secret to guard."""
    import hashlib
    import hmac

    ring = keyring()
    master = ring.master_keys[ring.current_master_id]
    return hmac.new(master.key, f"careline-derive:{purpose}".encode(), hashlib.sha256).digest()
