from __future__ import annotations

import json

import pytest

from vidlens.errors import UsageError
from vidlens.govern.label import FIELDS, AigcLabel, is_provider_code, new_label, parse_label

GOOD = {"Label": "1", "ContentProducer": "001191110102MAD55U9H0F10002", "ProduceID": "p-1", "ReservedCode1": "",
        "ContentPropagator": "001191110102MAD55U9H0F10002", "PropagateID": "p-1", "ReservedCode2": ""}


def codes(raw: str | bytes) -> list[str]:
    return [p.code for p in parse_label(raw).problems]


def test_bare_and_wrapped_forms_parse_the_same() -> None:
    bare = parse_label(json.dumps(GOOD))
    wrapped = parse_label(json.dumps({"AIGC": GOOD}, separators=(", ", ": ")))
    assert bare.problems == [] and wrapped.problems == []
    assert bare.label == wrapped.label == AigcLabel(**GOOD)


def test_serialised_form_is_compact_in_annex_e_order() -> None:
    text = AigcLabel(**GOOD).to_json()
    assert list(json.loads(text)) == list(FIELDS)
    assert " " not in text


@pytest.mark.parametrize(("change", "expected"), [
    ({"Label": "4"}, "bad_label_value"),
    ({"Label": 1}, "not_string"),
    ({"ContentProducer": ""}, "empty_field"),
    ({"ProduceID": ""}, "empty_field"),
    ({"ProduceID": "has space"}, "bad_characters"),
    ({"ProduceID": 'quote"'}, "bad_characters"),
    ({"ProduceID": "back\\slash"}, "bad_characters"),
    ({"ProduceID": "a\u202eb"}, "bad_characters"),  # right-to-left override: spoofs how the value reads
    ({"ProduceID": "a\u200bb"}, "bad_characters"),  # zero-width space
    ({"ContentProducer": "某某\u3000公司"}, "bad_characters"),  # ideographic space, like the ASCII space
    ({"ProduceID": "a\ue000"}, "bad_characters"),  # private use
    ({"Extra": "x"}, "extra_field"),
])
def test_each_defect_is_reported(change: dict[str, object], expected: str) -> None:
    assert expected in codes(json.dumps({**GOOD, **change}))


def test_missing_fields_are_each_reported() -> None:
    found = parse_label(json.dumps({"Label": "2", "ContentProducer": "X", "ProduceID": "Y"}))
    assert sorted(p.message for p in found.problems if p.code == "missing_field") == [
        f"field {k} is missing" for k in sorted(["ReservedCode1", "ContentPropagator", "PropagateID",
                                                 "ReservedCode2"])]
    assert found.label is not None and found.label.Label == "2"


@pytest.mark.parametrize(("raw", "expected"), [
    (b"\xff\xfe{}", "bad_encoding"),
    ("not json", "not_json"),
    ("[1, 2]", "not_object"),
    ("[" * 30_000 + "]" * 30_000, "not_json"),
    ('{"Label": NaN}', "not_json"),
    (b"x" * 200_000, "oversized"),
])
def test_hostile_values_are_reported_not_raised(raw: str | bytes, expected: str) -> None:
    assert expected in codes(raw)


def test_provider_code_shape() -> None:
    assert is_provider_code("001191110102MAD55U9H0F10002")
    assert not is_provider_code("001191110102MAD55U9H0F1000")  # 26 characters
    assert not is_provider_code("011191110102MAD55U9H0F10002")  # must start with 00
    assert not is_provider_code("001191110102MAD55U9H0F30002")  # service type 1 or 2
    assert not is_provider_code("001191110102MAD55U9HOF10002")  # O is not in the credit-code alphabet


def test_producer_names_in_any_script_are_accepted_and_stored_as_utf8() -> None:
    # The standard names providers by "name or code"; TC260 practice examples use Chinese company names.
    for name in ("北京某某科技有限公司", "ACME", "Société-Générale", "株式会社テスト"):
        label = new_label("1", name, "生成-0001")
        assert parse_label(label.to_json().encode("utf-8")).problems == []
        assert name in label.to_json()  # UTF-8, not \u escapes
        assert json.loads(label.to_json(ascii_only=True)) == label.to_dict()
        assert label.to_json(ascii_only=True).isascii()


def test_new_label_refuses_what_would_not_validate() -> None:
    with pytest.raises(UsageError, match="looks like a TC260 provider code"):
        new_label("1", "001191110102MAD55U9H0F30002", "x")  # service type 3 does not exist
    with pytest.raises(UsageError, match="characters"):
        new_label("1", "某某 公司", "x")
    with pytest.raises(UsageError, match="Label must be"):
        new_label("7", "001191110102MAD55U9H0F10002", "x")
    label = new_label("2", "001191110102MAD55U9H0F10002", "x")
    assert (label.ContentPropagator, label.PropagateID) == (label.ContentProducer, label.ProduceID)
