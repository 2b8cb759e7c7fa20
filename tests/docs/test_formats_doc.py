"""docs/formats.md must keep describing the document VidLens builds."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema

from vidlens.analyze.document import SCHEMA, VERSION, document_schema

FORMATS_MD = Path(__file__).resolve().parents[2] / "docs" / "formats.md"


def _example() -> dict:
    m = re.search(r"```json\n(.*?)\n```", FORMATS_MD.read_text(encoding="utf-8"), re.S)
    assert m, "docs/formats.md has no ```json block"
    return json.loads(m.group(1))


def test_example_validates_against_the_schema() -> None:
    doc = _example()
    jsonschema.validate(doc, document_schema(), cls=jsonschema.Draft202012Validator)
    assert (doc["schema"], doc["version"]) == (SCHEMA, VERSION)


def test_every_top_level_field_is_documented() -> None:
    text = FORMATS_MD.read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `(\w+)` \|", text, re.M))
    assert documented == set(document_schema()["required"]) == set(_example())
