"""The per-video analysis report: a player and every signal on one clickable timeline.

The page is one self-contained HTML file (images embedded as data URIs, a few
lines of JavaScript); the video itself is referenced by a relative path so the
report stays small. Every string that came from the media (OCR text, speech,
file names, labels) is escaped before it reaches the page.
"""

from __future__ import annotations

import base64
import html
import json
import os
from pathlib import Path
from typing import Any

from vidlens.blobs.local import BlobStore
from vidlens.timebase import format_timecode

_CSS = """
body{font-family:system-ui,sans-serif;margin:1.5rem;background:#111;color:#eee}
h1{font-size:1.3rem} h2{font-size:1rem;margin:1.2rem 0 .4rem}
.meta{color:#aaa;font-size:.85rem}
video{max-width:100%;max-height:50vh;background:#000;display:block}
.lanes{margin-top:1rem} .lane{display:flex;align-items:center;margin:3px 0}
.lane b{width:110px;flex:0 0 110px;font-size:.8rem;color:#bbb;font-weight:500}
.track{position:relative;flex:1;height:22px;background:#222;border-radius:3px}
.track span{position:absolute;height:18px;border-radius:2px;cursor:pointer;overflow:hidden;
 font-size:.65rem;line-height:18px;color:#000;padding:0 2px;white-space:nowrap;min-width:3px}
.track span:hover{outline:2px solid #fff}
.cursor{position:absolute;top:0;bottom:0;width:2px;background:#f33;pointer-events:none}
.strip{display:flex;gap:6px;overflow-x:auto} figure{margin:0;cursor:pointer;font-size:.72rem;color:#bbb}
figure img{height:72px;display:block;border-radius:3px}
table{border-collapse:collapse;font-size:.85rem} td,th{padding:2px 8px;border-bottom:1px solid #333;text-align:left}
tr{cursor:pointer} .chip{display:inline-block;background:#2a4;color:#000;border-radius:9px;padding:1px 8px;
 margin:2px;font-size:.8rem} .err{color:#f66}
"""

_JS = """
const v=document.getElementById('player');
function seek(t){if(v){v.currentTime=t;v.play&&v.play().catch(()=>{});}}
document.querySelectorAll('[data-t]').forEach(e=>e.addEventListener('click',()=>seek(+e.dataset.t)));
const dur=+document.body.dataset.duration;
const marks=[...document.querySelectorAll('.track')].map(t=>{const m=document.createElement('i');
 m.className='cursor';t.appendChild(m);return m;});
if(v){v.addEventListener('timeupdate',()=>{marks.forEach(m=>m.style.left=(100*v.currentTime/dur)+'%');});}
"""

_PALETTE = ["#5b8def", "#e0a030", "#3bb37a", "#d05fd0", "#e05555", "#40c0c0", "#c0c040", "#a080ff"]


def _uri(blobs: BlobStore | None, key: str | None) -> str | None:
    if not key or blobs is None:
        return None
    try:
        return "data:image/jpeg;base64," + base64.b64encode(blobs.get_bytes(key)).decode()
    except Exception:
        return None


def _span(start: float, end: float, duration: float, label: str, color: str, title: str) -> tuple[float, float, str]:
    """One timeline item: its span (for row stacking) and its HTML (the row is filled in by ``_lane``)."""
    left = 100 * max(0.0, start) / duration
    width = max(0.3, 100 * max(0.0, end - start) / duration)
    e = html.escape
    right = 100 * max(start, end) / duration  # the true end: a drawn minimum width must not push items to a new row
    return (left, right, f'<span data-t="{start:.3f}" style="left:{left:.3f}%;width:{width:.3f}%;'
            f'top:{{top}}px;background:{color}" title="{e(title)}">{e(label)}</span>')


def _lane(name: str, spans: list[tuple[float, float, str]]) -> str:
    """A lane whose overlapping items (two lines of a title, crossing tracks) go on rows of their own."""
    row_ends: list[float] = []
    items = []
    for left, right, markup in sorted(spans, key=lambda x: x[0]):
        row = next((r for r, end in enumerate(row_ends) if end <= left + 1e-9), len(row_ends))
        if row == len(row_ends):
            row_ends.append(right)
        row_ends[row] = right
        items.append(markup.replace("{top}", str(2 + 20 * row)))
    height = 22 + 20 * max(0, len(row_ends) - 1)
    return (f'<div class="lane"><b>{html.escape(name)}</b>'
            f'<div class="track" style="height:{height}px">{"".join(items)}</div></div>')


def render_analysis(doc: dict[str, Any], *, blobs: BlobStore | None = None, out_dir: Path | None = None) -> str:
    """HTML for one analysis document (see docs/formats.md)."""
    e = html.escape
    video = doc.get("video", {})
    duration = max(float(video.get("duration_s") or 0.0), 1e-6)
    src = video.get("uri", "")
    if src and out_dir is not None:
        try:
            src = os.path.relpath(src, out_dir)
        except ValueError:
            pass
    lanes: list[str] = []
    shots = doc.get("shots") or []
    lanes.append(_lane("shots", [
        _span(s["start_s"], s["end_s"], duration, str(s["index"]), _PALETTE[s["index"] % 2],
              f"shot {s['index']} {format_timecode(s['start_s'])}–{format_timecode(s['end_s'])} ({s.get('transition_in')})")
        for s in shots]))
    people = doc.get("people") or []
    for i, p in enumerate(people):
        name = p.get("identity") or f"person {p.get('person_id', i + 1)}"
        lanes.append(_lane(name, [_span(sp["start_s"], sp["end_s"], duration, "", _PALETTE[(i + 3) % 8], name)
                                  for sp in p.get("spans", [])]))
    by_label: dict[str, list[dict[str, Any]]] = {}
    for o in doc.get("objects") or []:
        by_label.setdefault(str(o.get("label")), []).append(o)
    for i, (label, tracks) in enumerate(sorted(by_label.items())):
        lanes.append(_lane(f"{label} ({len(tracks)})", [
            _span(t["start_s"], t["end_s"], duration, "", _PALETTE[(i + 1) % 8],
                  f"{label} track {t.get('track_id', '')} {format_timecode(t['start_s'])}–{format_timecode(t['end_s'])}")
            for t in tracks]))
    texts = doc.get("texts") or []
    if texts:
        lanes.append(_lane("on-screen text", [_span(t["start_s"], t["end_s"], duration, t["text"], "#c0c040", t["text"])
                                              for t in texts]))
    transcript = doc.get("transcript") or []
    if transcript:
        lanes.append(_lane("speech", [_span(s["start_s"], s["end_s"], duration, s["text"], "#40c0c0", s["text"])
                                      for s in transcript]))
    cues = doc.get("cues") or []
    if cues:
        lanes.append(_lane("technical", [_span(c["start_s"], c["end_s"], duration, c.get("kind", ""), "#888",
                                               c.get("kind", "")) for c in cues]))
    scene_labels = doc.get("scene_labels") or []
    if scene_labels:
        lanes.append(_lane("scene", [_span(x["start_s"], x["end_s"], duration, x["label"], "#a080ff",
                                           f"{x['label']} ({float(x.get('confidence') or 0):.2f})")
                                     for x in scene_labels if "start_s" in x and "end_s" in x]))
    moderation = doc.get("moderation") or {}
    if moderation.get("flagged"):
        lanes.append(_lane("nsfw flagged", [_span(f["start_s"], f["end_s"], duration, f"{f['max_score']:.2f}", "#e05555",
                                                  f"nsfw score up to {f['max_score']:.2f}") for f in moderation["flagged"]]))
    for lane_name, items in (doc.get("extra_lanes") or {}).items():
        lanes.append(_lane(lane_name, [_span(i["start_s"], i["end_s"], duration, i.get("label", ""), "#e05555",
                                             i.get("title", i.get("label", ""))) for i in items]))
    notes = _shot_notes(doc)
    strip = "".join(
        f'<figure data-t="{s["start_s"]:.3f}">'
        + (f'<img src="{u}" alt="shot {s["index"]}">' if (u := _uri(blobs, s.get("thumbnail_blob"))) else "")
        + f'<figcaption>#{s["index"]} {format_timecode(s["start_s"])}{notes.get(s["index"], "")}</figcaption></figure>'
        for s in shots)
    faces = "".join(
        f'<figure data-t="{(p.get("spans") or [{"start_s": 0}])[0]["start_s"]:.3f}">'
        + (f'<img src="{u}" alt="face">' if (u := _uri(blobs, p.get("thumbnail_blob"))) else "")
        + f'<figcaption>{e(str(p.get("identity") or "person " + str(p.get("person_id", ""))))}</figcaption></figure>'
        for p in people)
    rows = "".join(f'<tr data-t="{s["start_s"]:.3f}"><td>{format_timecode(s["start_s"])}</td>'
                   f'<td>{e(str(s.get("language", "")))}</td><td>{e(s["text"])}</td></tr>' for s in transcript)
    video_tags = [t for t in doc.get("tags") or [] if t.get("scope", "video") == "video"]  # per-shot tags repeat
    tags = "".join(f'<span class="chip" title="{e("; ".join(map(str, t.get("evidence", []))))}">'
                   f'{e(str(t.get("tag", t.get("name", ""))))}</span>' for t in video_tags)
    errors = "".join(f'<li class="err">{e(k)}: {e(str(v.get("message", v)))}</li>'
                     for k, v in (doc.get("errors") or {}).items())
    title = Path(str(video.get("uri", "video"))).name
    return (
        f'<!doctype html><html lang=en><meta charset=utf-8><title>{e(title)} · VidLens</title><style>{_CSS}</style>'
        f'<body data-duration="{duration:.3f}"><h1>{e(title)}</h1>'
        f'<div class="meta">{video.get("width")}x{video.get("height")} · {format_timecode(duration)} · '
        f'{len(shots)} shots · {len(people)} people · {len(doc.get("objects") or [])} object tracks · '
        f'schema {e(str(doc.get("schema")))} v{e(str(doc.get("version")))}</div>'
        f'<video id="player" controls preload="metadata" src="{e(src)}"></video>'
        f'<div class="lanes" style="position:relative">{"".join(lanes)}</div>'
        f'<h2>Shots</h2><div class="strip">{strip}</div>'
        + (f'<h2>People</h2><div class="strip">{faces}</div>' if people else "")
        + (f"<h2>Tags</h2><div>{tags}</div>" if tags else "")
        + (f"<h2>Transcript</h2><table>{rows}</table>" if rows else "")
        + (f"<h2>Errors</h2><ul>{errors}</ul>" if errors else "")
        + f'<script type="application/json" id="doc">{_safe_json(doc)}</script><script>{_JS}</script></body></html>')


def _shot_notes(doc: dict[str, Any]) -> dict[int, str]:
    """Per shot, escaped caption lines: its objects ("2 person · 1 car"), NSFW score (max) and top scene labels."""
    e = html.escape
    notes: dict[int, str] = {}
    for shot in doc.get("shots") or []:
        if shot.get("objects"):
            counts = " · ".join(f'{int(o["peak"])} {o["label"]}' for o in shot["objects"][:3])
            notes[shot["index"]] = f"<br>{e(counts)}"
    moderation = doc.get("moderation") or {}
    threshold = float(moderation.get("threshold") or 1.0)
    for row in moderation.get("shots") or []:
        cls = ' class="err"' if float(row["max"]) >= threshold else ""
        notes[row["shot_index"]] = notes.get(row["shot_index"], "") + f'<br><span{cls}>nsfw {float(row["max"]):.2f}</span>'
    for row in (doc.get("scene") or {}).get("shots") or []:
        labels = ", ".join(f'{x["label"]} {float(x["score"]):.2f}' for x in row["labels"][:2])
        notes[row["shot_index"]] = notes.get(row["shot_index"], "") + f"<br>{e(labels)}"
    return notes


def _safe_json(doc: dict[str, Any]) -> str:
    """JSON that cannot close the script element it sits in."""
    return json.dumps(doc, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def write_analysis_report(doc: dict[str, Any], out: Path, *, blobs: BlobStore | None = None) -> Path:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    page = render_analysis(doc, blobs=blobs, out_dir=out.parent.resolve())
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(out)
    return out
