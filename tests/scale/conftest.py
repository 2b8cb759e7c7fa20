"""A local Ray instance for the scale tests: two CPUs (two actors), a small object store."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

STEP_MODULE = '''
import os, time
from pathlib import Path
from vidlens.jobs.steps import step

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
