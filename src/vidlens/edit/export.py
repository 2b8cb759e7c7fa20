"""The decision list as an editor's timeline: OpenTimelineIO, and through its adapters FCPXML and CMX 3600 EDL.

One clip per rendered piece, in order, each a source range in frames at the source's rate, so the
timeline's length equals the rendered file's frame count. A dissolve is an OTIO ``Transition`` centred
on its cut with the render's offsets (it uses handles, so it does not change the timeline's length); the
CMX 3600 adapter writes it as a dissolve event, and since the FCPXML adapter drops transitions, the FCPXML
gets Final Cut's Cross Dissolve ``<transition>`` added to its spine here. A sped-up piece carries OTIO's
``LinearTimeWarp`` (an editor sees the retime; EDL writes it as an M2 motion effect). Each clip's
metadata keeps why it was kept and its scores, so the explanation travels into the editor.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

from vidlens.edit.decisions import DecisionList
from vidlens.errors import ConfigError, UsageError

FORMATS = {"otio": ("otio_json", ".otio"), "fcpxml": ("fcpx_xml", ".fcpxml"), "edl": ("cmx_3600", ".edl")}


def timeline(dl: DecisionList, media: Path, name: str, *, dissolves_from_cut: bool = False) -> Any:
    """The OTIO timeline of ``dl`` cutting ``media`` (the source file).

    A dissolve is centred on its cut; with ``dissolves_from_cut`` (CMX 3600, where a dissolve starts at the
    edit) the cut moves half a dissolve earlier and the next clip starts that much earlier in its source, which
    shows the very same frames.
    """
    try:
        import opentimelineio as otio
    except ImportError as exc:
        raise ConfigError("editor export needs opentimelineio: pip install 'vidlens[edit]'") from exc
    rate = float(dl.fps)
    tl = otio.schema.Timeline(name=name)
    tl.global_start_time = otio.opentime.RationalTime(0, rate)
    track = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    audio = otio.schema.Track(name="A1", kind=otio.schema.TrackKind.Audio)
    available = otio.opentime.TimeRange(otio.opentime.RationalTime(0, rate),
                                        otio.opentime.RationalTime(dl.frame_count, rate))
    by_start = {s.start: s for s in dl.kept()}
    dissolves = dl.dissolves()
    for i, piece in enumerate(dl.pieces()):
        out_frames = int(piece.scores["output_frames"])
        # a clip's duration on the timeline is its output length; the source range is what it uses
        used = piece.frames if piece.speed == 1.0 else out_frames
        start = piece.start
        if dissolves_from_cut:
            early = dissolves[i - 1].handle if i - 1 in dissolves else 0
            start, used = start - early, used + early - (dissolves[i].handle if i in dissolves else 0)
        first = by_start.get(piece.start)
        meta = {"vidlens": {"reason": first.reason if first else piece.reason, "speed": piece.speed,
                            "source_frames": [piece.start, piece.end],
                            "scores": dict(first.scores) if first else {}}}
        for tr in (track, audio):
            ref = otio.schema.ExternalReference(target_url=media.absolute().as_uri(), available_range=available)
            clip = otio.schema.Clip(name=f"{media.stem} {i + 1}", media_reference=ref, metadata=meta,
                                    source_range=otio.opentime.TimeRange(
                                        otio.opentime.RationalTime(start, rate),
                                        otio.opentime.RationalTime(used, rate)))
            if piece.speed != 1.0:
                clip.effects.append(otio.schema.LinearTimeWarp(time_scalar=piece.speed))
            tr.append(clip)
            if i in dissolves:  # from the handles beyond both clips, as rendered
                d = dissolves[i]
                before = 0 if dissolves_from_cut else d.handle
                tr.append(otio.schema.Transition(
                    name="dissolve", transition_type=otio.schema.TransitionTypes.SMPTE_Dissolve,
                    in_offset=otio.opentime.RationalTime(before, rate),
                    out_offset=otio.opentime.RationalTime(d.frames - before, rate),
                    metadata={"vidlens": {"reason": d.reason, "scores": dict(d.scores)}}))
    tl.tracks.append(track)
    tl.tracks.append(audio)
    tl.metadata["vidlens"] = {"operations": list(dl.operations), "output_frames": dl.output_frame_count()}
    return tl


def export(dl: DecisionList, media: Path, out: Path, fmt: str) -> Path:
    """Write the timeline as ``fmt`` (``otio``, ``fcpxml``, ``edl``) to ``out``; returns the path."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown export format {fmt!r} (use one of {', '.join(FORMATS)})")
    import opentimelineio as otio

    adapter, _ = FORMATS[fmt]
    tl = timeline(dl, media, out.stem, dissolves_from_cut=fmt == "edl")
    if fmt == "edl":  # CMX 3600 holds one video track; the audio follows the same events
        tl.tracks[:] = [t for t in tl.tracks if t.kind == otio.schema.TrackKind.Video]
    try:
        otio.adapters.write_to_file(tl, str(out), adapter_name=adapter)
    except otio.exceptions.NoKnownAdapterForExtensionError as exc:  # pragma: no cover - plugin missing
        raise ConfigError(f"the OTIO adapter {adapter!r} is not installed: pip install 'vidlens[edit]'") from exc
    if fmt == "fcpxml" and dl.dissolves():
        _fcpxml_dissolves(out, dl)
    return out


CROSS_DISSOLVE_UID = "FxPlug:4731E73A-8DAC-4113-9A30-AE85B1761265"  # Final Cut Pro's built-in Cross Dissolve


def _fcpxml_time(dl: DecisionList, frames: int) -> str:
    t = Fraction(frames) / dl.fps
    return f"{t.numerator}/{t.denominator}s"


def _fcpxml_dissolves(path: Path, dl: DecisionList) -> None:
    """Add the dissolves to the spine (the FCPXML adapter drops OTIO transitions): a ``<transition>`` centred on
    each cut, overlapping both clips as the render's dissolve does, with Final Cut's Cross Dissolve effect."""
    import xml.etree.ElementTree as ET

    root = ET.parse(path).getroot()
    resources, spine = root.find("resources"), root.find("project/sequence/spine")
    if resources is None or spine is None:
        raise ConfigError(f"{path.name}: the FCPXML writer left no spine to put the dissolves in")
    effect_id = f"r{len(resources) + 1}"
    ET.SubElement(resources, "effect", id=effect_id, name="Cross Dissolve", uid=CROSS_DISSOLVE_UID)
    clips = [c for c in spine if c.tag in ("clip", "asset-clip", "gap")]
    starts = [0]
    for piece in dl.pieces():
        starts.append(starts[-1] + int(piece.scores["output_frames"]))
    for i, d in sorted(dl.dissolves().items(), reverse=True):  # from the end: indices stay valid
        tr = ET.Element("transition", name="Cross Dissolve", offset=_fcpxml_time(dl, starts[i + 1] - d.handle),
                        duration=_fcpxml_time(dl, d.frames))
        ET.SubElement(tr, "filter-video", ref=effect_id, name="Cross Dissolve")
        spine.insert(list(spine).index(clips[i]) + 1, tr)
    ET.indent(root, space="    ")
    path.write_text('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE fcpxml>\n\n'
                    + ET.tostring(root, encoding="unicode") + "\n", encoding="utf-8")


def export_path(output: Path, fmt: str) -> Path:
    """The timeline beside the rendered file, with its stem."""
    return output.with_suffix(FORMATS[fmt][1])
