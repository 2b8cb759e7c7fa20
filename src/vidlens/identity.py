"""The install's signing identity: one Ed25519 key that signs AIGC labels and registration certificates.

Files, under ``<data dir>/keys/``:

- ``identity.key``: the private key (PKCS#8 PEM, mode 0600), made on first use. Back it up: anyone
  holding it can sign as this install.
- ``identity.pub``: its public key (raw 32 bytes in base64), the file to hand to others.
- ``trusted/*.pub``: public keys whose signatures this install accepts (base64 or PEM): partners'
  keys and this install's earlier keys.
- ``retired/``: earlier private keys, kept but never used to sign again.

A key's **fingerprint** is the SHA-256 of its raw public bytes in hex; a **key id** is a prefix of
it. Certificates carry 16 hex digits, AIGC labels 8 (their wire format since 0.1), and ``find``
matches any prefix of at least 8 digits, so ids of either length resolve to the same key.

Every signature is **domain separated**: the signed bytes are ``domain + "\\n" + message``, with a
domain per kind of artefact, so a signature made for one kind can never pass for another.

Installs made before the identity had two keys (``govern/keys/signing.key`` for labels,
``protect/signing_key.pem`` for certificates). ``Identity.open`` moves them once: the label key
becomes the identity, because its public key is the one other parties hold (their
``trusted/*.pub``) to check this install's labels on files that travel anywhere; a certificate
carries its own key and is checked against a key its holder asks for. The certificate key's public
half joins ``trusted/`` and its private half goes to ``retired/``, so every earlier label and
certificate still verifies.
"""

from __future__ import annotations

import base64
import fcntl
import os
import shutil
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from vidlens.errors import ConfigError, UsageError, VidLensError
from vidlens.hashing import canonical_json, sha256_bytes

KEY_ID_HEX = 16
MIN_KEY_ID_HEX = 8


def raw_public(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def fingerprint(public: Ed25519PublicKey) -> str:
    """SHA-256 of the raw public key, hex: every key id is a prefix of it."""
    return sha256_bytes(raw_public(public))


def key_id(public: Ed25519PublicKey, length: int = KEY_ID_HEX) -> str:
    return fingerprint(public)[:length]


def public_pem(public: Ed25519PublicKey) -> str:
    return public.public_bytes(serialization.Encoding.PEM,
                               serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def public_b64(public: Ed25519PublicKey) -> str:
    return base64.b64encode(raw_public(public)).decode()


def load_public_key(text: str | bytes) -> Ed25519PublicKey:
    """A public key from PEM or from its 32 raw bytes in base64."""
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


def signed_bytes(domain: str, message: bytes) -> bytes:
    """What is actually signed: the domain, a newline, the message."""
    if not domain or "\n" in domain or not domain.isascii():
        raise ValueError(f"signature domain must be one line of ASCII, got {domain!r}")
    return domain.encode() + b"\n" + message


def verify_with(public: Ed25519PublicKey, domain: str, message: bytes, signature: bytes) -> bool:
    """True when ``signature`` is ``public``'s over ``message`` in ``domain``."""
    try:
        public.verify(signature, signed_bytes(domain, message))
    except InvalidSignature:
        return False
    return True


class CertificateError(VidLensError):
    """A signed document (certificate) is malformed, or its signature does not verify."""

    exit_code = 13
    http_status = 422
    code = "certificate_invalid"


def sign_document(identity: Identity, domain: str, body: dict[str, Any]) -> dict[str, Any]:
    """``{"payload", "signature", "public_key", "key_id"}``: ``body`` signed in ``domain`` as canonical JSON."""
    return {"payload": body, "signature": base64.b64encode(identity.sign(domain, canonical_json(body))).decode(),
            "public_key": public_b64(identity.public_key), "key_id": identity.key_id}


SignatureCheck = Callable[[Ed25519PublicKey, dict[str, Any], bytes], bool]


def verify_document(doc: Any, domain: str, versions: Sequence[int], what: str,
                    public: Ed25519PublicKey | Sequence[Ed25519PublicKey] | None = None,
                    check: SignatureCheck | None = None) -> dict[str, Any]:
    """The payload of a ``sign_document`` document whose format is ``domain`` and version one of
    ``versions``, when its signature verifies under ``public`` (one key or any of several); raises
    ``CertificateError`` naming ``what`` otherwise. Without a key the embedded one is used: that proves
    integrity, not who signed. ``check`` replaces the domain-separated check (for older versions)."""
    if not isinstance(doc, dict) or not isinstance(doc.get("payload"), dict):
        raise CertificateError(f"not a {what}: expected a JSON object with 'payload' and 'signature'")
    body = doc["payload"]
    if body.get("format") != domain or body.get("version") not in versions:
        raise CertificateError(f"not a {what} of version {' or '.join(map(str, versions))} (format "
                               f"{body.get('format')!r}, version {body.get('version')!r})")
    try:
        signature = base64.b64decode(str(doc.get("signature", "")), validate=True)
        if public is None:
            keys = [Ed25519PublicKey.from_public_bytes(base64.b64decode(str(doc.get("public_key", "")),
                                                                        validate=True))]
        else:
            keys = [public] if isinstance(public, Ed25519PublicKey) else list(public)
    except ValueError as exc:
        raise CertificateError(f"certificate signature or key is not valid base64: {exc}") from None
    if not keys:
        raise CertificateError("no public key to check the certificate against")
    named = str(doc.get("key_id", "")).lower()
    keys = [k for k in keys if fingerprint(k).startswith(named)] or keys  # the named key first, if present
    signed = check or (lambda key, payload, sig: verify_with(key, domain, canonical_json(payload), sig))
    if not any(signed(k, body, signature) for k in keys):
        raise CertificateError(f"signature does not verify under key {', '.join(key_id(k) for k in keys)}: "
                               "the certificate was altered or signed by another key")
    return body


def _read_private(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except ValueError as exc:
        raise ConfigError(f"{path} is not a PEM private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"{path} is not an Ed25519 private key")
    return key


def _private_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _write_new(path: Path, data: bytes, mode: int) -> bool:
    """Create ``path`` with ``data`` unless it exists (atomic: never a half-written key). True if written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.link(tmp, path)  # fails if another process made it first
        return True
    except FileExistsError:
        return False
    finally:
        tmp.unlink(missing_ok=True)


@dataclass(frozen=True, slots=True)
class TrustedKey:
    public: Ed25519PublicKey
    fingerprint: str
    source: str  # the file it came from, or "identity"


class Identity:
    """This install's key pair and the keys it trusts. Build with ``Identity.open(data_dir)``."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._key: Ed25519PrivateKey | None = None

    @classmethod
    def open(cls, data_dir: Path) -> Identity:
        """The identity of the install at ``data_dir``, moving keys of earlier versions in first."""
        identity = cls(Path(data_dir) / "keys")
        _migrate_legacy_keys(Path(data_dir), identity.directory)
        return identity

    @property
    def key_path(self) -> Path:
        return self.directory / "identity.key"

    @property
    def trusted_dir(self) -> Path:
        return self.directory / "trusted"

    # -- own key ----------------------------------------------------------------------------
    def private_key(self) -> Ed25519PrivateKey:
        """The signing key, made (mode 0600) on first use."""
        if self._key is None:
            if not self.key_path.is_file():
                _write_new(self.key_path, _private_pem(Ed25519PrivateKey.generate()), 0o600)
            self._key = _read_private(self.key_path)
            pub = self.directory / "identity.pub"
            if not pub.is_file() or pub.read_text().strip() != public_b64(self._key.public_key()):
                with suppress(OSError):  # a read-only data dir can still verify; the export is a convenience
                    pub.write_text(public_b64(self._key.public_key()) + "\n")
        return self._key

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key().public_key()

    @property
    def key_id(self) -> str:
        return key_id(self.public_key)

    def sign(self, domain: str, message: bytes) -> bytes:
        return self.private_key().sign(signed_bytes(domain, message))

    def export_public(self, fmt: str = "pem") -> str:
        """The public key to give others: ``pem`` (SubjectPublicKeyInfo) or ``base64`` (raw bytes)."""
        if fmt == "pem":
            return public_pem(self.public_key)
        if fmt == "base64":
            return public_b64(self.public_key) + "\n"
        raise UsageError(f"public key format must be pem or base64, got {fmt!r}")

    # -- trust ------------------------------------------------------------------------------
    def trusted(self) -> list[TrustedKey]:
        """Own key (when made) and every ``trusted/*.pub``; a bad file is an error, not skipped."""
        keys: list[TrustedKey] = []
        if self.key_path.is_file():
            keys.append(TrustedKey(self.public_key, fingerprint(self.public_key), "identity"))
        for path in sorted(self.trusted_dir.glob("*.pub")) if self.trusted_dir.is_dir() else []:
            try:
                public = load_public_key(path.read_bytes())
            except UsageError as exc:
                raise ConfigError(f"{path}: {exc.message}") from None
            keys.append(TrustedKey(public, fingerprint(public), path.name))
        return keys

    def find(self, kid: str) -> list[Ed25519PublicKey]:
        """Trusted keys whose fingerprint starts with ``kid`` (8 to 64 hex digits)."""
        kid = kid.lower()
        if not MIN_KEY_ID_HEX <= len(kid) <= 64 or any(c not in "0123456789abcdef" for c in kid):
            return []
        return [k.public for k in self.trusted() if k.fingerprint.startswith(kid)]

    def verify(self, domain: str, message: bytes, signature: bytes, kid: str) -> bool | None:
        """True if a trusted key named by ``kid`` signed it, False if none did, None if no key has that id."""
        candidates = self.find(kid)
        if not candidates:
            return None
        return any(verify_with(k, domain, message, signature) for k in candidates)

    def trust(self, public: Ed25519PublicKey, name: str | None = None) -> Path:
        """Add ``public`` to the trusted keys (idempotent); returns its file."""
        path = self.trusted_dir / f"{name or key_id(public)}.pub"
        if path.is_file() and raw_public(load_public_key(path.read_bytes())) == raw_public(public):
            return path
        if path.exists():
            raise UsageError(f"{path} already holds another key")
        _write_new(path, (public_b64(public) + "\n").encode(), 0o644)
        return path


# -- keys of installs made before the identity ---------------------------------------------------
LEGACY_LABEL_KEY = Path("govern") / "keys"                 # signing.key, signing.pub, trusted/*.pub
LEGACY_CERT_KEY = Path("protect") / "signing_key.pem"


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _migrate_legacy_keys(data_dir: Path, directory: Path) -> None:
    label_dir, cert_key = data_dir / LEGACY_LABEL_KEY, data_dir / LEGACY_CERT_KEY
    if not (label_dir / "signing.key").is_file() and not cert_key.is_file() \
            and not (label_dir / "trusted").is_dir():
        return
    with _locked(directory):
        identity_key = directory / "identity.key"
        label_key = label_dir / "signing.key"
        # the label key becomes the identity (the certificate key when it is the only one)
        first = label_key if label_key.is_file() else cert_key if cert_key.is_file() else None
        if first is not None and not identity_key.exists():
            key = _read_private(first)
            _write_new(identity_key, _private_pem(key), 0o600)
        own = raw_public(_read_private(identity_key).public_key()) if identity_key.is_file() else None
        for old in (label_key, cert_key):
            if not old.is_file():
                continue
            key = _read_private(old)
            if raw_public(key.public_key()) != own:
                kid = key_id(key.public_key())
                Identity(directory).trust(key.public_key(), f"retired-{kid}")
                _write_new(directory / "retired" / f"{kid}.key", _private_pem(key), 0o600)
            old.unlink()
        for pub in sorted((label_dir / "trusted").glob("*.pub")) if (label_dir / "trusted").is_dir() else []:
            target = directory / "trusted" / pub.name
            if target.exists() and target.read_bytes() != pub.read_bytes():
                target = target.with_name(f"{pub.stem}-{fingerprint(load_public_key(pub.read_bytes()))[:8]}.pub")
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists():
                shutil.copy2(pub, target)
            pub.unlink()
        (label_dir / "signing.pub").unlink(missing_ok=True)
        for d in (label_dir / "trusted", label_dir):
            if d.is_dir() and not any(d.iterdir()):
                d.rmdir()
