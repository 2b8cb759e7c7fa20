"""Synthetic occlusion scenes for the tracker: walkers in a fixed view, a detector's typical failures.

Tracker settings are chosen on these scenes (seeds 0-19), never on the hand-annotated clip
(samples/opencv_vtest_48s.mp4), which only reports them. What a real detector does and the scenes
copy: people higher in the picture are smaller; a person mostly behind a sign or a post is not
detected and one partly behind it gets a box of the visible part with a lower score; of two people
overlapping, the one behind is lost or both come as one wide box; boxes jitter, a few are missed,
a few weak false boxes appear; parked cars stay put.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vidlens.analyze.track_metrics import Box
from vidlens.types import Detections

W, H = 768, 576


@dataclass
class Scene:
    fps: float
    truth: list[Box]  # every walker in view, hidden or not, frame = sample number
    samples: list[tuple[float, Detections]]


def _visible(box: np.ndarray, covers: list[np.ndarray]) -> tuple[float, np.ndarray]:
    """Share of ``box`` not behind any of ``covers`` (approximate: the largest cover counts) and the visible part."""
    area = (box[2] - box[0]) * (box[3] - box[1])
    best, part = 1.0, box.copy()
    for c in covers:
        ix = max(0.0, min(box[2], c[2]) - max(box[0], c[0]))
        iy = max(0.0, min(box[3], c[3]) - max(box[1], c[1]))
        share = 1 - ix * iy / area
        if share < best:
            best = share
            part = box.copy()
            if ix >= 0.6 * (box[2] - box[0]):  # covered across: what shows is above or below the cover
                part[1], part[3] = (box[1], c[1]) if c[1] - box[1] >= box[3] - c[3] else (c[3], box[3])
            elif c[0] <= box[0]:
                part[0] = min(c[2], box[2] - 1)
            else:
                part[2] = max(c[0], box[0] + 1)
    return best, part


def make_scene(seed: int, fps: float = 5.0, seconds: float = 12.0, walkers: int = 9) -> Scene:
    rng = np.random.default_rng(seed)
    signs = [np.array([x, y, x + rng.uniform(30, 60), y + rng.uniform(40, 90)])
             for x, y in zip(rng.uniform(100, 650, 2), rng.uniform(150, 350, 2), strict=True)]
    cars = [np.array([x, 40, x + 75, 90]) for x in rng.uniform(0, 690, 2)]
    people = []
    for _ in range(walkers):
        start = rng.uniform(0, seconds * 0.6)
        y = rng.uniform(140, 480)
        left = rng.random() < 0.5
        x = rng.uniform(-40, 0) if left else rng.uniform(W, W + 40)
        if rng.random() < 0.3:  # some are already in view
            x = rng.uniform(50, W - 50)
        speed = rng.uniform(0.5, 1.1)  # body heights a second
        heading = rng.uniform(-0.5, 0.5) + (0 if left else np.pi)
        people.append((start, x, y, speed, heading, rng.uniform(-0.15, 0.15)))
    truth: list[Box] = []
    samples: list[tuple[float, Detections]] = []
    n = int(seconds * fps)
    for k in range(n):
        t = k / fps
        boxes, ids = [], []
        for pid, (start, x0, y0, speed, heading, turn) in enumerate(people, 1):
            if t < start:
                continue
            # integrate the walk to time t (height depends on where the feet are)
            x, y, ang = x0, y0, heading
            for _ in range(int((t - start) * 10)):
                h = 40 + 0.25 * y
                x += np.cos(ang) * speed * h / 10
                y += np.sin(ang) * speed * h / 10 * 0.5
                ang += turn / 10
            h = 40 + 0.25 * y
            w = 0.38 * h
            box = np.array([x - w / 2, y - h, x + w / 2, y])
            inside = (min(box[2], W) - max(box[0], 0)) / w
            if inside < 0.5 or y < 120 or y > H + h * 0.3:
                continue
            box = np.array([max(box[0], 0), box[1], min(box[2], W), min(box[3], H)])
            boxes.append(box)
            ids.append(pid)
            truth.append(Box(k, pid, "person", tuple(float(v) for v in box)))
        order = np.argsort([b[3] for b in boxes])  # far (small y2) first; nearer people hide them
        xyxy, conf, label = [], [], []
        merged = set()
        for rank, i in enumerate(order):
            if int(i) in merged:  # already inside a wide box with someone behind it
                continue
            box = boxes[i]
            nearer = [boxes[j] for j in order[rank + 1:]]
            vis, part = _visible(box, signs + nearer)
            if vis < 0.45 or rng.random() < 0.05:
                continue
            for j in order[rank + 1:]:  # two people overlapping a lot: sometimes one wide box for both
                b = boxes[j]
                ix = max(0.0, min(box[2], b[2]) - max(box[0], b[0]))
                if ix > 0.5 * (box[2] - box[0]) and abs(box[3] - b[3]) < 0.3 * (b[3] - b[1]) and rng.random() < 0.5:
                    part = np.array([min(box[0], b[0]), min(box[1], b[1]), max(box[2], b[2]), max(box[3], b[3])])
                    merged.add(int(j))
                    break
            jitter = rng.normal(0, 0.03 * (part[3] - part[1]), 4)
            xyxy.append(part + jitter)
            conf.append(float(np.clip(0.45 + 0.5 * vis + rng.normal(0, 0.08), 0.26, 0.99)))
            label.append("person")
        for c in cars:
            xyxy.append(c + rng.normal(0, 1.5, 4))
            conf.append(0.9)
            label.append("car")
        if rng.random() < 0.15:  # a weak false box
            x, y = rng.uniform(0, W - 30), rng.uniform(120, H - 60)
            xyxy.append(np.array([x, y, x + 25, y + 60]))
            conf.append(float(rng.uniform(0.26, 0.36)))
            label.append("person")
        samples.append((t, Detections(np.array(xyxy, np.float32).reshape(-1, 4), np.array(conf, np.float32),
                                      np.array(label, dtype=object))))
    return Scene(fps, truth, samples)
