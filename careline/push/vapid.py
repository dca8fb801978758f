"""careline's VAPID key (RFC 8292): one P-256 key pair for the whole installation, made
at first start and kept in the data directory wrapped by the master key, like the
tenants' data keys: the file alone opens nothing.

The public half is the `applicationServerKey` browsers subscribe with; changing it
orphans every subscription, so it is made once and never replaced by itself. Several
nodes share it by sharing the data directory's `vapid.key` with the master key file.
"""

from __future__ import annotations

import base64
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02

from careline.kit import secretfile
from careline.kit.crypto import MasterKey

FILE_NAME = "vapid.key"
_WRAP_CONTEXT = "vapid:1"

_cached: dict[Path, Vapid02] = {}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _raw_private(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_numbers().private_value.to_bytes(32, "big")


def _write_new(path: Path, master: MasterKey) -> None:
    raw = _raw_private(ec.generate_private_key(ec.SECP256R1()))
    line = f"{master.key_id}:{base64.b64encode(master.wrap(raw, _WRAP_CONTEXT)).decode()}\n"
    secretfile.create_once(path, line.encode())  # two processes starting make one key


def load(data_dir: Path, master_keys: dict[str, MasterKey], current_master_id: str) -> Vapid02:
    """The installation's VAPID key, made now if there is none. Raises ValueError when
    the file does not open under any loaded master key (it belongs elsewhere)."""
    path = data_dir / FILE_NAME
    cached = _cached.get(path)
    if cached is not None:
        return cached
    if not path.exists():
        _write_new(path, master_keys[current_master_id])
    master_id, _, b64 = path.read_text().strip().partition(":")
    master = master_keys.get(master_id)
    if master is None:
        raise ValueError(f"{path} is wrapped by master key {master_id!r}, which is not loaded")
    raw = master.unwrap(base64.b64decode(b64), _WRAP_CONTEXT)
    key = Vapid02(ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1()))
    _cached[path] = key
    return key


def application_server_key(key: Vapid02) -> str:
    """The public key as browsers take it (`applicationServerKey`): base64url of the
    uncompressed point, 65 bytes."""
    public = key.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return b64url(public)
