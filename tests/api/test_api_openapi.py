"""The published OpenAPI document is part of the contract: any change must be deliberate.

Refresh the snapshot after an intended API change with:
    VIDLENS_UPDATE_OPENAPI=1 pytest tests/api/test_api_openapi.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path

SNAPSHOT = Path(__file__).with_name("openapi_snapshot.json")
REFRESH = "VIDLENS_UPDATE_OPENAPI=1 pytest tests/api/test_api_openapi.py"
UPDATE = (
    os.environ.get("VIDLENS_UPDATE_OPENAPI") == "1"
)  # read at import: the tests clear VIDLENS_* variables


def _normalise(doc: dict) -> dict:
    doc = json.loads(json.dumps(doc))
    doc["info"].pop("version", None)  # the package version changes on every release
    return doc


def test_openapi_matches_the_committed_snapshot(env) -> None:
    r = env.client.get("/openapi.json")
    assert r.status_code == 200
    current = _normalise(r.json())
    if UPDATE:
        SNAPSHOT.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
    assert SNAPSHOT.is_file(), f"no OpenAPI snapshot yet; create it with: {REFRESH}"
    committed = json.loads(SNAPSHOT.read_text())
    if current != committed:
        added = sorted(set(current["paths"]) - set(committed["paths"]))
        removed = sorted(set(committed["paths"]) - set(current["paths"]))
        changed = sorted(
            p
            for p in set(current["paths"]) & set(committed["paths"])
            if current["paths"][p] != committed["paths"][p]
        )
        raise AssertionError(
            f"the OpenAPI document drifted from {SNAPSHOT.name} (paths added {added}, removed "
            f"{removed}, changed {changed}, or components changed). If the change is intended, "
            f"refresh it with: {REFRESH}"
        )


def test_openapi_documents_the_public_contract(env) -> None:
    doc = env.client.get("/openapi.json").json()
    upload = doc["paths"]["/api/videos"]["post"]
    schema = upload["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert schema["required"] == ["file"] and schema["properties"]["file"]["format"] == "binary"
    assert {"413", "415"} <= set(upload["responses"])
    for path in (
        "/api/uploads",
        "/api/uploads/{upload_id}",
        "/api/uploads/{upload_id}/complete",
        "/api/search",
        "/api/review",
        "/api/review/{item_id}/decision",
        "/api/jobs",
        "/api/blobs/{key}",
        "/api/videos/{video_id}/timeline",
        "/api/videos/{video_id}/document",
        "/api/videos/{video_id}/file",
    ):
        assert path in doc["paths"], path
    assert not any(p in doc["paths"] for p in ("/login", "/", "/review/{item_id}"))  # pages are not API
