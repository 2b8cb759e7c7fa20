"""C2PA manifests signed here with a throw-away certificate chain, read back by ``provenance`` and ``triage``."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from vidlens.govern.provenance import read_c2pa
from vidlens.govern.triage import triage
from vidlens.media.ffmpeg import run_ffmpeg

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"


def _cert(subject: str, key, issuer_name, issuer_key, ca: bool):  # type: ignore[no-untyped-def]
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "VidLens tests")])
    usage = dict.fromkeys(("content_commitment", "key_encipherment", "data_encipherment", "key_agreement",
                           "encipher_only", "decipher_only"), False)
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer_name or name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=7))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=not ca, key_cert_sign=ca, crl_sign=ca, **usage),
                              critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
    if not ca:
        builder = (builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                                  critical=False))
    return builder.sign(issuer_key or key, hashes.SHA256())


@pytest.fixture(scope="module")
def signer():  # type: ignore[no-untyped-def]
    import c2pa
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    ca_key, ee_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = _cert("test CA", ca_key, None, None, ca=True)
    ee = _cert("test signer", ee_key, ca.subject, ca_key, ca=False)
    chain = ee.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(serialization.Encoding.PEM)
    key = ee_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                               serialization.NoEncryption())
    return c2pa.C2paSignerInfo(b"es256", chain, key, None)


def _sign(info, src: Path, dst: Path, source_type: str) -> Path:  # type: ignore[no-untyped-def]
    import c2pa

    manifest = {"claim_generator_info": [{"name": "vidlens-tests", "version": "1"}], "title": src.name,
                "assertions": [{"label": "c2pa.actions", "data": {"actions": [
                    {"action": "c2pa.created", "digitalSourceType": IPTC + source_type}]}}]}
    with c2pa.Builder(json.dumps(manifest)) as builder, c2pa.Signer.from_info(info) as s:
        builder.sign_file(src, dst, s)
    return dst


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("c2pa") / "clip.mp4"
    run_ffmpeg(["-f", "lavfi", "-i", "testsrc2=s=320x240:r=10:d=1", "-c:v", "libx264", "-pix_fmt", "yuv420p",
                str(out)])
    return out


def test_ai_manifest_is_reported_and_triaged_as_suspected(signer, clip: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    signed = _sign(signer, clip, tmp_path / "ai.mp4", "trainedAlgorithmicMedia")
    got = read_c2pa(signed)
    assert got["found"] and got["ai"] and got["validation_failures"] == []
    assert got["digital_source_types"] == [IPTC + "trainedAlgorithmicMedia"]
    assert got["signer"]["common_name"] == "test signer"
    verdict = triage(signed)
    assert verdict["verdict"] == "suspected"
    assert [e["kind"] for e in verdict["evidence"]] == ["c2pa"]


def test_camera_manifest_is_not_ai_and_plain_files_have_none(signer, clip: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    signed = _sign(signer, clip, tmp_path / "camera.mp4", "digitalCapture")
    got = read_c2pa(signed)
    assert got["found"] and not got["ai"] and got["digital_source_types"] == [IPTC + "digitalCapture"]
    assert triage(signed)["verdict"] == "none"
    assert read_c2pa(clip)["found"] is False
    text = tmp_path / "notes.txt"
    text.write_text("not media")
    assert read_c2pa(text) == {**read_c2pa(clip)}


def test_edited_content_fails_validation(signer, clip: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    signed = _sign(signer, clip, tmp_path / "ai.mp4", "trainedAlgorithmicMedia")
    data = bytearray(signed.read_bytes())
    at = data.rindex(b"mdat") + 200
    data[at] ^= 0xFF
    signed.write_bytes(bytes(data))
    got = read_c2pa(signed)
    assert got["ai"] and got["validation_failures"], got


def test_c2pa_cli(signer, clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    from vidlens.cli.app import inner_main

    signed = _sign(signer, clip, tmp_path / "ai.mp4", "compositeWithTrainedAlgorithmicMedia")
    assert inner_main(["label", "c2pa", str(signed), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ai"] is True and out["ai_assertions"][0]["assertion"].startswith("c2pa.actions")
    assert inner_main(["label", "c2pa", str(tmp_path / "missing.mp4")]) != 0
