"""Registration certificates: Ed25519 signatures anyone can check offline.

A certificate is a JSON document ``{"payload": {...}, "signature": base64,
"public_key": base64, "key_id": hex}`` (``vidlens.identity.sign_document``). The payload holds the
work's content sha256, the digest of its fingerprints, owner, title, registration time and the hash
of its ledger entry. Version 2 (signed by the install's identity) signs
``"vidlens-certificate\n" + canonical JSON of the payload`` (sorted keys, no spaces,
UTF-8); version 1, written before the identity, signed the canonical JSON alone and
still verifies. ``verify`` needs only the certificate and the signer's public key (PEM
or raw base64); the embedded key is for convenience and is trusted only when the caller
passes no key of their own and accepts a self-check.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from vidlens.hashing import canonical_json
from vidlens.identity import CertificateError, Identity, sign_document, verify_document, verify_with

__all__ = ["CERT_FORMAT", "CERT_VERSION", "CertificateError", "sign", "verify"]

CERT_FORMAT = "vidlens-certificate"
CERT_VERSION = 2
DOMAIN = CERT_FORMAT


def sign(payload: dict[str, Any], identity: Identity) -> dict[str, Any]:
    return sign_document(identity, DOMAIN, {"format": CERT_FORMAT, "version": CERT_VERSION, **payload})


def _signed_by(public: Ed25519PublicKey, body: dict[str, Any], signature: bytes) -> bool:
    if body["version"] == 1:
        # Before the shared identity: the canonical payload, no domain. Safe to keep accepting: the
        # identity only ever signs "<domain>\n...", which never starts with "{" as a payload does.
        try:
            public.verify(signature, canonical_json(body))
        except InvalidSignature:
            return False
        return True
    return verify_with(public, DOMAIN, canonical_json(body), signature)


def verify(cert: Any, public: Ed25519PublicKey | Sequence[Ed25519PublicKey] | None = None) -> dict[str, Any]:
    """Return the signed payload when the signature verifies under ``public`` (one key, or any of
    several: an install's trusted keys); raise ``CertificateError`` otherwise.

    Without ``public`` the embedded key is used: that proves integrity, not who signed.
    """
    return verify_document(cert, DOMAIN, (1, CERT_VERSION), "VidLens certificate", public, _signed_by)
