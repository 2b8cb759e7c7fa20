"""A registered work over the API: its certificate is checked against the keys this install trusts, and a
certificate edited in the database is reported invalid (never an error page)."""

from __future__ import annotations

from pathlib import Path


def test_a_work_shows_whether_its_certificate_verifies(env, samples: Path) -> None:
    from vidlens.protect.registry import Registry
    from vidlens.protect.tables import works

    work = Registry(env.platform).register(samples / "blender_caminandes_10s.mp4", owner="Blender Foundation",
                                           title="Caminandes")
    r = env.client.get(f"/api/protect/works/{work.id}", headers=env.auth("viewer"))
    assert r.status_code == 200, r.text
    assert r.json()["certificate_check"]["valid"] is True, r.json()["certificate_check"]

    cert = dict(work.certificate)
    cert["payload"] = {**cert["payload"], "title": "Someone else's film"}
    with env.platform.store.tx() as conn:
        conn.execute(works.update().where(works.c.id == work.id).values(certificate=cert))
    r = env.client.get(f"/api/protect/works/{work.id}", headers=env.auth("viewer"))
    assert r.status_code == 200, r.text
    assert r.json()["certificate_check"]["valid"] is False
