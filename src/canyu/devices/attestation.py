"""Device attestation keys, as pure rules shared by the server and the device client.

A factory gives each device an Ed25519 key pair; the private half stays in the device, the
public half is enrolled with the server in bulk (``canyu release provision``). Such a device
registers by signing a timestamped statement (product, hardware id, time): the server checks the
signature against the enrolled key, that the time is recent, and that it is later than any
statement it accepted before, so a captured registration cannot be replayed. No database here:
only ``cryptography``, so the device client can import it.
"""

from __future__ import annotations

import base64
import binascii
import time

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

# A signed registration is accepted this many seconds either side of the server's clock.
MAX_SKEW = 300


class BadKey(ValueError):
    """Not an Ed25519 public key in a form we read."""


def statement(product: str, hardware_id: str, signed_at: int) -> bytes:
    """What a device signs to register: product, hardware id and the time, one per line."""
    return f"canyu-register\n{product}\n{hardware_id}\n{int(signed_at)}".encode()


def public_key_text(key: Ed25519PublicKey) -> str:
    """The enrolled form of a public key: its 32 raw bytes in hex."""
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def parse_public_key(text: str) -> str:
    """A public key as a factory file gives it (64 hex digits, base64 of the 32 raw bytes, or a
    PEM block), in its enrolled form (hex); BadKey otherwise."""
    value = (text or "").strip()
    raw: bytes | None = None
    try:
        if value.startswith("-----BEGIN"):
            loaded = serialization.load_pem_public_key(value.encode())
            if not isinstance(loaded, Ed25519PublicKey):
                raise BadKey("not an Ed25519 public key")
            return public_key_text(loaded)
        if len(value) == 64:
            raw = bytes.fromhex(value)
        else:
            raw = base64.b64decode(value + "=" * (-len(value) % 4), altchars=b"-_", validate=False)
    except (ValueError, binascii.Error) as exc:
        raise BadKey(f"unreadable public key: {exc}") from None
    if raw is None or len(raw) != 32:
        raise BadKey("an Ed25519 public key has 32 bytes")
    return Ed25519PublicKey.from_public_bytes(raw).public_bytes_raw().hex()


def sign(private_key: Ed25519PrivateKey, product: str, hardware_id: str, signed_at: int) -> str:
    """The device's signature over its registration statement, base64url without padding."""
    signature = private_key.sign(statement(product, hardware_id, signed_at))
    return base64.urlsafe_b64encode(signature).rstrip(b"=").decode()


def signed_now(private_key: Ed25519PrivateKey, product: str, hardware_id: str) -> dict[str, object]:
    """The ``attestation`` object of a registration request, signed now."""
    signed_at = int(time.time())
    return {"signed_at": signed_at, "signature": sign(private_key, product, hardware_id, signed_at)}


def verify(
    public_key_hex: str,
    *,
    product: str,
    hardware_id: str,
    signed_at: int,
    signature: str,
    now: float,
    last_signed_at: int | None,
) -> str | None:
    """None when the statement is signed by this key, recent and newer than the last one
    accepted; else why not (for the 401's message)."""
    if abs(now - signed_at) > MAX_SKEW:
        return f"the signed time is more than {MAX_SKEW} s from the server's clock"
    if last_signed_at is not None and signed_at <= last_signed_at:
        return "this signed registration was already used; sign a new one"
    try:
        raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex))
        key.verify(raw, statement(product, hardware_id, signed_at))
    except (ValueError, binascii.Error, InvalidSignature):
        return "the signature does not match the device's enrolled key"
    return None


def load_private_key(pem: bytes) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise BadKey("not an Ed25519 private key")
    return key


def private_key_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
