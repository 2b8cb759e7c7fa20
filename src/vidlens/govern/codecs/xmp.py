"""The XMP form of the label: property ``TC260:AIGC`` (attribute or element) in an XMP packet.

XMP is read with regular expressions rather than an XML parser on purpose: the
packet is untrusted and all we need is one property, so there is no entity
expansion and no tree to blow up.
"""

from __future__ import annotations

import html
import re

from vidlens.govern.codecs.base import ReadResult

MAX_XMP = 4 * 1024 * 1024
_ATTR = re.compile(rb"""TC260:AIGC\s*=\s*(?:"([^"]{0,65536})"|'([^']{0,65536})')""")
_ELEM = re.compile(rb"<TC260:AIGC>([^<]{0,65536})</TC260:AIGC>")
NAMESPACE = "http://www.tc260.org.cn/ns/AIGC/1.0/"


def xmp_values(packet: bytes, result: ReadResult) -> list[bytes]:
    """Every ``TC260:AIGC`` value in ``packet``, XML entities decoded."""
    if len(packet) > MAX_XMP:
        result.corrupt(f"XMP packet of {len(packet)} bytes (limit {MAX_XMP})")
        return []
    values = [m.group(1) if m.group(1) is not None else m.group(2) for m in _ATTR.finditer(packet)]
    values += [m.group(1) for m in _ELEM.finditer(packet)]
    return [html.unescape(v.decode("utf-8", errors="replace")).encode("utf-8") for v in values]


def xmp_packet(value: str) -> bytes:
    """A minimal XMP packet holding only the label."""
    escaped = html.escape(value, quote=True)
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'<rdf:Description rdf:about="" xmlns:TC260="{NAMESPACE}" TC260:AIGC="{escaped}"/>'
        '</rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    ).encode()


def xmp_with_label(packet: bytes, value: str) -> bytes:
    """``packet`` with every TC260:AIGC removed and ours added to its first rdf:Description."""
    escaped = html.escape(value, quote=True).encode("utf-8")
    cleaned = _ELEM.sub(b"", _ATTR.sub(b"", packet))
    m = re.search(rb"<rdf:Description\b", cleaned)
    if m is None:
        return xmp_packet(value)
    ns = b"" if b"xmlns:TC260" in cleaned else b' xmlns:TC260="' + NAMESPACE.encode() + b'"'
    insert = ns + b' TC260:AIGC="' + escaped + b'"'
    return cleaned[:m.end()] + insert + cleaned[m.end():]
