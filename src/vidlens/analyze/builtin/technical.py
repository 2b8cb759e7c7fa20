"""Technical cues: black frames, frozen picture, silence, colour bars, letterbox/pillarbox.

Everything here is arithmetic on small frames (YUV straight from the decoder's
planes, at a few frames a second) and on an 8 kHz loudness curve (its sound comes
from the same decode as the frames, see ``audio_sampling``), so it costs almost
nothing next to the models. Each cue is a time span with the measurements
that made it fire, so a reviewer can see why.

Also kept: a coarse picture-statistics timeline (luma, saturation, sky and
vegetation share per bin). Tags read its luma for day/night; indoor/outdoor is a
scene-model tag, because a blue backdrop or a green wall reads as sky or grass.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field

from vidlens.analyze.base import AnalysisContext, Analyzer, AnalyzerConfig, AnalyzerExample
from vidlens.media.audio import iter_audio, rms_db
from vidlens.media.decode import AudioChunk, AudioSampling, Sampling
from vidlens.media.ffmpeg import run_ffmpeg
from vidlens.plugins import PluginManifest
from vidlens.types import FrameSample, Video

# Colour-bar order, as RGB on/off bits: white, yellow, cyan, green, magenta, red, blue.
_BARS = (7, 6, 3, 2, 5, 4, 1)
_AUDIO_RATE = 8000
_LOUDNESS_WINDOW_S = 0.1  # a whole number of windows per 60 s chunk, so chunked loudness equals the whole track's


class TechnicalConfig(AnalyzerConfig):
    fps: float = Field(8.0, gt=0, le=30, description="Frames sampled per second.")
    max_side: int = Field(128, ge=32, le=512, description="Longer side of the sampled frames.")
    black_pixel_luma: int = Field(38, ge=16, le=80, description="Luma at or under which a pixel counts as black.")
    black_ratio: float = Field(0.98, gt=0.5, le=1.0, description="Share of black pixels that makes a black frame.")
    min_black_s: float = Field(0.1, ge=0, description="Shortest black span reported.")
    freeze_diff: float = Field(0.5, gt=0, description="Mean absolute luma change below which the picture is frozen.")
    min_freeze_s: float = Field(2.0, gt=0, description="Shortest frozen span reported.")
    silence_db: float = Field(-50.0, le=0, description="Loudness (dBFS) under which audio is silent.")
    min_silence_s: float = Field(2.0, gt=0, description="Shortest silence reported.")
    min_bars_s: float = Field(0.0, ge=0, description="Shortest colour-bars span reported.")
    border_luma: int = Field(32, ge=16, le=64, description="Mean luma under which a border row/column is a bar.")
    min_border: float = Field(0.04, gt=0, lt=0.45, description="Smallest letterbox/pillarbox bar, as a share of the side.")
    min_border_s: float = Field(1.0, ge=0, description="Shortest letterbox/pillarbox span reported.")
    stats_bin_s: float = Field(2.0, gt=0, description="Width of the picture-statistics bins.")


@dataclass(slots=True)
class _Sample:
    t: float
    black: bool
    diff: float | None
    bars: bool
    rows: tuple[int, int]  # dark rows at top, bottom
    cols: tuple[int, int]  # dark columns at left, right
    height: int
    width: int


def rgb_planes(yuv: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """BT.601 limited-range YUV (H, W, 3) uint8 to R, G, B float32 planes in [0, 255].

    Separate contiguous planes: the per-pixel max/min and channel comparisons that use them
    are single passes on planes, but slow reductions over a 3-wide last axis.
    """
    y = (yuv[..., 0].astype(np.float32) - 16.0) * 1.164
    u = yuv[..., 1].astype(np.float32) - 128.0
    v = yuv[..., 2].astype(np.float32) - 128.0
    r = np.clip(y + 1.596 * v, 0, 255)
    g = np.clip(y - 0.392 * u - 0.813 * v, 0, 255)
    b = np.clip(y + 2.017 * u, 0, 255)
    return r, g, b


def _bars_band(h: int) -> slice:
    """Rows 5-40 % down the frame, where SMPTE, EBU and HD bars all are."""
    return slice(int(h * 0.05), max(int(h * 0.40), int(h * 0.05) + 2))


def is_color_bars(rgb: np.ndarray) -> bool:
    """True when the upper part of the frame shows the seven SMPTE/EBU bars in order.

    Columns of the band at 5-40 % height (where SMPTE, EBU and HD bars all are) are
    classified by which RGB channels are "on" (> 96); runs narrower than 4 % of the width
    are ignored; the run sequence must contain white, yellow, cyan, green, magenta, red,
    blue contiguously (cyclically: scrolling patterns wrap around). Most of each column must match its median colour, which real
    pictures with those colours rarely do, while captions or a clock over the bars do not
    break the test.
    """
    return _band_is_bars(rgb[_bars_band(rgb.shape[0])])


def _may_be_bars(band: np.ndarray, min_run: int) -> bool:
    """Cheap necessary condition of :func:`_band_is_bars`: each bar colour fits enough columns.

    A column's median is over 96 in a channel only if at least half its pixels are (and at most
    96 only if at most half are), so counting pixels over 96 bounds which colours the column
    medians can have, without the medians. Most pictures lack one of the seven and stop here.
    """
    twice = 2 * (band > 96).sum(axis=0)  # (W, 3)
    n = band.shape[0]
    bits = np.array([4, 2, 1])
    can_on = (twice >= n) @ bits  # channels whose median may be over 96
    can_off = (twice <= n) @ bits  # ... or at most 96
    codes = np.array(_BARS)[:, None]
    fits = ((codes & ~can_on) == 0) & ((~codes & 7 & ~can_off) == 0)  # (7, W)
    return bool((fits.sum(axis=1) >= min_run).all())


def _band_is_bars(band: np.ndarray) -> bool:
    """The test of :func:`is_color_bars` on its band of rows."""
    w = band.shape[1]
    min_run = max(2, int(w * 0.04))
    if not _may_be_bars(band, min_run):
        return False
    col = np.median(band, axis=0)
    d = np.abs(band - col[None])
    flat = (np.maximum(np.maximum(d[..., 0], d[..., 1]), d[..., 2]) < 30).mean(axis=0) >= 0.6
    code = ((col > 96).astype(np.int32) * np.array([4, 2, 1])).sum(axis=1)
    code[~flat] = -1
    codes: list[int] = code.tolist()  # the run scan below is Python: plain ints, not numpy scalars
    runs: list[int] = []
    start = 0
    for i in range(1, w + 1):
        if i == w or codes[i] != codes[start]:
            if i - start >= min_run and codes[start] >= 0 and (not runs or runs[-1] != codes[start]):
                runs.append(codes[start])
            start = i
    if len(runs) > 1 and runs[0] == runs[-1]:
        runs.pop()
    ring = runs + runs  # test patterns that scroll sideways wrap the bars around the edge
    n = len(_BARS)
    return len(runs) >= n and any(tuple(ring[i:i + n]) == _BARS for i in range(len(runs)))


def _dark_edges(dark: np.ndarray) -> tuple[int, int]:
    """How many lines at each end are dark (``dark``: one flag per line)."""
    if dark.all():
        return len(dark), 0
    first = int(np.argmin(dark))
    last = int(np.argmin(dark[::-1]))
    return first, last


def _runs(flag: list[bool]) -> list[tuple[int, int]]:
    """Index ranges [i, j) of consecutive flagged samples."""
    out, start = [], None
    for i, f in enumerate(flag):
        if f and start is None:
            start = i
        elif not f and start is not None:
            out.append((start, i))
            start = None
    if start is not None:
        out.append((start, len(flag)))
    return out


def _span_end(samples: list[_Sample], j: int, end_s: float) -> float:
    return samples[j].t if j < len(samples) else max(end_s, samples[-1].t)


class TechnicalAnalyzer(Analyzer):
    manifest = PluginManifest(
        name="technical", version="1.0", kind="analyzer",
        summary="Black frames, frozen picture, silence, colour bars, letterbox/pillarbox; picture statistics.")
    Config = TechnicalConfig
    config: TechnicalConfig
    audio_sampling = AudioSampling(_AUDIO_RATE, chunk_s=60.0)

    @property
    def sampling(self) -> Sampling:  # type: ignore[override]
        return Sampling(fps=self.config.fps, max_side=self.config.max_side, pix_fmt="yuv")

    def sampling_for(self, video: Video) -> Sampling:
        return self.sampling

    def analyze(self, ctx: AnalysisContext, frames: Iterator[FrameSample]) -> dict[str, Any]:
        cfg = self.config
        samples: list[_Sample] = []
        stats: dict[int, list[np.ndarray]] = {}
        prev: np.ndarray | None = None
        duration = max(ctx.video.duration_s, 1e-6)
        loud: list[np.ndarray] = []  # loudness per 0.1 s, chunk by chunk
        for f in frames:
            if isinstance(f, AudioChunk):
                loud.append(rms_db(f.samples, _AUDIO_RATE, _LOUDNESS_WINDOW_S))
                continue
            y = np.ascontiguousarray(f.image[..., 0])
            rgb = rgb_planes(f.image)  # once per sample: colour bars and picture statistics both need it
            samples.append(self._measure(f.t, y, rgb, prev))
            if len(samples) % 8 == 0:
                ctx.progress(min(1.0, f.t / duration))
            prev = y.astype(np.int16)
            stats.setdefault(int(f.t // cfg.stats_bin_s), []).append(self._picture_stats(y, rgb))
        end_s = ctx.video.duration_s
        cues = self._black(samples, end_s) + self._frozen(samples, end_s) + self._bars(samples, end_s)
        cues += self._borders(samples, end_s)
        if ctx.video.has_audio and not ctx.sound_in_frames:  # run on its own: read the sound from the file
            loud = [rms_db(c, _AUDIO_RATE, _LOUDNESS_WINDOW_S) for c in iter_audio(ctx.video.uri, _AUDIO_RATE, 60.0)]
        silence, audio = self._silence(loud) if ctx.video.has_audio else ([], "none")
        cues += silence
        cues.sort(key=lambda c: (c["start_s"], c["kind"]))
        timeline = [{"start_s": round(b * cfg.stats_bin_s, 3), "end_s": round(min((b + 1) * cfg.stats_bin_s, end_s), 3),
                     **{k: round(float(v), 4) for k, v in zip(("luma", "saturation", "sky", "vegetation"),
                                                               np.mean(vals, axis=0), strict=True)}}
                    for b, vals in sorted(stats.items())]
        return {"cues": cues, "picture_stats": timeline, "audio": audio, "samples": len(samples),
                "sample_fps": cfg.fps}

    def _measure(self, t: float, y: np.ndarray, rgb: tuple[np.ndarray, np.ndarray, np.ndarray],
                 prev: np.ndarray | None) -> _Sample:
        """Per-sample cues from the luma plane ``y`` (uint8) and the RGB planes."""
        cfg = self.config
        h, w = y.shape
        black = bool(np.count_nonzero(y <= cfg.black_pixel_luma) / y.size >= cfg.black_ratio)
        diff = None if prev is None or prev.shape != y.shape else int(np.abs(y - prev).sum()) / y.size
        # integer line sums against limit * length: the same test as mean < limit, without float means
        rows = _dark_edges(y.sum(axis=1, dtype=np.int64) < cfg.border_luma * w)
        cols = _dark_edges(y.sum(axis=0, dtype=np.int64) < cfg.border_luma * h)
        bars = False if black else _band_is_bars(np.stack([c[_bars_band(h)] for c in rgb], axis=-1))
        return _Sample(t, black, diff, bars, rows, cols, h, w)

    @staticmethod
    def _picture_stats(y: np.ndarray, rgb: tuple[np.ndarray, np.ndarray, np.ndarray]) -> np.ndarray:
        r, g, b = rgb
        mx = np.maximum(np.maximum(r, g), b)
        sat = mx - np.minimum(np.minimum(r, g), b)
        sat /= np.maximum(mx, 1)  # all channels are >= 0, so a black pixel (mx == 0) reads 0 / 1 = 0
        top = slice(0, max(1, y.shape[0] // 3))
        bt = b[top]
        sky = (bt > r[top] + 15) & (bt > g[top]) & (bt > 100)
        veg = (g > r + 10) & (g > b + 10) & (g > 50)
        return np.array([int(y.sum(dtype=np.int64)) / y.size / 255.0, sat.mean(),
                         np.count_nonzero(sky) / sky.size, np.count_nonzero(veg) / veg.size])

    def _black(self, s: list[_Sample], end_s: float) -> list[dict[str, Any]]:
        out = []
        for i, j in _runs([x.black for x in s]):
            a, b = s[i].t, _span_end(s, j, end_s)
            if b - a >= self.config.min_black_s:
                out.append({"kind": "black", "start_s": round(a, 3), "end_s": round(b, 3), "details": {"frames_sampled": j - i}})
        return out

    def _frozen(self, s: list[_Sample], end_s: float) -> list[dict[str, Any]]:
        flag = [x.diff is not None and x.diff < self.config.freeze_diff and not (x.black or x.bars) for x in s]
        out = []
        for i, j in _runs(flag):
            a, b = s[i - 1].t if i > 0 else s[i].t, _span_end(s, j, end_s)
            if b - a >= self.config.min_freeze_s:
                mean_diff = float(np.mean([x.diff for x in s[i:j]]))
                out.append({"kind": "frozen", "start_s": round(a, 3), "end_s": round(b, 3),
                            "details": {"mean_luma_change": round(mean_diff, 3)}})
        return out

    def _bars(self, s: list[_Sample], end_s: float) -> list[dict[str, Any]]:
        out = []
        for i, j in _runs([x.bars for x in s]):
            a, b = s[i].t, _span_end(s, j, end_s)
            if b - a >= self.config.min_bars_s:
                out.append({"kind": "color_bars", "start_s": round(a, 3), "end_s": round(b, 3),
                            "details": {"frames_sampled": j - i}})
        return out

    def _borders(self, s: list[_Sample], end_s: float) -> list[dict[str, Any]]:
        cfg = self.config
        out = []
        for kind, get, side in (("letterbox", lambda x: x.rows, "height"), ("pillarbox", lambda x: x.cols, "width")):
            def bars(x: _Sample) -> tuple[int, int] | None:
                n = getattr(x, side)
                lo, hi = get(x)
                ok = not x.black and min(lo, hi) >= max(1, cfg.min_border * n) and lo + hi < 0.8 * n
                return (lo, hi) if ok else None
            flags = [bars(x) for x in s]
            i = 0
            while i < len(s):
                if flags[i] is None:
                    i += 1
                    continue
                j = i + 1  # static: same bar sizes (within one sampled line) across the run
                while j < len(s) and flags[j] is not None and all(
                        abs(p - q) <= 1 for p, q in zip(flags[j], flags[i], strict=True)):
                    j += 1
                a, b = s[i].t, _span_end(s, j, end_s)
                if b - a >= cfg.min_border_s:
                    n = getattr(s[i], side)
                    lo, hi = (int(np.median([flags[k][e] for k in range(i, j)])) for e in (0, 1))  # type: ignore[index]
                    names = ("top", "bottom") if kind == "letterbox" else ("left", "right")
                    out.append({"kind": kind, "start_s": round(a, 3), "end_s": round(b, 3),
                                "details": {f"{names[0]}_share": round(lo / n, 4), f"{names[1]}_share": round(hi / n, 4)}})
                i = j
        return out

    def _silence(self, loud: list[np.ndarray]) -> tuple[list[dict[str, Any]], str]:
        cfg, win = self.config, _LOUDNESS_WINDOW_S
        if not loud:
            return [], "none"
        db = np.concatenate(loud)
        out = []
        quiet = list(db < cfg.silence_db)
        for i, j in _runs(quiet):
            if (j - i) * win >= cfg.min_silence_s:
                out.append({"kind": "silence", "start_s": round(i * win, 3), "end_s": round(j * win, 3),
                            "details": {"max_db": round(float(db[i:j].max()), 1)}})
        digital = bool(db.size) and float(db.max()) <= -100
        return out, "digital_silence" if digital else "present"

    @classmethod
    def examples(cls) -> list[AnalyzerExample]:
        return [AnalyzerExample("bars_black_tone_silence", _make_cue_clip, _check_cue_clip),
                AnalyzerExample("letterboxed", _make_letterbox_clip, _check_letterbox)]


def _make_cue_clip(directory: Path) -> Path:
    """2 s SMPTE bars, 2 s black, 3 s moving picture, 3 s still picture; audio: 3 s tone, then 7 s of silence."""
    out = Path(directory) / "cues.mp4"
    run_ffmpeg(["-f", "lavfi", "-i", "smptebars=s=320x240:r=25:d=2", "-f", "lavfi", "-i", "color=c=black:s=320x240:r=25:d=2",
                "-f", "lavfi", "-i", "testsrc2=s=320x240:r=25:d=3", "-f", "lavfi", "-i", "color=c=0x4070a0:s=320x240:r=25:d=3",
                "-f", "lavfi", "-i", "aevalsrc=if(lt(t\\,3)\\,0.3*sin(2*PI*440*t)\\,0):s=48000:d=10",
                "-filter_complex", "[0:v][1:v][2:v][3:v]concat=n=4:v=1:a=0[v]", "-map", "[v]", "-map", "4:a",
                "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", str(out)])
    return out


def _check_cue_clip(doc: dict[str, Any]) -> None:
    by = {t: [c for c in doc["cues"] if c["kind"] == t] for t in ("color_bars", "black", "silence", "frozen")}
    assert len(by["color_bars"]) == 1 and by["color_bars"][0]["start_s"] < 0.2 and 1.7 < by["color_bars"][0]["end_s"] < 2.3
    assert len(by["black"]) == 1 and 1.8 < by["black"][0]["start_s"] < 2.2 and 3.8 < by["black"][0]["end_s"] < 4.3
    assert len(by["silence"]) == 1 and 2.8 < by["silence"][0]["start_s"] < 3.3 and by["silence"][0]["end_s"] > 9.5
    # bars and black are static too, but are reported as what they are; only the still picture is "frozen"
    assert len(by["frozen"]) == 1 and 6.8 < by["frozen"][0]["start_s"] < 7.3 and by["frozen"][0]["end_s"] > 9.5


def _make_letterbox_clip(directory: Path) -> Path:
    """A wide moving picture letterboxed into 4:3 (52-line bars top and bottom): 3 s, no audio."""
    out = Path(directory) / "letterbox.mp4"
    run_ffmpeg(["-f", "lavfi", "-i", "testsrc2=s=320x136:r=25:d=3", "-vf", "pad=320:240:0:52:black",
                "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(out)])
    return out


def _check_letterbox(doc: dict[str, Any]) -> None:
    boxes = [c for c in doc["cues"] if c["kind"] == "letterbox"]
    assert len(boxes) == 1, doc["cues"]
    d = boxes[0]["details"]
    assert 0.18 < d["top_share"] < 0.25 and 0.18 < d["bottom_share"] < 0.25, d
    assert not [c for c in doc["cues"] if c["kind"] == "pillarbox"]
    assert doc["audio"] == "none"
