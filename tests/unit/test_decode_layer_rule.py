"""Only the decode layer (``vidlens/media/``) opens media for reading with PyAV.

Everything else reads pictures, sound and packets through a ``Source`` and a ``Decoder`` (or asks
``vidlens.media.probe``), so a camera URL, a range of a file and in-memory bytes feed every reader the
same way, with one timestamp policy and one set of errors. Outside ``media/``, PyAV may only write:
each module that does is listed here with its reason.
"""

from __future__ import annotations

import ast
from pathlib import Path

import vidlens

SRC = Path(vidlens.__file__).parent
WRITERS = {  # module -> why it opens PyAV containers (for writing only)
    "watch/ingest.py": "muxes a camera's copied packets into recording segments and event clips",
    "testing/synth.py": "encodes the synthetic clips tests and examples are made of",
}
OPENERS = {"open_container"}  # the media layer's checked opener hands out a raw container: media/ only


def _writes(call: ast.Call) -> bool:
    """``av.open(target, "w", ...)`` or ``mode="w..."``: a muxer, not a reader."""
    mode = call.args[1] if len(call.args) > 1 else next((k.value for k in call.keywords if k.arg == "mode"), None)
    return isinstance(mode, ast.Constant) and isinstance(mode.value, str) and mode.value.startswith("w")


def pyav_opens(source: str) -> list[tuple[int, bool]]:
    """(line, writes) of every PyAV container opened in ``source`` (``av.open``, ``av.container.open``,
    ``open_container``)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
        owner = f.value if isinstance(f, ast.Attribute) else None
        via_av = isinstance(owner, ast.Name) and owner.id == "av" or (
            isinstance(owner, ast.Attribute) and owner.attr == "container")
        if name == "open" and via_av:
            found.append((node.lineno, _writes(node)))
        elif name in OPENERS:
            found.append((node.lineno, False))
    return sorted(found)


def _modules() -> dict[str, str]:
    return {p.relative_to(SRC).as_posix(): p.read_text() for p in SRC.rglob("*.py")
            if p.relative_to(SRC).parts[0] != "media"}


def test_no_module_outside_media_reads_media_with_pyav() -> None:
    readers, unlisted = [], []
    for module, text in _modules().items():
        for line, writes in pyav_opens(text):
            if not writes:
                readers.append(f"{module}:{line}")
            elif module not in WRITERS:
                unlisted.append(f"{module}:{line}")
    assert not readers, f"read through vidlens.media (Source + Decoder, iter_packets, probe), not PyAV: {readers}"
    assert not unlisted, f"a new PyAV writer: add it to WRITERS with its reason: {unlisted}"


def test_every_listed_writer_still_writes() -> None:
    modules = _modules()
    stale = [m for m in WRITERS if not any(w for _, w in pyav_opens(modules.get(m, "")))]
    assert not stale, f"no longer opens a PyAV writer, take it off WRITERS: {stale}"


def test_the_check_sees_readers_and_writers() -> None:
    code = ("import av\nfrom vidlens.media.probe import open_container\n"
            "a = av.open(p)\nb = av.open(p, 'w', format='mp4')\nc = av.open(p, mode='r')\n"
            "d = open_container(p)\ne = av.container.open(p)\nf = av.open(io.BytesIO(x))\n")
    assert pyav_opens(code) == [(3, False), (4, True), (5, False), (6, False), (7, False), (8, False)]
