"""COCO object detectors behind one call: ``detect(bgr) -> Detections`` in image pixels.

Packaged detectors: YOLOv4-tiny quantised to int8 and run by ONNX Runtime (the default);
the same network in float32 from the Darknet files in a wheel, run by OpenCV 4 DNN (the
reference the int8 graph is checked against, a third of its speed); and NanoDet-m 416,
which finds people less reliably on surveillance clips (docs/benchmarks.md, ``objects``).
A user's own ONNX detector fills the same slot: YOLOv8/11-style outputs
``[1, 4 + C, N]`` (centre box + class scores) or YOLOv5-style ``[1, N, 5 + C]``
(centre box + objectness + class scores), fed a letterboxed RGB image in 0..1.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path

import numpy as np

from vidlens.errors import ModelError
from vidlens.models import catalog
from vidlens.models.registry import check_user_file, locate
from vidlens.models.runtime import borrow, onnx_session
from vidlens.types import Detections

SLOT = "objects.detector"


def coco_names() -> list[str]:
    path = locate(catalog.COCO_NAMES)
    return [n.strip() for n in path.read_text().splitlines() if n.strip()]


def _nms(xyxy: np.ndarray, scores: np.ndarray, classes: np.ndarray, iou: float) -> np.ndarray:
    """Class-aware NMS (greedy), returning kept indices sorted by score."""
    if len(scores) == 0:
        return np.zeros((0,), np.int64)
    # offset boxes by class so different classes never suppress each other
    off = xyxy + (classes.astype(np.float32) * (xyxy.max() + 1.0))[:, None]
    order = np.argsort(-scores)
    area = (off[:, 2] - off[:, 0]).clip(0) * (off[:, 3] - off[:, 1]).clip(0)
    keep: list[int] = []
    while order.size:
        i = int(order[0])
        keep.append(i)
        rest = order[1:]
        xx1 = np.maximum(off[i, 0], off[rest, 0])
        yy1 = np.maximum(off[i, 1], off[rest, 1])
        xx2 = np.minimum(off[i, 2], off[rest, 2])
        yy2 = np.minimum(off[i, 3], off[rest, 3])
        inter = (xx2 - xx1).clip(0) * (yy2 - yy1).clip(0)
        ov = inter / (area[i] + area[rest] - inter + 1e-9)
        order = rest[ov <= iou]
    return np.asarray(keep, np.int64)


def _finish(xyxy: np.ndarray, scores: np.ndarray, classes: np.ndarray, names: list[str],
            conf: float, iou: float, w: int, h: int) -> Detections:
    m = scores >= conf
    xyxy, scores, classes = xyxy[m], scores[m], classes[m]
    keep = _nms(xyxy, scores, classes, iou)
    xyxy = xyxy[keep].astype(np.float32)
    xyxy[:, [0, 2]] = xyxy[:, [0, 2]].clip(0, w)
    xyxy[:, [1, 3]] = xyxy[:, [1, 3]].clip(0, h)
    labels = np.array([names[c] if 0 <= c < len(names) else f"class_{c}" for c in classes[keep]], dtype=object)
    return Detections(xyxy, scores[keep].astype(np.float32), labels)


class ObjectDetector(ABC):
    names: list[str]

    def load(self) -> ObjectDetector:
        """Load the model now, so a bad file fails before the first frame, not on every frame."""
        return self

    @abstractmethod
    def detect(self, bgr: np.ndarray, conf: float, iou: float) -> Detections:
        """Boxes in ``bgr``'s pixel coordinates."""


class DarknetYolo(ObjectDetector):
    """YOLOv4-tiny from the Darknet files, plain (stretched) resize as Darknet trains it."""

    def __init__(self, input_size: int = 416, threads: int = 1) -> None:
        self.cfg = locate(catalog.YOLOV4_TINY_CFG)
        self.weights = locate(catalog.YOLOV4_TINY_WEIGHTS)
        self.names = coco_names()
        self.input_size = (input_size // 32) * 32
        self.threads = threads
        self._key = f"{self.weights}@{self.input_size}"

    def load(self) -> ObjectDetector:
        with borrow(SLOT, self._key, self._load):
            pass
        return self

    def _load(self):  # noqa: ANN202 - cv2.dnn.Net
        import cv2

        net = cv2.dnn.readNetFromDarknet(str(self.cfg), str(self.weights))
        net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
        net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
        return net

    def detect(self, bgr: np.ndarray, conf: float, iou: float) -> Detections:
        import cv2

        cv2.setNumThreads(self.threads)
        h, w = bgr.shape[:2]
        s = self.input_size
        blob = cv2.dnn.blobFromImage(bgr, 1 / 255.0, (s, s), swapRB=True, crop=False)
        with borrow(SLOT, self._key, self._load) as net:
            net.setInput(blob)
            outs = net.forward(net.getUnconnectedOutLayersNames())
        rows = np.concatenate([o.reshape(-1, o.shape[-1]) for o in outs], axis=0)
        cls_scores = rows[:, 5:]
        classes = cls_scores.argmax(1)
        scores = cls_scores[np.arange(len(rows)), classes]
        m = scores >= conf
        rows, classes, scores = rows[m], classes[m], scores[m]
        cx, cy, bw, bh = rows[:, 0] * w, rows[:, 1] * h, rows[:, 2] * w, rows[:, 3] * h
        xyxy = np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], axis=1)
        return _finish(xyxy, scores, classes, self.names, conf, iou, w, h)


class Yolov4TinyInt8(ObjectDetector):
    """YOLOv4-tiny quantised to int8 for ONNX Runtime (about 3x the speed of OpenCV DNN in float32).

    Same network, input (plain resize to 416, RGB / 255) and decoding as Darknet's: the two
    head tensors are decoded here with the anchors, masks and ``scale_x_y`` the model carries
    in its metadata. On 48 frames of real clips it finds 72 of the 73 boxes the float32
    Darknet model finds (scripts/convert_yolov4_tiny.py).
    """

    def __init__(self, threads: int = 1) -> None:
        self.path = locate(catalog.YOLOV4_TINY_INT8)
        self.session = onnx_session(SLOT, self.path, threads)
        self.names = coco_names()
        meta = self.session.get_modelmeta().custom_metadata_map
        try:
            self.size = int(meta["input_size"])
            self.sxy = float(meta["scale_x_y"])
            anchors = np.array([float(v) for v in meta["anchors"].split(",")], np.float32).reshape(-1, 2)
            self.heads = meta["heads"].split(",")
            masks = [[int(v) for v in meta[f"{h}_mask"].split(",")] for h in self.heads]
        except (KeyError, ValueError) as exc:
            raise ModelError(f"model slot '{SLOT}': {self.path} lacks the YOLO metadata ({exc})",
                             details={"slot": SLOT, "expected": str(self.path)}) from None
        self.anchors = [anchors[m] / self.size for m in masks]  # (3, 2) per head, in input units

    def detect(self, bgr: np.ndarray, conf: float, iou: float) -> Detections:
        import cv2

        h, w = bgr.shape[:2]
        x = cv2.dnn.blobFromImage(bgr, 1 / 255.0, (self.size, self.size), swapRB=True, crop=False)
        xyxy, scores, classes = [], [], []
        for out, anchors in zip(self.session.run(self.heads, {"images": x}), self.anchors):
            _, _, gh, gw = out.shape
            t = out.reshape(len(anchors), -1, gh * gw)  # (anchor, 5 + classes, cell)
            p = 1 / (1 + np.exp(-t[:, 4:]))  # objectness and classes
            cls = p[:, 1:] * p[:, :1]
            best = cls.argmax(1)
            score = np.take_along_axis(cls, best[:, None], 1)[:, 0]
            a, cell = np.nonzero(score >= conf)  # decode boxes only where a class passes
            gy, gx = np.divmod(cell, gw)
            sig = 1 / (1 + np.exp(-t[a, :2, cell]))
            cx = (sig[:, 0] * self.sxy - (self.sxy - 1) / 2 + gx) / gw * w
            cy = (sig[:, 1] * self.sxy - (self.sxy - 1) / 2 + gy) / gh * h
            bw, bh = np.exp(t[a, 2, cell]) * anchors[a, 0] * w, np.exp(t[a, 3, cell]) * anchors[a, 1] * h
            xyxy.append(np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], axis=1))
            scores.append(score[a, cell])
            classes.append(best[a, cell])
        return _finish(np.concatenate(xyxy), np.concatenate(scores).astype(np.float32), np.concatenate(classes),
                       self.names, conf, iou, w, h)


class NanoDet(ObjectDetector):
    """NanoDet-m at 416 px: plain resize, upstream BGR normalisation, GFL box decoding.

    The graph outputs per-anchor class scores (sigmoid applied) and, for each box side, a
    distribution over 11 distance bins; the expected bin times the stride is the distance
    from the anchor centre to that side, in input pixels.
    """

    SIZE = 416
    STRIDES = (8, 16, 32)
    BINS = 11
    MEAN = np.array([103.53, 116.28, 123.675], np.float32)
    STD = np.array([57.375, 57.12, 58.395], np.float32)

    def __init__(self, threads: int = 1) -> None:
        self.path = locate(catalog.NANODET)
        self.session = onnx_session(SLOT, self.path, threads)
        self.names = coco_names()
        self.outputs = [f"Identity{'' if i == 0 else f'_{i}'}:0" for i in range(6)]
        centres, strides = [], []
        for stride in self.STRIDES:
            g = self.SIZE // stride
            row, col = np.divmod(np.arange(g * g), g)
            centres.append(np.stack([(col + 0.5) * stride, (row + 0.5) * stride], axis=1))
            strides.append(np.full(g * g, stride, np.float32))
        self.centres = np.concatenate(centres).astype(np.float32)  # anchor order of the outputs
        self.strides = np.concatenate(strides)

    def detect(self, bgr: np.ndarray, conf: float, iou: float) -> Detections:
        import cv2

        h, w = bgr.shape[:2]
        s = self.SIZE
        x = (cv2.resize(bgr, (s, s), interpolation=cv2.INTER_LINEAR).astype(np.float32) - self.MEAN) / self.STD
        out = self.session.run(self.outputs, {"input_1:0": x.transpose(2, 0, 1)[None]})
        cls_scores = np.concatenate([o[0] for o in out[:3]])
        classes = cls_scores.argmax(1)
        scores = cls_scores[np.arange(len(classes)), classes]
        m = scores >= conf  # decode boxes only where a class passes
        reg = np.concatenate([o[0] for o in out[3:]])[m].reshape(-1, 4, self.BINS)
        p = np.exp(reg - reg.max(-1, keepdims=True))
        dist = (p / p.sum(-1, keepdims=True)) @ np.arange(self.BINS, dtype=np.float32)
        dist *= self.strides[m, None]
        c = self.centres[m]
        xyxy = np.concatenate([c - dist[:, :2], c + dist[:, 2:]], axis=1) * np.array([w / s, h / s] * 2, np.float32)
        return _finish(xyxy, scores[m], classes[m], self.names, conf, iou, w, h)


class OnnxYolo(ObjectDetector):
    """A user's YOLO-style ONNX detector, letterboxed to its input size."""

    def __init__(self, path: str | Path, names: list[str] | None, input_size: int = 640,
                 threads: int = 1) -> None:
        self.path = check_user_file(SLOT, path)
        self.session = onnx_session(SLOT, self.path, threads)
        inp = self.session.get_inputs()[0]
        self.input_name = inp.name
        shape = inp.shape
        if len(shape) != 4:
            raise ModelError(f"model slot '{SLOT}': {self.path} takes input {shape}, expected [1, 3, H, W]",
                             details={"slot": SLOT, "expected": "[1, 3, H, W] image input"})
        fixed = [d for d in shape[2:] if isinstance(d, int)]
        self.input_size = fixed[0] if len(fixed) == 2 else input_size
        self.names = names or coco_names()

    def detect(self, bgr: np.ndarray, conf: float, iou: float) -> Detections:
        import cv2

        h, w = bgr.shape[:2]
        s = self.input_size
        r = min(s / w, s / h)
        nw, nh = int(round(w * r)), int(round(h * r))
        canvas = np.full((s, s, 3), 114, np.uint8)
        top, left = (s - nh) // 2, (s - nw) // 2
        canvas[top:top + nh, left:left + nw] = cv2.resize(bgr, (nw, nh), interpolation=cv2.INTER_LINEAR)
        x = canvas[:, :, ::-1].transpose(2, 0, 1)[None].astype(np.float32) / 255.0
        out = np.asarray(self.session.run(None, {self.input_name: x})[0])
        if out.ndim != 3:
            raise ModelError(f"model slot '{SLOT}': {self.path} output shape {out.shape} is not YOLO-style",
                             details={"slot": SLOT, "expected": "[1, 4+C, N] or [1, N, 5+C]"})
        out = out[0]
        c = len(self.names)
        if out.shape[0] == 4 + c:  # [4+C, N]
            rows = out.T
            cls_scores = rows[:, 4:]
        elif out.shape[1] == 5 + c:  # [N, 5+C] with objectness
            rows = out
            cls_scores = rows[:, 5:] * rows[:, 4:5]
        elif out.shape[1] == 4 + c:
            rows = out
            cls_scores = rows[:, 4:]
        else:
            raise ModelError(f"model slot '{SLOT}': {self.path} output shape {tuple(out.shape)} does not match "
                             f"{c} class names", details={"slot": SLOT, "expected": f"[1, {4 + c}, N] or [1, N, {5 + c}]"})
        classes = cls_scores.argmax(1)
        scores = cls_scores[np.arange(len(rows)), classes].astype(np.float32)
        cx, cy, bw, bh = rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3]
        xyxy = np.stack([cx - bw / 2 - left, cy - bh / 2 - top, cx + bw / 2 - left, cy + bh / 2 - top], axis=1) / r
        return _finish(xyxy, scores, classes, self.names, conf, iou, w, h)


DETECTORS = ("yolov4-tiny", "yolov4-tiny-fp32", "nanodet")


def load_detector(detector: str, model: str | None, labels: list[str] | None, input_size: int,
                  threads: int) -> ObjectDetector:
    """The configured detector: the user's ONNX file if given, else the packaged ``detector``."""
    if model is not None:
        return OnnxYolo(model, labels, input_size, threads).load()
    if detector == "nanodet":
        return NanoDet(threads).load()
    if detector == "yolov4-tiny":
        return Yolov4TinyInt8(threads).load()
    if detector == "yolov4-tiny-fp32":
        return DarknetYolo(input_size, threads).load()
    raise ValueError(f"unknown detector {detector!r} (expected one of {', '.join(DETECTORS)})")
