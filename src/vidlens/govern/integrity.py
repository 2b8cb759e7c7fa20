"""ReservedCode1/2: Ed25519 signatures binding the label to the content it sits on.

``ReservedCode1`` is the producer's signature over (Label, ContentProducer,
ProduceID, content hash); ``ReservedCode2`` is the propagator's over every other
field, ReservedCode1 included, plus the content hash. The content hash is the
codec's ``content_hash``: SHA-256 of the demuxed packets (images: of every chunk
except metadata), so a label copied onto other content, or any edited field,
fails verification, while a lossless remux or relabelling of other tags does not.

Encoding, all within Annex E's allowed characters: ``v1.<key id>.<signature>``,
key id = first 8 hex digits of the signer's key fingerprint (SHA-256 of the raw public key),
signature in unpadded base64url. The install signs with its identity (``vidlens.identity``:
``<data dir>/keys``) in the domains ``GB45438-AIGC-ReservedCode1`` / ``...2``, and checks
against the identity's trusted keys.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any, Literal

from vidlens.govern.label import AigcLabel
from vidlens.identity import Identity

Role = Literal["producer", "propagator"]
Status = Literal["valid", "invalid", "unknown_key", "malformed", "absent"]
DOMAIN = {"producer": "GB45438-AIGC-ReservedCode1", "propagator": "GB45438-AIGC-ReservedCode2"}
LABEL_KEY_ID_HEX = 8  # the label's wire format since 0.1: an 8-hex prefix of the key fingerprint


def message(label: AigcLabel, content_hash: str, role: Role) -> bytes:
    """The message signed for ``role`` in ``DOMAIN[role]`` (documented in docs/govern.md)."""
    if role == "producer":
        fields = [label.Label, label.ContentProducer, label.ProduceID]
    else:
        fields = [label.Label, label.ContentProducer, label.ProduceID, label.ReservedCode1,
                  label.ContentPropagator, label.PropagateID]
    return json.dumps(fields, separators=(",", ":")).encode() + b"\n" + content_hash.encode()


def sign(label: AigcLabel, content_hash: str, identity: Identity, role: Role) -> AigcLabel:
    """``label`` with ReservedCode1 (producer) or ReservedCode2 (propagator) set."""
    if role == "producer":
        label = label.replace(ReservedCode1="")
    signature = identity.sign(DOMAIN[role], message(label, content_hash, role))
    kid = identity.key_id[:LABEL_KEY_ID_HEX]
    code = f"v1.{kid}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"
    return label.replace(**({"ReservedCode1": code} if role == "producer" else {"ReservedCode2": code}))


@dataclass(frozen=True, slots=True)
class Check:
    role: Role
    status: Status
    key_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"role": self.role, "status": self.status, "key_id": self.key_id}


def check(label: AigcLabel, content_hash: str, identity: Identity, role: Role) -> Check:
    """The signature of ``role`` checked against the keys ``identity`` trusts."""
    code = label.ReservedCode1 if role == "producer" else label.ReservedCode2
    if not code:
        return Check(role, "absent")
    parts = code.split(".")
    if len(parts) != 3 or parts[0] != "v1":
        return Check(role, "malformed")
    kid, sig = parts[1], parts[2]
    try:
        signature = base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4))
    except ValueError:
        return Check(role, "malformed", kid)
    verdict = identity.verify(DOMAIN[role], message(label, content_hash, role), signature, kid)
    if verdict is None:
        return Check(role, "unknown_key", kid)
    return Check(role, "valid" if verdict else "invalid", kid)
