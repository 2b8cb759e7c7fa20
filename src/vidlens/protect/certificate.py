"""Registration certificates: Ed25519 signatures anyone can check offline.

A certificate is a JSON document ``{"payload": {...}, "signature": base64,
"public_key": base64, "key_id": hex}``. The signature covers the payload's
canonical JSON (sorted keys, no spaces, UTF-8): the work's content sha256, the
digest of its fingerprints, owner, title, registration time and the hash of its
ledger entry. ``verify`` needs only the certificate and the registry's public key
(PEM or raw base64); the embedded key is for convenience and is trusted only when
the caller passes no key of their own and accepts a self-check.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from vidlens.errors import UsageError, VidLensError

CERT_FORMAT = "vidlens-certificate"
CERT_VERSION = 1


class CertificateError(VidLensError):
    """A certificate is malformed, or its signature does not verify."""

    exit_code = 13
    http_status = 422
    code = "certificate_invalid"


def canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    """The registry's signing key, created (mode 0600) on first use."""
    if path.is_file():
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except ValueError as exc:
            raise CertificateError(f"{path}: not a readable PEM private key ({exc})") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise CertificateError(f"{path}: expected an Ed25519 private key")
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    tmp.replace(path)
    return key


def public_pem(public: Ed25519PublicKey) -> str:
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def load_public_key(text: str | bytes) -> Ed25519PublicKey:
    """A public key from PEM or from 32 raw bytes in base64."""
    data = text.encode() if isinstance(text, str) else text
    try:
        if b"BEGIN" in data:
            key = serialization.load_pem_public_key(data)
        else:
            key = Ed25519PublicKey.from_public_bytes(base64.b64decode(data.strip(), validate=True))
    except ValueError as exc:
        raise UsageError(f"not an Ed25519 public key (PEM or base64): {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise UsageError("expected an Ed25519 public key")
    return key


def sign(payload: dict[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    body = {"format": CERT_FORMAT, "version": CERT_VERSION, **payload}
    pub = key.public_key()
    return {"payload": body, "signature": base64.b64encode(key.sign(canonical(body))).decode(),
            "public_key": base64.b64encode(pub.public_bytes(serialization.Encoding.Raw,
                                                            serialization.PublicFormat.Raw)).decode(),
            "key_id": key_id(pub)}


def verify(cert: Any, public: Ed25519PublicKey | None = None) -> dict[str, Any]:
    """Return the signed payload when the signature verifies under ``public``; raise otherwise.

    Without ``public`` the embedded key is used: that proves integrity, not who signed.
    """
    if not isinstance(cert, dict) or not isinstance(cert.get("payload"), dict):
        raise CertificateError("not a VidLens certificate: expected a JSON object with 'payload' and 'signature'")
    body = cert["payload"]
    if body.get("format") != CERT_FORMAT or body.get("version") != CERT_VERSION:
        raise CertificateError(f"not a version-{CERT_VERSION} VidLens certificate")
    try:
        signature = base64.b64decode(str(cert.get("signature", "")), validate=True)
        key = public or Ed25519PublicKey.from_public_bytes(base64.b64decode(str(cert.get("public_key", "")),
                                                                            validate=True))
    except ValueError as exc:
        raise CertificateError(f"certificate signature or key is not valid base64: {exc}") from None
    try:
        key.verify(signature, canonical(body))
    except InvalidSignature:
        raise CertificateError(f"signature does not verify under key {key_id(key)}: the certificate was "
                               "altered or signed by another key") from None
    return body
