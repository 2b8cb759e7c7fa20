"""ReservedCode1/2: Ed25519 signatures binding the label to the content it sits on.

``ReservedCode1`` is the producer's signature over (Label, ContentProducer,
ProduceID, content hash); ``ReservedCode2`` is the propagator's over every other
field, ReservedCode1 included, plus the content hash. The content hash is the
codec's ``content_hash``: SHA-256 of the demuxed packets (images: of every chunk
except metadata), so a label copied onto other content, or any edited field,
fails verification, while a lossless remux or relabelling of other tags does not.

Encoding, all within Annex E's allowed characters: ``v1.<key id>.<signature>``,
key id = first 8 hex digits of SHA-256 of the raw public key, signature in
unpadded base64url. Keys live in ``<data dir>/govern/keys``: ``signing.key``
(PKCS#8 PEM, mode 0600, created on first use), ``signing.pub`` and ``trusted/*.pub``
(raw public keys in base64, one per trusted producer/propagator).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from vidlens.errors import ConfigError
from vidlens.govern.label import AigcLabel

Role = Literal["producer", "propagator"]
Status = Literal["valid", "invalid", "unknown_key", "malformed", "absent"]
_DOMAIN = {"producer": b"GB45438-AIGC-ReservedCode1\n", "propagator": b"GB45438-AIGC-ReservedCode2\n"}


def key_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "govern" / "keys"


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public: Ed25519PublicKey) -> str:
    return hashlib.sha256(_raw(public)).hexdigest()[:8]


def load_or_create_key(data_dir: Path) -> Ed25519PrivateKey:
    """The signing key of this installation, made on first use."""
    directory = key_dir(data_dir)
    path = directory / "signing.key"
    if path.is_file():
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except ValueError as exc:
            raise ConfigError(f"{path} is not a PEM private key: {exc}") from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise ConfigError(f"{path} is not an Ed25519 key")
        return key
    directory.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    (directory / "signing.pub").write_text(base64.b64encode(_raw(key.public_key())).decode() + "\n")
    return key


def trusted_keys(data_dir: Path) -> dict[str, Ed25519PublicKey]:
    """Own public key plus every ``trusted/*.pub``, by key id."""
    directory = key_dir(data_dir)
    keys: dict[str, Ed25519PublicKey] = {}
    paths = [directory / "signing.pub", *sorted((directory / "trusted").glob("*.pub"))]
    for path in paths:
        if not path.is_file():
            continue
        try:
            public = Ed25519PublicKey.from_public_bytes(base64.b64decode(path.read_text().strip(), validate=True))
        except ValueError as exc:
            raise ConfigError(f"{path} is not a base64 raw Ed25519 public key: {exc}") from exc
        keys[key_id(public)] = public
    return keys


def message(label: AigcLabel, content_hash: str, role: Role) -> bytes:
    """The exact bytes signed for ``role`` (documented in docs/govern.md)."""
    if role == "producer":
        fields = [label.Label, label.ContentProducer, label.ProduceID]
    else:
        fields = [label.Label, label.ContentProducer, label.ProduceID, label.ReservedCode1,
                  label.ContentPropagator, label.PropagateID]
    return _DOMAIN[role] + json.dumps(fields, separators=(",", ":")).encode() + b"\n" + content_hash.encode()


def sign(label: AigcLabel, content_hash: str, key: Ed25519PrivateKey, role: Role) -> AigcLabel:
    """``label`` with ReservedCode1 (producer) or ReservedCode2 (propagator) set."""
    if role == "producer":
        label = label.replace(ReservedCode1="")
    signature = key.sign(message(label, content_hash, role))
    code = f"v1.{key_id(key.public_key())}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"
    return label.replace(**({"ReservedCode1": code} if role == "producer" else {"ReservedCode2": code}))


@dataclass(frozen=True, slots=True)
class Check:
    role: Role
    status: Status
    key_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"role": self.role, "status": self.status, "key_id": self.key_id}


def check(label: AigcLabel, content_hash: str, keys: dict[str, Ed25519PublicKey], role: Role) -> Check:
    code = label.ReservedCode1 if role == "producer" else label.ReservedCode2
    if not code:
        return Check(role, "absent")
    parts = code.split(".")
    if len(parts) != 3 or parts[0] != "v1":
        return Check(role, "malformed")
    kid, sig = parts[1], parts[2]
    try:
        signature = base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4))
    except ValueError:
        return Check(role, "malformed", kid)
    public = keys.get(kid)
    if public is None:
        return Check(role, "unknown_key", kid)
    try:
        public.verify(signature, message(label, content_hash, role))
    except InvalidSignature:
        return Check(role, "invalid", kid)
    return Check(role, "valid", kid)
