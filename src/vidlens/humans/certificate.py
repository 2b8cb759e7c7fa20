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
VERSION = 1


def sign(payload: dict[str, Any], identity: Identity) -> dict[str, Any]:
    return sign_document(identity, DOMAIN, {"format": FORMAT, "version": VERSION, **payload})


def verify(cert: Any, public: Ed25519PublicKey | Sequence[Ed25519PublicKey] | None = None) -> dict[str, Any]:
    """The signed payload when the signature verifies under ``public`` (or any of several keys); raises
    ``CertificateError`` otherwise. Without a key the embedded one is used: integrity, not who signed."""
    return verify_document(cert, DOMAIN, (VERSION,), "digital-human certificate", public)
