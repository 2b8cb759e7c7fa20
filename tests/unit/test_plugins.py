from importlib.metadata import EntryPoint

import pytest

from vidlens.errors import PluginError
from vidlens.plugins import LoadedPlugin, PluginManifest, PluginRegistry


def test_builtins_load_through_entry_points() -> None:
    reg = PluginRegistry.discover()
    shots = reg.get("shots", kind="analyzer")
    assert shots.entry_point == "vidlens.analyze.builtin.shots:ShotDetector"


def test_duplicate_names_fail_loudly() -> None:
    m = PluginManifest("dup", "1", "analyzer", "x")
    reg = PluginRegistry([LoadedPlugin(m, object, "a:A")])
    with pytest.raises(PluginError, match="duplicate plugin name 'dup'.*a:A.*b:B"):
        reg.add(LoadedPlugin(m, object, "b:B"))


def test_entry_point_name_must_match_manifest() -> None:
    ep = EntryPoint(name="other", value="vidlens.analyze.builtin.shots:ShotDetector", group="vidlens.plugins")
    with pytest.raises(PluginError, match="names must match"):
        PluginRegistry.discover([ep])


def test_broken_entry_point_is_reported() -> None:
    ep = EntryPoint(name="ghost", value="vidlens.nope:Ghost", group="vidlens.plugins")
    with pytest.raises(PluginError, match="ghost.*failed to load"):
        PluginRegistry.discover([ep])


def test_wrong_kind_is_rejected() -> None:
    with pytest.raises(PluginError, match="expected a fingerprinter"):
        PluginRegistry.discover().get("shots", kind="fingerprinter")
