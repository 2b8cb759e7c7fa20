"""The GB 45438-2025 Annex E implicit label: parse, validate, serialise.

The label is a JSON object of seven string fields stored under a metadata key
containing ``AIGC``. Writers differ on whether the stored value is the bare
object or ``{"AIGC": {...}}``; we read both and write the bare form (what
``ffmpeg -metadata AIGC=...`` users write). Every defect is reported as a
``Problem`` instead of raising, because a platform must still triage a file whose
label is malformed.

Characters: the standard names the providers by "name or code", and published
examples of the TC260 metadata practice put Chinese company names in
``ContentProducer``. So besides the printable ASCII set (without space, ``"`` and
``\\``), letters, marks, digits, punctuation and symbols of any script are accepted;
space and other separators, control, format (bidirectional overrides, zero-width),
private-use and unassigned code points are not. The JSON is stored as UTF-8 where
the carrier's text is UTF-8, and \\u-escaped (pure ASCII) where it is not.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from typing import Any

from vidlens.errors import UsageError

FIELDS = ("Label", "ContentProducer", "ProduceID", "ReservedCode1",
          "ContentPropagator", "PropagateID", "ReservedCode2")
LABEL_VALUES = {"1": "confirmed", "2": "possibly", "3": "suspected"}
MAX_LABEL_BYTES = 64 * 1024  # a real label is < 1 KiB; anything larger is hostile
# Printable ASCII without space, '"' and '\\' (0x21, 0x23-0x5B, 0x5D-0x7E), plus these Unicode categories.
_ASCII_ALLOWED = re.compile(r"[\x21\x23-\x5B\x5D-\x7E]")
_OTHER_ALLOWED = ("L", "M", "N", "P", "S")
# TC260-PG-20252A provider code: "00" + subject type + binding type + 18-char id + service type + 4-char model.
_PROVIDER_CODE = re.compile(r"00[0-9][0-9][0-9A-HJ-NPQRTUWXY]{18}[12][0-9A-Z]{4}")


@dataclass(frozen=True, slots=True)
class Problem:
    """One defect found in a file's label; ``code`` is stable for machines."""

    code: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True, slots=True)
class AigcLabel:
    """The seven Annex E fields, all strings ("" when absent)."""

    Label: str = ""
    ContentProducer: str = ""
    ProduceID: str = ""
    ReservedCode1: str = ""
    ContentPropagator: str = ""
    PropagateID: str = ""
    ReservedCode2: str = ""

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    def to_json(self, *, ascii_only: bool = False) -> str:
        """Compact JSON in Annex E field order: the exact text we store (\\u-escaped with ``ascii_only``)."""
        return json.dumps(self.to_dict(), ensure_ascii=ascii_only, separators=(",", ":"))

    def replace(self, **changes: str) -> AigcLabel:
        return AigcLabel(**{**self.to_dict(), **changes})


@dataclass(slots=True)
class ParsedLabel:
    label: AigcLabel | None
    problems: list[Problem] = field(default_factory=list)


def is_provider_code(value: str) -> bool:
    """True if ``value`` has the 27-character TC260-PG-20252A provider-code shape."""
    return bool(_PROVIDER_CODE.fullmatch(value))


def parse_label(raw: str | bytes) -> ParsedLabel:
    """Parse one stored label value (bare or ``{"AIGC": {...}}``) and validate it."""
    problems: list[Problem] = []
    if isinstance(raw, bytes):
        if len(raw) > MAX_LABEL_BYTES:
            return ParsedLabel(None, [Problem("oversized", f"label value is {len(raw)} bytes (limit {MAX_LABEL_BYTES})")])
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            problems.append(Problem("bad_encoding", "label value is not valid UTF-8 (Annex E values are ASCII)"))
            text = raw.decode("utf-8", errors="replace")
    else:
        text = raw
    if len(text) > MAX_LABEL_BYTES:
        return ParsedLabel(None, [Problem("oversized", f"label value is {len(text)} characters")])
    text = text.strip().rstrip("\x00")
    try:
        obj = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        return ParsedLabel(None, problems + [Problem("not_json", f"label value is not JSON: {str(exc)[:80]}")])
    if isinstance(obj, dict) and set(obj) == {"AIGC"}:
        obj = obj["AIGC"]
    if not isinstance(obj, dict):
        return ParsedLabel(None, problems + [Problem("not_object", "label JSON is not an object")])
    values: dict[str, str] = {}
    for key, value in obj.items():
        if key not in FIELDS:
            problems.append(Problem("extra_field", f"unknown field {_show(key)}"))
            continue
        if not isinstance(value, str):
            problems.append(Problem("not_string", f"{key} must be a string, got {type(value).__name__}"))
            value = json.dumps(value) if not isinstance(value, (dict, list)) else ""
        values[key] = value
    for key in FIELDS:
        if key not in obj:
            problems.append(Problem("missing_field", f"field {key} is missing"))
    label = AigcLabel(**values)
    problems.extend(validate(label))
    return ParsedLabel(label, problems)


def validate(label: AigcLabel) -> list[Problem]:
    """Check values against Annex E: label value, required fields, character set."""
    problems: list[Problem] = []
    if label.Label not in LABEL_VALUES:
        problems.append(Problem("bad_label_value", f"Label must be \"1\", \"2\" or \"3\", got {_show(label.Label)}"))
    for key in ("ContentProducer", "ProduceID"):
        if not getattr(label, key):
            problems.append(Problem("empty_field", f"{key} is empty"))
    for key in FIELDS:
        bad = sorted({c for c in getattr(label, key) if not allowed_character(c)})[:5]
        if bad:
            problems.append(Problem("bad_characters", f"{key} has characters a label may not hold (space, quote, "
                                    "backslash, control or format characters): " + ", ".join(_show(c) for c in bad)))
    return problems


def allowed_character(c: str) -> bool:
    """Printable ASCII except space, '"' and '\\'; beyond ASCII, any letter, mark, digit, punctuation or symbol."""
    if c.isascii():
        return bool(_ASCII_ALLOWED.fullmatch(c))
    return unicodedata.category(c)[0] in _OTHER_ALLOWED


def check_provider(role: str, value: str) -> None:
    """A provider is named by name or code; refuse only what is evidently a mistyped provider code."""
    if looks_like_code(value) and not is_provider_code(value):
        raise UsageError(f"{role} {value!r} looks like a TC260 provider code but is not a valid one "
                         "(00 + subject + binding + 18-char id + service 1|2 + 4-char model)")


def looks_like_code(value: str) -> bool:
    return len(value) == 27 and value.isascii() and value.isalnum() and value.startswith("00")


def new_label(label: str, producer: str, produce_id: str, *, propagator: str | None = None,
              propagate_id: str | None = None) -> AigcLabel:
    """Build a producer's label; propagation fields default to the production ones (Annex E note 1).

    ``producer`` is the provider's name or its TC260 provider code. Raises ``UsageError`` if the
    result would not validate, so a bad label is never written.
    """
    check_provider("producer", producer)
    if propagator is not None:
        check_provider("propagator", propagator)
    out = AigcLabel(Label=label, ContentProducer=producer, ProduceID=produce_id,
                    ContentPropagator=producer if propagator is None else propagator,
                    PropagateID=produce_id if propagate_id is None else propagate_id)
    problems = validate(out)
    if problems:
        raise UsageError("invalid label: " + "; ".join(p.message for p in problems))
    return out


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


def _show(value: str) -> str:
    return json.dumps(value[:40], ensure_ascii=True)
