"""A self-contained HTML report: every video with its shot timeline and keyframe strip.

Thumbnails are embedded as data URIs so the single file can be mailed or archived.
All text from media (file names, tags) is escaped.
"""

from __future__ import annotations

import base64
import html
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vidlens import __version__
from vidlens.timebase import format_timecode

if TYPE_CHECKING:
    from vidlens.platform import Platform

_COLORS = {"start": "#5b8def", "cut": "#5b8def", "fade": "#e0a030", "dissolve": "#3bb37a"}

_CSS = """
body{font-family:system-ui,sans-serif;margin:2rem;background:#111;color:#eee}
h1{font-weight:600} h2{margin-top:2.5rem;font-size:1.15rem}
.meta{color:#aaa;font-size:.85rem}
.timeline{display:flex;height:18px;margin:.6rem 0;border-radius:3px;overflow:hidden;background:#333}
.timeline div{height:100%;border-right:1px solid #111}
.strip{display:flex;gap:6px;overflow-x:auto;padding-bottom:6px}
figure{margin:0;flex:0 0 auto;text-align:center;font-size:.75rem;color:#bbb}
figure img{height:90px;display:block;border-radius:3px}
.legend span{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px;border-radius:2px}
"""


def _data_uri(platform: Platform, key: str | None) -> str | None:
    if not key:
        return None
    try:
        data = platform.blobs.get_bytes(key)
    except Exception:
        return None
    return "data:image/jpeg;base64," + base64.b64encode(data).decode()


def render_video(platform: Platform, video: dict[str, Any], link: str | None = None) -> str:
    e = html.escape
    shots = platform.catalog.shots(video["id"])
    duration = max(float(video["duration_s"]), 1e-6)
    bars, figs = [], []
    for s in shots:
        from fractions import Fraction

        tb = Fraction(s["time_base"])
        start, end = float(s["start_pts"] * tb), float(s["end_pts"] * tb)
        width = max(0.2, 100 * (end - start) / duration)
        color = _COLORS.get(s["transition_in"], "#888")
        shade = "" if s["idx"] % 2 == 0 else ";filter:brightness(0.75)"
        bars.append(f'<div style="width:{width:.3f}%;background:{color}{shade}" '
                    f'title="shot {s["idx"]}: {format_timecode(start)} - {format_timecode(end)}"></div>')
        uri = _data_uri(platform, s["thumbnail_blob"])
        img = f'<img src="{uri}" alt="shot {s["idx"]} keyframe">' if uri else "<div>(no keyframe)</div>"
        figs.append(f"<figure>{img}<figcaption>#{s['idx']} {format_timecode(start)}<br>"
                    f"{e(s['transition_in'])}</figcaption></figure>")
    title = e(video["title"]) + (f' · <a href="{e(link)}">full analysis</a>' if link else "")
    return (f'<section><h2>{title}</h2>'
            f'<div class="meta">{video["width"]}x{video["height"]} · {format_timecode(duration)} · '
            f'{len(shots)} shot{"s" if len(shots) != 1 else ""} · id {e(video["id"][:16])}</div>'
            f'<div class="timeline">{"".join(bars)}</div><div class="strip">{"".join(figs)}</div></section>')


def write_report(platform: Platform, out: Path, links: dict[str, str] | None = None) -> Path:
    """The library page: every video's shot timeline and keyframes, linked to ``links[video_id]`` pages."""
    videos = platform.catalog.list_videos(limit=10_000)
    links = links or {}
    sections = "".join(render_video(platform, v, links.get(v["id"])) for v in videos) or "<p>No videos yet.</p>"
    legend = "".join(f'<span style="background:{c}"></span>{k}' for k, c in _COLORS.items() if k != "start")
    page = (f"<!doctype html><html lang=en><meta charset=utf-8><title>VidLens report</title>"
            f"<style>{_CSS}</style><h1>VidLens report</h1>"
            f'<div class="meta">{len(videos)} videos · generated {datetime.now(UTC):%Y-%m-%d %H:%M UTC} '
            f'by vidlens {html.escape(__version__)}</div><div class="legend meta">shot starts with:{legend}</div>'
            f"{sections}</html>")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(out)
    return out
