"""Digital-human certificates: the registry's Ed25519 statement of who is registered, by whom, with what consent.

``{"payload": {...}, "signature": base64, "public_key": base64, "key_id": hex}``, signed by the
install's identity (``vidlens.identity``) in its own signature domain, ``vidlens-human-certificate``,
so it can never pass for a work's certificate or an AIGC label. The payload names the human, the
owner, the consent record, the digest of every sample embedding, the source files' SHA-256, the
status (``active``, ``revoked``, ``removed``) and the ledger entry it was issued with; each change of
status issues a new certificate, so an exported one says how things stood at its ``ledger_seq``.
Checking one needs only the file and the registry's public key.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from vidlens.hashing import canonical_json
from vidlens.identity import Identity, fingerprint, key_id, public_b64, verify_with
from vidlens.protect.certificate import CertificateError

FORMAT = DOMAIN = "vidlens-human-certificate"
# A use of a likeness (a presenter video): the humans-ledger entry that records it, signed in its own domain.
USE_FORMAT = "vidlens-human-use-certificate"
VERSION = 1


def sign(payload: dict[str, Any], identity: Identity, fmt: str = FORMAT) -> dict[str, Any]:
    body = {"format": fmt, "version": VERSION, **payload}
    return {"payload": body, "signature": base64.b64encode(identity.sign(fmt, canonical_json(body))).decode(),
            "public_key": public_b64(identity.public_key), "key_id": identity.key_id}


def verify(cert: Any, public: Ed25519PublicKey | Sequence[Ed25519PublicKey] | None = None,
           formats: Sequence[str] = (FORMAT,)) -> dict[str, Any]:
    """The signed payload when the signature verifies under ``public`` (or any of several keys); raises
    ``CertificateError`` otherwise. Without a key the embedded one is used: integrity, not who signed.
    ``formats``: the kinds accepted (each is also the signature's domain)."""
    if not isinstance(cert, dict) or not isinstance(cert.get("payload"), dict):
        raise CertificateError("not a digital-human certificate: expected a JSON object with 'payload' and "
                               "'signature'")
    body = cert["payload"]
    if body.get("format") not in formats or body.get("version") != VERSION:
        raise CertificateError(f"not a digital-human certificate of version {VERSION} (format "
                               f"{body.get('format')!r}, version {body.get('version')!r})")
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
    keys = [k for k in keys if fingerprint(k).startswith(named)] or keys
    if not any(verify_with(k, str(body["format"]), canonical_json(body), signature) for k in keys):
        raise CertificateError(f"signature does not verify under key {', '.join(key_id(k) for k in keys)}: "
                               "the certificate was altered or signed by another key")
    return body
