"""A local Ray instance for the scale tests (two CPUs, so two actors; a small object store) and two
S3-compatible server processes: moto's standalone server (PyPI) and s3rver (npm), written apart."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from vidlens.api.serverproc import free_port

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "vidlens-test", "AWS_SECRET_ACCESS_KEY": "vidlens-test-secret",
               "AWS_DEFAULT_REGION": "us-east-1"}

STEP_MODULE = '''
import os, signal, time
from pathlib import Path
from vidlens.jobs.steps import Split, register_split, step

@step("scaletest.slow")
def slow(platform, ctx):
    log = Path(ctx.job.payload["log"])
    with log.open("a") as f:
        f.write(f"start {ctx.job.id} {os.getpid()}\\n")
    n = int(ctx.job.payload["seconds"] * 10)
    for i in range(n):
        time.sleep(0.1)
        ctx.report((i + 1) / n, f"tick {i}")
    with log.open("a") as f:
        f.write(f"done {ctx.job.id} {os.getpid()}\\n")
    return {"pid": os.getpid()}


@step("scaletest.parts")
def parts_whole(platform, ctx):
    return {"whole": os.getpid()}


def _plan(platform, job):
    return [{"i": i} for i in range(job.payload["parts"])]


def _part(platform, job, part):
    with Path(job.payload["log"]).open("a") as f:
        f.write(f"part {part['i']} {os.getpid()} {job.attempts}\\n")
    if part["i"] == job.payload.get("kill") and job.attempts == 1:
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(job.payload["seconds"])
    return {"i": part["i"], "pid": os.getpid()}


def _merge(platform, ctx, results):
    return {"parts": [r["i"] for r in results], "pids": sorted({r["pid"] for r in results})}


register_split("scaletest.parts", Split(_plan, _part, _merge))
'''


@pytest.fixture(scope="session")
def ray_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Ray with num_cpus=2 and an 80 MiB object store; its workers can import ``scalesteps``.

    Yields the folder of that step module (on the workers' PYTHONPATH)."""
    ray = pytest.importorskip("ray")
    steps_dir = tmp_path_factory.mktemp("scalesteps")
    (steps_dir / "scalesteps.py").write_text(STEP_MODULE)
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(steps_dir), old) if p)
    sys.path.insert(0, str(steps_dir))
    ray.init(num_cpus=2, object_store_memory=80 * 1024 * 1024, include_dashboard=False, log_to_driver=False,
             configure_logging=False)
    try:
        yield steps_dir
    finally:
        ray.shutdown()
        sys.path.remove(str(steps_dir))
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``moto_server`` on a free loopback port, as its own process; yields the endpoint URL."""
    port = free_port()
    log = open(tmp_path_factory.mktemp("s3") / "moto.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, "moto_server exited"
            try:
                urllib.request.urlopen(url + "/moto-api/", timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "moto_server did not start"
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


@pytest.fixture(scope="session")
def s3rver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """s3rver (npm; scripts/test-setup.sh installs it) on a free loopback port; yields the endpoint URL.
    Its keys are S3RVER / S3RVER."""
    exe = os.environ.get("S3RVER_BIN") or shutil.which("s3rver")
    if not exe:
        if os.environ.get("CI"):
            pytest.fail("s3rver is not installed: scripts/test-setup.sh installs it with npm")
        pytest.skip("s3rver is not installed (npm install s3rver@3.7.1; scripts/test-setup.sh does)")
    port = free_port()
    proc = subprocess.Popen([exe, "-d", str(tmp_path_factory.mktemp("s3rver")), "-a", "127.0.0.1", "-p", str(port),
                             "--silent"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, "s3rver exited"
            try:
                urllib.request.urlopen(url, timeout=1).close()
                break
            except urllib.error.HTTPError:
                break  # it answers (an S3 error for the bare URL)
            except OSError:
                assert time.monotonic() < deadline, "s3rver did not start"
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def bucket(s3_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A new bucket on the S3 server, with the server's credentials in the environment."""
    for k, v in CREDENTIALS.items():
        monkeypatch.setenv(k, v)
    name = f"vidlens-{uuid.uuid4().hex[:12]}"
    boto3 = pytest.importorskip("boto3")
    boto3.client("s3", endpoint_url=s3_server).create_bucket(Bucket=name)
    return name
