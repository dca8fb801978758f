"""The key that signs the audit's checkpoints: one Ed25519 key for the installation,
made at first start in `data_dir/audit-signing.key` (mode 0600) and never given to the
database. Whoever can write the database can recompute hashes; without this file they
cannot sign what they recomputed, so `careline audit verify` catches the rewrite.

Several nodes share it by sharing the data directory. Back it up with the master key:
a checkpoint whose key is lost can no longer be checked.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from careline.kit import secretfile

FILE_NAME = "audit-signing.key"


@dataclass(frozen=True, slots=True)
class SigningKey:
    private: Ed25519PrivateKey
    key_id: str  # the first 16 hex digits of SHA-256 over the raw public key

    def sign(self, message: bytes) -> bytes:
        return self.private.sign(message)

    def verifies(self, message: bytes, signature: bytes) -> bool:
        try:
            self.private.public_key().verify(signature, message)
        except InvalidSignature:
            return False
        return True


def path_in(data_dir: Path) -> Path:
    return data_dir / FILE_NAME


def _write_new(path: Path) -> None:
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    secretfile.create_once(path, pem)  # two nodes starting at once make one key


def load(data_dir: Path, *, create: bool = True) -> SigningKey:
    """The installation's signing key, made now if there is none and `create` (the
    server makes it; `verify` only reads it). Raises FileNotFoundError without one."""
    path = path_in(data_dir)
    if create and not path.exists():
        _write_new(path)
    private = serialization.load_pem_private_key(path.read_bytes(), password=None)
    assert isinstance(private, Ed25519PrivateKey), f"{path} holds no Ed25519 key"
    raw = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return SigningKey(private, hashlib.sha256(raw).hexdigest()[:16])
