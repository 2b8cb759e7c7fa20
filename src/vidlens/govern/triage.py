"""Platform triage under Art. 6 of the labelling Measures: confirmed / possibly / suspected / none.

1. An implicit label in the metadata → its own value (Label "1" confirmed, "2"
   possibly, "3" suspected).
2. No label, but the uploader declared AI content → possibly.
3. No label, no declaration, but synthesis traces (a C2PA manifest asserting a
   synthetic digitalSourceType, our watermark, a public imwatermark mark, an
   explicit label found by OCR, or, when asked for, a flagged face-swap or
   synthetic-speech cue of ``vidlens.humans.synthesis``) → suspected.
4. Otherwise none.

In cases 1–3 the platform writes the propagation elements into the metadata.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vidlens.errors import ConfigError, UnsupportedMediaError, UsageError
from vidlens.govern.explicit import Ocr, detect_explicit_label
from vidlens.govern.implicit import read_label
from vidlens.humans.synthesis import SynthesisCues

VERDICT_FOR_LABEL = {"1": "confirmed", "2": "possibly", "3": "suspected"}
LABEL_FOR_VERDICT = {"confirmed": "1", "possibly": "2", "suspected": "3"}


def triage(path: Path, *, declared_ai: bool = False, ocr: Ocr | None = None, traces: bool = True,
           cues: SynthesisCues | None = None) -> dict[str, Any]:
    """Classify one upload and list the evidence behind the verdict (``cues``: also measure the face-swap
    and synthetic-speech cues, evidence when one is flagged)."""
    evidence: list[dict[str, Any]] = []
    try:
        report = read_label(path)
    except UnsupportedMediaError:
        report = None
    if report is not None and report.label is not None:
        evidence.append({"kind": "implicit_label", "label": report.label.to_dict(), "format": report.format,
                         "problems": [p.to_dict() for p in report.problems]})
        verdict = VERDICT_FOR_LABEL.get(report.label.Label, "suspected")
        return {"verdict": verdict, "label": LABEL_FOR_VERDICT[verdict], "evidence": evidence}
    if declared_ai:
        evidence.append({"kind": "uploader_declaration"})
        return {"verdict": "possibly", "label": "2", "evidence": evidence}
    if traces:
        evidence += _traces(path, ocr)
    if cues is not None:
        found = cues.measure(path)
        if found.flagged:
            evidence.append({"kind": "synthesis_cues", **found.to_dict()})
    if evidence:
        return {"verdict": "suspected", "label": "3", "evidence": evidence}
    return {"verdict": "none", "label": None, "evidence": []}


def _traces(path: Path, ocr: Ocr | None) -> list[dict[str, Any]]:
    from vidlens.govern.provenance import read_c2pa
    from vidlens.govern.service import detect_watermarks

    found: list[dict[str, Any]] = []
    try:
        manifest = read_c2pa(path)
    except ConfigError:
        manifest = {"ai": False}
    if manifest["ai"]:
        found.append({"kind": "c2pa", "ai_assertions": manifest["ai_assertions"],
                      "validation_failures": manifest["validation_failures"], "signer": manifest["signer"]})
    try:
        marks = detect_watermarks(path)
    except UsageError:  # no video stream (audio, some images): nothing to look for
        marks = {"found": False}
    if marks["found"]:
        found.append({"kind": "watermark", "payload": marks["payload"], "z": marks["z"]})
    im = marks.get("imwatermark") or {}
    if im.get("found"):
        found.append({"kind": "imwatermark", "marks": im["marks"], "agreement": im["agreement"]})
    if ocr is not None:
        try:
            explicit = detect_explicit_label(path, ocr)
        except UsageError:  # no video stream
            explicit = None
        if explicit is not None and explicit.found:
            found.append({"kind": "explicit_label", **explicit.to_dict()})
    return found
