"""A data dir written by VidLens 0.1.0 upgrades to one identity and one kind of hash chain, losing nothing.

The fixture (tests/contract/data/install-f34522b, made by that version) holds both of its signing
keys, labels signed by this install and by a partner it trusted, a registration certificate, the
registry ledger and both audit tables. After the upgrade every one of those still verifies, and
what is signed from then on is signed by the one identity.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from vidlens.govern import audit
from vidlens.govern.label import new_label
from vidlens.govern.service import label_file, verify_file
from vidlens.govern.tables import govern_audit
from vidlens.identity import Identity, fingerprint, load_public_key
from vidlens.platform import Platform
from vidlens.protect import certificate as certs
from vidlens.protect.registry import Registry
from vidlens.protect.tables import ledger
from vidlens.store.db import MIGRATIONS, Store

FIXTURE = Path(__file__).parent / "data" / "install-f34522b"
TABLES = json.loads((FIXTURE / "tables.json").read_text())


def _old_install(database_url: str, data: Path) -> None:
    """The fixture's keys and blobs in ``data``, its rows in a database at the revisions that wrote them."""
    shutil.copytree(FIXTURE / "data", data)
    store = Store(database_url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", os.pathsep.join(store.migration_dirs()))
    with store.engine.connect() as conn:
        cfg.attributes["connection"] = conn
        cfg.attributes["metadata"] = store.metadata
        for revision in TABLES["alembic_version"]:
            command.upgrade(cfg, revision)
        conn.commit()
    with store.engine.begin() as conn:
        reflected = sa.MetaData()
        for name in ("protect_works", "protect_ledger", "govern_audit", "api_audit"):
            table = sa.Table(name, reflected, autoload_with=conn)
            conn.execute(table.insert(), TABLES[name])
    store.dispose()


@pytest.fixture
def upgraded(platform_factory: Callable[..., Platform], database_url: str, tmp_path: Path) -> Platform:
    _old_install(database_url, tmp_path / "data")
    return platform_factory(database_url)  # migrates to the newest revisions; data dir: tmp_path / "data"


def test_keys_become_one_identity_and_old_signatures_still_verify(upgraded: Platform, tmp_path: Path) -> None:
    data = upgraded.data_dir
    old_label_key = load_public_key((FIXTURE / "data/govern/keys/signing.pub").read_text())
    old_cert_key = load_public_key((FIXTURE / "registry.pem").read_text())
    identity = Identity.open(data)
    # the label key is the identity; the certificate key is trusted and retired, never used again
    assert fingerprint(identity.public_key) == fingerprint(old_label_key)
    assert fingerprint(old_cert_key) in {k.fingerprint for k in identity.trusted()}
    retired = list((data / "keys" / "retired").glob("*.key"))
    assert len(retired) == 1 and stat.S_IMODE(retired[0].stat().st_mode) == 0o600
    assert not (data / "govern" / "keys").exists() and not (data / "protect" / "signing_key.pem").exists()

    # labels: this install's (8-hex key ids, as 0.1 wrote them) and the trusted partner's
    for name, want in (("labelled.mp4", ["valid", "valid"]), ("partner.mp4", ["valid", "absent"])):
        shutil.copy(FIXTURE / name, tmp_path / name)
        result = verify_file(tmp_path / name, data)
        assert [c["status"] for c in result["checks"]] == want, name
        assert len(result["checks"][0]["key_id"]) == 8

    # the 0.1 certificate: offline with the key exported then, and under the install's trusted keys
    cert = json.loads((FIXTURE / "certificate.json").read_text())
    assert cert["payload"]["version"] == 1 and len(cert["key_id"]) == 16
    assert certs.verify(cert, old_cert_key)["title"] == "Fractal"
    assert certs.verify(cert, [k.public for k in identity.trusted()])["owner"] == "Legacy Films"
    with pytest.raises(certs.CertificateError):
        certs.verify(cert, identity.public_key)  # signed by the retired key, not the identity


def test_chains_verify_after_the_upgrade_and_the_conversion_is_recorded(upgraded: Platform) -> None:
    # the registry ledger was already in the ledger format: byte-identical hashes, verify clean
    with upgraded.store.read() as conn:
        hashes = conn.execute(sa.select(ledger.c.entry_hash).order_by(ledger.c.seq)).scalars().all()
        rows = conn.execute(sa.select(govern_audit).order_by(govern_audit.c.seq)).mappings().all()
    assert hashes == [e["entry_hash"] for e in TABLES["protect_ledger"]]
    assert Registry(upgraded).verify() == []

    # one audit log: the govern entries (same seq) and the API rows, then the recorded conversion
    report = audit.verify(upgraded.store)
    assert report.ok, report.problems
    old, api = TABLES["govern_audit"], TABLES["api_audit"]
    assert [(r["seq"], r["action"], r["subject"]) for r in rows[:len(old)]] == \
        [(e["seq"], e["action"], e["subject"]) for e in old]
    assert [(r["action"], r["actor"], r["via"], r["path"]) for r in rows[len(old):-1]] == \
        [(e["action"], e["actor"], e["via"], e["path"]) for e in api]
    migrate = rows[-1]
    assert migrate["action"] == "audit.migrate" and migrate["detail"]["previous_chain_ok"] is True
    assert migrate["detail"]["previous_head"] == old[-1]["hash"]
    assert migrate["detail"]["rehashed"] == len(old) and migrate["detail"]["imported"] == {"api_audit": len(api)}

    # tampering with a converted entry is named
    with upgraded.store.tx() as conn:
        conn.execute(sa.update(govern_audit).where(govern_audit.c.seq == 2).values(detail={"verdict": "none"}))
    report = audit.verify(upgraded.store)
    assert report.first_broken == 2 and "audit entry 2 was altered" in report.problems[0]


def test_new_artefacts_are_signed_by_the_one_identity(upgraded: Platform, tmp_path: Path) -> None:
    identity = Identity.open(upgraded.data_dir)
    out = tmp_path / "new.mp4"
    report = label_file(FIXTURE / "partner.mp4", out, new_label("1", "VidLens-Studio", "new-1"),
                        data_dir=upgraded.data_dir)
    assert report.label is not None and report.label.ReservedCode1.split(".")[1] == identity.key_id[:8]
    assert verify_file(out, upgraded.data_dir)["verified"] is True

    registry = Registry(upgraded)
    work = registry.register(FIXTURE / "labelled.mp4", owner="New Owner", title="Relabelled")
    cert = work.certificate
    assert cert["key_id"] == identity.key_id and cert["payload"]["version"] == certs.CERT_VERSION
    assert certs.verify(cert, load_public_key(registry.public_key_pem()))["work_id"] == work.id
    assert registry.verify() == []
