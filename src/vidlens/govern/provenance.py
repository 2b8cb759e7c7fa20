"""C2PA manifests: does the file's provenance say it was made or edited by generative AI?

The manifest store is read with ``c2pa-python`` (the Content Authenticity Initiative's
library), which also validates it. Every ``digitalSourceType`` anywhere in the
assertions of every manifest (actions, ingredients, ...) is reported; those in the IPTC
synthetic-media vocabulary below count as an AI-generation assertion. A file without a
manifest, or of a type C2PA does not cover, simply has none: only a damaged manifest
is a problem.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from vidlens.errors import ConfigError, NotFoundError

# IPTC digital source types that mean the content is (partly) synthetic.
SYNTHETIC = {"trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia", "algorithmicMedia",
             "compositeSynthetic"}


def _source_types(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "digitalSourceType" and isinstance(value, str):
                yield value
            else:
                yield from _source_types(value)
    elif isinstance(node, list):
        for item in node:
            yield from _source_types(item)


def _short(uri: str) -> str:
    return uri.rstrip("/").rsplit("/", 1)[-1]


def read_c2pa(path: str | Path) -> dict[str, Any]:
    """``found`` (a manifest store), ``ai`` (a synthetic digitalSourceType), the source types, validation failures."""
    p = Path(path)
    if not p.is_file():
        raise NotFoundError(f"no such file: {p}")
    try:
        import c2pa
    except ImportError as exc:
        raise ConfigError("C2PA reading needs the c2pa-python package (pip install 'vidlens[govern]')") from exc
    out: dict[str, Any] = {"found": False, "ai": False, "digital_source_types": [], "ai_assertions": [],
                           "validation_failures": [], "signer": None, "problem": None}
    try:
        with c2pa.Reader(str(p)) as reader:
            store = json.loads(reader.json())
    except c2pa.C2paError as exc:
        text = str(exc)
        if not text.startswith(("ManifestNotFound", "NotSupported")):
            out["problem"] = f"unreadable C2PA manifest: {text[:200]}"
        return out
    manifests = store.get("manifests") or {}
    active = manifests.get(store.get("active_manifest") or "", {})
    types: list[str] = []
    for label, manifest in manifests.items():
        for assertion in manifest.get("assertions") or []:
            for uri in _source_types(assertion.get("data")):
                if uri not in types:
                    types.append(uri)
                if _short(uri) in SYNTHETIC:
                    out["ai_assertions"].append({"manifest": label, "assertion": assertion.get("label"),
                                                 "digitalSourceType": uri})
    # "untrusted" only says the signer is not on a trust list this installation has; integrity failures matter
    failures = [s.get("code") for s in store.get("validation_status") or []
                if s.get("code") != "signingCredential.untrusted"]
    out.update(found=True, ai=bool(out["ai_assertions"]), digital_source_types=types, validation_failures=failures,
               signer=active.get("signature_info"), active_manifest=store.get("active_manifest"))
    return out
