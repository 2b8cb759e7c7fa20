"""``vidlens serve --role``: one API process and two worker processes against one PostgreSQL database
and one S3-compatible blob store, and Watch's alerts to a mosquitto broker, as plain processes (what
docker-compose.yml runs as containers)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from tests.watch.conftest import Broker
from vidlens.api.serverproc import free_port, running_server
from vidlens.testing.synth import make_cut_clip

pytestmark = pytest.mark.postgres


def _env(database_url: str, bucket: str, endpoint: str) -> dict[str, str]:
    return {"VIDLENS_DATABASE_URL": database_url, "VIDLENS_BLOB_URL": f"s3://{bucket}/blobs",
            "VIDLENS_BLOB_ENDPOINT_URL": endpoint, "VIDLENS_JOBS__POLL_S": "0.2", "VIDLENS_WORKERS": "1"}


@contextmanager
def worker_role(data_dir: Path, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    data_dir.mkdir(parents=True)
    log = open(data_dir / "worker.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "-m", "vidlens", "serve", "--role", "worker", "--data-dir",
                             str(data_dir)], env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)  # as docker stop
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _jobs(database_url: str) -> list[tuple[str, int, int]]:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as c:
            return [tuple(r) for r in c.exec_driver_sql(  # type: ignore[misc]
                "SELECT status, attempts, completions FROM jobs WHERE kind = 'analyze' ORDER BY id")]
    finally:
        engine.dispose()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_api_and_two_workers_process_uploads_end_to_end(database_url: str, bucket: str, s3_server: str,
                                                        tmp_path: Path) -> None:
    env = _env(database_url, bucket, s3_server)
    clips = [make_cut_clip(tmp_path / f"clip{i}.mp4", w=160 + 16 * i)[0] for i in range(3)]
    with running_server(tmp_path / "api", env={**env, "VIDLENS_ADMIN_PASSWORD": "role-test-password"},
                        extra_args=["--role", "api"]) as api:
        key = subprocess.run([sys.executable, "-m", "vidlens", "keys", "create", "--user", "admin",
                              "--data-dir", str(tmp_path / "api")], env={**os.environ, **env},
                             capture_output=True, text=True, check=True).stdout.strip()
        with httpx.Client(base_url=api.url, timeout=60, headers={"Authorization": f"Bearer {key}"}) as c:
            uploads = []
            for clip in clips:
                with open(clip, "rb") as f:
                    r = c.post("/api/videos", files={"file": (clip.name, f, "video/mp4")})
                assert r.status_code == 201, r.text
                uploads.append(r.json())
            time.sleep(3)  # the API role runs no worker: nothing moves
            assert {s for s, _, _ in _jobs(database_url)} == {"queued"}
            with worker_role(tmp_path / "w1", env) as w1, worker_role(tmp_path / "w2", env) as w2:
                deadline = time.monotonic() + 240
                while any(s not in ("succeeded", "failed", "partial") for s, _, _ in _jobs(database_url)):
                    assert w1.poll() is None and w2.poll() is None, "a worker role exited"
                    assert time.monotonic() < deadline, _jobs(database_url)
                    time.sleep(0.5)
            assert w1.returncode == 0 and w2.returncode == 0  # SIGTERM stops a worker role cleanly
            assert _jobs(database_url) == [("succeeded", 1, 1)] * 3  # each ran once, stored once
            for up in uploads:
                shots = c.get(f"/api/videos/{up['video_id']}/shots").json()["shots"]
                assert len(shots) == 4  # the clip's four scenes, read through the API from PostgreSQL
                thumb = c.get(f"/api/blobs/{shots[0]['thumbnail_blob']}")  # streamed from the bucket
                assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
                assert thumb.content[:2] == b"\xff\xd8"
            assert c.get(f"/api/blobs/00/{'0' * 64}.jpg").status_code == 404
    assert not (tmp_path / "api" / "blobs").exists() and not (tmp_path / "w1" / "blobs").exists()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_watch_sends_alerts_to_the_broker_named_in_its_settings(database_url: str, bucket: str, s3_server: str,
                                                                tmp_path: Path) -> None:
    """The compose file's wiring: a camera YAML without ``mqtt:``, the broker from VIDLENS_WATCH__MQTT__*."""
    import paho.mqtt.client as mqtt

    broker = Broker(free_port())
    broker.start()
    got: list[tuple[str, bytes]] = []
    sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    sub.on_message = lambda _c, _u, m: got.append((m.topic, m.payload))
    try:
        sub.connect("127.0.0.1", broker.port)
        sub.subscribe("vidlens/#", qos=1)
        sub.loop_start()
        clip = make_cut_clip(tmp_path / "door.mp4")[0]
        cameras = tmp_path / "cameras.yml"
        cameras.write_text(f"cameras:\n  door:\n    source: {clip}\n")
        env = {**os.environ, **_env(database_url, bucket, s3_server), "VIDLENS_WATCH__MQTT__HOST": "127.0.0.1",
               "VIDLENS_WATCH__MQTT__PORT": str(broker.port)}
        subprocess.run([sys.executable, "-m", "vidlens", "watch", "run", str(cameras), "--until-eof", "--fast",
                        "--data-dir", str(tmp_path / "watch")], env=env, check=True, capture_output=True, timeout=180)
        deadline = time.monotonic() + 10
        while ("vidlens/door/available", b"online") not in got and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        sub.loop_stop()
        sub.disconnect()
        broker.stop()
    assert ("vidlens/door/available", b"online") in got, got  # the camera's state, through that broker
