"""One validated settings model, composed from the core fields and one section per capability.

``Settings`` holds the core fields; ``settings_model()`` adds a section for every installed
capability that declares one (``[govern]``, ``[serve]``, ``[deliver]`` ...), so this module
knows no domain. Precedence: defaults < ``vidlens.toml`` < ``VIDLENS_*`` environment < explicit
flags. Unknown keys are errors everywhere (a typo must never be silently ignored), and every
field carries a description that ``vidlens config schema`` publishes.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from vidlens.capability import Capability, CapabilityError, installed
from vidlens.errors import ConfigError

CONFIG_FILE_ENV = "VIDLENS_CONFIG"
DEFAULT_CONFIG_NAME = "vidlens.toml"


class MediaSettings(BaseModel):
    """Safety limits applied when media is ingested."""

    model_config = ConfigDict(extra="forbid")

    max_file_bytes: int = Field(64 * 1024**3, gt=0, description="Largest file accepted for ingest, in bytes.")
    max_width: int = Field(16384, gt=0, description="Largest picture width accepted, in pixels.")
    max_height: int = Field(16384, gt=0, description="Largest picture height accepted, in pixels.")
    max_duration_s: float = Field(24 * 3600, gt=0, description="Longest duration accepted, in seconds.")
    extensions: list[str] = Field(
        default_factory=lambda: [".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi", ".flv", ".ts", ".mts",
                                 ".mpg", ".mpeg", ".gif", ".wmv", ".3gp", ".ogv"],
        description="File extensions picked up when ingesting a folder (files named explicitly are always tried).")


class JobSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lease_s: float = Field(30.0, gt=0, description="A claimed job is reclaimed if its worker misses heartbeats this long.")
    heartbeat_s: float = Field(5.0, gt=0, description="How often a running job renews its lease.")
    max_attempts: int = Field(3, ge=1, description="Attempts before a job is marked failed.")
    backoff_s: float = Field(2.0, ge=0, description="Base of the exponential retry backoff, in seconds.")
    poll_s: float = Field(0.5, gt=0, description="How often an idle worker looks for new jobs.")


class Settings(BaseSettings):
    """The core settings; ``settings_model()`` is this plus one section per installed capability."""

    model_config = SettingsConfigDict(env_prefix="VIDLENS_", env_nested_delimiter="__", extra="forbid",
                                      validate_default=True)

    data_dir: Path = Field(Path("vidlens-data"), description="Directory holding the database and blobs.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL. Default: SQLite file 'vidlens.db' in data_dir. "
                          "PostgreSQL: postgresql+psycopg://user:pass@host/db")
    workers: int = Field(max(1, min(4, os.cpu_count() or 1)), ge=1, le=256,
                         description="Worker processes the local runner starts.")
    decode_threads: int = Field(2, ge=1, le=64, description="Decoder threads per video.")
    videos_at_once: int = Field(
        max(1, min(2, os.cpu_count() or 1)), ge=1, le=16,
        description="Videos one process analyses at the same time (`vidlens analyze`, `ingest`, `demo`). "
                    "A second video uses the cores the first leaves idle (a short clip's fixed costs, "
                    "the last analyzer finishing). Worker processes take one job each.")
    runner: Literal["local", "ray"] = Field(
        "local", description="What runs queued jobs: 'local' (worker processes on this machine) or 'ray' "
                             "(actors on a Ray cluster; needs the [scale] extra). The job table stays the truth "
                             "either way.")
    ray_address: str | None = Field(
        None, description="Ray cluster to join (such as ray://head:10001 or head:6379); none: a local Ray "
                          "instance is started with `workers` CPUs.")
    ray_object_store_mb: int = Field(
        256, ge=80, le=1024 * 1024, description="Object store of a locally started Ray instance, in MiB "
                                                "(jobs pass ids and small results through it, never video).")
    ray_split_s: float = Field(
        600.0, ge=0, description="With runner = 'ray', a video at least twice this long (seconds) is analysed in "
                                 "time ranges of about this length on several actors at once, for the analyzers "
                                 "that split exactly (shots; the others run whole beside them); 0: never split.")
    blob_url: str | None = Field(
        None, description="Where blobs live. Default: the directory 'blobs' in data_dir. S3-compatible: "
                          "s3://bucket/prefix (endpoint and keys from blob_endpoint_url and the usual "
                          "AWS_* environment; needs the [scale] extra).")
    blob_endpoint_url: str | None = Field(
        None, description="Endpoint of an S3-compatible store such as MinIO (http://minio:9000); none: AWS.")
    log_level: Literal["debug", "info", "warning", "error"] = Field("warning", description="Log verbosity.")
    media: MediaSettings = Field(default_factory=MediaSettings, description="Ingest safety limits.")
    jobs: JobSettings = Field(default_factory=JobSettings, description="Durable job queue behaviour.")
    plugins: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Per-plugin configuration, keyed by plugin name; validated by the plugin.")

    @field_validator("database_url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        if v is not None and "://" not in v:
            raise ValueError("must be an SQLAlchemy URL such as sqlite:///path.db or postgresql+psycopg://...")
        return v

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'vidlens.db').resolve()}"

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _TomlSource(settings_cls))


def build_settings_model(capabilities: Iterable[Capability]) -> type[Settings]:
    """``Settings`` plus one field per capability section, named after the capability."""
    sections: dict[str, Any] = {}
    for cap in capabilities:
        if cap.settings is None:
            continue
        if cap.name in Settings.model_fields:
            raise CapabilityError(f"capability '{cap.name}' declares a settings section whose name is taken "
                                  "by a core setting")
        if cap.settings.model_config.get("extra") != "forbid":
            raise CapabilityError(f"capability '{cap.name}': its settings model {cap.settings.__name__} must "
                                  "set extra='forbid' (unknown keys are errors)")
        sections[cap.name] = (cap.settings, Field(default_factory=cap.settings, description=cap.summary))
    return create_model("Settings", __base__=Settings, __module__=__name__,
                        __doc__="Everything VidLens can be configured with.", **sections)


@cache
def _model_for(capabilities: tuple[Capability, ...]) -> type[Settings]:
    return build_settings_model(capabilities)


def settings_model() -> type[Settings]:
    """The settings model of this environment: core fields and every installed capability's section."""
    return _model_for(tuple(installed()))


class _TomlSource(PydanticBaseSettingsSource):
    """Reads the TOML file named by ``_config_file`` (set by ``load_settings``)."""

    path: Path | None = None

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:  # pragma: no cover
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        p = _TomlSource.path
        if p is None:
            return {}
        try:
            with open(p, "rb") as f:
                return tomllib.load(f)
        except FileNotFoundError:
            raise ConfigError(f"config file not found: {p}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{p}: not valid TOML: {exc}") from None


def _find_config(config_file: Path | str | None) -> Path | None:
    if config_file is not None:
        return Path(config_file)
    env = os.environ.get(CONFIG_FILE_ENV)
    if env:
        return Path(env)
    local = Path.cwd() / DEFAULT_CONFIG_NAME
    return local if local.is_file() else None


def format_validation_error(exc: ValidationError, source: str = "settings") -> str:
    lines = []
    for err in exc.errors():
        loc = ".".join(str(x) for x in err["loc"]) or "(root)"
        value = err.get("input")
        shown = repr(value) if not isinstance(value, dict) else "{...}"
        if err["type"] == "extra_forbidden":
            lines.append(f"{loc}: unknown key (value {shown}); see `vidlens config schema` for valid keys")
        else:
            lines.append(f"{loc}: {err['msg']} (got {shown})")
    return f"invalid {source}:\n  " + "\n  ".join(lines)


def load_settings(config_file: Path | str | None = None, **flags: Any) -> Settings:
    """Build settings from defaults, the TOML file, the environment and ``flags``."""
    _TomlSource.path = _find_config(config_file)
    try:
        return settings_model()(**flags)
    except ValidationError as exc:
        source = f"settings (config file {_TomlSource.path})" if _TomlSource.path else "settings"
        raise ConfigError(format_validation_error(exc, source)) from None
    finally:
        _TomlSource.path = None
