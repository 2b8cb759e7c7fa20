"""The install's signing identity: domain separation, key ids, trust, and keys of earlier installs."""

from __future__ import annotations

import base64
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from vidlens.errors import ConfigError
from vidlens.identity import Identity, fingerprint, load_public_key, public_b64, verify_with


def _pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def test_key_is_made_once_private_and_exported(tmp_path: Path) -> None:
    ident = Identity.open(tmp_path)
    assert not ident.key_path.exists()  # nothing is written until something is signed
    ident.sign("test", b"m")
    assert stat.S_IMODE(ident.key_path.stat().st_mode) == 0o600
    again = Identity.open(tmp_path)
    assert again.key_id == ident.key_id and len(ident.key_id) == 16
    for fmt in ("pem", "base64"):
        assert fingerprint(load_public_key(ident.export_public(fmt))) == fingerprint(ident.public_key)
    assert (tmp_path / "keys" / "identity.pub").read_text().strip() == public_b64(ident.public_key)


def test_signatures_are_bound_to_their_domain(tmp_path: Path) -> None:
    ident = Identity.open(tmp_path)
    sig = ident.sign("vidlens-certificate", b"{}")
    assert verify_with(ident.public_key, "vidlens-certificate", b"{}", sig)
    assert not verify_with(ident.public_key, "GB45438-AIGC-ReservedCode1", b"{}", sig)
    with pytest.raises(ValueError):
        ident.sign("two\nlines", b"m")  # a domain holding the separator could imitate another


def test_key_ids_of_any_length_from_8_digits_name_the_same_key(tmp_path: Path) -> None:
    ident = Identity.open(tmp_path)
    sig = ident.sign("d", b"m")
    full = fingerprint(ident.public_key)
    for kid in (full[:8], full[:16], full, full[:8].upper()):
        assert ident.verify("d", b"m", sig, kid) is True
    assert ident.verify("d", b"other", sig, full[:8]) is False
    assert ident.verify("d", b"m", sig, full[:7]) is None  # too short to name a key
    assert ident.verify("d", b"m", sig, "0" * 8 if not full.startswith("0" * 8) else "f" * 8) is None


def test_trusted_keys_and_a_bad_key_file(tmp_path: Path) -> None:
    ident, partner = Identity.open(tmp_path), Identity.open(tmp_path / "partner")
    sig = partner.sign("d", b"m")
    assert ident.verify("d", b"m", sig, partner.key_id) is None
    ident.trust(partner.public_key, "partner")
    assert ident.trust(partner.public_key, "partner").name == "partner.pub"  # idempotent
    assert ident.verify("d", b"m", sig, partner.key_id) is True
    (ident.trusted_dir / "broken.pub").write_text("not a key\n")
    with pytest.raises(ConfigError, match="broken.pub"):
        ident.trusted()


def _legacy(data: Path, *, label: bool, cert: bool) -> tuple[Ed25519PrivateKey, Ed25519PrivateKey]:
    label_key, cert_key = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    if label:
        (data / "govern" / "keys" / "trusted").mkdir(parents=True)
        (data / "govern" / "keys" / "signing.key").write_bytes(_pem(label_key))
        raw = label_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        (data / "govern" / "keys" / "signing.pub").write_text(base64.b64encode(raw).decode() + "\n")
        (data / "govern" / "keys" / "trusted" / "partner.pub").write_text(
            public_b64(Ed25519PrivateKey.generate().public_key()) + "\n")
    if cert:
        (data / "protect").mkdir(parents=True)
        (data / "protect" / "signing_key.pem").write_bytes(_pem(cert_key))
    return label_key, cert_key


def test_both_old_keys_label_key_becomes_the_identity(tmp_path: Path) -> None:
    label_key, cert_key = _legacy(tmp_path, label=True, cert=True)
    with ThreadPoolExecutor(6) as pool:  # several processes opening the data dir at once agree
        ids = set(pool.map(lambda _: Identity.open(tmp_path).key_id, range(12)))
    ident = Identity.open(tmp_path)
    assert ids == {ident.key_id} and fingerprint(ident.public_key) == fingerprint(label_key.public_key())
    trusted = {k.source: k.fingerprint for k in ident.trusted()}
    assert trusted["partner.pub"] and fingerprint(cert_key.public_key()) in trusted.values()
    assert [p.name for p in (tmp_path / "keys" / "retired").iterdir()] == \
        [f"{fingerprint(cert_key.public_key())[:16]}.key"]
    assert not (tmp_path / "govern" / "keys").exists() and not (tmp_path / "protect" / "signing_key.pem").exists()


def test_only_the_certificate_key_becomes_the_identity(tmp_path: Path) -> None:
    _, cert_key = _legacy(tmp_path, label=False, cert=True)
    ident = Identity.open(tmp_path)
    assert fingerprint(ident.public_key) == fingerprint(cert_key.public_key())
    assert not (tmp_path / "keys" / "retired").exists()


def test_an_unreadable_old_key_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "protect").mkdir()
    (tmp_path / "protect" / "signing_key.pem").write_text("-----BEGIN PRIVATE KEY-----\nxx\n-----END PRIVATE KEY-----\n")
    with pytest.raises(ConfigError, match="signing_key.pem"):
        Identity.open(tmp_path)
    assert (tmp_path / "protect" / "signing_key.pem").exists()  # nothing is lost


def test_a_data_dir_that_cannot_take_the_public_key_export_still_verifies(tmp_path: Path) -> None:
    ident = Identity.open(tmp_path)
    sig = ident.sign("d", b"m")
    pub = tmp_path / "keys" / "identity.pub"
    pub.unlink()
    pub.mkdir()  # the export cannot be written (as on a read-only mount; root ignores mode bits)
    again = Identity.open(tmp_path)
    assert again.verify("d", b"m", sig, ident.key_id) is True
    assert pub.is_dir() and again.key_id == ident.key_id
