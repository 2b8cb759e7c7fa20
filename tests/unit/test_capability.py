"""The capability registry: load order, duplicates, requirements, services, settings sections."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ConfigDict, Field

from vidlens.capability import Capabilities, Capability, CapabilityError, installed
from vidlens.settings import Settings, build_settings_model


def caps(*items: Capability) -> Capabilities:
    return Capabilities((c, f"pkg_{c.name}.capability:capability") for c in items)


def test_load_order_puts_requirements_first_then_names() -> None:
    order = caps(Capability("zeta", "z", requires=("core",)), Capability("beta", "b", requires=("zeta",)),
                 Capability("core", "c"), Capability("alpha", "a", requires=("core",))).names()
    assert order == ["core", "alpha", "zeta", "beta"]


def test_duplicate_names_name_both_providers() -> None:
    message = r"duplicate capability name 'x': provided by both pkg_x.* and pkg_x"
    with pytest.raises(CapabilityError, match=message):
        caps(Capability("x", "one"), Capability("x", "two"))


@pytest.mark.parametrize(("items", "message"), [
    ((Capability("a", "a", requires=("ghost",)),), "'a' requires 'ghost', which is not installed"),
    ((Capability("a", "a", requires=("b",)), Capability("b", "b", requires=("a",))), "loop: a -> b -> a"),
    ((Capability("Bad-Name", "x"),), "must be lower case"),
    ((Capability("a", "a", services={"s": "m:f"}), Capability("b", "b", services={"s": "n:g"})),
     "service 's' is provided by both capability 'a' and 'b'"),
])
def test_wrong_declarations_are_errors(items: tuple[Capability, ...], message: str) -> None:
    with pytest.raises(CapabilityError, match=message):
        caps(*items)


def test_tables_need_migrations() -> None:
    with pytest.raises(CapabilityError, match="declares tables but no migrations"):
        Capability("a", "a", tables="a.tables")


def test_missing_declared_modules_are_named() -> None:
    cap = Capability("a", "a", tables="vidlens.no_such_tables", migrations="a.migrations")
    with pytest.raises(CapabilityError, match="tables module 'vidlens.no_such_tables', which does not exist"):
        cap.import_part("tables", "vidlens.no_such_tables")
    with pytest.raises(CapabilityError, match="migrations package 'vidlens.no_such', which does not exist"):
        Capability("a", "a", migrations="vidlens.no_such").migrations_dir()
    with pytest.raises(CapabilityError, match="'x' names 'vidlens.catalog:Nope', which does not exist"):
        Capability("a", "a", services={"x": "vidlens.catalog:Nope"}).service_factory("x")


def test_unknown_service_lists_the_known_ones() -> None:
    with pytest.raises(CapabilityError, match=r"provides a service named 'nope' \(known: .*catalog"):
        installed().service_owner("nope")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")
    level: int = Field(1, description="How much.")


class _Loose(BaseModel):
    level: int = 1


def test_settings_get_one_section_per_capability() -> None:
    model = build_settings_model([Capability("extra", "An extra section.", settings=_Section)])
    s = model(extra={"level": 3})
    assert isinstance(s, Settings) and s.extra.level == 3  # type: ignore[attr-defined]
    assert model.model_json_schema()["properties"]["extra"]["description"] == "An extra section."
    with pytest.raises(CapabilityError, match="taken by a core setting"):
        build_settings_model([Capability("jobs", "clash", settings=_Section)])
    with pytest.raises(CapabilityError, match="must set extra='forbid'"):
        build_settings_model([Capability("loose", "no", settings=_Loose)])


def test_every_builtin_capability_imports_what_it_declares() -> None:
    found = installed()
    assert {"core", "understand", "deliver", "govern", "protect", "serve"} <= set(found.names())
    assert found.names()[0] == "core"
    assert found.problems() == {name: [] for name in found.names()}
