"""One FFmpeg pass renders a decision list: cuts, speed, reframing, captions and loudness together.

The source is decoded once. Its video is made constant-rate (``fps``) so frame ``n`` is at ``n / fps``
exactly, reframed there (``sendcmd`` moves the crop window along the virtual-camera path, in source
time), split into one branch per kept segment, trimmed, and concatenated; the audio is split and
trimmed at the same instants. Each audio piece is trimmed to exactly its video piece's length, so
audio and video meet at every join to the sample, and no drift builds up over hundreds of cuts. A
dissolve (``Join``) joins two runs of pieces by ``xfade``/``acrossfade`` over handles taken from beyond
both pieces, so it leaves the output's length and every kept frame's place as a cut would.
Captions are burned after the join (output time); loudness is measured first by an audio-only pass
over the same cuts (cheap: no video is decoded) and applied as one linear gain in the render.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from vidlens.deliver.labels import metadata_args
from vidlens.deliver.loudness import LoudnessMeasure, LoudnessTarget, analysis_filter, parse_measure, second_pass
from vidlens.edit.decisions import DecisionList, Segment
from vidlens.errors import FFmpegError, UnsupportedMediaError, UsageError
from vidlens.media.ffmpeg import run_ffmpeg

# The graph is built once for the whole source: every trim counts from the source's start. FFmpeg would
# otherwise rebuild it (restarting every trim, concat and dissolve at zero) wherever the decoded frames'
# properties change, e.g. at the seam of parts joined without re-encoding whose colour tags differ.
ONE_GRAPH = ("-reinit_filter", "0")
FADE_S = 0.005  # a few milliseconds of fade at every join: no click where a waveform is cut mid-cycle


@dataclass(frozen=True)
class Crop:
    """A ``width`` x ``height`` window of the (display-size) source, moved by ``commands`` (sendcmd text)."""

    width: int
    height: int
    x: int
    y: int
    commands: str = ""


@dataclass(frozen=True)
class Captions:
    """Burn ``path`` (SRT) in ``font_name`` (found in ``font_dir``), sized for a ``width`` x ``height`` output.

    Text is about 6.5 % of the short side high (nominal size); the bottom margin is 6 % of the height, 14 % on a
    portrait frame, where the short-video apps put their caption bar and buttons.
    """

    path: Path
    font_dir: Path
    font_name: str
    width: int
    height: int

    def style(self) -> str:
        # libass measures an SRT's style in a 288-line script space scaled to the frame's height
        size = 288 * 0.065 * min(self.width, self.height) / self.height
        margin = 288 * (0.14 if self.height > self.width else 0.06)
        return (f"FontName={self.font_name},FontSize={size:.1f},PrimaryColour=&H00FFFFFF,"
                "OutlineColour=&H00000000,BackColour=&H80000000,BorderStyle=1,Outline=1.5,Shadow=0.6,"
                f"Alignment=2,MarginV={margin:.0f},MarginL=12,MarginR=12,WrapStyle=0")

    def filter(self) -> str:
        """The FFmpeg ``subtitles`` filter that burns them."""
        return (f"subtitles=filename={_quoted(str(self.path))}:fontsdir={_quoted(str(self.font_dir))}"
                f":force_style={_quoted(self.style())}")


@dataclass(frozen=True)
class Dub:
    """A dubbed speech track (``path``, output timeline) mixed over the original, ducked by ``duck`` (linear gain)
    wherever dubbed speech plays (``windows``, output seconds)."""

    path: Path
    windows: tuple[tuple[float, float], ...]
    duck: float = 0.18

    def chains(self, original: str, index: int, rate: int) -> tuple[list[str], str]:
        on = "+".join(f"between(t,{a:.3f},{b:.3f})" for a, b in self.windows) or "0"
        return [f"[{original}]volume=volume='if({on},{self.duck:.4f},1)':eval=frame[aduck]",
                f"[{index}:a:0]aresample={rate},aformat=channel_layouts=mono[adub]",
                f"[aduck][adub]amix=inputs=2:normalize=0:duration=first[amixed]"], "amixed"


@dataclass(frozen=True)
class Overlay:
    """A still image (``path``, e.g. the visible AI label) drawn at ``x``, ``y`` during ``windows`` (output s)."""

    path: Path
    x: int
    y: int
    windows: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class RenderPlan:
    crop: Crop | None = None
    size: tuple[int, int] | None = None  # scale the (cropped) picture to this
    captions: Captions | None = None
    loudness: LoudnessTarget | None = None
    crf: int = 20
    preset: str = "veryfast"
    audio_rate: int = 48000
    dub: Dub | None = None
    overlay: Overlay | None = None


def _rate(fps: Fraction) -> str:
    return f"{fps.numerator}/{fps.denominator}"


def _t(dl: DecisionList, frame: int) -> str:
    """A frame's start time, as FFmpeg reads it (exact enough: half a frame of slack is added by callers)."""
    return f"{float(Fraction(frame) / dl.fps):.6f}"


def _video_piece(dl: DecisionList, s: Segment, label_in: str, label_out: str, handles: tuple[int, int] = (0, 0)
                 ) -> str:
    half = Fraction(1, 2)
    first, last = s.start - handles[0], s.end + handles[1]
    start, end = _t(dl, first - half) if first else "0", _t(dl, last - half)  # type: ignore[arg-type]
    chain = f"[{label_in}]trim=start={start}:end={end},setpts=PTS-STARTPTS"
    if s.speed != 1.0:
        n = int(s.scores["output_frames"])
        chain += (f",setpts=PTS/{s.speed:g},fps={_rate(dl.fps)},tpad=stop_mode=clone:stop=2,"
                  f"trim=end_frame={n}")
    return chain + f"[{label_out}]"


def _audio_piece(dl: DecisionList, s: Segment, label_in: str, label_out: str, fades: bool,
                 handles: tuple[int, int] = (0, 0)) -> str:
    start, end = _t(dl, s.start - handles[0]), _t(dl, s.end + handles[1])
    out_s = float(Fraction(int(s.scores["output_frames"]) + sum(handles)) / dl.fps)
    chain = f"[{label_in}]atrim=start={start}:end={end},asetpts=PTS-STARTPTS"
    if s.speed != 1.0:
        chain += f",atempo={s.speed:g}"
    chain += f",apad=whole_dur={out_s:.6f},atrim=end={out_s:.6f}"
    if fades and out_s > 4 * FADE_S:
        chain += f",afade=t=in:d={FADE_S},afade=t=out:st={out_s - FADE_S:.6f}:d={FADE_S}"
    return chain + f"[{label_out}]"


def _groups(dl: DecisionList) -> list[list[int]]:
    """Runs of pieces joined by cuts; a dissolve starts a new run."""
    dissolves = dl.dissolves()
    groups: list[list[int]] = [[]]
    for i in range(len(dl.pieces())):
        groups[-1].append(i)
        if i in dissolves:
            groups.append([])
    return groups


def _join(dl: DecisionList, prefix: str, kind: str, out: str, rate: int = 0) -> list[str]:
    """Join the pieces ``{prefix}o{i}``: each run by ``concat``, runs by ``xfade``/``acrossfade`` (a dissolve)."""
    pieces, groups, dissolves, handles = dl.pieces(), _groups(dl), dl.dissolves(), dl.handles()
    v, a = (1, 0) if kind == "v" else (0, 1)
    if len(groups) == 1:
        return ["".join(f"[{prefix}o{i}]" for i in groups[0]) + f"concat=n={len(groups[0])}:v={v}:a={a}[{out}]"]
    chains = ["".join(f"[{prefix}o{i}]" for i in g) + f"concat=n={len(g)}:v={v}:a={a}[{prefix}g{k}]"
              for k, g in enumerate(groups)]
    length = 0  # frames of the joined run so far, handles included
    acc = f"{prefix}g0"
    for k, g in enumerate(groups):
        length += sum(int(pieces[i].scores["output_frames"]) + sum(handles[i]) for i in g)
        if k == 0:
            continue
        d = dissolves[groups[k - 1][-1]]
        label = out if k == len(groups) - 1 else f"{prefix}x{k}"
        start = length - sum(int(pieces[i].scores["output_frames"]) + sum(handles[i]) for i in g) - d.frames
        if kind == "v":  # half a frame early: the first blended frame is never lost to rounding
            chains.append(f"[{acc}][{prefix}g{k}]xfade=transition=fade:duration={_t(dl, d.frames)}"
                          f":offset={float((Fraction(start) - Fraction(1, 2)) / dl.fps):.6f}[{label}]")
        else:
            chains.append(f"[{acc}][{prefix}g{k}]acrossfade=ns={round(d.frames * rate / dl.fps)}:c1=tri:c2=tri"
                          f"[{label}]")
        length -= d.frames
        acc = label
    return chains


def _run(args: list[str], what: str, **kwargs: object) -> str:
    """``run_ffmpeg`` whose error message ends with FFmpeg's own log tail: a failed graph of hundreds of
    chains is otherwise reported only as its exit status."""
    try:
        return run_ffmpeg(args, **kwargs)  # type: ignore[arg-type]
    except FFmpegError as exc:
        raise FFmpegError(f"{what} failed: {exc}\nFFmpeg's log ends:\n{exc.log_tail}", command=exc.command,
                          returncode=exc.returncode, log_tail=exc.log_tail, path=exc.path) from exc


def _quoted(value: str) -> str:
    """A filter option value in single quotes (the graph parser keeps ``,:;[]`` inside them literal)."""
    if "'" in value or "\\" in value:
        raise UsageError(f"cannot pass {value!r} to FFmpeg's filter graph (quote or backslash in it)")
    return f"'{value}'"


def audio_graph(dl: DecisionList, rate: int, dub: Dub | None = None, dub_index: int = 1) -> tuple[list[str], str]:
    """The audio half of the graph: the kept pieces of the first audio track, joined, with the dub (input
    ``dub_index``) mixed over the ducked original; returns (chains, label)."""
    kept = dl.pieces()
    whole = float(Fraction(dl.frame_count) / dl.fps)
    chains = [f"[0:a:0]aresample={rate},apad=whole_dur={whole:.6f},asplit={len(kept)}"
              + "".join(f"[ai{i}]" for i in range(len(kept)))]
    fades = len(kept) > 1 or dl.output_frame_count() < dl.frame_count
    handles = dl.handles()
    chains += [_audio_piece(dl, s, f"ai{i}", f"ao{i}", fades, handles[i]) for i, s in enumerate(kept)]
    chains += _join(dl, "a", "a", "acat", rate)
    if dub is None:
        return chains, "acat"
    more, label = dub.chains("acat", dub_index, rate)
    return chains + more, label


def colour_tags(src: Path) -> str:
    """``setparams`` that labels every frame as the stream starts (range, matrix, primaries, transfer).

    With the graph built once (``ONE_GRAPH``), frames whose labels change midway would be converted by
    ``xfade`` (a dissolve next to the seam shifted the picture's levels by about 5 of 255): pass every
    frame's pixels through untouched instead, under the labels the output is written with.
    """
    from vidlens.media.probe import picture_facts

    colour = picture_facts(src).codec_colour
    if colour is None:
        raise UnsupportedMediaError(f"{src.name}: expected a video stream")
    rng, space, primaries, trc = colour
    return f"setparams=range={rng}:colorspace={space}:color_primaries={primaries}:color_trc={trc}"


def video_graph(dl: DecisionList, plan: RenderPlan, commands_file: Path | None,
                overlay_index: int = 1, colour: str = "") -> tuple[list[str], str]:
    kept = dl.pieces()
    pre = [f"fps={_rate(dl.fps)}", *([colour] if colour else []), "tpad=stop_mode=clone:stop=2"]
    if plan.crop is not None:
        c = plan.crop
        if commands_file is not None:
            pre.append(f"sendcmd=f={_quoted(str(commands_file))}")
        pre.append(f"crop=w={c.width}:h={c.height}:x={c.x}:y={c.y}:exact=1")
    chains = [f"[0:v:0]{','.join(pre)},split={len(kept)}" + "".join(f"[vi{i}]" for i in range(len(kept)))]
    handles = dl.handles()
    chains += [_video_piece(dl, s, f"vi{i}", f"vo{i}", handles[i]) for i, s in enumerate(kept)]
    chains += _join(dl, "v", "v", "vcat")
    post = [f"setpts=N*{dl.fps.denominator}/({dl.fps.numerator}*TB)"]
    if plan.size is not None:
        post.append(f"scale={plan.size[0]}:{plan.size[1]}:flags=lanczos,setsar=1")
    if plan.captions is not None:
        post.append(plan.captions.filter())
    joined = "[vcat]" + ",".join(post)
    if plan.overlay is None:
        chains.append(joined + ",format=yuv420p[vout]")
        return chains, "vout"
    o = plan.overlay
    enable = "+".join(f"between(t,{a:.3f},{b:.3f})" for a, b in o.windows)
    chains += [joined + "[vjoin]",
               f"[vjoin][{overlay_index}:v]overlay=x={o.x}:y={o.y}:enable='{enable}':eof_action=repeat,"
               "format=yuv420p[vout]"]
    return chains, "vout"


def measure_loudness(src: Path, dl: DecisionList, target: LoudnessTarget, rate: int, dub: Dub | None = None
                     ) -> tuple[LoudnessMeasure, dict[str, str]]:
    """Loudness of the edited audio (the same cuts and dub, audio only), for the render's linear gain."""
    chains, label = audio_graph(dl, rate, dub)
    extra = ["-i", str(dub.path)] if dub is not None else []
    graph = ";".join(chains) + f";[{label}]{analysis_filter(target)}[m]"
    with tempfile.TemporaryDirectory(prefix="vidlens-edit-") as tmp:
        script = Path(tmp) / "graph.txt"
        script.write_text(graph, encoding="utf-8")
        log = _run(["-vn", *ONE_GRAPH, "-i", str(src), *extra, "-/filter_complex", str(script), "-map", "[m]",
                    "-f", "null", "-"], "loudness measurement of the edit", path=str(src))
    return parse_measure(log)


def render(src: Path, dl: DecisionList, out: Path, plan: RenderPlan, *, has_audio: bool,
           on_progress: Callable[[dict[str, str]], None] | None = None) -> dict[str, object]:
    """Write ``out`` (H.264/AAC) from ``src`` as ``dl`` and ``plan`` say; returns what was applied."""
    applied: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="vidlens-edit-") as tmp:
        commands_file = None
        if plan.crop is not None and plan.crop.commands:
            commands_file = Path(tmp) / "camera.cmd"
            commands_file.write_text(plan.crop.commands, encoding="utf-8")
        inputs = [*ONE_GRAPH, "-i", str(src)]
        dub = plan.dub if has_audio else None
        if dub is not None:
            inputs += ["-i", str(dub.path)]
        if plan.overlay is not None:
            inputs += ["-i", str(plan.overlay.path)]
        chains, vlabel = video_graph(dl, plan, commands_file, overlay_index=2 if dub is not None else 1,
                                     colour=colour_tags(src))
        maps = ["-map", f"[{vlabel}]"]
        audio_args: list[str] = ["-an"]
        if has_audio:
            achains, alabel = audio_graph(dl, plan.audio_rate, dub)
            if plan.loudness is not None:
                before, raw = measure_loudness(src, dl, plan.loudness, plan.audio_rate, dub)
                gain = second_pass(before, raw, plan.loudness)
                applied["loudness_before"] = before.to_dict()
                if gain is not None:
                    achains.append(f"[{alabel}]{gain},aresample={plan.audio_rate}[anorm]")
                    alabel = "anorm"
            chains += achains
            maps += ["-map", f"[{alabel}]"]
            audio_args = ["-c:a", "aac", "-b:a", "192k", "-ar", str(plan.audio_rate)]
        script = Path(tmp) / "graph.txt"
        script.write_text(";".join(chains), encoding="utf-8")
        muxer = "mp4" if out.suffix.lower() in (".mp4", ".mov", ".m4v") else out.suffix.lower().lstrip(".")
        _run([*inputs, "-/filter_complex", str(script), *maps,
              "-c:v", "libx264", "-preset", plan.preset, "-crf", str(plan.crf), "-pix_fmt", "yuv420p",
              "-fps_mode", "passthrough", *audio_args, *metadata_args(muxer, faststart=True), str(out)],
             "render", on_progress=on_progress, path=str(src))
    return applied
