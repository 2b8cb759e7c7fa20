"""Registration certificates: Ed25519 signatures anyone can check offline.

A certificate is a JSON document ``{"payload": {...}, "signature": base64,
"public_key": base64, "key_id": hex}``. The payload holds the work's content sha256,
the digest of its fingerprints, owner, title, registration time and the hash of its
ledger entry. Version 2 (signed by the install's identity, ``vidlens.identity``) signs
``"vidlens-certificate\n" + canonical JSON of the payload`` (sorted keys, no spaces,
UTF-8); version 1, written before the identity, signed the canonical JSON alone and
still verifies. ``verify`` needs only the certificate and the signer's public key (PEM
or raw base64); the embedded key is for convenience and is trusted only when the caller
passes no key of their own and accepts a self-check.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from vidlens.errors import VidLensError
from vidlens.hashing import canonical_json
from vidlens.identity import Identity, fingerprint, key_id, public_b64, verify_with

CERT_FORMAT = "vidlens-certificate"
CERT_VERSION = 2
DOMAIN = CERT_FORMAT


class CertificateError(VidLensError):
    """A certificate is malformed, or its signature does not verify."""

    exit_code = 13
    http_status = 422
    code = "certificate_invalid"


def sign(payload: dict[str, Any], identity: Identity) -> dict[str, Any]:
    body = {"format": CERT_FORMAT, "version": CERT_VERSION, **payload}
    return {"payload": body, "signature": base64.b64encode(identity.sign(DOMAIN, canonical_json(body))).decode(),
            "public_key": public_b64(identity.public_key), "key_id": identity.key_id}


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
    several: an install's trusted keys); raise otherwise.

    Without ``public`` the embedded key is used: that proves integrity, not who signed.
    """
    if not isinstance(cert, dict) or not isinstance(cert.get("payload"), dict):
        raise CertificateError("not a VidLens certificate: expected a JSON object with 'payload' and 'signature'")
    body = cert["payload"]
    if body.get("format") != CERT_FORMAT or body.get("version") not in (1, CERT_VERSION):
        raise CertificateError(f"not a VidLens certificate of version 1 or {CERT_VERSION}")
    try:
        signature = base64.b64decode(str(cert.get("signature", "")), validate=True)
        if public is None:
            keys = [Ed25519PublicKey.from_public_bytes(base64.b64decode(str(cert.get("public_key", "")),
                                                                        validate=True))]
        else:
            keys = [public] if isinstance(public, Ed25519PublicKey) else list(public)
    except ValueError as exc:
        raise CertificateError(f"certificate signature or key is not valid base64: {exc}") from None
    if not keys:
        raise CertificateError("no public key to check the certificate against")
    named = str(cert.get("key_id", "")).lower()
    keys = [k for k in keys if fingerprint(k).startswith(named)] or keys  # the named key first, if present
    if not any(_signed_by(k, body, signature) for k in keys):
        raise CertificateError(f"signature does not verify under key {', '.join(key_id(k) for k in keys)}: "
                               "the certificate was altered or signed by another key")
    return body
