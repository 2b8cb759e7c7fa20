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

from collections.abc import Sequence
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from vidlens.identity import Identity, sign_document, verify_document

FORMAT = DOMAIN = "vidlens-human-certificate"
# A use of a likeness (a presenter video): the humans-ledger entry that records it, signed in its own domain.
USE_FORMAT = "vidlens-human-use-certificate"
VERSION = 1


def sign(payload: dict[str, Any], identity: Identity, fmt: str = FORMAT) -> dict[str, Any]:
    """``payload`` signed as a certificate of kind ``fmt`` (also its signature domain)."""
    return sign_document(identity, fmt, {"format": fmt, "version": VERSION, **payload})


def verify(cert: Any, public: Ed25519PublicKey | Sequence[Ed25519PublicKey] | None = None,
           formats: Sequence[str] = (FORMAT,)) -> dict[str, Any]:
    """The signed payload when the signature verifies under ``public`` (or any of several keys); raises
    ``CertificateError`` otherwise. Without a key the embedded one is used: integrity, not who signed.
    ``formats``: the kinds accepted (each is also the signature's domain)."""
    body = cert.get("payload") if isinstance(cert, dict) else None
    kind = body.get("format") if isinstance(body, dict) else None
    return verify_document(cert, kind if kind in formats else formats[0], (VERSION,), "digital-human certificate",
                           public)
