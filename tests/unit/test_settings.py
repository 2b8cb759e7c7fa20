from pathlib import Path

import pytest

from vidlens.errors import ConfigError
from vidlens.settings import load_settings, settings_model


def test_precedence_defaults_file_env_flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "vidlens.toml"
    cfg.write_text("workers = 3\ndecode_threads = 3\n[jobs]\nlease_s = 9\nmax_attempts = 5\n")
    s = load_settings(cfg)
    assert (s.workers, s.jobs.lease_s, s.jobs.max_attempts) == (3, 9, 5)
    monkeypatch.setenv("VIDLENS_WORKERS", "4")
    monkeypatch.setenv("VIDLENS_JOBS__LEASE_S", "7")
    s = load_settings(cfg)
    assert (s.workers, s.jobs.lease_s, s.jobs.max_attempts, s.decode_threads) == (4, 7, 5, 3)
    assert load_settings(cfg, workers=1).workers == 1


def test_vidlens_toml_in_cwd_is_found(tmp_path: Path) -> None:
    (tmp_path / "vidlens.toml").write_text("workers = 2\n")
    assert load_settings().workers == 2


def test_unknown_keys_are_rejected_with_their_path(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[jobs]\nleese_s = 3\n")
    with pytest.raises(ConfigError, match=r"jobs\.leese_s: unknown key"):
        load_settings(cfg)


def test_invalid_values_say_what_was_expected(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text('workers = 0\ndatabase_url = "nonsense"\n')
    with pytest.raises(ConfigError) as info:
        load_settings(cfg)
    assert "workers" in info.value.message and "greater than or equal to 1" in info.value.message
    assert "database_url" in info.value.message


def test_broken_toml_is_a_config_error(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text("workers = = 2")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(cfg)


def test_capability_sections_come_from_the_file_and_environment(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "vidlens.toml"
    cfg.write_text("[govern]\naudit_retention_days = 200\n[serve]\nrate_limit_burst = 7\n")
    monkeypatch.setenv("VIDLENS_SERVE__RATE_LIMIT_BURST", "9")
    s = load_settings(cfg)
    assert (s.govern.audit_retention_days, s.serve.rate_limit_burst) == (200, 9)
    with pytest.raises(ConfigError, match=r"govern\.retention: unknown key"):
        load_settings(govern={"retention": 1})


def test_every_field_is_described() -> None:
    schema = settings_model().model_json_schema()
    assert {"govern", "serve", "deliver"} <= set(schema["properties"])  # one section per capability

    def walk(props: dict, defs: dict) -> None:
        for name, spec in props.items():
            assert spec.get("description"), f"field '{name}' has no description"

    walk(schema["properties"], schema.get("$defs", {}))
    for d in schema.get("$defs", {}).values():
        walk(d.get("properties", {}), {})
