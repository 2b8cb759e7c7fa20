"""The decision list as an editor's timeline: OpenTimelineIO, and through its adapters FCPXML and CMX 3600 EDL.

One clip per rendered piece, in order, each a source range in frames at the source's rate, so the
timeline's length equals the rendered file's frame count. A sped-up piece carries OTIO's
``LinearTimeWarp`` (an editor sees the retime; EDL writes it as an M2 motion effect). Each clip's
metadata keeps why it was kept and its scores, so the explanation travels into the editor.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vidlens.edit.decisions import DecisionList
from vidlens.errors import ConfigError, UsageError

FORMATS = {"otio": ("otio_json", ".otio"), "fcpxml": ("fcpx_xml", ".fcpxml"), "edl": ("cmx_3600", ".edl")}


def timeline(dl: DecisionList, media: Path, name: str) -> Any:
    """The OTIO timeline of ``dl`` cutting ``media`` (the source file)."""
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
    for i, piece in enumerate(dl.pieces()):
        out_frames = int(piece.scores["output_frames"])
        # a clip's duration on the timeline is its output length; the source range is what it uses
        used = piece.frames if piece.speed == 1.0 else out_frames
        first = by_start.get(piece.start)
        meta = {"vidlens": {"reason": first.reason if first else piece.reason, "speed": piece.speed,
                            "source_frames": [piece.start, piece.end],
                            "scores": dict(first.scores) if first else {}}}
        for tr in (track, audio):
            ref = otio.schema.ExternalReference(target_url=media.absolute().as_uri(), available_range=available)
            clip = otio.schema.Clip(name=f"{media.stem} {i + 1}", media_reference=ref, metadata=meta,
                                    source_range=otio.opentime.TimeRange(
                                        otio.opentime.RationalTime(piece.start, rate),
                                        otio.opentime.RationalTime(used, rate)))
            if piece.speed != 1.0:
                clip.effects.append(otio.schema.LinearTimeWarp(time_scalar=piece.speed))
            tr.append(clip)
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
    tl = timeline(dl, media, out.stem)
    if fmt == "edl":  # CMX 3600 holds one video track; the audio follows the same events
        tl.tracks[:] = [t for t in tl.tracks if t.kind == otio.schema.TrackKind.Video]
    try:
        otio.adapters.write_to_file(tl, str(out), adapter_name=adapter)
    except otio.exceptions.NoKnownAdapterForExtensionError as exc:  # pragma: no cover - plugin missing
        raise ConfigError(f"the OTIO adapter {adapter!r} is not installed: pip install 'vidlens[edit]'") from exc
    return out


def export_path(output: Path, fmt: str) -> Path:
    """The timeline beside the rendered file, with its stem."""
    return output.with_suffix(FORMATS[fmt][1])
